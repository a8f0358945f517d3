"""Template context for the layout: the district, the switcher and the navigation."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from schools.capabilities import can
from schools.selectors import memberships_of

# (label, url name, capability). Later issues add their pages here.
NAVIGATION = [
    (_("Home"), "district_home", "district.view"),
    (_("People"), "people_list", "people.manage"),
    (_("Students"), "student_list", "students.view"),
    (_("Access log"), "access_log", "access_log.view"),
    (_("Audit trail"), "audit_trail", "audit.view"),
    (_("Partners"), "partner_list", "partners.view"),
    (_("Coverage"), "partner_coverage", "partners.view"),
    (_("Your organisation"), "partner_own", "partner.own"),
    (_("MOUs"), "mou_list", "mous.view"),
    (_("Funding"), "funding_list", "funding.view"),
    (_("Stories"), "story_list", "stories.view"),
]


def tenant(request):
    membership = getattr(request, "membership", None)
    context = {"district": getattr(request, "district", None), "membership": membership}
    if membership is not None:
        slug = membership.district.slug
        here = request.path
        items = [
            {"label": label, "url": reverse(name, args=[slug]), "current": False}
            for label, name, capability in NAVIGATION
            if can(membership, capability)
        ]
        current = _current(here, [item["url"] for item in items], slug)
        for item in items:
            item["current"] = item["url"] == current
        context["navigation"] = items
        context["switchable_memberships"] = [
            m for m in memberships_of(request.user) if m.district_id != membership.district_id
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
