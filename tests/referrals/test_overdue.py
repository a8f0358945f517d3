"""The overdue sweep: a referral not answered in time reminds its partner once, then, one
business day later, its counselor once; weekends and closed days are not business days;
an answered referral is never reminded; two sweeps at the same moment still send once."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.core import mail
from django.utils import timezone, translation

from referrals.models import (
    ReferralReminder,
    ReferralStatus,
    ReferralStep,
    ReminderAudience,
    StepKind,
)
from referrals.services import overdue
from referrals.services.referrals import referral_send
from referrals.tasks import referral_overdue_sweep
from schools.models import ClosedDay, OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    DistrictFactory,
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
    UserFactory,
)
from tests.referrals.helpers import act

FRIDAY = datetime.date(2026, 1, 16)
HOLIDAY = datetime.date(2026, 1, 19)  # Monday: Martin Luther King Jr. Day
TUESDAY = datetime.date(2026, 1, 20)
PARTNER_SUBJECT = "is waiting for your answer"
COUNSELOR_SUBJECT = "has not answered referral"


def at(day: datetime.date, hour: int = 15) -> datetime.datetime:
    """Mid-morning in Chicago (the factories' district zone) on `day`."""
    return datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=datetime.UTC)


def sweep(district, day: datetime.date) -> overdue.OverdueResult:
    return overdue.overdue_sweep_district(district=district, today=day)


def _cara(district):
    """The counselor who owns the referrals (one membership, however many referrals)."""
    from schools.models import Membership, User

    user = User.objects.filter(email="cara@north.example.org").first()
    if user is None:
        user = UserFactory(email="cara@north.example.org")
    with tenant_context(district):
        membership = Membership.objects.filter(district=district, user=user).first()
    return membership or MembershipFactory(district=district, role="counselor", user=user)


def sent_referral(
    district, partner, *, due_on, owner=None, school=None, status=ReferralStatus.SENT, **extra
):
    owner = owner or _cara(district)
    student = {"school": school} if school is not None else {}
    return ReferralFactory(
        district=district,
        partner=partner,
        referred_by=owner,
        owner=owner,
        student=StudentFactory(
            district=district, first_name="Amara", last_name="Okafor", **student
        ),
        status=status,
        sent_at=timezone.now(),
        response_due_on=due_on,
        **extra,
    )


# Each subject as it reads in Spanish, for a contact who prefers Spanish.
SPANISH_SUBJECTS = {
    PARTNER_SUBJECT: "espera su respuesta",
    COUNSELOR_SUBJECT: "no ha respondido a la derivación",
}


def messages(subject_part: str) -> list[OutgoingEmail]:
    from django.db.models import Q

    either = Q(subject__contains=subject_part)
    if subject_part in SPANISH_SUBJECTS:
        either |= Q(subject__contains=SPANISH_SUBJECTS[subject_part])
    return list(OutgoingEmail.objects.filter(either).order_by("pk"))


def recipients(subject_part: str) -> list[str]:
    return sorted(to for message in messages(subject_part) for to in message.to)


def reminders(district, referral=None) -> list[tuple[str, datetime.date]]:
    with tenant_context(district):
        rows = ReferralReminder.objects.filter(district=district)
        if referral is not None:
            rows = rows.filter(referral=referral)
        return sorted(rows.values_list("audience", "due_on"))


def steps(district, referral) -> list[tuple[str, object, object]]:
    with tenant_context(district):
        return list(
            ReferralStep.objects.filter(district=district, referral=referral)
            .order_by("at", "pk")
            .values_list("kind", "by_id", "by_contact_id")
        )


@pytest.fixture
def intake(district, partner):
    """The partner's intake contact (from the referrals conftest), a second one who prefers
    Spanish, one who unsubscribed and a leadership contact (neither of them told)."""
    ContactFactory(
        district=district,
        partner=partner,
        name="Rosa Intake",
        email="rosa@riverbend.example.org",
        roles=["intake"],
        preferred_language="es",
    )
    ContactFactory(
        district=district,
        partner=partner,
        email="gone@riverbend.example.org",
        roles=["intake"],
        unsubscribed_at=timezone.now(),
    )
    ContactFactory(
        district=district, partner=partner, email="boss@riverbend.example.org", roles=["leadership"]
    )
    return ["intake@riverbend.example.org", "rosa@riverbend.example.org"]


