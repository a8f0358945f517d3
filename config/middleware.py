"""Response headers that keep a shared school computer from showing a page again, and a
session middleware that tells a lost database from a session deleted under the request."""

from __future__ import annotations

from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.utils.cache import patch_cache_control

from config.views import database_unreachable

# Answered before sign-in is known, or must answer when the database is down.
_SKIP = ("/healthz", "/static/")
# Pages open to anonymous visitors that still show or ask for personal data: the signed
# links for partner contacts, invitations, and the password-reset and email-confirmation
# links.
_PERSONAL_ANONYMOUS = (
    "/p/",
    "/invitations/",
    "/accounts/password/reset/key/",
    "/accounts/confirm-email/",
)
# Signing out empties what the browser kept for this site (W3C Clear Site Data).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


class PrivatePagesMiddleware:
    """`Cache-Control: no-store, private` on every signed-in or personal page.

    Neither the browser's cache and back button nor a shared proxy may keep what a
    signed-in person saw (student pages, htmx fragments, exports). A request that signs
    the person out also answers `Clear-Site-Data`, so the next person at the computer
    finds nothing of theirs. Placed after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(_SKIP):
            return self.get_response(request)
        # Read before the view runs: signing out replaces request.user.
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.path_info.startswith(_PERSONAL_ANONYMOUS):
            patch_cache_control(response, no_store=True, private=True)
        if signed_in and not request.user.is_authenticated:
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response


class SessionNotSaved(Exception):
    """The session could not be saved because the database could not be reached."""


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, but a database that went away is a 503, not a 400.

    Django reports any failed update of the session row as SessionInterrupted (400),
    meant for a session deleted by a concurrent request (signed out in another tab):
    that stays a 400. When the update failed because the database could not be reached
    (the idle clock touches the session on most requests), the error goes on to
    handler500, which answers 503 (config.views.server_error).
    """

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted as exc:
            if database_unreachable(exc):
                raise SessionNotSaved("the database could not be reached") from exc
            raise
