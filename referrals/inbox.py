"""What referrals puts in the home page's inbox (schools.inbox; registered in
ReferralsConfig.ready).

- The counselor responsible for a referral (its owner): a referral the partner declined
  and nobody has sent elsewhere yet, and one whose answer is overdue.
- The school's care team: new requests for help in their schools.
- A partner's member: referrals to answer, first appointments to schedule, appointments
  whose date has come, to record.

Items name no student: the home page may be open on a shared screen; the referral's
number and its school or partner say which it is. Each provider is one query.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.models import HelpRequestStatus, Referral, ReferralStatus
from referrals.selectors import referrals_visible_to
from referrals.services.help_requests import help_requests_visible_to
from referrals.views.inbox import inbox_referrals
from schools.inbox import INBOX_LIMIT, InboxItem, day_start

S = ReferralStatus


def _referral_url(request, referral) -> str:
    return reverse("referral_detail", args=[request.district.slug, referral.pk])


def referrals_declined(request) -> list[InboxItem]:
    """Referrals the viewer is responsible for that a partner declined, not yet sent to
    another partner nor withdrawn."""
    referrals = (
        referrals_visible_to(request.membership)
        .filter(owner=request.membership, status=S.DECLINED)
        .exclude(Exists(Referral.objects.filter(resent_from=OuterRef("pk"))))
        .select_related("partner")
        .order_by("-declined_at")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("Referral declined"),
            title=referral.reference,
            url=_referral_url(request, referral),
            since=referral.declined_at,
            detail=_("%(partner)s: %(reason)s. Send it to another partner or withdraw it.")
            % {"partner": referral.partner.name, "reason": referral.get_decline_reason_display()},
            tone="warning",
        )
        for referral in referrals
    ]


def referrals_overdue(request) -> list[InboxItem]:
    """Referrals the viewer is responsible for whose partner has not answered in time."""
    today = request.district.today()
    referrals = (
        referrals_visible_to(request.membership)
        .filter(owner=request.membership, status=S.SENT, response_due_on__lt=today)
        .select_related("partner")
        .order_by("-response_due_on", "-pk")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("No answer yet"),
            title=referral.reference,
            url=_referral_url(request, referral),
            since=day_start(request.district, referral.response_due_on),
            detail=_("%(partner)s was to answer by %(date)s.")
            % {
                "partner": referral.partner.name,
                "date": formats.date_format(referral.response_due_on),
            },
            tone="danger",
        )
        for referral in referrals
    ]


def help_requests_new(request) -> list[InboxItem]:
    """New requests for help in the viewer's schools, waiting for a counselor."""
    help_requests = (
        help_requests_visible_to(request.membership)
        .filter(status=HelpRequestStatus.NEW)
        .select_related("school")
        .order_by("-created_at")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("Request for help"),
            title=help_request.reference,
            url=reverse("help_request_detail", args=[request.district.slug, help_request.pk]),
            since=help_request.created_at,
            detail=_("%(school)s; from %(asker)s. Read it and decide what happens next.")
            % {
                "school": help_request.school.name,
                "asker": help_request.get_asker_kind_display().lower(),
            },
            tone="warning",
        )
        for help_request in help_requests
    ]


# What the partner does next, by status, as the inbox names it.
PARTNER_STEPS = {
    S.SENT: gettext_lazy("Referral to answer"),
    S.ACCEPTED: gettext_lazy("Appointment to schedule"),
    S.SCHEDULED: gettext_lazy("Appointment to record"),
}


def referrals_for_partner(request) -> list[InboxItem]:
    """A partner's referrals waiting for its next step (not those in service: they wait
    for the service to end, not for the partner today)."""
    district = request.district
    today = district.today()
    referrals = inbox_referrals(request.membership, today).exclude(status=S.IN_SERVICE)[
        :INBOX_LIMIT
    ]
    items = []
    for referral in referrals:
        tone, detail = "info", referral.school_name
        if referral.status == S.SENT:
            since = referral.sent_at
            if referral.response_due_on:
                overdue = referral.response_due_on < today
                tone = "danger" if overdue else "info"
                detail = _("%(school)s; answer by %(date)s") % {
                    "school": referral.school_name,
                    "date": formats.date_format(referral.response_due_on),
                }
        elif referral.status == S.ACCEPTED:
            since = referral.accepted_at
        else:
            since = day_start(district, referral.appointment_on)
            detail = _("%(school)s; appointment on %(date)s") % {
                "school": referral.school_name,
                "date": formats.date_format(referral.appointment_on),
            }
        items.append(
            InboxItem(
                kind=str(PARTNER_STEPS[referral.status]),
                title=referral.reference,
                url=_referral_url(request, referral),
                since=since,
                detail=detail,
                tone=tone,
            )
        )
    return items
