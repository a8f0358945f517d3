"""Create the demo districts (idempotent): "demo", a living district with its schools, a
few hundred students, a dozen partners, MOUs in every status, funding, stories, referrals
and one person per role; and "riverside", a small second district some of them belong to.

The steps live in config/demo_*.py; the people a demo user can be are `demo_logins()`,
printed by `./trellis run`, which also marks both districts as demos (DEMO_DISTRICTS)."""

from __future__ import annotations

import secrets
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from config.demo_directory_sync import seed_directory_sync
from config.demo_district import seed_directory, seed_invitation, seed_schools, seed_students
from config.demo_help_requests import seed_help_requests
from config.demo_loop import seed_referral_loop
from config.demo_meetings import seed_meetings
from config.demo_partnerships import seed_partnerships
from config.demo_referrals import seed_referrals
from config.demo_second_district import (
    RIVERSIDE_PEOPLE,
    RIVERSIDE_SLUG,
    seed_riverside,
)
from partnerships.models import Partner
from schools.models import District, Membership, Role, School, Student, User
from schools.tenancy import tenant_context

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Unified School District"
# The districts `./trellis run` marks as demos (settings.DEMO_DISTRICTS).
DEMO_DISTRICT_SLUGS = (DEMO_SLUG, RIVERSIDE_SLUG)
DEMO_SCHOOLS = ["Lincoln High School", "Roosevelt Middle School"]
# (local id, first, last, preferred, birth date, grade, school index, guardian, language code)
DEMO_STUDENTS = [
    ("D1001", "Ana", "Morales", "", "2009-04-12", "10", 0, "Lucía Morales", "es"),
    ("D1002", "Benjamin", "Okafor", "Ben", "2008-11-02", "11", 0, "Grace Okafor", "en"),
    ("D1003", "Chloe", "Nguyen", "", "2010-01-23", "09", 0, "Minh Nguyen", "vi"),
    ("D1004", "Daniel", "Kowalski", "Dan", "2007-06-30", "12", 0, "Ewa Kowalski", "pl"),
    ("D1005", "Emily", "Johnson", "Em", "2009-09-15", "10", 0, "Sarah Johnson", "en"),
    ("D1006", "Farah", "Haddad", "", "2008-03-08", "11", 0, "Omar Haddad", "ar"),
    ("D1007", "Gabriel", "Silva", "Gabe", "2010-07-19", "09", 0, "Marta Silva", "pt"),
    ("D1008", "Hana", "Tanaka", "", "2007-12-01", "12", 0, "Kenji Tanaka", "ja"),
    ("D1009", "Isaiah", "Brooks", "", "2009-05-27", "10", 0, "Tanya Brooks", "en"),
    ("D1010", "Jasmine", "Patel", "Jas", "2008-08-14", "11", 0, "Ravi Patel", "gu"),
    ("D2001", "Kevin", "Lopez", "", "2012-02-03", "07", 1, "Rosa Lopez", "es"),
    ("D2002", "Layla", "Ahmed", "", "2011-10-21", "08", 1, "Yusuf Ahmed", "so"),
    ("D2003", "Mateo", "García", "", "2013-05-09", "06", 1, "Elena García", "es"),
    ("D2004", "Noah", "Williams", "", "2012-07-25", "07", 1, "Kim Williams", "en"),
    ("D2005", "Olivia", "Chen", "Liv", "2011-03-17", "08", 1, "Wei Chen", "cmn"),
    ("D2006", "Priya", "Sharma", "", "2013-09-04", "06", 1, "Anil Sharma", "hi"),
    ("D2007", "Quinn", "Murphy", "", "2012-12-12", "07", 1, "Siobhan Murphy", "en"),
    ("D2008", "Rafael", "Díaz", "Rafa", "2011-06-06", "08", 1, "Carmen Díaz", "es"),
]
# The partner directory: (name, fields, services, contacts, schools, active MOU services).
DEMO_PARTNERS = [
    (
        "Harbor Family Services",
        {
            "kind": "mental_health",
            "description": "Licensed therapists for children, teens and their families.",
            "website": "https://harbor.example.org",
            "phone": "555-0140",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en", "es"],
            "delivery_modes": ["on_site", "telehealth"],
            "payments": ["medicaid", "sliding_scale"],
            "min_age": 5,
            "max_age": 18,
            "intake": "accepting",
        },
        [("counselling_individual", "School-based counseling"), ("family_support", "")],
        [("Rosa Jimenez", "Intake coordinator", "intake@harbor.example.org", ["intake"])],
        DEMO_SCHOOLS,
        [],
    ),
    (
        "Bright Futures Mentoring",
        {
            "kind": "youth",
            "description": "Volunteer mentors who meet students weekly after school.",
            "languages": ["en"],
            "delivery_modes": ["on_site"],
            "payments": ["free"],
            "min_age": 11,
            "max_age": 18,
            "intake": "waitlist",
            "capacity": 3,
            "verified_days_ago": 20,
        },
        [("mentoring", "One-to-one mentoring"), ("after_school", "")],
        [("Devon Price", "Program director", "devon@brightfutures.example.org", ["leadership"])],
        ["Roosevelt Middle School"],
        ["mentoring", "after_school"],
    ),
    (
        "Valley Food Network",
        {
            "kind": "social_services",
            "description": "Weekend food bags and a family pantry.",
            "languages": ["en", "es", "vi"],
            "delivery_modes": ["at_partner"],
            "payments": ["free"],
            "intake": "accepting",
            "verified_days_ago": 400,
        },
        [("food_assistance", "Weekend food bags")],
        [("Minh Tran", "Pantry manager", "", ["intake"])],
        DEMO_SCHOOLS,
        ["food_assistance"],
    ),
]
DEMO_PEOPLE = [
    (Role.ADMIN, "Alex Admin"),
    (Role.COORDINATOR, "Casey Coordinator"),
    (Role.COUNSELOR, "Chris Counselor"),
    (Role.PARTNER, "Pat Partner"),
]


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_SLUG}.trellis.test"


