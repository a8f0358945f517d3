"""The demo's referral loop: a term's worth of referrals to the demo partners, at every step
from sent to closed, some overdue, so that the lists, the partner's inbox and scorecard, and
the timelines have something to read; and the district's closed days.

The referrals of config/demo_referrals.py are made through the services today. These ones
happened over the last months, so they are written as the services would have left them:
the referral row with its dates, and its timeline (ReferralStep rows) at the times each
step was taken. They are de-identified consultations (no student information shared), so
no consent or disclosure stands behind them. Idempotent: each has a fixed submission key,
and one already there is left as it is.
"""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.db import transaction

from core.business_days import add_business_days
from partnerships.models import Contact, Partner
from referrals.models import Referral, ReferralStatus, ReferralStep, StepKind
from schools.models import ClosedDay, Membership, Role, Student

_NAMESPACE = uuid.UUID("0b7f1c2e-6d1a-4f0b-8a52-3c1e9d4b7a21")

S = ReferralStatus

# (key, student local id, partner, concerns, services, urgency, days ago sent, the story).
# The story is the loop's steps after "sent", each (kind, business days after the previous
# step, detail, note, by) where by is "contact" (the intake contact from the emailed link),
# "partner" (the partner's signed-in member) or "counselor".
DEMO_LOOP = [
    (
        "brooks-harbor-done",
        "D1009",
        "Harbor Family Services",
        ["anxiety"],
        ["counselling_individual"],
        "routine",
        112,
        [
            ("accepted", 2, {}, "We can see Isaiah at the school on Wednesdays.", "contact"),
            ("scheduled", 1, {"appointment_in": 6}, "", "contact"),
            ("kept", 6, {}, "", "partner"),
            ("closed", 45, {"outcome": "completed"}, "Eight sessions; goals met.", "partner"),
        ],
    ),
    (
        "patel-harbor-done",
        "D1010",
        "Harbor Family Services",
        ["depression"],
        ["counselling_individual"],
        "urgent",
        98,
        [
            ("accepted", 1, {}, "", "partner"),
            ("scheduled", 0, {"appointment_in": 3}, "", "partner"),
            ("kept", 3, {}, "", "partner"),
            ("closed", 38, {"outcome": "completed"}, "", "partner"),
        ],
    ),
    (
        "haddad-harbor-declined-family",
        "D1006",
        "Harbor Family Services",
        ["family_conflict"],
        ["family_support"],
        "routine",
        90,
        [
            ("accepted", 4, {}, "", "contact"),
            ("scheduled", 2, {"appointment_in": 8}, "", "contact"),
            ("missed", 8, {}, "No answer at the door or by phone.", "contact"),
            ("scheduled", 3, {"appointment_in": 5}, "Rescheduled with the father.", "contact"),
            ("kept", 5, {}, "", "contact"),
            (
                "closed",
                20,
                {"outcome": "family_declined"},
                "The family chose to stop after three sessions.",
                "contact",
            ),
        ],
    ),
    (
        "silva-harbor-unreachable",
        "D1007",
        "Harbor Family Services",
        ["behavior"],
        ["counselling_individual"],
        "routine",
        84,
        [
            ("accepted", 3, {}, "", "contact"),
            (
                "closed",
                15,
                {"outcome": "unable_to_reach"},
                "Four calls and two letters; no reply.",
                "contact",
            ),
        ],
    ),
    (
        "tanaka-harbor-declined",
        "D1008",
        "Harbor Family Services",
        ["substance_use"],
        ["counselling_individual"],
        "routine",
        70,
        [
            (
                "declined",
                2,
                {"reason": "not_offered"},
                "We do not run a substance use program; try the county's teen clinic.",
                "contact",
            ),
        ],
    ),
    (
        "chen-harbor-in-service",
        "D2005",
        "Harbor Family Services",
        ["anxiety", "bullying"],
        ["counselling_individual"],
        "routine",
        56,
        [
            ("accepted", 2, {}, "", "partner"),
            ("scheduled", 1, {"appointment_in": 7}, "", "partner"),
            ("kept", 7, {}, "Weekly sessions on Tuesdays.", "partner"),
        ],
    ),
    (
        "ahmed-harbor-in-service",
        "D2002",
        "Harbor Family Services",
        ["trauma"],
        ["counselling_individual", "family_support"],
        "urgent",
        42,
        [
            ("accepted", 1, {}, "", "contact"),
            ("scheduled", 0, {"appointment_in": 2}, "", "contact"),
            ("missed", 2, {}, "", "contact"),
            ("scheduled", 1, {"appointment_in": 4}, "A Somali interpreter is booked.", "contact"),
            ("kept", 4, {}, "", "contact"),
        ],
    ),
    (
        "kowalski-harbor-declined-capacity",
        "D1004",
        "Harbor Family Services",
        ["grief"],
        ["family_support"],
        "routine",
        30,
        [
            (
                "declined",
                3,
                {"reason": "no_capacity"},
                "Our family therapists are full until February.",
                "partner",
            ),
        ],
    ),
    (
        "murphy-harbor-scheduled",
        "D2007",
        "Harbor Family Services",
        ["anxiety"],
        ["counselling_individual"],
        "routine",
        16,
        [
            ("accepted", 2, {}, "", "contact"),
            ("scheduled", 1, {"appointment_in": 14}, "", "contact"),
        ],
    ),
    (
        "diaz-harbor-appointment-passed",
        "D2008",
        "Harbor Family Services",
        ["depression", "attendance"],
        ["counselling_individual"],
        "urgent",
        14,
        [
            ("accepted", 1, {}, "", "partner"),
            ("scheduled", 1, {"appointment_in": 5}, "", "partner"),
        ],
    ),
    (
        "sharma-harbor-accepted",
        "D2006",
        "Harbor Family Services",
        ["anxiety"],
        ["counselling_individual"],
        "routine",
        9,
        [("accepted", 3, {}, "We will call the family this week.", "contact")],
    ),
    (
        "brooks-harbor-overdue",
        "D2004",
        "Harbor Family Services",
        ["behavior", "family_conflict"],
        ["family_support"],
        "routine",
        24,
        [],
    ),
    (
        "lopez-harbor-overdue",
        "D2001",
        "Harbor Family Services",
        ["anxiety", "basic_needs_housing"],
        ["counselling_individual"],
        "urgent",
        19,
        [("updated", 2, {}, "Left a message for the family.", "contact")],
    ),
    (
        "garcia-mentoring-waiting",
        "D2003",
        "Bright Futures Mentoring",
        ["behavior"],
        ["mentoring"],
        "routine",
        4,
        [],
    ),
    (
        "morales-food-closed",
        "D1001",
        "Valley Food Network",
        ["basic_needs_food"],
        ["food_assistance"],
        "routine",
        60,
        [
            ("accepted", 1, {}, "", "contact"),
            ("scheduled", 1, {"appointment_in": 3}, "First pickup on Friday.", "contact"),
            ("kept", 3, {}, "", "contact"),
            ("closed", 30, {"outcome": "completed"}, "", "contact"),
        ],
    ),
    (
        "johnson-food-withdrawn",
        "D1005",
        "Valley Food Network",
        ["basic_needs_food"],
        ["food_assistance"],
        "routine",
        25,
        [("withdrawn", 1, {}, "The family found help through their church.", "counselor")],
    ),
]

