"""Referral lists: the care team's (every referral of their schools, or their caseload;
filters, sorting, CSV) and a partner's; moving a member's open referrals to a colleague."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from core.csv import csv_response
from core.forms import QuickSelect
from core.htmx import render_page_or_fragment
from partnerships.forms.partner_filter import PartnerFilterForm
from partnerships.selectors.partner_filter import partner_name
from referrals.models import ReferralStatus
from referrals.rules import Urgency
from referrals.selectors import (
    EXPORT_HEADER,
    LIST_CASELOAD,
    LIST_DEFAULT_SORT,
    LIST_SCHOOL,
    LIST_SORTS,
    caseload_count,
    caseload_to_reassign,
    concern_categories,
    list_sort_choices,
    reassign_candidates,
    referral_export_rows,
    referral_list_page,
)
from referrals.services.loop import NOTE_MAX
from referrals.services.open_work import caseload_reassign
from schools.access_log import access_log_record
from schools.capabilities import can, requires
from schools.models import AccessLog
from schools.selectors import (
    access_member,
    limited_school_ids,
    student_school_choices,
)

PAGE_SIZE = 50
# The first click on a column sorts it this way (newest and soonest first, names A to Z).
FIRST_DIRECTION = {"referred_on": "-", "status": "", "partner": "", "due": ""}
# How many of a person's open referrals the reassignment page lists (it reassigns all).
REASSIGN_SHOWN = 100


# --- The list --------------------------------------------------------------------------------


def _set_choices(field: forms.ChoiceField, choices: list) -> None:
    """Give a field and its widget their (value, label) pairs as they are: their setters
    normalize every pair again (hundreds of calls for a large district's schools), which
    these flat pairs do not need."""
    field._choices = field.widget._choices = list(choices)


class ReferralFilterForm(PartnerFilterForm):
    """The filters above the list (GET). A value that is not valid is dropped: the list
    shows as if it had not been given, with the problem beside the field."""

    view = forms.ChoiceField(
        required=False,
        choices=[(LIST_SCHOOL, LIST_SCHOOL), (LIST_CASELOAD, LIST_CASELOAD)],
        widget=forms.HiddenInput,
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, widget=QuickSelect)
    school = forms.TypedChoiceField(
        label=gettext_lazy("School"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=QuickSelect,
    )
    concern = forms.ChoiceField(label=gettext_lazy("Concern"), required=False, widget=QuickSelect)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), required=False, widget=QuickSelect)
    referred_from = forms.DateField(
        label=gettext_lazy("Referred from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    referred_to = forms.DateField(
        label=gettext_lazy("Referred to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdue = forms.BooleanField(label=gettext_lazy("Answer overdue"), required=False)
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, schools=(), concerns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *ReferralStatus.choices]
        _set_choices(self.fields["school"], [("", _("All schools")), *schools])
        self.fields["concern"].choices = [("", _("All concerns")), *concerns]
        self.fields["urgency"].choices = [("", _("Any urgency")), *Urgency.choices]
        self.fields["sort"].choices = [(value, value) for value in list_sort_choices()]

    def filters(self) -> dict:
        """referral_list's arguments from the valid values (the invalid ones dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "view": data.get("view") or LIST_SCHOOL,
            "status": data.get("status") or "",
            "school_id": data.get("school"),
            **self.partner_filters(),
            "concern": data.get("concern") or "",
            "urgency": data.get("urgency") or "",
            "overdue": bool(data.get("overdue")),
            "referred_from": data.get("referred_from"),
            "referred_to": data.get("referred_to"),
            "sort": data.get("sort") or LIST_DEFAULT_SORT,
        }


def _filter_form(request, concerns=None) -> ReferralFilterForm:
    membership = request.membership
    return ReferralFilterForm(
        request.GET,
        schools=student_school_choices(membership),
        concerns=concerns if concerns is not None else concern_categories(membership.district),
    )


def _query(data: QueryDict, *, drop=(), **values) -> str:
    """The GET parameters without `drop`, with `values` set, urlencoded."""
    query = data.copy()
    for name in (*drop, *values):
        query.pop(name, None)
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


def _sort_links(data: QueryDict, current: str) -> dict:
    """For each sortable column: its aria-sort value and the query that sorts by it (the
    other way round when it is the current sort)."""
    links = {}
    for key in LIST_SORTS:
        if current == key:
            aria, target = "ascending", "-" + key
        elif current == "-" + key:
            aria, target = "descending", key
        else:
            aria, target = "", FIRST_DIRECTION[key] + key
        links[key] = {"aria": aria, "query": _query(data, drop=("page",), sort=target)}
    return links


