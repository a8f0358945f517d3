"""Meetings of the demo district (issue 18): a monthly check-in series with Harbor Family
Services (the second Tuesday, 15:30) that has met for a few months, with minutes, decisions
and action items (some done, one overdue, one past meeting still waiting for its minutes),
and an MOU review with Bright Futures next week. Scheduled through the services, so the
invitations are in the outbox and the reminders are planned.

Made once: a rerun finds the series and leaves the meetings as people left them.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from partnerships import meeting_rules
from partnerships.models import (
    MOU,
    ActionStatus,
    Contact,
    Meeting,
    MeetingKind,
    Partner,
)
from partnerships.selectors.meetings import occurrences
from partnerships.services import meetings as service
from schools.models import Membership, Role

SERIES_TITLE = "Monthly check-in: Harbor Family Services"


def _second_tuesday(year: int, month: int) -> datetime.date:
    day = datetime.date(year, month, 1)
    while day.weekday() != 1:
        day += datetime.timedelta(days=1)
    return day + datetime.timedelta(days=7)


def _member(district, role):
    return (
        Membership.objects.for_district(district)
        .filter(role=role, active=True)
        .select_related("user", "district")
        .order_by("pk")
        .first()
    )


def seed_meetings(district) -> None:
    if Meeting.objects.for_district(district).filter(title=SERIES_TITLE).exists():
        return
    coordinator = _member(district, Role.COORDINATOR)
    counselor = _member(district, Role.COUNSELOR)
    admin = _member(district, Role.ADMIN)
    harbor = Partner.objects.for_district(district).filter(name="Harbor Family Services").first()
    if coordinator is None or harbor is None:
        return
    contacts = list(Contact.objects.for_district(district).filter(partner=harbor))
    Contact.objects.for_district(district).filter(pk__in=[c.pk for c in contacts]).update(
        reminders=True
    )
    zone = district.time_zone
    today = district.today()
    month = today.month - 4
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    first_day = _second_tuesday(year, month)
    starts = meeting_rules.in_zone(
        datetime.datetime.combine(first_day, datetime.time(15, 30)), zone
    )
    series, _rule = service.meeting_save(
        by=coordinator,
        title=SERIES_TITLE,
        kind=MeetingKind.CHECK_IN,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        recurrence="FREQ=MONTHLY;BYDAY=2TU",
        location="Lincoln High School, counseling office",
        online_url="https://meet.example.org/harbor-check-in",
        partners=[harbor],
        schools=[],
        members=[m for m in (coordinator, counselor) if m is not None],
        contacts=contacts,
        agenda="1. Referrals this month: sent, accepted, waiting\n"
        "2. Students on the waitlist\n3. MOU goals: sessions held\n4. Anything else",
    )
    now = timezone.now()
    past = occurrences(series, starts - datetime.timedelta(days=1), now)
    minutes = [
        (
            "Twelve referrals this month, nine accepted. Two families asked for Spanish "
            "sessions; Harbor adds a Spanish-speaking therapist on Thursdays.",
            "Thursday Spanish sessions start next month.",
        ),
        (
            "Waitlist down to three students. Counselors will call families who have not "
            "answered Harbor's first call within a week.",
            "Counselor follow-up call after one week without an answer.",
        ),
    ]
    # The last meeting more than a week ago is left without minutes: the page flags it.
    for occurrence, (text, decisions) in zip(past[:-1], minutes, strict=False):
        service.occurrence_record_save(
            by=coordinator, occurrence=occurrence, minutes=text, decisions=decisions
        )
    rosa = contacts[0] if contacts else None
    items = [
        ("Send the Spanish session flyer to both schools", coordinator, None, -20, True),
        ("Share the waitlist numbers by school", None, rosa, -10, False),
        ("Call the three families waiting more than a week", counselor, None, -3, False),
        ("Draft next year's session goals for the MOU", coordinator, None, 14, False),
    ]
    for what, member, contact, days, done in items:
        if member is None and contact is None:
            continue
        item = service.action_item_save(
            by=coordinator,
            meeting=series,
            what=what,
            due_date=today + datetime.timedelta(days=days),
            owner_membership=member,
            owner_contact=contact,
        )
        if done:
            service.action_item_set_status(by=coordinator, item=item, status=ActionStatus.DONE)
    bright = Partner.objects.for_district(district).filter(name="Bright Futures Mentoring").first()
    if bright is not None and admin is not None:
        review_day = today + datetime.timedelta(days=8)
        review = meeting_rules.in_zone(
            datetime.datetime.combine(review_day, datetime.time(10, 0)), zone
        )
        service.meeting_save(
            by=coordinator,
            title="MOU review: Bright Futures Mentoring",
            kind=MeetingKind.MOU_REVIEW,
            starts_at=review,
            ends_at=review + datetime.timedelta(minutes=45),
            location="District office, room 2",
            partners=[bright],
            mou=MOU.objects.for_district(district).filter(partner=bright).first(),
            members=[admin],
            contacts=list(Contact.objects.for_district(district).filter(partner=bright)),
            agenda="Sessions held against the goals; renewal terms for next year.",
        )
