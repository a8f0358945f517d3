"""Views that belong to no app: health, the landing redirect, error pages, the dev outbox."""

from __future__ import annotations

import ipaddress
import sys

import psycopg
import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.mail import read_outbox
from schools.selectors import memberships_of


def _database_ok() -> tuple[bool, str]:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any failure means "did not answer"
        connections["default"].close_if_unusable_or_obsolete()
        return False, type(exc).__name__


def _redis_ok() -> tuple[bool, str]:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        return True, "ok"
    except (redis.exceptions.RedisError, OSError) as exc:
        return False, type(exc).__name__


@never_cache
@require_GET
def healthz(request):
    """200 when PostgreSQL and Redis both answer, else 503; says which one failed."""
    db_ok, db_detail = _database_ok()
    redis_ok, redis_detail = _redis_ok()
    healthy = db_ok and redis_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": db_detail,
        "redis": redis_detail,
    }
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def home(request):
    """Open the district the person used last, their only one, or let them choose."""
    memberships = memberships_of(request.user)
    slugs = {m.district.slug for m in memberships}
    if request.user.last_district_slug in slugs:
        return redirect("district_home", request.user.last_district_slug)
    if len(memberships) == 1:
        return redirect("district_home", memberships[0].district.slug)
    return render(request, "choose_district.html", {"memberships": memberships})


def _from_this_computer(request) -> bool:
    """True for a loopback peer. REMOTE_ADDR only: X-Forwarded-For is whatever the client says."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    # A dual-stack server reports IPv4 peers as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


@never_cache
def dev_outbox(request):
    """The demo's outgoing mail: reset and invitation links, so guarded three ways.

    DEBUG only (in production mail goes to EMAIL_URL), only to a request from this
    computer (a demo served on a network shows nobody else's links), and only to a
    signed-in person (any demo user).
    """
    if not settings.DEBUG or not _from_this_computer(request):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    messages = read_outbox()
    selected = request.GET.get("message")
    current = next((m for m in messages if m.name == selected), messages[0] if messages else None)
    return render(request, "dev/outbox.html", {"messages_list": messages, "current": current})


# --- Error pages -----------------------------------------------------------------------------
# 400 and 404 are Django's own handlers with our templates; the 500 is Django's too unless the
# database could not be reached (then 503). The 403 and the CSRF failure need a view of their own.

# Seconds a browser or client is told to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 30
# SQLSTATEs of a server that answers but will not serve: shutting down (57P01, 57P02),
# starting up or recovering (57P03), out of connection slots (53300). Besides these, any
# connection exception (class 08) and a driver error without SQLSTATE count as unreachable.
_SERVER_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}


def _exception_chain(exc: BaseException | None):
    """`exc`, then what caused it or was being handled when it was raised, and so on."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def database_unreachable(exc: BaseException | None) -> bool:
    """True when `exc`, or an exception that led to it, says the database could not be reached.

    The driver's error decides when there is one: no SQLSTATE (refused, timed out, connection
    lost), a connection exception (class 08) or a server that will not serve yet. Errors of
    a database that answered (a statement timeout, a deadlock, a constraint) are not outages:
    they stay 500s.
    """
    for link in _exception_chain(exc):
        if isinstance(link, psycopg.Error):
            return isinstance(link, (psycopg.OperationalError, psycopg.InterfaceError)) and (
                link.sqlstate is None
                or link.sqlstate.startswith("08")
                or link.sqlstate in _SERVER_UNAVAILABLE
            )
        if isinstance(link, (OperationalError, InterfaceError)) and link.__cause__ is None:
            return True  # Django's own, with no driver error behind it
    return False


def server_error(request):
    """handler500: the 503 page when the database could not be reached, else Django's 500."""
    # Django calls the handler inside its `except`: the exception is the one being handled.
    if database_unreachable(sys.exception()):
        return database_unavailable(request)
    return defaults.server_error(request)


def database_unavailable(request):
    """503 with Retry-After, rendered without the database: no request context, no session.

    The language is LocaleMiddleware's (the cookie or Accept-Language, never the database).
    """
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(
        request
    )
    with translation.override(language):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Content-Language"] = language
    patch_cache_control(response, no_store=True)
    return response


def _either(labels: list[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    # Translators: the roles that may do something, e.g. "Coordinator or Administrator".
    return _("%(some)s or %(last)s") % {"some": ", ".join(labels[:-1]), "last": labels[-1]}


def permission_denied(request, exception=None):
    """403 in the reader's language; names the roles that may do it when the refusal knows."""
    roles = getattr(exception, "roles", None) or []
    context = {"roles": _either([str(role.label) for role in roles]) if roles else ""}
    return render(request, "403.html", context, status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the form could not be trusted (expired, other tab, no cookies)."""
    return render(request, "403_csrf.html", status=403)
