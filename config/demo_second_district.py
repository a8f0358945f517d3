"""A second demo district, Riverside, so that switching districts shows something: two
schools, a few students, two partners and one active MOU. The demo's coordinator and its
partner person are members here too; Riverside has its own administrator, a viewer and a
second partner person.

Idempotent like the rest of the demo: rows are found by their natural keys and left alone.
"""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress

from partnerships.models import MOU, Partner
from schools.models import District, Membership, Role, School, Student, User
from schools.tenancy import tenant_context

RIVERSIDE_SLUG = "riverside"
RIVERSIDE_NAME = "Riverside Unified School District"
RIVERSIDE_ZONE = "America/Chicago"

# name -> (lowest grade, highest grade, SIS id)
RIVERSIDE_SCHOOLS = {
    "Riverside High School": ("09", "12", "RHS-201"),
    "Maple Grove Middle School": ("06", "08", "MGM-202"),
}
# (local id, first, last, birth date, grade, school, guardian, language)
RIVERSIDE_STUDENTS = [
    (
        "R1001",
        "Aiden",
        "Schultz",
        "2009-03-14",
        "10",
        "Riverside High School",
        "Karen Schultz",
        "en",
    ),
    (
        "R1002",
        "Itzel",
        "Morales",
        "2008-07-02",
        "11",
        "Riverside High School",
        "Rocío Morales",
        "es",
    ),
    (
        "R1003",
        "Marcus",
        "Washington",
        "2010-05-19",
        "09",
        "Riverside High School",
        "Denise Washington",
        "en",
    ),
    ("R1004", "Nyapal", "Deng", "2007-10-30", "12", "Riverside High School", "Achol Deng", "en"),
    ("R1005", "Sokha", "Chea", "2012-01-08", "07", "Maple Grove Middle School", "Dara Chea", "km"),
    (
        "R1006",
        "Emma",
        "Lindqvist",
        "2011-09-22",
        "08",
        "Maple Grove Middle School",
        "Erik Lindqvist",
        "en",
    ),
    ("R1007", "José", "Ávila", "2013-04-11", "06", "Maple Grove Middle School", "Irma Ávila", "es"),
    (
        "R1008",
        "Fatima",
        "Yusuf",
        "2012-06-27",
        "07",
        "Maple Grove Middle School",
        "Amina Yusuf",
        "so",
    ),
]
# (name, kind, description, services, languages)
RIVERSIDE_PARTNERS = [
    (
        "Harbor Family Services",
        "mental_health",
        "Licensed therapists for children, teens and their families (Riverside office).",
        ["counselling_individual", "family_support"],
        ["en", "es"],
    ),
    (
        "Riverside Youth Alliance",
        "youth",
        "Mentoring and a summer jobs program for high school students.",
        ["mentoring", "after_school"],
        ["en"],
    ),
]
ACTIVE_MOU_TITLE = "Harbor Family Services counseling at Riverside schools"

# People only in Riverside: (role, full name, email, partner name or "")
RIVERSIDE_PEOPLE = [
    (Role.ADMIN, "Morgan Admin", f"admin@{RIVERSIDE_SLUG}.trellis.test", ""),
    (Role.VIEWER, "Vic Viewer", f"viewer@{RIVERSIDE_SLUG}.trellis.test", ""),
    (
        Role.PARTNER,
        "Sam Partner",
        f"partner@{RIVERSIDE_SLUG}.trellis.test",
        "Riverside Youth Alliance",
    ),
]


def seed_riverside(*, password: str, coordinator: User, partner_person: User) -> District:
    """The second district with its people; the demo's coordinator and partner person join."""
    district, _created = District.objects.get_or_create(
        slug=RIVERSIDE_SLUG,
        defaults={"name": RIVERSIDE_NAME, "time_zone": RIVERSIDE_ZONE},
    )
    with tenant_context(district):
        _schools(district)
        _students(district)
        partners = _partners(district)
        for role, full_name, email, partner_name in RIVERSIDE_PEOPLE:
            user = _user(email, full_name, password)
            _join(district, user, role, partners.get(partner_name))
        _join(district, coordinator, Role.COORDINATOR, None)
        _join(district, partner_person, Role.PARTNER, partners["Harbor Family Services"])
        _active_mou(district, partners["Harbor Family Services"])
    return district