# --- Business days ------------------------------------------------------------------------------


def test_sent_on_a_friday_before_a_monday_holiday_the_answer_is_due_tuesday_and_reminded_after(
    district, school, partner, intake, time_machine
):
    district.referral_response_days = 1
    district.save(update_fields=["referral_response_days"])
    with tenant_context(district):
        ClosedDay.objects.create(district=district, date=HOLIDAY, name="MLK Day")
    counselor = MembershipFactory(district=district, role="counselor")
    student = StudentFactory(district=district, school=school)
    draft = ReferralFactory(
        district=district,
        student=student,
        referred_by=counselor,
        partner=partner,
        shared_fields=[],  # a de-identified consultation: no consent needed
    )
    time_machine.move_to(at(FRIDAY), tick=False)
    referral = act(referral_send, by=counselor, referral=draft)
    assert referral.response_due_on == TUESDAY  # Monday is closed, the weekend never counts

    assert sweep(district, TUESDAY) == overdue.OverdueResult(0, 0)  # due today: in time
    assert sweep(district, TUESDAY + datetime.timedelta(days=1)) == overdue.OverdueResult(1, 0)
    assert recipients(PARTNER_SUBJECT) == intake
    # One more business day without an answer (Wednesday) before the counselor hears.
    assert sweep(district, TUESDAY + datetime.timedelta(days=1)) == overdue.OverdueResult(0, 0)
    assert sweep(district, TUESDAY + datetime.timedelta(days=2)) == overdue.OverdueResult(0, 1)
    assert recipients(COUNSELOR_SUBJECT) == [counselor.user.email]
    assert sweep(district, TUESDAY + datetime.timedelta(days=9)) == overdue.OverdueResult(0, 0)
    assert reminders(district, referral) == [("counselor", TUESDAY), ("partner", TUESDAY)]


def test_a_closed_day_after_the_due_date_delays_the_counselor_by_a_business_day(
    district, partner, intake
):
    # Due Friday; Monday is closed: the business day after the due date is Tuesday.
    with tenant_context(district):
        ClosedDay.objects.create(district=district, date=HOLIDAY, name="MLK Day")
    referral = sent_referral(district, partner, due_on=FRIDAY)

    # Nobody is reminded on the weekend or the closed Monday: the partner on Tuesday.
    for day in (FRIDAY + datetime.timedelta(days=1), HOLIDAY):
        assert sweep(district, day) == overdue.OverdueResult(0, 0)
    assert sweep(district, TUESDAY) == overdue.OverdueResult(1, 0)
    assert sweep(district, TUESDAY + datetime.timedelta(days=1)).counselor == 1
    assert reminders(district, referral) == [("counselor", FRIDAY), ("partner", FRIDAY)]


def test_over_a_weekend_reminders_wait_for_monday_and_the_counselor_for_tuesday(
    district, partner, intake
):
    due = datetime.date(2026, 1, 23)  # a Friday
    sent_referral(district, partner, due_on=due)

    assert sweep(district, due) == overdue.OverdueResult(0, 0)
    for days in (1, 2):  # Saturday, Sunday: nobody at work, nobody reminded
        assert sweep(district, due + datetime.timedelta(days=days)) == overdue.OverdueResult(0, 0)
    # Monday, the business day after the due date: the partner; Tuesday: the counselor.
    assert sweep(district, due + datetime.timedelta(days=3)) == overdue.OverdueResult(1, 0)
    assert sweep(district, due + datetime.timedelta(days=4)).counselor == 1


