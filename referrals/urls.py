"""Referrals URLs: each area's module lists its own patterns."""

from referrals.views import (
    consents,
    econsent,
    help_requests,
    inbox,
    intake,
    lists,
    logging,
    loop,
    referrals,
)

_AREAS = (logging, lists, referrals, loop, consents, econsent, intake, inbox, help_requests)

# Under /<district_slug>/ (config/urls.py).
urlpatterns = [pattern for area in _AREAS for pattern in area.urlpatterns]
