"""Template context for the layout: the district, the switcher and the navigation."""

from __future__ import annotations

from django.urls import reverse

from schools.navigation import navigation_for
from schools.selectors import memberships_of


def tenant(request):
    membership = getattr(request, "membership", None)
    context = {"district": getattr(request, "district", None), "membership": membership}
    if membership is not None:
        slug = membership.district.slug
        here = request.path
        # Each app registers its entries from its AppConfig.ready() (schools.navigation).
        items = [
            {"label": entry.label, "url": reverse(entry.url_name, args=[slug]), "current": False}
            for entry in navigation_for(membership)
        ]
        current = _current(here, [item["url"] for item in items], slug)
        for item in items:
            item["current"] = item["url"] == current
        context["navigation"] = items
        context["switchable_memberships"] = [
            m
            for m in getattr(request, "memberships", None) or memberships_of(request.user)
            if m.district_id != membership.district_id
        ]
    return context


def _current(here: str, urls: list[str], slug: str) -> str | None:
    """The section a page belongs to: the longest entry its path starts with.

    A student's page is under Students; the coverage map is Coverage, not Partners;
    Home is current only on the home page itself.
    """
    home = f"/{slug}/"
    matches = [url for url in urls if (here == url if url == home else here.startswith(url))]
    return max(matches, key=len, default=None)
