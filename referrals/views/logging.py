"""Logging a referral, on one page, in under a minute: the student found by typing a name or
student id, sensible defaults, and the partner chosen from suggestions ranked by fit.

The page works without JavaScript: its helper buttons (find the student, pick one, change
it, update the suggestions) post the form back to the page, which shows it again with
nothing saved. htmx does the same in place through two fragments, the student search and
the suggestions, each a GET of the few fields it needs (never the notes).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.htmx import VARY, render_page_or_fragment, wants_fragment
from core.languages import parse_language
from partnerships.models import Partner
from referrals.forms import ReferralForm
from referrals.selectors import open_referrals_by_partner
from referrals.services.referrals import referral_create
from referrals.suggestions import (
    partner_suggestions,
    referable_student,
    student_matches,
)
from schools.capabilities import requires
from schools.models import Student

TEMPLATE = "referrals/logging/new.html"
# The helper buttons: each shows the page again and saves nothing.
STEPS = frozenset({"find", "pick", "change_student", "suggest"})


def _id(raw) -> int | None:
    try:
        pk = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk < 2**63 else None


def _initial(data: QueryDict) -> dict:
    """What was typed, as the initial values of an unbound form (nothing is checked yet)."""
    initial = {}
    for name, field in ReferralForm.base_fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            value = data.getlist(name)
        else:
            value = data.get(name, "")
        if value not in ("", []):
            initial[name] = value
    try:
        initial["submission_key"] = uuid.UUID(str(data.get("submission_key", "")))
    except ValueError:
        initial.pop("submission_key", None)
    return initial


def _fit(data: QueryDict, initial: dict | None = None) -> dict:
    """What the suggestions are ranked on, as typed (the selector ignores unknown codes)."""
    language = data.get("family_language") or (initial or {}).get("family_language", "")
    return {
        "services": data.getlist("services")[:50],
        "language": str(language or "")[:40],
        "payment": data.getlist("payment")[:10],
        "telehealth_ok": bool(data.get("telehealth_ok")),
    }


def _suggestions(membership, student, values: dict, chosen_partner, labels=None) -> dict:
    """The ranked partners for the fragment; the chosen one stays listed (and chosen)."""
    criteria = {
        "school": student.school if student else None,
        "services": values["services"],
        "language": values["language"],
        "payment": values["payment"],
        "telehealth_ok": values["telehealth_ok"],
        "labels": labels,
    }
    suggestions = partner_suggestions(membership, **criteria)
    chosen = _id(chosen_partner)
    if chosen is not None and all(s.partner.pk != chosen for s in suggestions):
        suggestions += partner_suggestions(membership, **criteria, partner_ids=[chosen])
    # (lists) The student's open referral to a partner, warned of beside it (not a block).
    open_referrals = open_referrals_by_partner(membership, student)
    for suggestion in suggestions:
        suggestion.open_referral = open_referrals.get(suggestion.partner.pk)
    return {"suggestions": suggestions, "chosen_partner": chosen}


def _render(request, form, data, *, student=None, status=None):
    """The page as typed so far. `student`: the one already looked up for `data`."""
    membership = request.membership
    student_raw, query = data.get("student", ""), data.get("q", "").strip()[:100]
    if student is None and student_raw:
        student = referable_student(membership, student_raw)
    labels = dict(form.fields["services"].choices)
    context = {
        "form": form,
        "picked": student,
        "query": query,
        "results": student_matches(membership, query) if student is None and query else None,
        "crisis_protocol": request.district.crisis_protocol_text(),
        "emergency": form.emergency,
        **_suggestions(
            membership, student, _fit(data, form.initial), data.get("partner", ""), labels
        ),
    }
    return render_page_or_fragment(request, TEMPLATE, context, fragment=None, status=status)


def _partner(membership, raw) -> tuple[Partner | None, str | None]:
    """The chosen partner of the district, or None for "decide later"; an error for an id
    that is not one of the district's partners (garbage included)."""
    if not str(raw or "").strip():
        return None, None
    pk = _id(raw)
    partner = (
        Partner.objects.for_district(membership.district_id).filter(pk=pk).first()
        if pk is not None
        else None
    )
    if partner is None:
        return None, _("Choose one of your district's partners.")
    return partner, None


def _student(membership, raw) -> Student | None:
    """The student of the district with this id (the service checks the school limit and
    enrolment), or None for garbage and another district's id."""
    pk = _id(raw)
    if pk is None:
        return None
    return (
        Student.objects.for_district(membership.district_id)
        .filter(pk=pk)
        .select_related("school")
        .first()
    )


