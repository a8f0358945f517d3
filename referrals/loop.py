"""The referral loop's rules: which step may follow which, who takes it, and the times it
is measured by. Pure: no queries (the services in referrals.services.loop apply them).

    draft -> sent -> accepted | declined
    accepted -> scheduled (a date) -> in service (first appointment kept)
                          scheduled -> accepted (missed: a no-show, counted)
    accepted | scheduled | in service -> closed (an outcome)
    any step before closed -> withdrawn (the school)
    declined -> sent again to another partner (a new referral; the school)

A partner takes its steps from the emailed link (a contact) or signed in (a partner
member); the referring school's care team may record them too (a partner's phone call),
and the timeline says who did.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from core.business_days import business_days_between
from referrals.models import ReferralStatus, StepKind

S = ReferralStatus


class Side:
    PARTNER = "partner"  # the partner, or the school recording what the partner said
    SCHOOL = "school"  # the referring school's care team only


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the status stays (an update)
    kind: str
    side: str
    label: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "accept", frozenset({S.SENT}), S.ACCEPTED, StepKind.ACCEPTED, Side.PARTNER, _("Accept")
        ),
        Transition(
            "decline",
            frozenset({S.SENT}),
            S.DECLINED,
            StepKind.DECLINED,
            Side.PARTNER,
            _("Decline"),
        ),
        Transition(
            "schedule",
            frozenset({S.ACCEPTED, S.SCHEDULED}),
            S.SCHEDULED,
            StepKind.SCHEDULED,
            Side.PARTNER,
            _("Schedule the first appointment"),
        ),
        Transition(
            "kept",
            frozenset({S.SCHEDULED}),
            S.IN_SERVICE,
            StepKind.KEPT,
            Side.PARTNER,
            _("First appointment kept"),
        ),
        Transition(
            "missed",
            frozenset({S.SCHEDULED}),
            S.ACCEPTED,
            StepKind.MISSED,
            Side.PARTNER,
            _("Appointment missed"),
        ),
        Transition(
            "update",
            frozenset({S.SENT, S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE}),
            None,
            StepKind.UPDATED,
            Side.PARTNER,
            _("Add an update"),
        ),
        Transition(
            "close",
            frozenset({S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE}),
            S.CLOSED,
            StepKind.CLOSED,
            Side.PARTNER,
            _("Close with an outcome"),
        ),
        Transition(
            "withdraw",
            frozenset({S.DRAFT, S.SENT, S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE, S.DECLINED}),
            S.WITHDRAWN,
            StepKind.WITHDRAWN,
            Side.SCHOOL,
            _("Withdraw"),
        ),
    )
}


def allowed_actions(status: str, *, side: str) -> list[str]:
    """The actions a side may take on a referral in `status`, in the list's order. The
    school's care team may take every partner step too; a partner only its own."""
    return [
        t.action
        for t in TRANSITIONS.values()
        if status in t.sources and (t.side == Side.PARTNER or side == Side.SCHOOL)
    ]


# --- Times ----------------------------------------------------------------------------------


def days_to_accept(
    sent_on: datetime.date | None,
    accepted_on: datetime.date | None,
    closed: set[datetime.date] | frozenset = frozenset(),
) -> int | None:
    """Business days from sending to acceptance (the measure the response time targets)."""
    if sent_on is None or accepted_on is None:
        return None
    return business_days_between(sent_on, accepted_on, closed)


def days_to_first_appointment(
    sent_on: datetime.date | None, first_on: datetime.date | None
) -> int | None:
    """Calendar days from sending to the first appointment kept."""
    if sent_on is None or first_on is None:
        return None
    return max((first_on - sent_on).days, 0)