# --- Answered referrals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, extra",
    [
        (ReferralStatus.ACCEPTED, {"accepted_at": timezone.now()}),
        (ReferralStatus.DECLINED, {"declined_at": timezone.now(), "decline_reason": "no_capacity"}),
        (ReferralStatus.SCHEDULED, {"appointment_on": datetime.date(2026, 2, 2)}),
        (ReferralStatus.WITHDRAWN, {"withdrawn_at": timezone.now()}),
    ],
)
def test_an_answered_referral_is_never_reminded(district, partner, intake, status, extra):
    referral = sent_referral(district, partner, due_on=FRIDAY, status=status, **extra)

    for days in (1, 5, 30):
        assert sweep(district, FRIDAY + datetime.timedelta(days=days)) == overdue.OverdueResult()

    assert OutgoingEmail.objects.count() == 0
    assert reminders(district, referral) == [] and steps(district, referral) == []


def test_a_referral_answered_while_the_sweep_runs_is_not_reminded(
    district, partner, intake, monkeypatch
):
    """The sweep read it as unanswered; the partner accepts before the claim: the claim
    locks the row and sees the answer."""
    referral = sent_referral(district, partner, due_on=FRIDAY)
    real_claim = overdue._claim

    def accepted_meanwhile(district, referral, audience, due_on):
        type(referral).objects.filter(pk=referral.pk).update(
            status=ReferralStatus.ACCEPTED, accepted_at=timezone.now()
        )
        return real_claim(district, referral, audience, due_on)

    monkeypatch.setattr(overdue, "_claim", accepted_meanwhile)

    assert sweep(district, FRIDAY + datetime.timedelta(days=7)) == overdue.OverdueResult(0, 0)
    assert reminders(district, referral) == [] and OutgoingEmail.objects.count() == 0


# --- What is sent, and to whom -------------------------------------------------------------------


def test_the_partner_email_names_no_student_and_links_each_contact_to_the_referral(
    district, school, partner, intake
):
    referral = sent_referral(district, partner, due_on=FRIDAY, school=school)

    sweep(district, FRIDAY + datetime.timedelta(days=3))

    sent = messages(PARTNER_SUBJECT)
    assert sorted(m.to[0] for m in sent) == intake
    links = set()
    for message in sent:
        text = message.subject + message.body_text + message.body_html
        assert "Amara" not in text and "Okafor" not in text
        assert referral.reference in message.subject
        assert "North High School" in message.body_text  # the school, as the intake email
        links.add(re.search(r"http://testserver(/r/intake/\S+/)", message.body_text).group(1))
        assert "/p/unsubscribe/" in message.body_text  # contacts have no account
        assert message.headers.get("List-Unsubscribe")
    assert len(links) == 2  # a link of their own each
    english = next(m for m in sent if m.to == ["intake@riverbend.example.org"])
    assert "It is 3 days late." in english.body_text


def test_the_counselor_email_links_to_the_referral_page_and_names_no_student(
    district, partner, intake
):
    referral = sent_referral(district, partner, due_on=FRIDAY)

    sweep(district, FRIDAY + datetime.timedelta(days=5))  # Wednesday

    (message,) = messages(COUNSELOR_SUBJECT)
    assert message.to == ["cara@north.example.org"]
    assert message.subject == f"Riverbend Counseling has not answered referral {referral.reference}"
    assert f"http://testserver/{district.slug}/referrals/{referral.pk}/" in message.body_text
    assert "It is 3 business days late." in message.body_text
    assert "Amara" not in message.body_text + message.body_html
    assert "/p/unsubscribe/" not in message.body_text  # staff have accounts


def test_each_email_is_written_in_its_recipients_language(district, partner, intake, monkeypatch):
    from core import mail as core_mail

    owner = MembershipFactory(
        district=district, role="counselor", user=UserFactory(preferred_language="es")
    )
    sent_referral(district, partner, due_on=FRIDAY, owner=owner)
    languages: dict[str, set] = {}
    real = core_mail.render_to_string

    def spy(template, context):
        if template.endswith("subject.txt"):
            languages.setdefault(template.split("/")[-1], set()).add(translation.get_language())
        return real(template, context)

    monkeypatch.setattr(core_mail, "render_to_string", spy)

    sweep(district, FRIDAY + datetime.timedelta(days=5))

    assert languages == {
        "overdue_partner-subject.txt": {"en", "es"},
        "overdue_counselor-subject.txt": {"es"},
    }


