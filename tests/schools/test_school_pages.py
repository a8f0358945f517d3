"""The district's schools (issue 15): an administrator adds, changes, closes and reopens a
school without the Django admin; everyone else is refused, another district gets 404; bad
input is shown next to its field; every change is on the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from schools.models import AuditEvent, School, Student
from schools.services.schools import school_close, school_create, school_reopen, school_update
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, SchoolFactory, StudentFactory, enable_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 10, 15, 0, tzinfo=datetime.UTC), tick=False)


def sign_in(client, district, role="admin"):
    membership = MembershipFactory(district=district, role=role)
    if role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def list_url(district):
    return reverse("school_list", args=[district.slug])


def new_url(district):
    return reverse("school_new", args=[district.slug])


def edit_url(school):
    return reverse("school_edit", args=[school.district.slug, school.pk])


def close_url(school):
    return reverse("school_close", args=[school.district.slug, school.pk])


def reopen_url(school):
    return reverse("school_reopen", args=[school.district.slug, school.pk])


def school_data(**changes):
    data = {
        "name": "Lincoln Elementary",
        "lowest_grade": "KG",
        "highest_grade": "05",
        "state_id": "CA-123",
        "nces_id": "060000112345",
        "sis_id": "sch-9",
    }
    data.update(changes)
    return data


# The `district` fixture comes with this school (tests/fixtures.py); the tests read the others.
FIXTURE_SCHOOL = "North High School"


def schools_of(district):
    with tenant_context(district):
        return list(
            School.objects.filter(district=district).exclude(name=FIXTURE_SCHOOL).order_by("name")
        )


def audit_actions(district):
    with tenant_context(district):
        return list(
            AuditEvent.objects.filter(district=district)
            .order_by("at", "pk")
            .values_list("action", "object_repr")
        )


# --- The trio ---------------------------------------------------------------------------------


def test_an_administrator_adds_a_school_and_sees_it_on_the_list(client, district):
    sign_in(client, district)
    assert client.get(new_url(district)).status_code == 200

    response = client.post(new_url(district), school_data())

    assert response.status_code == 302
    assert response["Location"] == list_url(district)
    [school] = schools_of(district)
    assert (school.name, school.lowest_grade, school.highest_grade) == (
        "Lincoln Elementary",
        "KG",
        "05",
    )
    assert (school.state_id, school.nces_id, school.sis_id) == ("CA-123", "060000112345", "sch-9")
    assert school.closed_on is None
    html = client.get(list_url(district)).content.decode()
    assert "Lincoln Elementary" in html and "Open" in html
    assert audit_actions(district) == [(AuditEvent.Action.SCHOOL_ADDED, "Lincoln Elementary")]


def test_an_administrator_changes_a_school(client, district):
    school = SchoolFactory(district=district, name="Old name")
    sign_in(client, district)
    assert client.get(edit_url(school)).status_code == 200

    response = client.post(edit_url(school), school_data(name="New name", highest_grade="08"))

    assert response.status_code == 302
    [saved] = schools_of(district)
    assert (saved.name, saved.highest_grade) == ("New name", "08")
    assert audit_actions(district) == [(AuditEvent.Action.SCHOOL_CHANGED, "New name")]


def test_a_closed_school_keeps_its_students_and_shows_as_closed(client, district):
    school = SchoolFactory(district=district, name="Closing")
    StudentFactory(district=district, school=school)
    sign_in(client, district)

    response = client.post(close_url(school))

    assert response.status_code == 302
    [saved] = schools_of(district)
    assert saved.closed_on == datetime.date(2025, 11, 10)
    with tenant_context(district):
        assert Student.objects.filter(school=saved).count() == 1
    html = client.get(list_url(district)).content.decode()
    assert "Closed since" in html
    assert "Reopen the school" in client.get(edit_url(school)).content.decode()

    client.post(reopen_url(school))
    assert schools_of(district)[0].closed_on is None
    assert [action for action, _name in audit_actions(district)] == [
        AuditEvent.Action.SCHOOL_CLOSED,
        AuditEvent.Action.SCHOOL_REOPENED,
    ]


def test_a_get_on_close_or_reopen_changes_nothing(client, district):
    school = SchoolFactory(district=district)
    sign_in(client, district)

    assert client.get(close_url(school)).status_code == 302
    assert client.get(reopen_url(school)).status_code == 302
    assert schools_of(district)[0].closed_on is None


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer", "partner"])
def test_other_roles_are_refused(client, district, role):
    school = SchoolFactory(district=district, name="Kept")
    sign_in(client, district, role)

    for page in (list_url(district), new_url(district), edit_url(school)):
        assert client.get(page).status_code == 403
    assert client.post(new_url(district), school_data()).status_code == 403
    assert client.post(edit_url(school), school_data(name="Taken")).status_code == 403
    assert client.post(close_url(school)).status_code == 403
    assert [s.name for s in schools_of(district)] == ["Kept"]
    assert schools_of(district)[0].closed_on is None


def test_another_districts_administrator_gets_404(client, district, other_district):
    school = SchoolFactory(district=district, name="Kept")
    sign_in(client, other_district)

    assert client.get(list_url(district)).status_code == 404
    assert client.post(new_url(district), school_data()).status_code == 404
    assert client.post(edit_url(school), school_data(name="Taken")).status_code == 404
    assert client.post(close_url(school)).status_code == 404
    assert [s.name for s in schools_of(district)] == ["Kept"]


def test_an_administrator_cannot_reach_another_districts_school_through_their_own(
    client, district, other_district
):
    theirs = SchoolFactory(district=other_district, name="Theirs")
    sign_in(client, district)
    own = f"/{district.slug}/settings/schools/{theirs.pk}/"

    assert client.get(own).status_code == 404
    assert client.post(own, school_data(name="Taken")).status_code == 404
    assert client.post(own + "close/").status_code == 404
    assert [s.name for s in schools_of(other_district)] == ["Theirs"]
    assert schools_of(other_district)[0].closed_on is None


def test_the_list_shows_only_the_districts_schools(client, district, other_district):
    SchoolFactory(district=other_district, name="Their school")
    SchoolFactory(district=district, name="Our school")
    sign_in(client, district)

    html = client.get(list_url(district)).content.decode()

    assert "Our school" in html and "Their school" not in html


def test_the_list_costs_the_same_queries_with_many_schools(
    client, district, django_assert_max_num_queries
):
    SchoolFactory(district=district)
    sign_in(client, district)
    client.get(list_url(district))

    with django_assert_max_num_queries(25) as few:
        client.get(list_url(district))
    SchoolFactory.create_batch(30, district=district)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url(district))
    assert len(response.context["schools"]) == 32  # with the fixture's school


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lowest_grade": "06", "highest_grade": "02"}, "highest_grade"),
        ({"lowest_grade": "13"}, "lowest_grade"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"nces_id": "12AB"}, "nces_id"),
        ({"nces_id": "1234567890123"}, "nces_id"),
        ({"state_id": "s" * 33}, "state_id"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, district, changes, field):
    sign_in(client, district)

    response = client.post(new_url(district), school_data(**changes))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {field}, errors
    assert "Lincoln Elementary" in response.content.decode() or "name" in changes
    assert schools_of(district) == []
    assert audit_actions(district) == []


def test_a_duplicate_name_is_refused_next_to_the_name(client, district, other_district):
    SchoolFactory(district=district, name="Lincoln Elementary")
    SchoolFactory(district=other_district, name="Washington High")
    other = SchoolFactory(district=district, name="Jefferson")
    sign_in(client, district)

    added = client.post(new_url(district), school_data(name="lincoln elementary"))
    assert added.status_code == 200
    assert "already has a school with this name" in str(added.context["form"].errors["name"])

    renamed = client.post(edit_url(other), school_data(name="Lincoln Elementary"))
    assert renamed.status_code == 200
    assert list(renamed.context["form"].errors) == ["name"]

    # Another district's school of the same name is no conflict.
    assert client.post(new_url(district), school_data(name="Washington High")).status_code == 302


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"name": "\x00", "lowest_grade": "\x00"},
        {"name": "<script>alert(1)</script>", "lowest_grade": "KG", "highest_grade": "KG"},
        {"name": ["a", "b"], "lowest_grade": ["KG", "01"], "nces_id": "9" * 5000},
    ],
)
def test_garbage_never_makes_a_500(client, district, garbage):
    school = SchoolFactory(district=district)
    sign_in(client, district)

    for page in (new_url(district), edit_url(school)):
        response = client.post(page, garbage)
        assert response.status_code in (200, 302)
        assert "<script>alert(1)</script>" not in response.content.decode()
    for bad in ("0", "99999999999999999999999", "-1"):
        path = f"/{district.slug}/settings/schools/{bad}/"
        assert client.get(path).status_code == 404


# --- The services --------------------------------------------------------------------------


def test_the_services_refuse_other_roles_and_other_districts(district, other_district):
    school = SchoolFactory(district=district)
    admin_elsewhere = MembershipFactory(district=other_district, role="admin")
    coordinator = MembershipFactory(district=district, role="coordinator")

    for by in (coordinator,):
        with pytest.raises(PermissionDenied):
            school_create(by=by, **school_data())
    for by in (coordinator, admin_elsewhere):
        with pytest.raises(PermissionDenied):
            school_update(by=by, school=school, name="Taken")
        with pytest.raises(PermissionDenied):
            school_close(by=by, school=school)
        with pytest.raises(PermissionDenied):
            school_reopen(by=by, school=school)


def test_the_services_check_grades_and_names(district):
    admin = MembershipFactory(district=district, role="admin")
    with tenant_context(district):
        school = school_create(by=admin, **school_data())
        with pytest.raises(ValidationError) as reversed_grades:
            school_update(by=admin, school=school, lowest_grade="12", highest_grade="KG")
        with pytest.raises(ValidationError) as duplicate:
            school_create(by=admin, **school_data(name=" Lincoln   Elementary "))
        # Only what is given changes; the rest stays.
        school_update(by=admin, school=school, sis_id="new-id")
        school.refresh_from_db()

    assert set(reversed_grades.value.message_dict) == {"highest_grade"}
    assert set(duplicate.value.message_dict) == {"name"}
    assert (school.sis_id, school.name, school.highest_grade) == ("new-id", school.name, "05")


# --- A closed school is never offered for something new, never dropped from what names it --


def test_a_closed_school_is_not_offered_for_new_things_but_kept_where_it_is_named(client, district):
    from partnerships.models import MOUSchool
    from schools.models import MembershipSchool
    from tests.factories import MOUFactory, MOUVersionFactory, PartnerFactory

    admin = sign_in(client, district)
    SchoolFactory(district=district, name="Open Valley High")
    closed = SchoolFactory(district=district, name="Old Mill School")
    counselor = MembershipFactory(district=district, role="counselor")
    partner = PartnerFactory(district=district)
    mou = MOUFactory(district=district, partner=partner, status="draft")
    MOUVersionFactory(district=district, mou=mou, number=1)
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=counselor, school=closed)
        MOUSchool.objects.create(district=district, mou=mou, school=closed)
        school_close(by=admin, school=closed)

    def offered(url) -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    slug = district.slug
    for url in [
        reverse("people_invite", args=[slug]),
        reverse("mou_create", args=[slug]),
        reverse("partner_edit", args=[slug, partner.pk]),  # schools served: its own section
    ]:
        page = offered(url)
        assert "Open Valley High" in page and "Old Mill School" not in page, url
    # Where it is already named, it stays (ticked): saving the form never drops it.
    for url in [
        reverse("person_change", args=[slug, counselor.pk]),
        reverse("mou_terms", args=[slug, mou.pk]),
    ]:
        page = offered(url)
        assert "Old Mill School" in page, url
    # The home page lists it, marked closed, after the open schools.
    home = offered(reverse("district_home", args=[slug]))
    assert home.index("Open Valley High") < home.index("Old Mill School")