_TO_STATUS = {
    "accepted": S.ACCEPTED,
    "declined": S.DECLINED,
    "scheduled": S.SCHEDULED,
    "kept": S.IN_SERVICE,
    "missed": S.ACCEPTED,
    "closed": S.CLOSED,
    "withdrawn": S.WITHDRAWN,
}


def school_year_closed_days(today: datetime.date) -> list[tuple[datetime.date, str]]:
    """The usual closed weekdays of a US school year around `today`: Thanksgiving (Thursday
    and Friday), the winter break, Martin Luther King Jr. Day, Presidents' Day, a spring
    break week, Memorial Day."""
    start_year = today.year if today.month >= 8 else today.year - 1
    end_year = start_year + 1

    def nth_weekday(year, month, weekday, n):
        day = datetime.date(year, month, 1)
        day += datetime.timedelta(days=(weekday - day.weekday()) % 7)
        return day + datetime.timedelta(weeks=n - 1)

    def last_monday(year, month):
        day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
        return day - datetime.timedelta(days=day.weekday())

    thanksgiving = nth_weekday(start_year, 11, 3, 4)
    days = [
        (thanksgiving, "Thanksgiving"),
        (thanksgiving + datetime.timedelta(days=1), "Thanksgiving break"),
        (nth_weekday(end_year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (nth_weekday(end_year, 2, 0, 3), "Presidents' Day"),
        (last_monday(end_year, 5), "Memorial Day"),
    ]
    winter = datetime.date(start_year, 12, 21)
    while winter <= datetime.date(end_year, 1, 1):
        if winter.weekday() < 5:
            days.append((winter, "Winter break"))
        winter += datetime.timedelta(days=1)
    spring = nth_weekday(end_year, 3, 0, 4)
    days += [(spring + datetime.timedelta(days=i), "Spring break") for i in range(5)]
    return sorted(days)


@transaction.atomic
def seed_referral_loop(district) -> None:
    for date, name in school_year_closed_days(district.today()):
        ClosedDay.objects.get_or_create(district=district, date=date, defaults={"name": name})
    counselor = (
        Membership.objects.for_district(district)
        .filter(role=Role.COUNSELOR, active=True)
        .order_by("pk")
        .first()
    )
    if counselor is None:
        return
    students = {s.local_id: s for s in Student.objects.for_district(district)}
    partners = {p.name: p for p in Partner.objects.for_district(district)}
    closed = set(ClosedDay.objects.for_district(district).values_list("date", flat=True))
    zone = district.time_zone
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    today = district.today()
    for key, local_id, partner_name, concerns, services, urgency, days_ago, story in DEMO_LOOP:
        student, partner = students.get(local_id), partners.get(partner_name)
        if student is None or partner is None:
            continue
        submission_key = uuid.uuid5(_NAMESPACE, key)
        if Referral.objects.for_district(district).filter(submission_key=submission_key):
            continue
        _referral(
            district,
            counselor,
            student,
            partner,
            submission_key=submission_key,
            concerns=concerns,
            services=services,
            urgency=urgency,
            sent_on=today - datetime.timedelta(days=days_ago),
            story=story,
            closed=closed,
            zone=zone,
            today=today,
        )


def _at(day: datetime.date, hour: int, zone) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 15), tzinfo=zone)


