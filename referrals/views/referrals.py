"""Referral pages: a referral (with its consent, send and loop panels), sending,
declaring a health or safety emergency, and the administrators' list of emergencies."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.htmx import render_page_or_fragment, wants_fragment
from core.languages import language_name
from partnerships.selectors.categories import service_labels
from referrals.models import ConsentRequestState
from referrals.rules import IDENTIFIABLE_FIELD_LABELS, IDENTIFIABLE_FIELDS, PAYMENT_CHOICES
from referrals.selectors import (
    access_referral_logged,
    concern_labels,
    consent_requests_for,
    covering_consent,
    emergency_override_list,
    may_read_confidential_notes,
    partner_visible_fields,
    referral_disclosures,
    referral_emergency,
    verbal_agreements_for,
)
from referrals.services.referrals import emergency_override_declare, referral_send
from schools.access_log import access_log_record
from schools.capabilities import can, requires
from schools.models import AccessLog

PAGE_SIZE = 50
# The national suicide and crisis line (call or text), shown wherever an emergency is declared.
CRISIS_LINE = "988"


# --- A referral ------------------------------------------------------------------------------


def add_errors(form, error: ValidationError) -> None:
    """A service's refusal onto the form: each message next to its field, or at the top
    when the form has no such field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def with_field_labels(disclosures):
    """Each disclosure with `field_labels`: its records by name (for tables and the PDF)."""
    for disclosure in disclosures:
        disclosure.field_labels = [IDENTIFIABLE_FIELD_LABELS.get(c, c) for c in disclosure.fields]
    return disclosures


def _disclosed_values(referral, visible: list[str]) -> list[dict]:
    """The values of the fields the partner may read today (selectors.
    partner_visible_fields: disclosed, the consent still standing, within the MOU), in the
    list's order: each as a label and its lines (none when Trellis holds no such record)."""
    disclosed = set(visible)
    student = referral.student
    dob = student.date_of_birth
    values = {
        "name": [
            f"{student.first_name} {student.last_name}",
            *(
                [_("Preferred name: %(name)s") % {"name": student.preferred_name}]
                if student.preferred_name
                else []
            ),
        ],
        "date_of_birth": [formats.date_format(dob, "DATE_FORMAT")] if dob else [],
        "grade": [student.get_grade_display()],
        "school": [referral.school.name],
        "guardian_contact": [
            line
            for line in (student.guardian_name, student.guardian_email, student.guardian_phone)
            if line
        ],
    }
    return [
        {"label": label, "lines": values.get(code, [])}
        for code, label in IDENTIFIABLE_FIELDS
        if code in disclosed
    ]


def _consent_panel(referral, today: datetime.date) -> dict:
    """What the draft's consent panel says: de-identified, covered (by which consent), or
    not covered yet."""
    if referral.is_consultation:
        return {"state": "consultation"}
    if referral.partner is None:
        return {"state": "no_partner"}
    consent = covering_consent(
        student=referral.student, partner=referral.partner, fields=referral.shared_fields, on=today
    )
    return {"state": "covered", "consent": consent} if consent else {"state": "uncovered"}


def with_states(consent_requests):
    """Each consent request with its `current_state` and `state_label` (waiting, signed,
    expired, locked or withdrawn), read at one moment for the whole list."""
    now = timezone.now()
    for consent_request in consent_requests:
        state = ConsentRequestState(consent_request.state(now))
        consent_request.current_state = state.value
        consent_request.state_label = state.label
    return consent_requests


STAFF_TEMPLATE = "referrals/referrals/detail.html"
PARTNER_TEMPLATE = "referrals/referrals/partner_detail.html"


def log_referral_view(request, referral) -> None:
    """The access-log row of a page shown after a POST (access_referral_logged was called
    with action=None: a redirect shows nothing, the page it leads to logs)."""
    access_log_record(
        request=request,
        object_type="referral",
        object_id=referral.pk,
        student=referral.student,
        action=AccessLog.Action.VIEW,
    )