def _add_errors(form: ReferralForm, error: ValidationError) -> None:
    """The service's refusals beside the fields they concern; the school is the student's."""
    for key, messages_ in error.message_dict.items():
        target = {"school": "student"}.get(key, key)
        if target == "student" and form.has_error("student"):
            continue  # one problem with the student at a time
        if target != NON_FIELD_ERRORS and target not in form.fields:
            target = None
        for message in messages_:
            form.add_error(target, message)


@requires("referrals.create")
@require_http_methods(["GET", "HEAD", "POST"])
def referral_new(request, district_slug):
    """A new referral: GET shows the form (?student= picks the student), POST saves it or,
    for a helper button, shows it again with what was typed."""
    membership = request.membership
    district = request.district
    data = request.POST.copy() if request.method == "POST" else request.GET.copy()
    step = data.get("step", "")
    if data.get("pick_student"):
        data["student"], step = data["pick_student"], "pick"
    if step == "change_student":
        data["student"] = ""
    if request.method != "POST" or step in STEPS:
        initial = _initial(data)
        student = (
            referable_student(membership, data.get("student")) if data.get("student") else None
        )
        if student is not None and "family_language" not in initial:
            initial["family_language"] = parse_language(student.family_language) or ""
        form = ReferralForm(initial=initial, district=district)
        return _render(request, form, data, student=student)

    form = ReferralForm(data, district=district)
    student = _student(membership, data.get("student"))
    partner, partner_error = _partner(membership, data.get("partner"))
    valid = form.is_valid()
    if not str(data.get("student", "")).strip():
        form.add_error(
            "student",
            _("Choose the student: type a name or student ID, then pick from the list."),
        )
    elif student is None and not valid:
        form.add_error("student", _("Choose a student of your district."))
    if partner_error:
        form.add_error("partner", partner_error)
    if valid and partner_error is None:
        try:
            referral = referral_create(
                by=membership,
                student=student,
                school=student.school if student else None,
                partner=partner,
                submission_key=form.cleaned_data["submission_key"],
                **form.referral_fields(),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Referral %(reference)s saved.") % {"reference": referral.reference},
            )
            return redirect(reverse("referral_detail", args=[district.slug, referral.pk]))
    return _render(request, form, data)


def _to_page(request):
    """A fragment URL opened as a page: the referral page with the same choices."""
    url = reverse("referral_new", args=[request.district.slug])
    query = request.GET.urlencode()
    response = redirect(f"{url}?{query}" if query else url)
    # The same URL answers htmx with a fragment: a cache must keep the two apart.
    patch_vary_headers(response, [VARY])
    return response


@requires("referrals.create")
@require_GET
def referral_student_search(request, district_slug):
    """The student picker as you type (?q=): up to ten matches; ?pick_student= (or
    ?student=) shows the chosen student and refills the family's language when it is
    blank; neither shows the empty search."""
    if not wants_fragment(request):
        return _to_page(request)
    membership = request.membership
    picked_raw = request.GET.get("pick_student") or request.GET.get("student") or ""
    if request.GET.get("step") == "change_student":
        picked_raw = ""
    student = referable_student(membership, picked_raw) if picked_raw else None
    query = request.GET.get("q", "").strip()
    context = {"picked": student, "query": query, "fragment": True}
    if student is None and "q" in request.GET:
        context["results"] = student_matches(membership, query) if query else None
        return render_page_or_fragment(request, TEMPLATE, context, fragment="student_results")
    response_context = dict(context)
    if student is not None and not request.GET.get("family_language"):
        language = parse_language(student.family_language)
        if language:
            response_context["language_form"] = ReferralForm(
                initial={"family_language": language}, district=request.district
            )
    response = render_page_or_fragment(request, TEMPLATE, response_context, fragment="picker")
    if student is not None:
        response["HX-Trigger"] = "student-chosen"
    return response


@requires("referrals.create")
@require_GET
def referral_suggestions(request, district_slug):
    """The partners ranked for what the form says so far (student, services, language,
    payment, telehealth), up to eight, each with why it fits and what it lacks."""
    if not wants_fragment(request):
        return _to_page(request)
    membership = request.membership
    raw = request.GET.get("student")
    student = referable_student(membership, raw) if raw else None
    context = {
        "picked": student,
        **_suggestions(membership, student, _fit(request.GET), request.GET.get("partner", "")),
    }
    return render_page_or_fragment(request, TEMPLATE, context, fragment="suggestions")


urlpatterns = [
    path("referrals/new/", referral_new, name="referral_new"),
    path("referrals/new/students/", referral_student_search, name="referral_student_search"),
    path("referrals/new/partners/", referral_suggestions, name="referral_suggestions"),
]
public_urlpatterns: list = []