def test_each_reminder_is_a_step_on_the_timeline_by_trellis_itself(district, partner, intake):
    referral = sent_referral(district, partner, due_on=FRIDAY)

    sweep(district, FRIDAY + datetime.timedelta(days=5))

    assert steps(district, referral) == [
        (StepKind.REMINDED_PARTNER, None, None),
        (StepKind.REMINDED_COUNSELOR, None, None),
    ]
    with tenant_context(district):
        partner_step = ReferralStep.objects.get(referral=referral, kind=StepKind.REMINDED_PARTNER)
    assert partner_step.detail == {"due_on": FRIDAY.isoformat(), "contacts": 2}
    assert partner_step.from_status == partner_step.to_status == ReferralStatus.SENT


def test_a_partner_without_an_intake_contact_to_mail_is_not_claimed_until_it_has_one(
    district, partner
):
    with tenant_context(district):
        partner.contacts.update(roles=["leadership"])
    referral = sent_referral(district, partner, due_on=FRIDAY)

    assert sweep(district, FRIDAY + datetime.timedelta(days=3)) == overdue.OverdueResult(0, 0)
    assert reminders(district, referral) == []

    ContactFactory(district=district, partner=partner, email="new@rb.example", roles=["intake"])
    assert sweep(district, FRIDAY + datetime.timedelta(days=4)).partner == 1
    assert recipients(PARTNER_SUBJECT) == ["new@rb.example"]


def test_an_owner_no_longer_active_is_not_told_and_the_claim_waits(district, partner, intake):
    owner = MembershipFactory(district=district, role="counselor", active=False)
    referral = sent_referral(district, partner, due_on=FRIDAY, owner=owner)

    result = sweep(district, FRIDAY + datetime.timedelta(days=6))

    assert result == overdue.OverdueResult(1, 0)
    assert reminders(district, referral) == [("partner", FRIDAY)]
    assert messages(COUNSELOR_SUBJECT) == []


# --- Cost, districts, the beat task --------------------------------------------------------------


def test_a_sweep_that_finds_nothing_costs_one_indexed_query(
    district, partner, intake, count_queries
):
    day = FRIDAY + datetime.timedelta(days=10)

    def run():
        sweep(district, day)

    none = count_queries(run)
    for _ in range(5):
        sent_referral(district, partner, due_on=day)  # not late yet
        sent_referral(
            district,
            partner,
            due_on=FRIDAY,
            status=ReferralStatus.ACCEPTED,
            accepted_at=timezone.now(),
        )
    told = sent_referral(district, partner, due_on=FRIDAY)
    sweep(district, day)  # reminds both audiences of `told` once
    assert reminders(district, told) == [("counselor", FRIDAY), ("partner", FRIDAY)]
    many = count_queries(run)

    assert none == many <= 3  # enter the district, one indexed read, restore


