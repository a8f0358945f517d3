"""The MOU list and the home page's MOU panel."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import reverse

from core.htmx import render_page_or_fragment
from partnerships.forms.mous import MOUFilterForm
from partnerships.models import MOUStatus
from partnerships.mou_rules import MOUS_UNDER_WAY
from partnerships.selectors.mous import (
    mou_list,
    mou_status_counts,
    with_display_states,
)
from partnerships.selectors.partner_filter import partner_name
from schools.capabilities import can, requires
from schools.models import Role

PAGE_SIZE = 50


def mou_home_panel(request) -> dict | None:
    """The home page's MOU panel (registered in PartnershipsConfig): how many of the MOUs
    the viewer may see are under way, by status, each linked to the list filtered by it.
    One query; left out when there are none."""
    counts = mou_status_counts(request.membership, MOUS_UNDER_WAY)
    if not counts:
        return None
    labels = dict(MOUStatus.choices)
    url = reverse("mou_list", args=[request.district.slug])
    return {
        "rows": [
            {"label": labels[status], "count": counts[status], "url": f"{url}?status={status}"}
            for status in MOUS_UNDER_WAY
            if status in counts
        ]
    }


@requires("mous.view")
def mou_list_view(request, district_slug):
    """MOUs the viewer may see, filtered by status and partner (htmx swaps the table)."""
    membership = request.membership
    filters = MOUFilterForm(request.GET)
    chosen = filters.filters()
    if chosen["partner_id"] and not chosen["partner_name"]:
        filters.show_partner_name(partner_name(membership, chosen["partner_id"]))
    page = Paginator(mou_list(membership, **chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    # "Signed, starts on <date>", "Changes requested": states computed from status and dates.
    page.object_list = with_display_states(page.object_list, request.district.today())
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "can_manage": can(membership, "mous.manage"),
        # A partner's member sees its own organization's MOUs only: nothing to filter by.
        "partner_filter": membership.role != Role.PARTNER,
    }
    return render_page_or_fragment(request, "partnerships/mous/list.html", context)
