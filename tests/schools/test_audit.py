"""The audit trail: people's access changes and platform staff's admin changes, per district,
append-only, shown to the district's administrators."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from schools.models import AuditEvent, District, Role
from schools.tenancy import tenant_context
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    SchoolFactory,
    UserFactory,
    enable_totp,
)

Action = AuditEvent.Action


@pytest.fixture
def admin(member):
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    return admin


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


@pytest.fixture
def staff(db):
    user = UserFactory(is_staff=True, is_superuser=True, full_name="Pat Platform")
    enable_totp(user)
    return user


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def trail(district) -> list[AuditEvent]:
    with tenant_context(district):
        return list(AuditEvent.objects.filter(district=district).order_by("pk"))


def trail_url(district) -> str:
    return reverse("audit_trail", args=[district.slug])


def rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- The people services write the trail --------------------------------------------------


def test_a_role_and_schools_change_is_on_the_trail(admin_client, admin, district, member):
    counselor = member("counselor", user=UserFactory(full_name="Cal Counselor"))
    school = SchoolFactory(district=district, name="West Elementary")

    response = admin_client.post(
        reverse("person_change", args=[district.slug, counselor.pk]),
        {"role": "coordinator", "schools": [school.pk], "crisis_responder": "on"},
    )

    assert response.status_code == 302
    role_event, schools_event = trail(district)
    assert (role_event.action, schools_event.action) == (
        Action.ROLE_CHANGED,
        Action.SCHOOLS_CHANGED,
    )
    for event in (role_event, schools_event):
        assert event.user_id == admin.user_id and event.membership_id == admin.pk
        assert event.object_id == str(counselor.pk)
        assert "Cal Counselor" in event.object_repr
    assert role_event.detail == {
        "role": [Role.COUNSELOR, Role.COORDINATOR],
        "crisis_responder": [False, True],
    }
    assert schools_event.detail == {"schools": ["West Elementary"]}
    page = admin_client.get(trail_url(district)).content.decode()
    assert "from Counselor to Coordinator" in page
    assert "limited to West Elementary" in page


def test_saving_without_a_change_writes_nothing(admin_client, district, member):
    counselor = member("counselor")

    admin_client.post(
        reverse("person_change", args=[district.slug, counselor.pk]), {"role": "counselor"}
    )

    assert trail(district) == []


def test_a_refused_change_leaves_no_trace(admin_client, admin, district):
    response = admin_client.post(
        reverse("person_change", args=[district.slug, admin.pk]), {"role": "counselor"}
    )

    assert response.status_code == 200  # the last administrator keeps the role
    assert trail(district) == []


def test_deactivating_and_reactivating_are_on_the_trail(admin_client, admin, district, member):
    counselor = member("counselor")

    admin_client.post(reverse("person_deactivate", args=[district.slug, counselor.pk]))
    admin_client.post(reverse("person_reactivate", args=[district.slug, counselor.pk]))

    assert [(e.action, e.object_id, e.membership_id) for e in trail(district)] == [
        (Action.DEACTIVATED, str(counselor.pk), admin.pk),
        (Action.REACTIVATED, str(counselor.pk), admin.pk),
    ]


def test_inviting_and_withdrawing_are_on_the_trail(admin_client, district):
    admin_client.post(
        reverse("people_invite", args=[district.slug]),
        {"email": "new.person@example.org", "role": "viewer"},
    )
    waiting = InvitationFactory(district=district, email="old@example.org")
    admin_client.post(reverse("invitation_revoke", args=[district.slug, waiting.pk]))

    invited, withdrawn = trail(district)
    assert (invited.action, invited.object_repr, invited.detail) == (
        Action.INVITED,
        "new.person@example.org",
        {"role": "viewer"},
    )
    assert (withdrawn.action, withdrawn.object_repr) == (
        Action.INVITATION_WITHDRAWN,
        "old@example.org",
    )


# --- Platform staff's changes in the admin -------------------------------------------------


def change_district_adding_a_school(staff_client, district, school_name):
    page = staff_client.get(f"/admin/schools/district/{district.pk}/change/")
    formset = page.context["inline_admin_formsets"][0].formset
    prefix = formset.prefix
    data = {
        "name": district.name,
        "slug": district.slug,
        "time_zone": district.time_zone,
        "default_language": "en",
        "student_self_consent_age": "18",
        "referral_response_days": "5",
        f"{prefix}-TOTAL_FORMS": str(len(formset.forms) + 1),
        f"{prefix}-INITIAL_FORMS": str(len(formset.forms)),
    }
    for index, form in enumerate(formset.forms):
        data[f"{prefix}-{index}-id"] = form.instance.pk
        data[f"{prefix}-{index}-district"] = district.pk
        data[f"{prefix}-{index}-name"] = form.instance.name
        data[f"{prefix}-{index}-lowest_grade"] = form.instance.lowest_grade
        data[f"{prefix}-{index}-highest_grade"] = form.instance.highest_grade
    new = len(formset.forms)
    data[f"{prefix}-{new}-name"] = school_name
    data[f"{prefix}-{new}-lowest_grade"] = "06"
    data[f"{prefix}-{new}-highest_grade"] = "08"
    return staff_client.post(f"/admin/schools/district/{district.pk}/change/", data)


def test_a_staff_change_to_a_districts_schools_is_on_that_districts_trail_only(
    staff_client, staff, district, other_district, admin_client, member
):
    response = change_district_adding_a_school(staff_client, district, "New Middle School")

    assert response.status_code == 302
    [event] = trail(district)
    assert (event.action, event.user_id, event.membership_id) == (
        Action.STAFF_CHANGED,
        staff.pk,
        None,
    )
    assert event.object_type == "schools.district" and event.object_id == str(district.pk)
    assert trail(other_district) == []
    page = admin_client.get(trail_url(district)).content.decode()
    assert "Pat Platform" in page and "Trellis platform staff" in page
    assert "New Middle School" in page
    other_admin = member("admin", in_district=other_district)
    enable_totp(other_admin.user)
    other = Client()
    other.force_login(other_admin.user)
    assert "New Middle School" not in other.get(trail_url(other_district)).content.decode()


def test_creating_a_district_in_the_admin_is_on_its_trail(staff_client, staff):
    page = staff_client.get("/admin/schools/district/add/")
    prefix = page.context["inline_admin_formsets"][0].formset.prefix

    response = staff_client.post(
        "/admin/schools/district/add/",
        {
            "name": "East Ridge Schools",
            "slug": "east-ridge",
            "time_zone": "America/Denver",
            "default_language": "en",
            "student_self_consent_age": "18",
            "referral_response_days": "5",
            "first_admin_email": "head@eastridge.example",
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    [event] = trail(District.objects.get(slug="east-ridge"))
    assert (event.action, event.user_id) == (Action.STAFF_ADDED, staff.pk)


def test_a_staff_change_to_a_person_is_on_each_of_their_districts_trails(
    staff_client, district, other_district
):
    person = UserFactory(email="shared@example.org", full_name="Sam Shared")
    MembershipFactory(district=district, user=person, role="counselor")
    MembershipFactory(district=other_district, user=person, role="partner")
    loner = UserFactory(email="loner@example.org")

    for user, name in ((person, "Samantha Shared"), (loner, "Lone Wolf")):
        response = staff_client.post(
            f"/admin/schools/user/{user.pk}/change/",
            {
                "email": user.email,
                "full_name": name,
                "preferred_language": "en",
                "is_active": "on",
                "date_joined_0": "2026-01-05",
                "date_joined_1": "09:00:00",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors

    for d in (district, other_district):
        [event] = trail(d)
        assert (event.action, event.object_type) == (Action.STAFF_CHANGED, "schools.user")
        assert event.object_id == str(person.pk) and event.object_repr == "Samantha Shared"
    # What concerns no district stays in Django's own admin log.
    assert LogEntry.objects.filter(object_id=str(loner.pk)).exists()


def test_a_staff_deletion_is_on_the_trail_of_the_persons_districts(
    staff_client, staff, district, other_district
):
    member = MembershipFactory(district=district, role="counselor")
    address = EmailAddress.objects.create(user=member.user, email="second@example.org")

    response = staff_client.post(
        f"/admin/account/emailaddress/{address.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not EmailAddress.objects.filter(pk=address.pk).exists()
    [event] = trail(district)
    assert (event.action, event.object_repr, event.user_id) == (
        Action.STAFF_DELETED,
        "second@example.org",
        staff.pk,
    )
    assert trail(other_district) == []


# --- Append-only for the runtime role -------------------------------------------------------


def test_the_trail_is_append_only_for_the_runtime_role(district):
    membership = MembershipFactory(district=district, role="admin")
    with tenant_context(district):
        AuditEvent.objects.create(
            district=district,
            user=membership.user,
            membership=membership,
            action=Action.DEACTIVATED,
            object_type="schools.membership",
            object_id="1",
            object_repr="someone@example.org",
        )
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            rows("UPDATE schools_auditevent SET object_repr = 'nobody'")
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            rows("DELETE FROM schools_auditevent")
        assert rows("SELECT object_repr FROM schools_auditevent") == [("someone@example.org",)]


def test_the_admin_log_is_append_only_for_the_runtime_role(staff_client):
    staff_client.post(
        "/admin/schools/user/add/",
        {
            "email": "new@example.org",
            "password1": "x9!long-enough-pw",
            "password2": "x9!long-enough-pw",
        },
    )
    assert rows("SELECT count(*) FROM django_admin_log") == [(1,)]

    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        rows("UPDATE django_admin_log SET object_repr = 'nothing happened'")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        rows("DELETE FROM django_admin_log")
    assert rows("SELECT object_repr FROM django_admin_log") == [("new@example.org",)]


# --- The page: the trio, the query count, the empty state ----------------------------------


def make_events(district, count, *, by):
    with tenant_context(district):
        AuditEvent.objects.bulk_create(
            AuditEvent(
                district=district,
                user=by.user,
                membership=by if index % 2 else None,
                action=Action.ROLE_CHANGED if index % 2 else Action.STAFF_CHANGED,
                object_type="schools.membership" if index % 2 else "schools.district",
                object_id=str(index),
                object_repr=f"Person {index}",
                detail={"role": ["counselor", "admin"]}
                if index % 2
                else {"admin": [{"changed": {"fields": ["Name"]}}]},
            )
            for index in range(count)
        )


def test_administrators_read_their_districts_trail_newest_first(
    admin_client, admin, district, other_district
):
    make_events(district, 3, by=admin)
    make_events(other_district, 2, by=MembershipFactory(district=other_district, role="admin"))

    response = admin_client.get(trail_url(district))

    assert response.status_code == 200
    assert [e.object_repr for e in response.context["page"].object_list] == [
        "Person 2",
        "Person 1",
        "Person 0",
    ]
    assert b"Changed Name." in response.content
    assert f'href="{trail_url(district)}"'.encode() in response.content  # in the navigation


@pytest.mark.parametrize("role", ["coordinator", "counselor", "partner", "viewer"])
def test_weaker_roles_are_refused_the_trail(client, member, district, role):
    client.force_login(member(role).user)

    assert client.get(trail_url(district)).status_code == 403
    assert f'href="{trail_url(district)}"' not in client.get(f"/{district.slug}/").content.decode()


def test_another_districts_administrator_gets_404(client, district, other_district, member):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(trail_url(district)).status_code == 404


def test_the_trail_costs_the_same_queries_at_any_length(
    admin_client, admin, district, django_assert_max_num_queries
):
    make_events(district, 120, by=admin)

    with django_assert_max_num_queries(18):
        response = admin_client.get(trail_url(district) + "?page=2")

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50


def test_an_empty_trail_says_what_will_appear(admin_client, district):
    response = admin_client.get(trail_url(district))

    assert response.status_code == 200
    assert b"Nothing has changed yet" in response.content


@pytest.mark.parametrize("page", ["abc", "-1", "99999999999999999999", "0"])
def test_garbage_page_numbers_do_not_break_the_trail(admin_client, district, page):
    assert admin_client.get(trail_url(district), {"page": page}).status_code == 200
