"""A partner member's inbox in each district it serves, the summary of what waits in each
on their home page, and the partner's scorecard section on the partner's page.

What waits for a partner (its own referrals only): a referral sent (to accept or decline),
accepted (to schedule), scheduled whose appointment date has come (to record as kept or
missed), in service (to close once the service ends). Overdue answers first, then by the
date each is due. The rows name no student.
"""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from referrals.models import WITH_PARTNER_STATUSES, Referral, ReferralStatus
from referrals.scorecard import partner_scorecard
from referrals.selectors import concern_labels
from schools.capabilities import requires
from schools.models import Membership, Role
from schools.selectors import memberships_of
from schools.tenancy import tenant_context

PAGE_SIZE = 50
S = ReferralStatus

# What the partner does next, by status.
NEXT_STEP = {
    S.SENT: _("Accept or decline"),
    S.ACCEPTED: _("Schedule the first appointment"),
    S.SCHEDULED: _("Record the appointment: kept or missed"),
    S.IN_SERVICE: _("Close with an outcome when the service ends"),
}


# --- Reads ----------------------------------------------------------------------------------


def _waiting(today: datetime.date) -> Q:
    return Q(status__in=[S.SENT, S.ACCEPTED, S.IN_SERVICE]) | Q(
        status=S.SCHEDULED, appointment_on__lte=today
    )


def inbox_referrals(membership: Membership, today: datetime.date):
    """The referrals that wait for the member's partner in its district, overdue first,
    then by due date (the answer's, or the appointment's), then oldest sent. One query a
    page, on the (district, partner, status) index; the school, never the student."""
    if membership.role != Role.PARTNER or membership.partner_id is None:
        return Referral.objects.none()
    overdue = Q(status=S.SENT, response_due_on__lt=today)
    return (
        Referral.objects.for_district(membership.district_id)
        .filter(partner_id=membership.partner_id)
        .filter(_waiting(today))
        .annotate(
            school_name=F("school__name"),
            overdue=Case(When(overdue, then=Value(True)), default=Value(False)),
            due_on=Case(
                When(status=S.SENT, then=F("response_due_on")),
                When(status=S.SCHEDULED, then=F("appointment_on")),
                default=None,
            ),
        )
        .order_by(F("overdue").desc(), F("due_on").asc(nulls_last=True), "sent_at", "pk")
        .only(
            "pk",
            "district_id",
            "status",
            "urgency",
            "concerns",
            "sent_at",
            "accepted_at",
            "response_due_on",
            "appointment_on",
            "first_appointment_on",
        )
    )


def waiting_counts(membership: Membership, today: datetime.date) -> dict:
    """How many of the partner's referrals wait, by what for (one query; call inside the
    membership's district)."""
    counts = (
        Referral.objects.for_district(membership.district_id)
        .filter(partner_id=membership.partner_id, status__in=WITH_PARTNER_STATUSES)
        .aggregate(
            overdue=Count("pk", filter=Q(status=S.SENT, response_due_on__lt=today)),
            to_answer=Count("pk", filter=Q(status=S.SENT)),
            to_schedule=Count("pk", filter=Q(status=S.ACCEPTED)),
            to_record=Count("pk", filter=Q(status=S.SCHEDULED, appointment_on__lte=today)),
            in_service=Count("pk", filter=Q(status=S.IN_SERVICE)),
        )
    )
    counts["total"] = (
        counts["to_answer"] + counts["to_schedule"] + counts["to_record"] + counts["in_service"]
    )
    return counts


def _waiting_since(referral: Referral) -> datetime.date | None:
    """The date the referral reached the step it waits at (the district's calendar)."""
    if referral.status == S.SCHEDULED:
        return referral.appointment_on
    if referral.status == S.IN_SERVICE and referral.first_appointment_on:
        return referral.first_appointment_on
    moment = referral.accepted_at if referral.status == S.ACCEPTED else referral.sent_at
    return timezone.localdate(moment) if moment is not None else None


# --- Pages ----------------------------------------------------------------------------------


@requires("referrals.view")
@require_GET
def referral_inbox(request, district_slug):
    """A partner member's referrals that wait for their organization in this district.
    Staff have the referral list instead (they are sent there)."""
    membership = request.membership
    if membership.role != Role.PARTNER:
        return redirect("referral_list", district_slug)
    today = request.district.today()
    page = Paginator(inbox_referrals(membership, today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    labels = concern_labels(request.district)
    for referral in page.object_list:
        referral.concern_names = [labels.get(code, code) for code in referral.concerns]
        referral.next_step = NEXT_STEP.get(referral.status, "")
        since = _waiting_since(referral)
        referral.days_waiting = max((today - since).days, 0) if since else None
    context = {
        "page": page,
        "counts": waiting_counts(membership, today),
        "today": today,
        "partner": membership.partner,
    }
    return render(request, "referrals/inbox/list.html", context)


def inbox_home_panel(request) -> dict | None:
    """The partner member's home page: what waits in each district they are a member of
    as a partner, counted inside each district's context in turn (row-level security shows
    a district's rows only there). Left out when nothing waits anywhere. One query per
    district."""
    rows = []
    for membership in memberships_of(request.user):
        if membership.role != Role.PARTNER or membership.partner_id is None:
            continue
        district = membership.district
        with tenant_context(district):
            counts = waiting_counts(membership, district.today())
        rows.append(
            {
                "district": district,
                "current": district.pk == request.district.pk,
                "url": reverse("referral_inbox", args=[district.slug]),
                **counts,
            }
        )
    if not any(row["total"] for row in rows):
        return None
    return {"rows": rows}


def partner_scorecard_section(request, partner) -> dict | None:
    """The scorecard on a partner's page: for staff who may see referrals, and for that
    partner's own members; never for another partner's."""
    membership = request.membership
    if membership.role == Role.PARTNER and membership.partner_id != partner.pk:
        return None
    return {"scorecard": partner_scorecard(request.district, partner), "partner": partner}


urlpatterns = [
    path("referrals/inbox/", referral_inbox, name="referral_inbox"),
]
public_urlpatterns: list = []
