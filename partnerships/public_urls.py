"""Signed links for people without an account (a partner contact confirming a listing,
reviewing or signing an MOU). Each view verifies its token and enters the district itself."""

from partnerships.views import (
    directory,
    documents,
    funding,
    meeting_links,
    meetings,
    stories,
    unsubscribe,
)
from partnerships.views.mous import urls as mous

_AREAS = (directory, mous, documents, funding, meetings, meeting_links, stories, unsubscribe)

urlpatterns = [pattern for area in _AREAS for pattern in area.public_urlpatterns]
