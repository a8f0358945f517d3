"""Views that belong to no app: health, the landing redirect, the development outbox."""

from __future__ import annotations

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
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


@never_cache
def dev_outbox(request):
    """The demo's outgoing mail (DEBUG only: in production mail goes to EMAIL_URL)."""
    if not settings.DEBUG:
        raise Http404
    messages = read_outbox()
    selected = request.GET.get("message")
    current = next((m for m in messages if m.name == selected), messages[0] if messages else None)
    return render(request, "dev/outbox.html", {"messages_list": messages, "current": current})