def referral_page(request, referral, *, send_errors=(), status=200, loop=None):
    """The referral's page as the viewer may read it: the care team's, or the partner's.

    `loop`: what the loop panel shows again after a step was posted (referrals.views.loop:
    the refused form, or what was done); an htmx request then gets the panel alone.
    """
    from referrals.views.loop import loop_context

    membership = request.membership
    district = request.district
    care_team = can(membership, "referrals.create")
    template = STAFF_TEMPLATE if care_team else PARTNER_TEMPLATE
    context = {
        "referral": referral,
        "send_errors": list(send_errors),
        **loop_context(request, referral, **(loop or {})),
    }
    if loop is not None and wants_fragment(request):
        return render_page_or_fragment(request, template, context, fragment="loop", status=status)
    disclosures = with_field_labels(referral_disclosures(membership, referral))
    context.update(
        {
            "concerns": [concern_labels(district).get(c, c) for c in referral.concerns],
            "services": [service_labels(district).get(s, s) for s in referral.services],
            "language": language_name(referral.family_language),
            "payment": [dict(PAYMENT_CHOICES).get(p, p) for p in referral.payment],
            "disclosures": disclosures,
        }
    )
    if not care_team:
        # A partner: the service details and the values of what it may read today (a
        # revoked or lapsed consent hides them from then on).
        context["disclosed"] = _disclosed_values(
            referral, partner_visible_fields(referral, district.today())
        )
        return render(request, template, context, status=status)
    context.update(
        {
            "shared": [IDENTIFIABLE_FIELD_LABELS.get(c, c) for c in referral.shared_fields],
            "confidential_notes": (
                referral.confidential_notes
                if may_read_confidential_notes(membership, referral)
                else None
            ),
            "emergency": referral_emergency(membership, referral),
            "can_send": can(membership, "referrals.send"),
            "can_record_consent": can(membership, "consent.record"),
            "can_declare": can(membership, "emergency.declare"),
            "can_see_student": can(membership, "students.view"),
            # (pages2) Notes and e-consent requests: the care team's, never a partner's.
            "verbal_agreements": verbal_agreements_for(membership, referral),
            "consent_requests": with_states(consent_requests_for(membership, referral)),
        }
    )
    if referral.is_draft:
        context["consent_panel"] = _consent_panel(referral, district.today())
    return render(request, template, context, status=status)


@requires("referrals.view")
def referral_detail(request, district_slug, referral_id):
    """One referral, as the viewer may read it; every view is written to the access log."""
    shown = request.method in ("GET", "HEAD")
    referral = access_referral_logged(
        request, referral_id, action=AccessLog.Action.VIEW if shown else None
    )
    if not shown:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return referral_page(request, referral)


@requires("referrals.send")
def referral_send_view(request, district_slug, referral_id):
    """Send a draft (POST). A refusal is shown beside the send button, on the page."""
    if request.method != "POST":
        access_referral_logged(request, referral_id, action=None)  # 404 first
        return redirect("referral_detail", district_slug, referral_id)
    # Logged below only when the page is shown again: on success the detail page it
    # redirects to writes the row.
    referral = access_referral_logged(request, referral_id, action=None)
    try:
        referral_send(by=request.membership, referral=referral)
    except ValidationError as error:
        log_referral_view(request, referral)
        return referral_page(request, referral, send_errors=error.messages)
    messages.success(
        request,
        _("Referral %(reference)s sent to %(partner)s.")
        % {"reference": referral.reference, "partner": referral.partner.name},
    )
    return redirect("referral_detail", district_slug, referral.pk)


# --- Emergencies -----------------------------------------------------------------------------


class EmergencyForm(forms.Form):
    threat = forms.CharField(
        label=gettext_lazy("Describe the threat to the student's or others' health or safety"),
        help_text=gettext_lazy(
            "What you saw or heard, and why it cannot wait for the family's consent. This is "
            "kept with the referral and listed for administrators."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": gettext_lazy(
                "Describe the threat to the student's or others' health or safety."
            )
        },
    )


@requires("emergency.declare")
def referral_emergency_view(request, district_slug, referral_id):
    """Declare a health or safety emergency (34 CFR 99.36) for one draft referral, with the
    district's crisis protocol in view."""
    referral = access_referral_logged(request, referral_id)
    form = EmergencyForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            emergency_override_declare(
                by=request.membership, referral=referral, threat=form.cleaned_data["threat"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Emergency declared. You can now send referral %(reference)s without "
                    "the family's consent."
                )
                % {"reference": referral.reference},
            )
            return redirect("referral_detail", district_slug, referral.pk)
    existing = referral_emergency(request.membership, referral)
    context = {
        "referral": referral,
        "form": form,
        "existing": existing,
        "protocol": request.district.crisis_protocol_text(),
        "crisis_line": CRISIS_LINE,
    }
    return render(request, "referrals/referrals/emergency.html", context)


@requires("overrides.view")
@require_GET
def emergency_overrides_view(request, district_slug):
    """Every emergency override of the district, newest first (administrators)."""
    page = Paginator(emergency_override_list(request.membership), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "referrals/referrals/emergencies.html", {"page": page})


def emergency_home_panel(request) -> dict | None:
    """The home page's notice of emergency overrides declared in the last 30 days (one
    query); left out when there are none."""
    since = timezone.now() - datetime.timedelta(days=30)
    count = emergency_override_list(request.membership).filter(declared_at__gte=since).count()
    if not count:
        return None
    return {"count": count, "url": reverse("emergency_overrides", args=[request.district.slug])}


urlpatterns = [
    path("referrals/emergencies/", emergency_overrides_view, name="emergency_overrides"),
    path("referrals/<int:referral_id>/", referral_detail, name="referral_detail"),
    path("referrals/<int:referral_id>/send/", referral_send_view, name="referral_send"),
    path(
        "referrals/<int:referral_id>/emergency/",
        referral_emergency_view,
        name="referral_emergency",
    ),
]
public_urlpatterns: list = []
