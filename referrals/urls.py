"""Referrals URLs: each area's module lists its own patterns."""

from referrals.views import consents, econsent, logging, referrals

_AREAS = (logging, referrals, consents, econsent)

# Under /<district_slug>/ (config/urls.py).
urlpatterns = [pattern for area in _AREAS for pattern in area.urlpatterns]
