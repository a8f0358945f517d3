"""The demo's requests for help (issue 14): a few sent through the schools' public forms, in
English and Spanish, some waiting, one linked to its student, one recorded as the referral
it became, one closed.

Made through the services, as the public form and a counselor make them (the receipt email
to those who left an address included). Idempotent: a request is found again by its school
and its message, and a step already taken is not taken again. Run inside the district's
context, after the demo's students and referrals (config/demo_referrals.py).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from referrals.models import HelpRequest, HelpRequestStatus, Referral, ReferralStatus
from referrals.services.common import in_my_schools
from referrals.services.help_requests import (
    help_request_close,
    help_request_link_student,
    help_request_mark_referred,
    help_request_submit,
)
from schools.models import Membership, Role, School, Student

# (school, days ago, what the form said, what the counselors did). What was done is
# "new", ("link", student id), ("refer", student id) (to the student's latest referral
# that went to a partner) or ("close", reason, note, student id or "").
DEMO_HELP_REQUESTS = [
    (
        "Lincoln High School",
        0,
        {
            "asker_kind": "parent",
            "student_name": "Ana Morales",
            "message": (
                "Mi hija Ana llora casi todas las mañanas antes de venir a la escuela y dice que "
                "no quiere volver. Desde hace dos semanas casi no come y no sale de su cuarto. "
                "No sé con quién hablar."
            ),
            "asker_name": "Lucía Morales",
            "asker_email": "lucia.morales@example.org",
            "asker_phone": "(555) 014-2201",
            "language": "es",
        },
        "new",
    ),
    (
        "Lincoln High School",
        1,
        {
            "asker_kind": "teacher",
            "student_name": "Isaiah Brooks",
            "message": (
                "Isaiah has had his head down in every one of my classes this week and snapped "
                "at a friend who asked if he was okay. His grades went from B's to D's since "
                "winter break. He said his dad moved out."
            ),
            "asker_name": "Mr. Patel (Biology, room 214)",
            "asker_email": "r.patel@demo-usd.example.org",
            "language": "en",
        },
        ("link", "D1009"),
    ),
    (
        "Roosevelt Middle School",
        2,
        {
            "asker_kind": "student",
            "student_name": "",
            "message": (
                "My friend keeps saying she doesn't see the point of anything and she gave away "
                "her headphones and her sketchbook. I don't want to get her in trouble but I'm "
                "scared. She is in 7th grade."
            ),
            "language": "en",
        },
        "new",
    ),
    (
        "Lincoln High School",
        9,
        {
            "asker_kind": "parent",
            "student_name": "Ben Okafor",
            "message": (
                "Ben has missed a lot of school this quarter. Mornings are very hard for him and "
                "he gets stomach aches before the bus. We would like him to talk to someone."
            ),
            "asker_name": "Grace Okafor",
            "asker_phone": "555-0117",
            "language": "en",
        },
        ("refer", "D1002"),
    ),
    (
        "Roosevelt Middle School",
        6,
        {
            "asker_kind": "teacher",
            "student_name": "Quinn Murphy",
            "message": (
                "Quinn has been getting picked on at lunch and eats alone in the library now. "
                "He asked me not to tell anyone, but I think the counselor should know."
            ),
            "asker_name": "Ms. Alvarez",
            "asker_email": "m.alvarez@demo-usd.example.org",
            "language": "en",
        },
        (
            "close",
            "handled",
            "Met Quinn on Tuesday; lunch group with the counselor twice a week, and the "
            "assistant principal is following up on the bullying.",
            "D2007",
        ),
    ),
]


def _actor(district, school) -> Membership | None:
    """A counselor who works with the school, else the district office."""
    members = (
        Membership.objects.filter(
            district=district,
            active=True,
            role__in=[Role.COUNSELOR, Role.COORDINATOR, Role.ADMIN],
        )
        .select_related("district", "user")
        .order_by("pk")
    )
    ranked = sorted(
        members, key=lambda m: [Role.COUNSELOR, Role.COORDINATOR, Role.ADMIN].index(m.role)
    )
    return next((member for member in ranked if in_my_schools(member, school.pk)), None)


def seed_help_requests(district) -> None:
    schools = {school.name: school for school in School.objects.for_district(district)}
    students = {student.local_id: student for student in Student.objects.for_district(district)}
    now = timezone.now()
    for number, (school_name, days_ago, sent, done) in enumerate(DEMO_HELP_REQUESTS, start=1):
        school = schools.get(school_name)
        if school is None:
            continue
        school.district = district
        help_request = (
            HelpRequest.objects.for_district(district)
            .filter(school=school, message=sent["message"])
            .first()
        )
        if help_request is None:
            # Each from an address of its own (TEST-NET-1): the demo is not one busy sender.
            help_request = help_request_submit(school=school, address=f"192.0.2.{number}", **sent)
            received = now - datetime.timedelta(days=days_ago, hours=2 + number)
            HelpRequest.objects.filter(pk=help_request.pk).update(
                created_at=received,
                acknowledged_at=received if help_request.acknowledged_at else None,
            )
            help_request.refresh_from_db()
        if done == "new" or help_request.status != HelpRequestStatus.NEW:
            continue
        by = _actor(district, school)
        student = students.get(done[-1]) if done[0] != "close" else students.get(done[3])
        if by is None or (done[0] != "close" and student is None):
            continue
        if student is not None:
            help_request_link_student(by=by, help_request=help_request, student=student)
        if done[0] == "refer":
            referral = (
                Referral.objects.for_district(district)
                .filter(student=student)
                .exclude(status__in=[ReferralStatus.DRAFT, ReferralStatus.WITHDRAWN])
                .order_by("-referred_on", "-pk")
                .first()
            )
            if referral is not None:
                help_request_mark_referred(by=by, help_request=help_request, referral=referral)
        elif done[0] == "close":
            help_request_close(by=by, help_request=help_request, reason=done[1], note=done[2])
