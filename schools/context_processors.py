"""Template context for the layout: the district, the switcher and the navigation."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from schools.capabilities import can
from schools.selectors import memberships_of

# (label, url name, capability). Later issues add their pages here.
NAVIGATION = [
    (_("Home"), "district_home", "district.view"),
]


def tenant(request):
    membership = getattr(request, "membership", None)
    context = {"district": getattr(request, "district", None), "membership": membership}
    if membership is not None:
        slug = membership.district.slug
        here = request.path
        context["navigation"] = [
            {"label": label, "url": (url := reverse(name, args=[slug])), "current": here == url}
            for label, name, capability in NAVIGATION
            if can(membership, capability)
        ]
        context["switchable_memberships"] = [
            m for m in memberships_of(request.user) if m.district_id != membership.district_id
        ]
    return context
