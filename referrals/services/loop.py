"""The referral loop's services: every step after sending, each recorded as a ReferralStep
(who, when, a note) in the same transaction as the change (referrals.loop has the rules).

Who acts is an `Actor`: a member of the district (staff of the referring school, or a
signed-in member of the receiving partner), or a partner's contact acting from the emailed
link (`Actor(contact=...)`, after the link was checked by its view).

Refusals are ValidationErrors keyed by the form field they concern ("__all__" for a step
out of order); acting on another district's, school's or partner's referral is
PermissionDenied.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerships.models import MOU, Contact, ContactRole
from partnerships.mou_rules import in_force_q
from referrals.loop import TRANSITIONS, Side
from referrals.models import (
    OPEN_STATUSES,
    DeclineReason,
    Outcome,
    Referral,
    ReferralStatus,
    ReferralStep,
    StepKind,
)
from referrals.services.common import in_my_schools
from schools.capabilities import can
from schools.models import ClosedDay, Membership, Role

NOTE_MAX = 2000
# How far ahead a first appointment may be scheduled.
SCHEDULE_HORIZON = datetime.timedelta(days=366)


@dataclass(frozen=True)
class Actor:
    membership: Membership | None = None
    contact: Contact | None = None

    def __post_init__(self):
        if (self.membership is None) == (self.contact is None):
            raise ValueError("an actor is a membership or a contact")

    @property
    def district_id(self) -> int:
        return (self.membership or self.contact).district_id


# --- Who may act ----------------------------------------------------------------------------


def actor_side(actor: Actor, referral: Referral) -> str | None:
    """Side.SCHOOL for the referring school's care team, Side.PARTNER for the receiving
    partner (its member, or its intake contact from the link), None for anyone else."""
    if actor.district_id != referral.district_id:
        return None
    if actor.contact is not None:
        contact = actor.contact
        if (
            referral.partner_id is not None
            and contact.partner_id == referral.partner_id
            and ContactRole.INTAKE in (contact.roles or [])
        ):
            return Side.PARTNER
        return None
    membership = actor.membership
    if not membership.active:
        return None
    if membership.role == Role.PARTNER:
        if referral.partner_id is not None and membership.partner_id == referral.partner_id:
            return Side.PARTNER
        return None
    if can(membership, "referrals.send") and in_my_schools(membership, referral.school_id):
        return Side.SCHOOL
    return None


def actions_for(actor: Actor, referral: Referral) -> list[str]:
    """The actions the actor may take on the referral now (for the page's buttons)."""
    from referrals.loop import allowed_actions

    side = actor_side(actor, referral)
    if side is None:
        return []
    actions = allowed_actions(referral.status, side=side)
    if side == Side.SCHOOL and referral.status == ReferralStatus.DECLINED:
        actions.append("resend")
    if side == Side.SCHOOL and referral.status == ReferralStatus.DRAFT:
        # A draft is sent from its own panel (referral_send), not by the loop.
        actions = [a for a in actions if a == "withdraw"]
    return actions


# --- Times ----------------------------------------------------------------------------------


def closed_days(district_id: int, start: datetime.date, end: datetime.date) -> frozenset:
    """The district's closed days between two dates (one query)."""
    return frozenset(
        ClosedDay.objects.for_district(district_id)
        .filter(date__gte=start, date__lte=end)
        .values_list("date", flat=True)
    )


def mou_in_force(partner_id: int, district_id: int, on: datetime.date) -> MOU | None:
    """The partner's MOU in force with the district on `on` (partnerships.mou_rules.in_force_q:
    signed, and `on` within its term): the latest to start wins."""
    return (
        MOU.objects.for_district(district_id)
        .filter(in_force_q(on), partner_id=partner_id)
        .order_by("-start_date", "-pk")
        .first()
    )


def response_days(referral: Referral, on: datetime.date) -> int:
    """The business days the partner has to answer: its MOU's response time, else the
    district's."""
    mou = mou_in_force(referral.partner_id, referral.district_id, on)
    if mou is not None and mou.response_days:
        return mou.response_days
    return referral.district.referral_response_days


def response_due_on(referral: Referral, sent_on: datetime.date) -> datetime.date:
    """The last business day on which an answer is in time."""
    from core.business_days import add_business_days

    days = response_days(referral, sent_on)
    # Enough calendar days to cover the business days and the closed ones among them.
    closed = closed_days(referral.district_id, sent_on, sent_on + datetime.timedelta(days * 3 + 60))
    return add_business_days(sent_on, days, closed)


# --- Steps ----------------------------------------------------------------------------------


def _note(note) -> str:
    note = str(note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(
            {"note": [_("Keep the note under %(count)s characters.") % {"count": NOTE_MAX}]}
        )
    return note


def record_step(
    referral: Referral,
    *,
    kind: str,
    actor: Actor | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    detail: dict | None = None,
    at: datetime.datetime | None = None,
) -> ReferralStep:
    """Append one step to the referral's timeline (services only)."""
    return ReferralStep.objects.create(
        district_id=referral.district_id,
        referral=referral,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        by=actor.membership if actor else None,
        by_contact=actor.contact if actor else None,
        note=note,
        detail=detail or {},
        at=at or timezone.now(),
    )


def _locked(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("district", "partner", "school", "owner__user")
        .get(district_id=referral.district_id, pk=referral.pk)
    )


def _refuse_out_of_order(referral: Referral, action: str) -> None:
    raise ValidationError(
        {
            NON_FIELD_ERRORS: [
                _(
                    "This referral is %(status)s: “%(action)s” is not possible now. Reload the "
                    "page to see where it stands."
                )
                % {"status": referral.get_status_display().lower(), "action": action}
            ]
        }
    )


@transaction.atomic
def referral_step(
    *,
    actor: Actor,
    referral: Referral,
    action: str,
    note: str = "",
    reason: str = "",
    outcome: str = "",
    appointment_on: datetime.date | None = None,
    kept_on: datetime.date | None = None,
) -> Referral:
    """Take one step of the loop (referrals.loop.TRANSITIONS), recorded on the timeline.

    - accept; decline with a reason (DeclineReason);
    - schedule with the appointment's date (today to a year ahead; again to reschedule);
    - kept (on `kept_on`, default the appointment's date, never in the future) or missed
      (back to accepted, one more no-show);
    - update: a note only;
    - close with an outcome (Outcome);
    - withdraw: the referring school only, before the referral closes.

    A step the referral's status does not allow is refused with a message, as is one by
    someone who is neither the referring school's care team nor the receiving partner
    (PermissionDenied).
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValueError(f"no such action: {action}")
    if actor.district_id != referral.district_id:
        raise PermissionDenied
    locked = _locked(referral)
    side = actor_side(actor, locked)
    if side is None or (transition.side == Side.SCHOOL and side != Side.SCHOOL):
        raise PermissionDenied
    note = _note(note)
    if locked.status not in transition.sources:
        _refuse_out_of_order(locked, str(transition.label))

    district = locked.district
    today = district.today()
    now = timezone.now()
    detail: dict = {}
    changed: list[str] = []
    errors: dict[str, list[str]] = {}

    if action == "accept":
        locked.accepted_at = now
        changed.append("accepted_at")
    elif action == "decline":
        if reason not in DeclineReason.values:
            errors["reason"] = [_("Choose why you decline.")]
        elif reason == DeclineReason.OTHER and not note:
            errors["note"] = [_("Say why in a note.")]
        locked.declined_at = now
        locked.decline_reason = reason
        detail["reason"] = reason
        changed += ["declined_at", "decline_reason"]
    elif action == "schedule":
        if not isinstance(appointment_on, datetime.date):
            errors["appointment_on"] = [_("Give the appointment's date.")]
        elif appointment_on < today:
            errors["appointment_on"] = [_("The appointment's date cannot be in the past.")]
        elif appointment_on > today + SCHEDULE_HORIZON:
            errors["appointment_on"] = [_("Give a date within the next year.")]
        else:
            locked.appointment_on = appointment_on
            detail["appointment_on"] = appointment_on.isoformat()
            changed.append("appointment_on")
    elif action == "kept":
        kept_on = kept_on or locked.appointment_on
        if not isinstance(kept_on, datetime.date):
            errors["kept_on"] = [_("Give the date of the first appointment.")]
        elif kept_on > today:
            errors["kept_on"] = [_("An appointment cannot be kept in the future.")]
        elif (
            locked.sent_at
            and kept_on < timezone.localtime(locked.sent_at, timezone=district.time_zone).date()
        ):
            errors["kept_on"] = [_("The appointment cannot be before the referral was sent.")]
        else:
            locked.first_appointment_on = kept_on
            detail["kept_on"] = kept_on.isoformat()
            changed.append("first_appointment_on")
    elif action == "missed":
        if locked.appointment_on:
            detail["appointment_on"] = locked.appointment_on.isoformat()
        locked.no_shows += 1
        locked.appointment_on = None
        changed += ["no_shows", "appointment_on"]
    elif action == "update":
        if not note:
            errors["note"] = [_("Write the update.")]
    elif action == "close":
        if outcome not in Outcome.values:
            errors["outcome"] = [_("Choose how the referral ended.")]
        elif outcome == Outcome.OTHER and not note:
            errors["note"] = [_("Say how it ended in a note.")]
        locked.outcome = outcome
        locked.closed_at = now
        detail["outcome"] = outcome
        changed += ["outcome", "closed_at"]
    elif action == "withdraw":
        locked.withdrawn_at = now
        changed.append("withdrawn_at")
    if errors:
        raise ValidationError(errors)

    from_status = locked.status
    if transition.target is not None:
        locked.status = transition.target
        changed.append("status")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    record_step(
        locked,
        kind=transition.kind,
        actor=actor,
        from_status=from_status,
        to_status=locked.status,
        note=note,
        detail=detail,
        at=now,
    )
    _tell(locked, action, actor=actor, note=note, from_status=from_status)
    return locked


def _tell(referral: Referral, action: str, *, actor: Actor, note: str, from_status: str) -> None:
    """The other side hears of the steps it must act on or know: the counselor of a decline
    or a close (unless they recorded it themselves), the partner of a withdrawal."""
    from referrals.services import loop_mail

    if action in ("decline", "close"):
        if actor.membership is not None and actor.membership.pk == referral.owner_id:
            return
        label = (
            referral.get_decline_reason_display()
            if action == "decline"
            else referral.get_outcome_display()
        )
        what = "declined" if action == "decline" else "closed"
        loop_mail.tell_owner(referral, what=what, label=str(label), note=note)
    elif action == "withdraw" and from_status != ReferralStatus.DRAFT:
        loop_mail.tell_partner_withdrawn(referral, note=note)


@transaction.atomic
def referral_reassign(
    *, by: Membership, referral: Referral, to: Membership, note: str = ""
) -> Referral:
    """Give an open referral to another member of its school's care team (their caseload).
    The new owner must be active, of the district, able to refer, and work at the
    referral's school."""
    if by.district_id != referral.district_id:
        raise PermissionDenied
    if actor_side(Actor(membership=by), referral) != Side.SCHOOL:
        raise PermissionDenied
    note = _note(note)
    locked = _locked(referral)
    if locked.status not in OPEN_STATUSES and locked.status != ReferralStatus.DECLINED:
        _refuse_out_of_order(locked, _("Reassign"))
    if (
        to is None
        or to.district_id != locked.district_id
        or not to.active
        or to.role == Role.PARTNER
        or not can(to, "referrals.create")
        or not in_my_schools(to, locked.school_id)
    ):
        raise ValidationError(
            {"to": [_("Choose an active counselor who works with this student's school.")]}
        )
    if to.pk == locked.owner_id:
        raise ValidationError({"to": [_("This referral is already theirs.")]})
    previous = locked.owner_id
    locked.owner = to
    locked.save(update_fields=["owner", "updated_at"])
    record_step(
        locked,
        kind=StepKind.REASSIGNED,
        actor=Actor(membership=by),
        from_status=locked.status,
        to_status=locked.status,
        note=note,
        detail={"from": previous, "to": to.pk},
    )
    return locked
