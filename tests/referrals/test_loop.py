"""The loop's state machine (referrals.services.loop.referral_step): every status against every
action, for the referring school and for the receiving partner, allowed or refused.

The expectation is written here by hand from the issue's text (issue 14, part 1), not read
from referrals.loop.TRANSITIONS; the first test holds the table to it, the others hold the
service (and the buttons it offers) to the table.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from referrals.loop import TRANSITIONS, Side
from referrals.models import Referral, ReferralStatus, ReferralStep
from referrals.services.loop import Actor, actions_for, referral_step
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, ReferralFactory

S = ReferralStatus
ALL_STATUSES = list(S.values)
ALL_ACTIONS = ["accept", "decline", "schedule", "kept", "missed", "update", "close", "withdraw"]
BEFORE_CLOSED = {S.DRAFT, S.SENT, S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE, S.DECLINED}

# action -> (the statuses it may leave, the status it leads to (None: stays), school only)
EXPECTED = {
    "accept": ({S.SENT}, S.ACCEPTED, False),
    "decline": ({S.SENT}, S.DECLINED, False),
    "schedule": ({S.ACCEPTED, S.SCHEDULED}, S.SCHEDULED, False),  # again: rescheduled
    "kept": ({S.SCHEDULED}, S.IN_SERVICE, False),
    "missed": ({S.SCHEDULED}, S.ACCEPTED, False),  # back to scheduling, counted
    "update": ({S.SENT, S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE}, None, False),
    "close": ({S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE}, S.CLOSED, False),
    "withdraw": (BEFORE_CLOSED, S.WITHDRAWN, True),  # the school, before it closes
}


def test_the_transition_table_is_the_issues_loop():
    assert set(TRANSITIONS) == set(ALL_ACTIONS)
    for action, (sources, target, school_only) in EXPECTED.items():
        transition = TRANSITIONS[action]
        assert set(transition.sources) == sources, action
        assert transition.target == target, action
        assert (transition.side == Side.SCHOOL) == school_only, action


# --- A referral in each status ------------------------------------------------------------------


def in_status(district, partner, counselor, status: str) -> Referral:
    """A referral of the counselor's school to the partner, as the loop would have left it."""
    today = district.today()
    now = timezone.now()
    fields: dict = {"status": status}
    if status != S.DRAFT:
        fields["sent_at"] = now - datetime.timedelta(days=2)
        fields["response_due_on"] = today + datetime.timedelta(days=3)
    if status in (S.ACCEPTED, S.SCHEDULED, S.IN_SERVICE, S.CLOSED):
        fields["accepted_at"] = now - datetime.timedelta(days=1)
    if status == S.DECLINED:
        fields.update(declined_at=now, decline_reason="no_capacity")
    if status == S.SCHEDULED:
        fields["appointment_on"] = today + datetime.timedelta(days=5)
    if status in (S.IN_SERVICE, S.CLOSED):
        fields["first_appointment_on"] = today
    if status == S.CLOSED:
        fields.update(closed_at=now, outcome="completed")
    if status == S.WITHDRAWN:
        fields["withdrawn_at"] = now
    return ReferralFactory(
        district=district,
        partner=partner,
        referred_by=counselor,
        student__district=district,
        **fields,
    )


# Valid arguments for each action: only the order of steps can refuse them.
def arguments(action: str, district) -> dict:
    today = district.today()
    return {
        "decline": {"reason": "no_capacity"},
        "schedule": {"appointment_on": today + datetime.timedelta(days=7)},
        "kept": {"kept_on": today},
        "update": {"note": "Called the family."},
        "close": {"outcome": "completed"},
    }.get(action, {})


@pytest.fixture
def cast(district, partner):
    counselor = MembershipFactory(district=district, role="counselor")
    partner_member = MembershipFactory(district=district, role="partner", partner=partner)
    return {"school": counselor, "partner": partner_member}


def allowed(status: str, action: str, side: str) -> bool:
    sources, _target, school_only = EXPECTED[action]
    return status in sources and (side == "school" or not school_only)


@pytest.mark.parametrize("side", ["school", "partner"])
@pytest.mark.parametrize("action", ALL_ACTIONS)
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_every_status_and_action(district, partner, cast, status, action, side):
    referral = in_status(district, partner, cast["school"], status)
    actor = Actor(membership=cast[side])

    with tenant_context(district):
        offered = action in actions_for(actor, referral)
        steps_before = ReferralStep.objects.filter(referral=referral).count()
        try:
            result = referral_step(
                actor=actor, referral=referral, action=action, **arguments(action, district)
            )
        except ValidationError as error:
            refusal = error
        except PermissionDenied as error:
            refusal = error
        else:
            refusal = None
        after = Referral.objects.get(pk=referral.pk)
        steps = list(ReferralStep.objects.filter(referral=referral).order_by("pk"))

    expected = allowed(status, action, side)
    # A draft is sent from its own panel: of the loop, the school is offered only withdraw.
    assert offered == (expected and not (status == S.DRAFT and action != "withdraw"))
    if expected:
        assert refusal is None, refusal
        target = EXPECTED[action][1]
        assert after.status == (target or status)
        assert result.status == after.status
        assert len(steps) == steps_before + 1
        assert (steps[-1].kind, steps[-1].from_status, steps[-1].to_status) == (
            TRANSITIONS[action].kind,
            status,
            after.status,
        )
        assert steps[-1].by_id == cast[side].pk
    else:
        assert refusal is not None
        if isinstance(refusal, ValidationError):
            assert NON_FIELD_ERRORS in refusal.message_dict  # out of order: no field is wrong
        else:
            assert side == "partner" and EXPECTED[action][2]  # the school's step
        assert after.status == status
        assert len(steps) == steps_before


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_only_a_declined_referral_is_offered_to_another_partner_and_by_the_school(
    district, partner, cast, status
):
    referral = in_status(district, partner, cast["school"], status)

    with tenant_context(district):
        school = actions_for(Actor(membership=cast["school"]), referral)
        partner_side = actions_for(Actor(membership=cast["partner"]), referral)

    assert ("resend" in school) == (status == S.DECLINED)
    assert "resend" not in partner_side


def test_a_missed_appointment_is_counted_and_clears_the_date(district, partner, cast):
    referral = in_status(district, partner, cast["school"], S.SCHEDULED)
    actor = Actor(membership=cast["partner"])

    with tenant_context(district):
        missed = referral_step(actor=actor, referral=referral, action="missed")
        referral_step(
            actor=actor,
            referral=missed,
            action="schedule",
            appointment_on=district.today() + datetime.timedelta(days=2),
        )
        again = referral_step(actor=actor, referral=missed, action="missed")

    assert again.no_shows == 2 and again.appointment_on is None and again.status == S.ACCEPTED


def test_someone_of_another_partner_or_a_viewer_may_take_no_step(district, partner, cast):
    referral = in_status(district, partner, cast["school"], S.SENT)
    stranger = MembershipFactory(district=district, role="partner")
    viewer = MembershipFactory(district=district, role="viewer")

    with tenant_context(district):
        for member in (stranger, viewer):
            assert actions_for(Actor(membership=member), referral) == []
            with pytest.raises(PermissionDenied):
                referral_step(actor=Actor(membership=member), referral=referral, action="accept")
        assert Referral.objects.get(pk=referral.pk).status == S.SENT