@requires("referrals.view")
@require_GET
def referral_list_view(request, district_slug):
    """The referrals the viewer may see (staff: every referral of their schools, or their
    caseload), filtered and sorted from the URL; htmx swaps the table as filters change.
    A partner's rows name no student."""
    membership = request.membership
    care_team = can(membership, "referrals.create")
    concerns = concern_categories(membership.district)
    filters, chosen = None, {}
    if care_team:
        filters = _filter_form(request, concerns)
        chosen = filters.filters()
        if chosen["partner_id"] and not chosen["partner_name"]:
            filters.show_partner_name(partner_name(membership, chosen["partner_id"]))
    page = referral_list_page(
        membership, page=request.GET.get("page"), per_page=PAGE_SIZE, **chosen
    )
    labels = dict(concerns)
    for referral in page.object_list:
        referral.concern_names = [labels.get(code, code) for code in referral.concerns]
    sort = chosen.get("sort", LIST_DEFAULT_SORT)
    view = chosen.get("view", LIST_SCHOOL)
    context = {
        "filters": filters,
        "filtered": any(v for k, v in chosen.items() if k not in ("view", "sort")),
        "page": page,
        "query": _query(request.GET, drop=("page",)),
        "sorts": _sort_links(request.GET, sort),
        "sort": sort,
        "view": view,
        "caseload": view == LIST_CASELOAD,
        "care_team": care_team,
        "today": request.district.today(),
        "can_create": can(membership, "referrals.create"),
        "can_export": can(membership, "referrals.export") and care_team,
        "can_see_overrides": can(membership, "overrides.view"),
    }
    if care_team:
        context["caseload_count"] = caseload_count(membership)
        context["limited"] = limited_school_ids(membership) is not None
        context["school_query"] = _query(request.GET, drop=("page",), view=LIST_SCHOOL)
        context["caseload_query"] = _query(request.GET, drop=("page",), view=LIST_CASELOAD)
    return render_page_or_fragment(request, "referrals/referrals/list.html", context)


@requires("referrals.export")
@require_GET
def referral_list_csv(request, district_slug):
    """The filtered list (the same GET parameters as the page, every page of it) as a CSV
    file, with the student's name and never the confidential notes; logged as an export
    (the path records the filters, the object id how many referrals the file holds)."""
    membership = request.membership
    counted = []

    def rows():
        for row in referral_export_rows(membership, **_filter_form(request).filters()):
            counted.append(1)
            yield row

    filename = f"referrals-{request.district.slug}-{request.district.today().isoformat()}.csv"
    response = csv_response(filename, rows(), header=[str(name) for name in EXPORT_HEADER])
    access_log_record(
        request=request,
        object_type="referral_list",
        object_id=len(counted),
        action=AccessLog.Action.EXPORT,
    )
    return response


# --- Reassigning a member's open referrals ---------------------------------------------------


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(
        label=gettext_lazy("Give them to"),
        queryset=None,
        empty_label=gettext_lazy("Choose a colleague"),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the timeline"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown on each referral's timeline, with your name."),
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = colleagues
        self.fields["to"].label_from_instance = lambda member: (
            _("%(name)s (%(role)s)")
            % {
                "name": member.user.full_name or member.user.email,
                "role": member.get_role_display(),
            }
        )


@requires("referrals.reassign")
@require_http_methods(["GET", "HEAD", "POST"])
def caseload_reassign_view(request, district_slug, membership_id):
    """A member's open referrals (their caseload), given to one colleague in one step: all
    of them or, when one cannot go to that colleague, none (each refusal is listed)."""
    person = access_member(request.membership, membership_id)
    form = ReassignForm(
        request.POST if request.method == "POST" else None,
        colleagues=reassign_candidates(request.membership, person),
    )
    refusals: list[str] = []
    if form.is_bound and form.is_valid():
        try:
            moved = caseload_reassign(
                by=request.membership,
                membership=person,
                to=form.cleaned_data["to"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            refusals = error.message_dict.get("referrals", [])
            for field, problems in error.message_dict.items():
                if field in form.fields:
                    for problem in problems:
                        form.add_error(field, problem)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s referral given to %(name)s.",
                    "%(count)s referrals given to %(name)s.",
                    moved,
                )
                % {"count": moved, "name": form.cleaned_data["to"].user},
            )
            return redirect("caseload_reassign", district_slug, person.pk)
    shown, visible, total = caseload_to_reassign(request.membership, person, limit=REASSIGN_SHOWN)
    context = {
        "person": person,
        "form": form,
        "referrals": shown,
        "visible": visible,
        "total": total,
        "more": max(0, visible - len(shown)),
        "elsewhere": max(0, total - visible),
        "refusals": refusals,
        "can_manage_people": can(request.membership, "people.manage"),
    }
    return render_page_or_fragment(request, "referrals/lists/reassign.html", context, fragment=None)


urlpatterns = [
    path("referrals/", referral_list_view, name="referral_list"),
    path("referrals/export.csv", referral_list_csv, name="referral_list_csv"),
    path(
        "referrals/reassign/<int:membership_id>/",
        caseload_reassign_view,
        name="caseload_reassign",
    ),
]
public_urlpatterns: list = []
