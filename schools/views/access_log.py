"""The access log page: who opened which student-identifiable page, and when (read-only)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.pagination import keyset_page
from schools.capabilities import requires
from schools.forms.students import AccessLogFilterForm
from schools.selectors import access_log_search

PAGE_SIZE = 50


def _day_start(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone) if day else None


@requires("access_log.view")
@require_GET
def access_log(request, district_slug):
    """Newest first, in keyset pages (core.pagination); dates are the district's days (from
    the start of `since` to the end of `until`)."""
    form = AccessLogFilterForm(request.GET or None)
    filters = form.filters()
    zone = timezone.get_current_timezone()  # the district's (the tenancy middleware)
    until = filters["until"]
    entries = access_log_search(
        request.membership,
        student=filters["student"],
        person=filters["person"],
        since=_day_start(filters["since"], zone),
        until=_day_start(until + timedelta(days=1), zone) if until else None,
    )
    page = keyset_page(
        entries,
        name="access_log",
        cursor=request.GET.get("cursor"),
        page=request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("cursor", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "zone": zone}
    return render(request, "schools/access_log/list.html", context)