def test_the_beat_task_sweeps_every_district_in_its_own_context(
    district, other_district, partner, intake, time_machine, django_capture_on_commit_callbacks
):
    mine = sent_referral(district, partner, due_on=FRIDAY)
    their_partner = PartnerFactory(district=other_district)
    ContactFactory(district=other_district, partner=their_partner, roles=["intake"])
    theirs = ReferralFactory(
        district=other_district,
        partner=their_partner,
        status=ReferralStatus.SENT,
        sent_at=timezone.now(),
        response_due_on=FRIDAY + datetime.timedelta(days=30),  # not late
    )
    time_machine.move_to(at(FRIDAY + datetime.timedelta(days=5)), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert referral_overdue_sweep() == 2

    assert reminders(district, mine) == [("counselor", FRIDAY), ("partner", FRIDAY)]
    assert reminders(other_district, theirs) == []
    assert sorted(to for m in mail.outbox for to in m.to) == sorted(
        [*intake, "cara@north.example.org"]
    )


def test_the_sweep_runs_every_fifteen_minutes_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["referral-overdue-sweep"]
    assert entry == {"task": "referrals.tasks.referral_overdue_sweep", "schedule": 900.0}


def test_the_day_follows_the_districts_time_zone(district, partner, intake, time_machine):
    thursday = FRIDAY - datetime.timedelta(days=1)
    sent_referral(district, partner, due_on=thursday)
    # 03:00 UTC on Friday is still Thursday evening in Chicago: not late yet.
    time_machine.move_to(at(FRIDAY, hour=3), tick=False)
    assert overdue.overdue_sweep_district(district=district) == overdue.OverdueResult(0, 0)

    time_machine.move_to(at(FRIDAY), tick=False)
    assert overdue.overdue_sweep_district(district=district).partner == 1


# --- Two sweeps at the same moment (each on its own connection) ----------------------------------


def _race_setting(slug):
    district = DistrictFactory(slug=slug)
    partner = PartnerFactory(district=district)
    contacts = [
        ContactFactory(district=district, partner=partner, roles=["intake"]).email for _ in "ab"
    ]
    owner = MembershipFactory(district=district, role="counselor")
    referral = ReferralFactory(
        district=district,
        partner=partner,
        referred_by=owner,
        owner=owner,
        status=ReferralStatus.SENT,
        sent_at=timezone.now(),
        response_due_on=FRIDAY,
    )
    return district, referral, sorted([*contacts, owner.user.email])


def _sweep_in_thread(district_id):
    from schools.models import District

    here = District.objects.get(pk=district_id)
    return overdue.overdue_sweep_district(district=here, today=FRIDAY + datetime.timedelta(days=7))


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_claiming_at_once_remind_each_audience_once(monkeypatch):
    """Both sweeps have read "not reminded yet"; the first claim is held uncommitted until
    the other sweep has tried its own: the row lock and the unique claim decide."""
    from tests.security.test_exactly_once import WAIT, Race

    district, referral, expected = _race_setting("race-overdue")
    mail.outbox = []
    race = Race(lambda: _sweep_in_thread(district.pk))
    both_read = threading.Barrier(2, timeout=WAIT)
    first_call = threading.local()
    real_claim = overdue._claim
    claims, overlapped = [], []

    def claim_together(*args, **kwargs):
        if not getattr(first_call, "done", False):
            first_call.done = True
            both_read.wait()  # both sweeps are past their reads: the database decides
            won = real_claim(*args, **kwargs)
            claims.append(won)
            if won:  # hold the uncommitted claim until the other sweep has tried
                overlapped.append(race.other_has_tried())
            return won
        won = real_claim(*args, **kwargs)
        claims.append(won)
        return won

    monkeypatch.setattr(overdue, "_claim", claim_together)

    results = race.run()

    assert overlapped == [True], "the second sweep did not claim during the first"
    assert sorted(claims) == [False, False, True, True]
    assert sorted((r.partner, r.counselor) for r in results) == [(0, 0), (1, 1)]
    with tenant_context(district):
        assert sorted(
            ReferralReminder.objects.filter(referral=referral).values_list("audience", flat=True)
        ) == [ReminderAudience.COUNSELOR, ReminderAudience.PARTNER]
        assert ReferralStep.objects.filter(referral=referral).count() == 2
    assert sorted(to for m in OutgoingEmail.objects.all() for to in m.to) == expected
    assert sorted(to for m in mail.outbox for to in m.to) == expected


@pytest.mark.django_db(transaction=True)
def test_two_whole_sweeps_at_once_remind_each_audience_once():
    from tests.security.test_exactly_once import Race

    district, referral, expected = _race_setting("race-overdue-2")
    mail.outbox = []

    results = Race(lambda: _sweep_in_thread(district.pk)).run()

    assert sorted((r.partner, r.counselor) for r in results) == [(0, 0), (1, 1)]
    with tenant_context(district):
        assert ReferralReminder.objects.filter(referral=referral).count() == 2
    assert sorted(to for m in OutgoingEmail.objects.all() for to in m.to) == expected
