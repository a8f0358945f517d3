"""Signed links for people without an account (a partner contact confirming a listing,
reviewing or signing an MOU, answering a meeting invitation). Each view verifies its token
and enters the district itself."""

from partnerships.urls import _AREAS

urlpatterns = [pattern for area in _AREAS for pattern in area.public_urlpatterns]
