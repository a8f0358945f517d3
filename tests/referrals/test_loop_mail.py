"""The loop's mail and the answer's due date: the counselor hears of a decline or a close by
the partner, the partner of a withdrawal; the due date counts business days from sending,
skipping weekends and the district's closed days, by the MOU's response time first."""

from __future__ import annotations

import datetime

import time_machine

from referrals.services.loop import Actor, referral_step
from referrals.services.referrals import referral_send
from schools.models import ClosedDay, OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import MOUFactory, ReferralFactory
from tests.referrals.helpers import act

# A Friday in the district's zone (America/New_York by default), mid-morning.
FRIDAY = datetime.datetime(2026, 11, 20, 15, 0, tzinfo=datetime.UTC)


def _sent(counselor, student, partner):
    referral = ReferralFactory(
        district=counselor.district,
        student=student,
        referred_by=counselor,
        partner=partner,
        shared_fields=[],
    )
    return act(referral_send, by=counselor, referral=referral)


def _step(actor_membership=None, contact=None, **arguments):
    actor = Actor(membership=actor_membership, contact=contact)
    with tenant_context(arguments["referral"].district):
        return referral_step(actor=actor, **arguments)


def _texts(mail):
    return mail.subject + mail.body_text + mail.body_html


def test_a_decline_by_the_partner_tells_the_counselor_without_naming_the_student(
    district, counselor, student, partner, member
):
    referral = _sent(counselor, student, partner)
    OutgoingEmail.objects.all().delete()
    partner_member = member("partner", partner=partner)

    _step(
        partner_member,
        referral=referral,
        action="decline",
        reason="no_capacity",
        note="Full until March.",
    )

    [mail] = OutgoingEmail.objects.all()
    assert mail.to == [counselor.user.email]
    text = _texts(mail)
    assert referral.reference in text and "No capacity" in text and "Full until March." in text
    assert f"/referrals/{referral.pk}/" in text
    for identifying in (student.first_name, student.last_name, student.local_id):
        assert identifying not in text


def test_a_close_tells_the_counselor_unless_they_recorded_it_themselves(
    district, counselor, student, partner, member
):
    partner_member = member("partner", partner=partner)
    first = _sent(counselor, student, partner)
    _step(partner_member, referral=first, action="accept")
    OutgoingEmail.objects.all().delete()
    _step(partner_member, referral=first, action="close", outcome="completed")
    [mail] = OutgoingEmail.objects.all()
    assert mail.to == [counselor.user.email] and "Service completed" in _texts(mail)

    second = _sent(counselor, student, partner)
    _step(partner_member, referral=second, action="accept")
    OutgoingEmail.objects.all().delete()
    _step(counselor, referral=second, action="close", outcome="moved")  # heard by phone
    assert not OutgoingEmail.objects.exists()


def test_a_withdrawal_tells_the_partners_intake_contact_but_a_draft_tells_nobody(
    district, counselor, student, partner
):
    referral = _sent(counselor, student, partner)
    OutgoingEmail.objects.all().delete()

    _step(counselor, referral=referral, action="withdraw", note="The family moved away.")

    [mail] = OutgoingEmail.objects.all()
    assert mail.to == ["intake@riverbend.example.org"]
    assert referral.reference in _texts(mail) and "unsubscribe" in mail.body_text.lower()
    assert student.last_name not in _texts(mail)

    draft = ReferralFactory(
        district=district, student=student, referred_by=counselor, partner=partner
    )
    OutgoingEmail.objects.all().delete()
    _step(counselor, referral=draft, action="withdraw")
    assert not OutgoingEmail.objects.exists()


def test_the_answer_is_due_after_the_districts_days_skipping_a_weekend_and_a_closed_day(
    district, counselor, student, partner
):
    district.referral_response_days = 2
    district.save(update_fields=["referral_response_days"])
    with tenant_context(district):
        ClosedDay.objects.create(district=district, date=datetime.date(2026, 11, 23))  # Monday
    with time_machine.travel(FRIDAY, tick=False):
        referral = _sent(counselor, student, partner)
    # Friday + 2 business days: not Saturday, Sunday or the closed Monday: Tuesday, Wednesday.
    assert referral.response_due_on == datetime.date(2026, 11, 25)
    assert not referral.is_overdue(datetime.date(2026, 11, 25))
    assert referral.is_overdue(datetime.date(2026, 11, 26))


def test_the_mous_response_time_comes_before_the_districts(district, counselor, student, partner):
    with time_machine.travel(FRIDAY, tick=False):
        MOUFactory(
            district=district,
            partner=partner,
            response_days=1,
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2027, 6, 30),
        )
        referral = _sent(counselor, student, partner)
    assert referral.response_due_on == datetime.date(2026, 11, 23)  # the next Monday
