"""The audit trail page: changes to people's access, and platform staff's changes (read-only)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from schools.capabilities import requires
from schools.selectors import audit_events

PAGE_SIZE = 50


@requires("audit.view")
@require_GET
def audit_trail(request, district_slug):
    """Newest first, a page at a time."""
    page = Paginator(audit_events(request.membership), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "schools/audit/list.html", {"page": page})
