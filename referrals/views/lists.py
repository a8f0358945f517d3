"""Referral lists: the care team's (caseload, school, filters, CSV) and a partner's."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.htmx import render_page_or_fragment
from referrals.models import ReferralStatus
from referrals.selectors import concern_labels, referral_list
from schools.capabilities import can, requires
from schools.selectors import partners_in, student_schools

PAGE_SIZE = 50


# --- The list --------------------------------------------------------------------------------


class ReferralFilterForm(forms.Form):
    """Status, school and partner filters above the list (GET); a bad value is dropped."""

    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    school = forms.TypedChoiceField(
        label=gettext_lazy("School"), required=False, coerce=int, empty_value=None
    )
    partner = forms.TypedChoiceField(
        label=gettext_lazy("Partner"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, schools=(), partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *ReferralStatus.choices]
        self.fields["school"].choices = [("", _("All schools"))] + [
            (school.pk, school.name) for school in schools
        ]
        self.fields["partner"].choices = [("", _("All partners"))] + [
            (partner.pk, partner.name) for partner in partners
        ]

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "school_id": data.get("school"),
            "partner_id": data.get("partner"),
        }


@requires("referrals.view")
@require_GET
def referral_list_view(request, district_slug):
    """The referrals the viewer may see, newest first; staff filter them (htmx swaps the
    table). A partner's rows name no student."""
    membership = request.membership
    care_team = can(membership, "referrals.create")
    filters = None
    chosen: dict = {}
    if care_team:
        filters = ReferralFilterForm(
            request.GET,
            schools=student_schools(membership),
            partners=partners_in(membership.district_id),
        )
        chosen = filters.filters()
    page = Paginator(referral_list(membership, **chosen), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    labels = concern_labels(membership.district)
    for referral in page.object_list:
        referral.concern_names = [labels.get(code, code) for code in referral.concerns]
    context = {
        "filters": filters,
        "filtered": any(chosen.values()),
        "page": page,
        "query": query.urlencode(),
        "care_team": care_team,
        "can_create": can(membership, "referrals.create"),
        "can_see_overrides": can(membership, "overrides.view"),
    }
    return render_page_or_fragment(request, "referrals/referrals/list.html", context)


urlpatterns = [
    path("referrals/", referral_list_view, name="referral_list"),
]
public_urlpatterns: list = []
