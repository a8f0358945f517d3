"""The demo is a living district: a few hundred students, a dozen partners of every kind,
MOUs in every status, funding over two years, stories, an invitation and a second district;
seeding it again adds nothing and changes nothing people see."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command

from partnerships.models import (
    MOU,
    Contact,
    FundingSource,
    Goal,
    GoalProgress,
    MOUDocument,
    MOUSignature,
    MOUStatus,
    MOUVersion,
    Partner,
    PartnerKind,
    Service,
    SuccessStory,
)
from partnerships.selectors.directory import coverage_cell
from schools.models import District, Invitation, Membership, Role, School, Student
from schools.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=False)


def _seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _state(district) -> dict:
    """What people see of a district, as counts and keys."""
    with tenant_context(district):

        def rows(model, *fields):
            return sorted(model.objects.for_district(district).values_list(*fields))

        return {
            "schools": rows(School, "name", "lowest_grade", "highest_grade", "sis_id"),
            "students": Student.objects.for_district(district).count(),
            "student_ids": rows(Student, "local_id", "last_name", "grade", "school__name"),
            "partners": rows(Partner, "name", "kind", "last_verified_at"),
            "services": Service.objects.for_district(district).count(),
            "contacts": rows(Contact, "name", "preferred_language"),
            "mous": rows(MOU, "title", "status", "start_date", "end_date"),
            "versions": MOUVersion.objects.for_district(district).count(),
            "signatures": MOUSignature.objects.for_district(district).count(),
            "documents": MOUDocument.objects.for_district(district).count(),
            "goals": Goal.objects.for_district(district).count(),
            "progress": GoalProgress.objects.for_district(district).count(),
            "funding": rows(FundingSource, "funder", "kind", "amount", "start_date"),
            "stories": rows(SuccessStory, "title", "publishable"),
            "memberships": rows(Membership, "user__email", "role"),
            "invitations": rows(Invitation, "email", "role"),
        }


def test_the_demo_is_a_living_district_and_reseeding_changes_nothing(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    started = time.monotonic()
    _seed()
    first_seed = time.monotonic() - started
    demo = District.objects.get(slug="demo")
    riverside = District.objects.get(slug="riverside")
    first = {"demo": _state(demo), "riverside": _state(riverside)}
    districts = District.objects.count()

    state = first["demo"]
    # Schools with their grades; enough students for more than one page of the list.
    names = [row[0] for row in state["schools"]]
    assert "Washington Elementary School" in names and "Lincoln High School" in names
    assert all(row[3] for row in state["schools"])
    assert state["students"] >= 200
    with tenant_context(demo):
        students = Student.objects.for_district(demo)
        for school in School.objects.for_district(demo):
            grades = set(students.filter(school=school).values_list("grade", flat=True))
            assert grades and grades <= set(school.grades), school.name
        assert students.filter(first_name="Ana", last_name="Morales").exists()  # kept
        assert students.filter(last_name__contains="ñ").exists()
        assert students.filter(family_language="vi").count() > 5

        # A dozen partners, of every kind, with services; verified, stale, never verified.
        partners = list(Partner.objects.for_district(demo))
        assert len(partners) >= 12
        assert {p.kind for p in partners} == set(PartnerKind.values)
        assert all(Service.objects.for_district(demo).filter(partner=p) for p in partners)
        days = demo.directory_freshness_days
        assert any(not p.is_stale(days) for p in partners)
        assert any(p.is_stale(days) and p.last_verified_at for p in partners)
        assert any(p.last_verified_at is None for p in partners)
        assert Contact.objects.for_district(demo).filter(preferred_language="es").count() == 1
        # Two of them came from a regional 211 directory (issue 17): their source, their id
        # there and when they were last synced, the schools their services' areas name.
        synced = [p for p in partners if p.hsds_source == "Bay Area 211"]
        assert len(synced) == 2 and all(p.hsds_id and p.synced_at for p in synced)
        eastside = next(p for p in synced if p.name.startswith("Eastside"))
        assert (eastside.city, eastside.payments, eastside.languages) == (
            "San Jose",
            ["free"],
            ["en", "es"],
        )

        # Every MOU status; the partner person has one to sign and one active.
        mous = MOU.objects.for_district(demo)
        assert set(MOUStatus.values) <= set(mous.values_list("status", flat=True))
        harbor = mous.filter(partner__name="Harbor Family Services")
        assert {"sent", "active", "internal_review"} <= set(harbor.values_list("status", flat=True))
        active = harbor.get(status="active")
        assert {
            s.party for s in MOUSignature.objects.for_district(demo).filter(version__mou=active)
        } == {"partner", "district"}
        document = MOUDocument.objects.for_district(demo).get(version__mou=active)
        assert document.status == MOUDocument.Status.READY
        assert bytes(document.pdf).startswith(b"%PDF")
        assert GoalProgress.objects.for_district(demo).filter(goal__mou=active).count() >= 2
        version = MOUVersion.objects.for_district(demo).filter(mou=active).first()
        assert all(version.sections.values())  # the shipped template's text
        terminated = mous.get(status="terminated")
        assert terminated.terminated_reason

        # The coverage map has a crowded cell (its count opens to the partners by name).
        roosevelt = School.objects.for_district(demo).get(name="Roosevelt Middle School")
        coordinator = Membership.objects.for_district(demo).filter(role=Role.COORDINATOR).first()
        cell = coverage_cell(coordinator, school_id=roosevelt.pk, code="family_support")
        assert len(cell["partners"]) >= 3

        # Funding over two school years, of several kinds, linked to partners and MOUs.
        funding = FundingSource.objects.for_district(demo)
        assert len({f.start_date.year for f in funding}) == 2
        assert funding.values("kind").distinct().count() >= 4

        # Stories: published, consent waiting for review, waiting for consent.
        stories = SuccessStory.objects.for_district(demo)
        assert stories.filter(publishable=True).count() == 1
        assert stories.filter(consent_at__isnull=False, reviewed_at__isnull=True).exists()
        assert stories.filter(consent_at__isnull=True).exists()

        # Meetings (issue 18): a monthly check-in series that has met, with minutes of all
        # but its last past meeting, action items done, open and overdue, reminders planned
        # and the invitations written; an MOU review next week.
        from partnerships.models import (
            ActionItem,
            Meeting,
            MeetingEmail,
            MeetingOccurrence,
            Reminder,
        )

        series = Meeting.objects.for_district(demo).get(title__startswith="Monthly check-in")
        assert series.recurrence.startswith("FREQ=MONTHLY;BYDAY=2TU")
        assert MeetingOccurrence.objects.for_district(demo).filter(meeting=series).count() >= 2
        items = ActionItem.objects.for_district(demo).filter(meeting=series)
        assert items.filter(status="done").exists()
        assert items.filter(status="open", due_date__lt=demo.today()).count() >= 2
        assert items.filter(owner_contact__isnull=False).exists()
        assert Reminder.objects.for_district(demo).filter(status="planned").exists()
        assert MeetingEmail.objects.for_district(demo).filter(kind="invitation").exists()
        assert Meeting.objects.for_district(demo).filter(kind="mou_review").count() == 1

        # An invitation not accepted yet.
        assert Invitation.objects.for_district(demo).filter(accepted_at=None).exists()
        # Still one person per role here (tests/config/test_embedded.py counts them).
        assert Membership.objects.for_district(demo).count() == 4

    # The second district: its own people, and the demo's coordinator and partner.
    with tenant_context(riverside):
        people = Membership.objects.for_district(riverside)
        emails = set(people.values_list("user__email", flat=True))
        assert {"coordinator@demo.trellis.test", "partner@demo.trellis.test"} <= emails
        assert people.filter(role=Role.ADMIN).exists()
        assert people.filter(role=Role.VIEWER).exists()
        assert MOU.objects.for_district(riverside).filter(status="active").count() == 1
        assert School.objects.for_district(riverside).count() == 2
        assert Student.objects.for_district(riverside).count() >= 5
        assert Partner.objects.for_district(riverside).count() == 2

    started = time.monotonic()
    _seed()
    second_seed = time.monotonic() - started
    assert District.objects.count() == districts
    assert {"demo": _state(demo), "riverside": _state(riverside)} == first
    print(f"seed_demo: first run {first_seed:.1f} s, second run {second_seed:.1f} s")
    assert first_seed < 40


def test_every_demo_person_has_a_sign_in_row():
    from config.management.commands.seed_demo import demo_logins

    rows = demo_logins(["Lincoln High School"])
    emails = [email for _role, _where, email in rows]
    assert len(emails) == len(set(emails))
    roles = {role for role, _where, _email in rows}
    assert {str(role.label) for role in Role} <= {str(role) for role in roles}
    assert any("Lincoln High School" in where for _role, where, _email in rows)
    assert any("riverside" in email for email in emails)


def test_run_marks_the_seeded_districts_as_demos():
    from config.management.commands.run import _login_rows
    from config.management.commands.seed_demo import DEMO_DISTRICT_SLUGS

    assert DEMO_DISTRICT_SLUGS == ("demo", "riverside")
    rows = _login_rows([("Administrator", "Demo", "admin@demo.trellis.test")])
    assert rows == ["    Administrator  Demo  admin@demo.trellis.test"]


# Where each demo person is a member (the rest are Riverside's own people).
DISTRICTS_OF = {
    "admin@demo.trellis.test": ["demo"],
    "coordinator@demo.trellis.test": ["demo", "riverside"],
    "counselor@demo.trellis.test": ["demo"],
    "partner@demo.trellis.test": ["demo", "riverside"],
}


def test_every_demo_person_finds_working_pages(client, settings, tmp_path):
    from django.urls import reverse

    from config.management.commands.seed_demo import demo_logins

    settings.LOCAL_DIR = tmp_path
    settings.DEMO_DISTRICTS = ["demo", "riverside"]
    _seed()
    demo = District.objects.get(slug="demo")
    with tenant_context(demo):
        mou_ids = list(MOU.objects.for_district(demo).values_list("pk", flat=True))

    from schools.models import User

    for _role, _where, email in demo_logins():
        user = User.objects.get(email=email)
        client.force_login(user)
        slugs = DISTRICTS_OF.get(email, ["riverside"])
        for slug in slugs:
            response = client.get(f"/{slug}/")
            assert response.status_code == 200, (email, slug, response.status_code)
            assert "Demo district:" in response.content.decode()

    admin = User.objects.get(email="admin@demo.trellis.test")
    client.force_login(admin)
    students = client.get(reverse("student_list", args=["demo"]) + "?page=2")
    assert students.status_code == 200
    for name in ("mou_list", "partner_list", "funding_list", "story_list", "people_list"):
        assert client.get(reverse(name, args=["demo"])).status_code == 200, name
    for pk in mou_ids:
        assert client.get(reverse("mou_detail", args=["demo", pk])).status_code == 200, pk

    partner = User.objects.get(email="partner@demo.trellis.test")
    client.force_login(partner)
    mine = client.get(reverse("mou_list", args=["demo"]))
    assert mine.status_code == 200
    assert "Harbor Family Services family therapy program" in mine.content.decode()  # to sign
    assert "Harbor Family Services school-based counseling" in mine.content.decode()  # active
