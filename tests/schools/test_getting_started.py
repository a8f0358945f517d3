"""The administrator's getting-started checklist on the district home, and the pages that
say what to do first (an MOU with no partner, a roster with no school)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schools.getting_started import district_url, getting_started_steps
from schools.tenancy import tenant_context
from tests.factories import (
    DistrictFactory,
    InvitationFactory,
    MembershipFactory,
    MOUFactory,
    PartnerFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)

pytestmark = pytest.mark.django_db

STEPS = ["schools", "people", "roster", "partner", "mou"]


@pytest.fixture
def fresh(db):
    """A district just created: no school, nobody but its administrator, nothing else."""
    return DistrictFactory(slug="east", name="East Ridge Unified")


@pytest.fixture
def admin(fresh):
    return MembershipFactory(district=fresh, role="admin")


def sign_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def done(admin) -> dict[str, bool]:
    with tenant_context(admin.district):
        return {step.key: step.done for step in getting_started_steps(admin, admin.district)}


def home(client, district):
    response = client.get(reverse("district_home", args=[district.slug]))
    assert response.status_code == 200
    return response.content.decode()


# --- Each step ticks itself off ------------------------------------------------------------


def test_a_fresh_district_shows_every_step_to_do_with_its_link(client, admin, fresh):
    sign_in(client, admin)
    page = home(client, fresh)
    assert "Getting started" in page
    assert "0 of 5 steps done" in page
    for title in [
        "Add your schools",
        "Invite your people",
        "Import your roster",
        "Add your first partner",
        "Draft your first MOU",
    ]:
        assert title in page
    assert "Nothing needs you yet" not in page  # the checklist is what needs them
    for name in ["people_invite", "roster_import", "partner_create", "mou_create"]:
        assert f'href="{reverse(name, args=[fresh.slug])}"' in page
    # The schools page may not exist yet: linked when it does, the page renders either way.
    school_new = district_url("school_new", fresh)
    if school_new:
        assert f'href="{school_new}"' in page


@pytest.mark.parametrize(
    ("make", "ticked"),
    [
        (lambda d: SchoolFactory(district=d), {"schools"}),
        (lambda d: MembershipFactory(district=d, role="counselor"), {"people"}),
        (lambda d: InvitationFactory(district=d), {"people"}),
        # A student comes with its school.
        (lambda d: StudentFactory(district=d), {"roster", "schools"}),
        (lambda d: PartnerFactory(district=d), {"partner"}),
        # An MOU comes with its partner.
        (lambda d: MOUFactory(district=d), {"mou", "partner"}),
    ],
    ids=["school", "member", "invitation", "student", "partner", "mou"],
)
def test_each_step_ticks_off_when_its_condition_is_met(admin, fresh, make, ticked):
    assert done(admin) == dict.fromkeys(STEPS, False)
    make(fresh)
    assert done(admin) == {key: key in ticked for key in STEPS}


def test_the_viewer_and_inactive_members_do_not_count_as_people(admin, fresh):
    MembershipFactory(district=fresh, role="coordinator", active=False)
    assert done(admin)["people"] is False
    other_admin = MembershipFactory(district=fresh, role="admin")
    assert done(admin)["people"] is True
    assert done(other_admin)["people"] is True


def test_a_ticked_step_says_done_in_words_and_loses_its_link(client, admin, fresh):
    PartnerFactory(district=fresh)
    sign_in(client, admin)
    page = home(client, fresh)
    assert "1 of 5 steps done" in page
    start = page.index('id="getting-started-partner"')
    item = page[start : page.index("</li>", start)]
    assert "Done" in item
    assert "To do" not in item
    assert reverse("partner_create", args=[fresh.slug]) not in item


def test_the_checklist_is_gone_when_every_step_is_done(client, admin, fresh):
    StudentFactory(district=fresh)
    InvitationFactory(district=fresh)
    MOUFactory(district=fresh)
    sign_in(client, admin)
    page = home(client, fresh)
    assert "Getting started" not in page
    assert "getting-started" not in page


# --- Whose it is ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer", "partner"])
def test_only_administrators_see_the_checklist(client, admin, fresh, role):
    other = sign_in(client, MembershipFactory(district=fresh, role=role))
    assert other.role == role
    page = home(client, fresh)
    assert "Getting started" not in page


def test_another_districts_rows_do_not_tick_this_districts_steps(admin, other_district):
    MembershipFactory(district=other_district, role="counselor")
    InvitationFactory(district=other_district)
    StudentFactory(district=other_district)
    MOUFactory(district=other_district)
    assert done(admin) == dict.fromkeys(STEPS, False)


def test_the_checklist_costs_one_query_however_much_is_done(admin, fresh):
    def count():
        with tenant_context(fresh), CaptureQueriesContext(connection) as queries:
            getting_started_steps(admin, fresh)
        return len(queries)

    assert count() == 1
    for _ in range(3):
        StudentFactory(district=fresh)
        MOUFactory(district=fresh)
        MembershipFactory(district=fresh)
    assert count() == 1


def test_the_home_page_costs_the_same_with_the_checklist_half_done(client, admin, fresh):
    sign_in(client, admin)
    url = reverse("district_home", args=[fresh.slug])
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    InvitationFactory(district=fresh)
    PartnerFactory(district=fresh)
    with CaptureQueriesContext(connection) as after:
        assert "2 of 5 steps done" in client.get(url).content.decode()
    assert len(after) == len(before)


# --- What to do first -----------------------------------------------------------------------


def test_drafting_an_mou_with_no_partner_says_add_a_partner_first(client, admin, fresh):
    sign_in(client, admin)
    url = reverse("mou_create", args=[fresh.slug])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Add a partner first" in page
    assert f'href="{reverse("partner_create", args=[fresh.slug])}"' in page
    assert "<form" not in page.split("<main", 1)[1]  # no form that cannot be used
    # Posting anyway changes nothing and still says what to do first.
    response = client.post(url, {"title": "An agreement"})
    assert response.status_code == 200
    assert "Add a partner first" in response.content.decode()


def test_an_inactive_partner_alone_still_says_add_a_partner_first(client, admin, fresh):
    PartnerFactory(district=fresh, active=False)
    sign_in(client, admin)
    page = client.get(reverse("mou_create", args=[fresh.slug])).content.decode()
    assert "Add a partner first" in page


def test_drafting_an_mou_with_a_partner_shows_the_form(client, admin, fresh):
    PartnerFactory(district=fresh, name="Riverbend Counseling")
    sign_in(client, admin)
    page = client.get(reverse("mou_create", args=[fresh.slug])).content.decode()
    assert "Add a partner first" not in page
    assert "Riverbend Counseling" in page
    assert "Create the draft" in page


def test_a_roster_import_with_no_school_says_add_your_schools_first(client, admin, fresh):
    sign_in(client, admin)
    response = client.get(reverse("roster_import", args=[fresh.slug]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Add your schools first" in page
    assert "Upload and preview" not in page
    school_new = district_url("school_new", fresh)
    if school_new:
        assert f'href="{school_new}"' in page


def test_a_roster_import_with_a_school_shows_the_upload_form(client, admin, fresh):
    SchoolFactory(district=fresh)
    sign_in(client, admin)
    page = client.get(reverse("roster_import", args=[fresh.slug])).content.decode()
    assert "Add your schools first" not in page
    assert "Upload and preview" in page


def test_a_coordinator_is_told_to_wait_for_schools_without_a_link_they_cannot_use(client, fresh):
    sign_in(client, MembershipFactory(district=fresh, role="coordinator"))
    page = client.get(reverse("roster_import", args=[fresh.slug])).content.decode()
    assert "Add your schools first" in page
    school_new = district_url("school_new", fresh)
    if school_new:
        assert f'href="{school_new}"' not in page
