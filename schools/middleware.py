"""Resolve `/<district-slug>/...` to the district and the person's membership."""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from schools.selectors import access_membership, memberships_of
from schools.tenancy import enter_district_for_rest_of_transaction, tenant_context

# Paths that must answer without a database transaction (health checks a dead database).
_NO_TRANSACTION = ("/healthz", "/static/")
# The district page a person was sent from to enrol in two-factor authentication.
MFA_CONTINUE_SESSION_KEY = "trellis_mfa_continue"
# When the short idle clock was last written (seconds since the epoch, UTC); only sessions
# on that clock carry it.
IDLE_CLOCK_SESSION_KEY = "trellis_idle_since"


class TenantMiddleware:
    """Runs each request in a transaction with the row-level-security context set; an
    answer of 500 or more (an exception, a database that went away) rolls it back.

    The person's id is entered for every request (their own memberships are readable);
    on district URLs (patterns that capture `district_slug`) the membership is resolved
    and the district entered. An anonymous visitor is sent to sign in; a signed-in
    person who is not an active member gets 404. Members whose role needs MFA are sent
    to set it up; sessions of roles that see students expire after 30 idle minutes
    (without a session write on every request: see _keep_idle_clock). The district's
    time zone is active for the rest of its request (DESIGN.md, Time).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.district = None
        request.membership = None
        if request.path_info.startswith(_NO_TRANSACTION):
            return self.get_response(request)
        if request.user.is_authenticated and _idle_too_long(request):
            # Signed out before anything runs as them: the request goes on as anonymous.
            logout(request)
        user = request.user.pk if request.user.is_authenticated else None
        try:
            with transaction.atomic():
                with tenant_context(None, user=user):
                    response = self.get_response(request)
                if response.status_code >= 500:
                    # Django turned an exception into the error page inside this
                    # transaction: keep nothing of what the request half did (the page
                    # says so).
                    transaction.set_rollback(True)
                return response
        finally:
            # The thread serves other districts' requests next (see process_view).
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated:
            _keep_idle_clock(request)
        slug = view_kwargs.get("district_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return _full_page(request, redirect_to_login(request.get_full_path()))
        # One query for the person's memberships: this one, and the district switcher's.
        request.memberships = memberships_of(request.user)
        membership = access_membership(request.user, slug, request.memberships)
        # Inside the request's transaction (see __call__): lasts until the response is built.
        enter_district_for_rest_of_transaction(membership.district)
        request.membership = membership
        request.district = membership.district
        # Dates and times read and shown in the district's zone; undone in __call__.
        timezone.activate(membership.district.time_zone)
        if membership.sees_students:
            _keep_idle_clock(request, start=True)
        if membership.needs_mfa and not is_mfa_enabled(request.user):
            messages.warning(
                request,
                _("Your district requires two-factor authentication. Set it up to continue."),
            )
            # Where the person was going: the recovery-codes page after enrolment links back.
            # Only a full-page GET is worth returning to (not a half-sent form or a fragment).
            page = request.method == "GET" and not getattr(request, "htmx", False)
            request.session[MFA_CONTINUE_SESSION_KEY] = {
                "url": request.get_full_path() if page else f"/{slug}/",
                "name": membership.district.name,
            }
            return _full_page(request, redirect("mfa_activate_totp"))
        if request.user.last_district_slug != slug:
            request.user.last_district_slug = slug
            request.user.save(update_fields=["last_district_slug"])
        return None


def _on_idle_clock(session) -> bool:
    return session.get("_session_expiry") == settings.STUDENT_ROLE_IDLE_SECONDS


def _idle_refresh_seconds() -> int:
    """How stale the idle clock may grow before a request writes it again.

    Writing the session on every request cost every page an UPDATE; writing it at most
    once a minute (a tenth of a short timeout) costs one per active minute. The price:
    a session may be signed out up to this much before the full idle time, never after.
    """
    return min(60, settings.STUDENT_ROLE_IDLE_SECONDS // 10)


def _keep_idle_clock(request, *, start: bool = False) -> None:
    """Once a session is on the short idle clock, activity keeps it running.

    The clock is started (`start`) on the district pages of roles that see students; a
    person who then reads an account page, or a district where they are only a viewer,
    is still active and still holds a session that can open students. The session's
    expiry and its last-activity time are written only when that time is older than
    _idle_refresh_seconds(), so most requests write nothing.
    """
    session = request.session
    on_clock = _on_idle_clock(session)
    if not (on_clock or start):
        return
    now = int(timezone.now().timestamp())
    since = session.get(IDLE_CLOCK_SESSION_KEY)
    if on_clock and isinstance(since, int) and now - since < _idle_refresh_seconds():
        return
    session.set_expiry(settings.STUDENT_ROLE_IDLE_SECONDS)
    session[IDLE_CLOCK_SESSION_KEY] = now


def _idle_too_long(request) -> bool:
    """The session on the short clock has had no counted activity for the whole timeout.

    The session store expires the row too (its expiry is written with the clock), but a
    session saved for another reason between two writes of the clock (a message, a form's
    state) moves that expiry on while the clock stays put: this check holds the line.
    """
    session = request.session
    since = session.get(IDLE_CLOCK_SESSION_KEY)
    if not _on_idle_clock(session) or not isinstance(since, int):
        return False
    return timezone.now().timestamp() - since >= settings.STUDENT_ROLE_IDLE_SECONDS


def _full_page(request, response):
    """An htmx request is sent on with a full-page redirect, not a page in a fragment."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(response["Location"])
    return response
