"""Signed links for people without an account (a guardian signing a consent). Each view
verifies its token and enters the district itself."""

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

urlpatterns = [pattern for area in _AREAS for pattern in area.public_urlpatterns]