def _user(email: str, full_name: str, password: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, password, full_name=full_name)
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _join(district, user, role, partner) -> None:
    Membership.objects.get_or_create(
        district=district,
        user=user,
        defaults={"role": role, "partner": partner if role == Role.PARTNER else None},
    )


def _schools(district) -> None:
    for name, (low, high, sis_id) in RIVERSIDE_SCHOOLS.items():
        School.objects.get_or_create(
            district=district,
            name=name,
            defaults={"lowest_grade": low, "highest_grade": high, "sis_id": sis_id},
        )


def _students(district) -> None:
    schools = {s.name: s for s in School.objects.for_district(district)}
    have = set(Student.objects.for_district(district).values_list("local_id", flat=True))
    Student.objects.bulk_create(
        [
            Student(
                district=district,
                school=schools[school],
                local_id=local_id,
                first_name=first,
                last_name=last,
                date_of_birth=datetime.date.fromisoformat(born),
                grade=grade,
                guardian_name=guardian,
                guardian_email=f"family.{local_id.lower()}@example.org",
                guardian_phone="555-0300",
                family_language=language,
            )
            for local_id, first, last, born, grade, school, guardian, language in (
                RIVERSIDE_STUDENTS
            )
            if local_id not in have
        ],
        ignore_conflicts=True,
    )


def _partners(district) -> dict[str, Partner]:
    from django.utils import timezone

    from partnerships.models import PartnerSchool, Service

    schools = list(School.objects.for_district(district))
    partners = {}
    for name, kind, description, services, languages in RIVERSIDE_PARTNERS:
        partner, created = Partner.objects.get_or_create(
            district=district,
            name=name,
            defaults={
                "kind": kind,
                "description": description,
                "languages": languages,
                "city": "Riverside",
                "state": "IL",
                "last_verified_at": timezone.now() - timedelta(days=15),
                "last_verified_by": "Morgan Admin",
            },
        )
        if created:
            for category in services:
                Service.objects.create(district=district, partner=partner, category=category)
            for school in schools:
                PartnerSchool.objects.create(district=district, partner=partner, school=school)
        partners[name] = partner
    return partners


def _active_mou(district, partner) -> None:
    """One active MOU, drafted, reviewed and signed by both parties through the workflow."""
    from partnerships.mou_rules import sample_answers
    from partnerships.selectors.mous import current_version
    from partnerships.services.mous.drafting import mou_create
    from partnerships.services.mous.goals import goal_create, goal_progress_add
    from partnerships.services.mous.workflow import mou_approve, mou_sign, mou_submit

    if MOU.objects.for_district(district).filter(title=ACTIVE_MOU_TITLE).exists():
        return
    people = Membership.objects.for_district(district).select_related("user", "district")
    coordinator = people.filter(role=Role.COORDINATOR).order_by("pk").first()
    admin = people.filter(role=Role.ADMIN).order_by("pk").first()
    member = people.filter(role=Role.PARTNER, partner=partner).order_by("pk").first()
    if coordinator is None or admin is None:
        return
    today = district.today()
    mou = mou_create(
        by=coordinator,
        partner=partner,
        title=ACTIVE_MOU_TITLE,
        schools=list(School.objects.for_district(district)),
        services=["counselling_individual"],
        start_date=today - timedelta(days=45),
        end_date=today + timedelta(days=320),
        shared_fields=["name", "grade", "school", "guardian_contact", "referral_reason"],
        answers=sample_answers(district.default_language),  # the template's [choices]
    )
    mou_submit(by=coordinator, mou=mou)
    mou_approve(by=admin, mou=mou)
    number = current_version(mou).number
    signer = member.user.get_full_name() if member else "Rosa Jimenez"
    mou_sign(
        by=member,
        mou=mou,
        version_number=number,
        name=signer,
        title="Director",
        ip_address="203.0.113.24",
    )
    mou_sign(
        by=admin,
        mou=mou,
        version_number=number,
        name=admin.user.get_full_name(),
        title="Assistant superintendent",
        ip_address="203.0.113.24",
    )
    goal = goal_create(
        by=coordinator,
        mou=mou,
        description="Students seen within two weeks of referral",
        target=Decimal("40"),
        unit="students",
        period="School year",
    )
    goal_progress_add(
        by=coordinator, goal=goal, date=today - timedelta(days=7), value=Decimal("11")
    )
