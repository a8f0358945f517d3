"""Signed links for people without an account (a guardian signing a consent). Each view
verifies its token and enters the district itself."""

from referrals.views import consents, econsent, logging, referrals

_AREAS = (logging, referrals, consents, econsent)

urlpatterns = [pattern for area in _AREAS for pattern in area.public_urlpatterns]