def demo_logins(counselor_schools=()) -> list[tuple[str, str, str]]:
    """Every person a demo user can be: (role, organization or district, email)."""
    demo, riverside = "Demo Unified", "Riverside Unified"
    where = {
        Role.ADMIN: demo,
        Role.COORDINATOR: f"{demo}, {riverside}",
        Role.COUNSELOR: f"{demo} ({', '.join(counselor_schools) or 'every school'})",
        Role.PARTNER: f"Harbor Family Services ({demo}, {riverside})",
    }
    rows = [(role.label, where[role], demo_email(role)) for role, _name in DEMO_PEOPLE]
    for role, _name, email, partner in RIVERSIDE_PEOPLE:
        rows.append((role.label, f"{partner} ({riverside})" if partner else riverside, email))
    return rows


def demo_password() -> str:
    """One random password for the demo people, kept in .local so reruns print the same."""
    path = Path(settings.LOCAL_DIR) / "demo-password"
    if path.exists():
        return path.read_text().strip()
    password = "demo-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the demo districts, their people, partners and agreements (safe to rerun)."

    @transaction.atomic
    def handle(self, *args, **options):
        password = demo_password()
        district, created = District.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={"name": DEMO_NAME, "time_zone": "America/Los_Angeles"},
        )
        with tenant_context(district):
            self._people(district, password)
            seed_schools(district)
            self._students(district)
            seed_students(district)
            self._directory(district)
            self._mou_in_review(district)
            self._audit_trail(district)
            self._mail_not_delivered(district)
            seed_referrals(district)
            seed_referral_loop(district)
            seed_help_requests(district)
            # After the steps above, which look for "the partner without an MOU", "the
            # newest contact" or "no audit event yet" and must find what they always did.
            seed_directory(district)
            seed_directory_sync(district)
            seed_partnerships(district)
            seed_meetings(district)
            seed_invitation(district)
            counselor_schools = self._counselor_schools(district)
        users = {
            u.email: u for u in User.objects.filter(email__endswith=f"@{DEMO_SLUG}.trellis.test")
        }
        seed_riverside(
            password=password,
            coordinator=users[demo_email(Role.COORDINATOR)],
            partner_person=users[demo_email(Role.PARTNER)],
        )
        verb = "Created" if created else "Found"
        self.stdout.write(f"{verb} the demo district '{district.slug}' and '{RIVERSIDE_SLUG}'.")
        self.demo_logins = demo_logins(counselor_schools)
        self.password = password

    def _counselor_schools(self, district) -> list[str]:
        """The schools the demo counselor is limited to (empty: every school)."""
        from schools.models import MembershipSchool

        counselor = Membership.objects.for_district(district).filter(
            user__email=demo_email(Role.COUNSELOR)
        )
        return sorted(
            MembershipSchool.objects.for_district(district)
            .filter(membership__in=counselor)
            .values_list("school__name", flat=True)
        )

    def _people(self, district, password):
        for name in DEMO_SCHOOLS:
            School.objects.get_or_create(district=district, name=name)
        partner, _ = Partner.objects.get_or_create(district=district, name="Harbor Family Services")
        for role, full_name in DEMO_PEOPLE:
            email = demo_email(role)
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email, password, full_name=full_name)
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            Membership.objects.get_or_create(
                district=district,
                user=user,
                defaults={"role": role, "partner": partner if role == Role.PARTNER else None},
            )

    def _mou_in_review(self, district):
        """One MOU drafted and sent for the administrator's review, through the services, so
        the home page's MOU panel and the review step are alive in the demo."""
        from datetime import timedelta

        from partnerships.models import MOU
        from partnerships.mou_rules import sample_answers
        from partnerships.services.mous.drafting import mou_create
        from partnerships.services.mous.workflow import mou_submit

        if MOU.objects.filter(district=district, status="internal_review").exists():
            return
        partner = (
            Partner.objects.filter(district=district)
            .exclude(pk__in=MOU.objects.filter(district=district).values("partner_id"))
            .order_by("name")
            .first()
        )
        coordinator = Membership.objects.filter(
            district=district, role=Role.COORDINATOR, active=True
        ).first()
        if partner is None or coordinator is None:
            return
        today = district.today()
        mou = mou_create(
            by=coordinator,
            partner=partner,
            title=f"{partner.name} school-based services",
            start_date=today + timedelta(days=30),
            end_date=today + timedelta(days=395),
            # Placeholders left in the text block submitting: fill every one.
            schools=list(School.objects.filter(district=district)),
            services=sorted(set(partner.services.values_list("category", flat=True)))
            or ["counselling_individual"],
            shared_fields=["name", "grade"],
            answers=sample_answers(district.default_language),
        )
        mou_submit(by=coordinator, mou=mou)

    def _mail_not_delivered(self, district):
        """One listing-confirmation request the partner's mail server refused (a contact who
        left), so the coordinator's home and the mail delivery page show the failure and
        "Send again". Written by the real service, then failed as the server would."""
        from partnerships.models import Contact
        from partnerships.services.directory import listing_verification_send
        from schools.models import DistrictEmail, OutgoingEmail

        if DistrictEmail.objects.filter(
            district=district, email__status=OutgoingEmail.Status.FAILED
        ).exists():
            return
        contact = Contact.objects.filter(district=district).exclude(email="").order_by("pk").last()
        coordinator = Membership.objects.filter(
            district=district, role=Role.COORDINATOR, active=True
        ).first()
        if contact is None or coordinator is None:
            return
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)
        link = DistrictEmail.objects.filter(district=district).order_by("-pk").first()
        OutgoingEmail.objects.filter(pk=link.email_id).update(
            status=OutgoingEmail.Status.FAILED,
            failure=OutgoingEmail.Failure.REFUSED,
            attempts=1,
            last_error=f"SMTPRecipientsRefused: {contact.email}: 550 5.1.1 mailbox unavailable",
        )

    def _audit_trail(self, district):
        """Two believable entries on the audit trail, once: the admin invited the counselor
        and limited them to the high school."""
        from datetime import timedelta

        from django.utils import timezone

        from schools.models import AuditEvent
        from schools.services.audit import person_label

        if AuditEvent.objects.filter(district=district).exists():
            return
        people = Membership.objects.filter(district=district).select_related("user")
        admin = people.get(user__email=demo_email(Role.ADMIN))
        counselor = people.get(user__email=demo_email(Role.COUNSELOR))
        now, Action = timezone.now(), AuditEvent.Action
        AuditEvent.objects.bulk_create(
            AuditEvent(
                district=district,
                user=admin.user,
                membership=admin,
                action=action,
                object_type=object_type,
                object_id=str(pk),
                object_repr=about,
                detail=detail,
                at=now - timedelta(days=days),
            )
            for action, object_type, pk, about, detail, days in [
                (
                    Action.INVITED,
                    "schools.invitation",
                    0,
                    counselor.user.email,
                    {"role": Role.COUNSELOR},
                    12,
                ),
                (
                    Action.SCHOOLS_CHANGED,
                    "schools.membership",
                    counselor.pk,
                    person_label(counselor.user),
                    {"schools": [DEMO_SCHOOLS[0]]},
                    3,
                ),
            ]
        )

    def _students(self, district):
        """A few made-up students in each demo school (never real people)."""
        from datetime import date

        schools = list(School.objects.filter(district=district, name__in=DEMO_SCHOOLS))
        by_name = {school.name: school for school in schools}
        for (
            local_id,
            first,
            last,
            preferred,
            born,
            grade,
            school,
            guardian,
            language,
        ) in DEMO_STUDENTS:
            slug = f"{first}.{last}".lower().replace("í", "i")
            Student.objects.get_or_create(
                district=district,
                local_id=local_id,
                defaults={
                    "school": by_name[DEMO_SCHOOLS[school]],
                    "first_name": first,
                    "last_name": last,
                    "preferred_name": preferred,
                    "date_of_birth": date.fromisoformat(born),
                    "grade": grade,
                    "guardian_name": guardian,
                    "guardian_email": f"family.{slug}@example.org",
                    "guardian_phone": "555-0100",
                    "family_language": language,
                },
            )

    def _directory(self, district):
        """Partners with services and contacts; two with an active MOU (the coverage map).

        A partner that already has services is left as it is: a rerun keeps what people changed.
        """
        from datetime import timedelta

        from django.utils import timezone

        from partnerships.models import MOU, Contact, MOUSchool, PartnerSchool, Service

        schools = {school.name: school for school in School.objects.filter(district=district)}
        for name, fields, services, contacts, school_names, mou_services in DEMO_PARTNERS:
            partner, _ = Partner.objects.get_or_create(district=district, name=name)
            if Service.objects.filter(district=district, partner=partner).exists():
                continue
            fields = dict(fields)
            days = fields.pop("verified_days_ago", None)
            if days is not None:
                fields["last_verified_at"] = timezone.now() - timedelta(days=days)
                fields["last_verified_by"] = contacts[0][0]
            for key, value in fields.items():
                setattr(partner, key, value)
            partner.save()
            for category, service_name in services:
                Service.objects.create(
                    district=district, partner=partner, category=category, name=service_name
                )
            for contact_name, title, email, roles in contacts:
                Contact.objects.create(
                    district=district,
                    partner=partner,
                    name=contact_name,
                    title=title,
                    email=email,
                    roles=roles,
                )
            for school_name in school_names:
                PartnerSchool.objects.get_or_create(
                    district=district, partner=partner, school=schools[school_name]
                )
            if mou_services and not MOU.objects.filter(district=district, partner=partner).exists():
                today = district.today()
                mou = MOU.objects.create(
                    district=district,
                    partner=partner,
                    title=f"{name} services agreement",
                    status="active",
                    services=mou_services,
                    start_date=today - timedelta(days=90),
                    end_date=today + timedelta(days=275),
                )
                for school_name in school_names:
                    MOUSchool.objects.create(
                        district=district, mou=mou, school=schools[school_name]
                    )