def _actor(by: str, counselor, partner) -> dict:
    if by == "counselor":
        return {"by": counselor}
    if by == "partner":
        member = (
            Membership.objects.for_district(counselor.district_id)
            .filter(role=Role.PARTNER, partner=partner, active=True)
            .order_by("pk")
            .first()
        )
        if member is not None:
            return {"by": member}
    contact = (
        Contact.objects.for_district(counselor.district_id)
        .filter(partner=partner, roles__contains=["intake"])
        .order_by("pk")
        .first()
    )
    return {"by_contact": contact} if contact is not None else {}


def _referral(
    district,
    counselor,
    student,
    partner,
    *,
    submission_key,
    concerns,
    services,
    urgency,
    sent_on,
    story,
    closed,
    zone,
    today,
) -> None:
    sent_at = _at(sent_on, 9, zone)
    referral = Referral(
        district=district,
        student=student,
        school=student.school,
        referred_by=counselor,
        owner=counselor,
        referred_on=sent_on,
        concerns=concerns,
        services=services,
        urgency=urgency,
        family_language=student.family_language or "",
        payment=["medicaid"] if partner.payments and "medicaid" in partner.payments else [],
        availability="After school on weekdays",
        partner=partner,
        shared_fields=[],
        status=S.SENT,
        sent_at=sent_at,
        submission_key=submission_key,
        response_due_on=add_business_days(sent_on, district.referral_response_days, closed),
    )
    steps = [
        ReferralStep(
            district=district,
            kind=StepKind.SENT,
            from_status=S.DRAFT,
            to_status=S.SENT,
            at=sent_at,
            by=counselor,
            detail={"due_on": referral.response_due_on.isoformat()},
        )
    ]
    day = sent_on
    hour = 10
    for kind, after, detail, note, by in story:
        day = add_business_days(day, after, closed) if after else day
        if day > today:
            break
        hour = hour + 1 if after == 0 else 10
        at = _at(day, min(hour, 16), zone)
        from_status = referral.status
        detail = dict(detail)
        if kind == "accepted":
            referral.accepted_at = at
        elif kind == "declined":
            referral.declined_at = at
            referral.decline_reason = detail["reason"]
        elif kind == "scheduled":
            appointment = add_business_days(day, detail.pop("appointment_in"), closed)
            referral.appointment_on = appointment
            detail["appointment_on"] = appointment.isoformat()
        elif kind == "kept":
            referral.first_appointment_on = referral.first_appointment_on or day
            detail["kept_on"] = day.isoformat()
        elif kind == "missed":
            detail["appointment_on"] = referral.appointment_on.isoformat()
            referral.no_shows += 1
            referral.appointment_on = None
        elif kind == "closed":
            referral.closed_at = at
            referral.outcome = detail["outcome"]
        elif kind == "withdrawn":
            referral.withdrawn_at = at
        referral.status = _TO_STATUS.get(kind, referral.status)
        steps.append(
            ReferralStep(
                district=district,
                kind=kind,
                from_status=from_status,
                to_status=referral.status,
                at=at,
                note=note,
                detail=detail,
                **_actor(by, counselor, partner),
            )
        )
    referral.save()
    for step in steps:
        step.referral = referral
    ReferralStep.objects.bulk_create(steps)
