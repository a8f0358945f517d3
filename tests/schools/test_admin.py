"""The Django admin: platform staff only, signing in through allauth."""

import pytest
from django.contrib.admin.sites import site

from schools.models import District, Invitation, Membership, OutgoingEmail, Role, School
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, UserFactory

PAGES = [
    "/admin/",
    "/admin/schools/district/",
    "/admin/schools/district/add/",
    "/admin/schools/user/",
    "/admin/schools/outgoingemail/",
]


@pytest.mark.parametrize("url", PAGES)
def test_platform_staff_open_admin_pages(client, district, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert client.get(url).status_code == 200


def test_district_admin_without_platform_staff_is_refused(client, member):
    client.force_login(member("admin").user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]


def test_anonymous_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Districts: created here with their first administrator's invitation ---------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def district_form(**overrides):
    data = {
        "name": "East Ridge Schools",
        "slug": "east-ridge",
        "time_zone": "America/Denver",
        "default_language": "en",
        "student_self_consent_age": "18",
        "referral_response_days": "5",
        "first_admin_email": "Superintendent@EastRidge.example",
        "School_set-TOTAL_FORMS": "1",
        "School_set-INITIAL_FORMS": "0",
        "School_set-0-name": "East Ridge High",
        "School_set-0-lowest_grade": "09",
        "School_set-0-highest_grade": "12",
    }
    data.update(overrides)
    return data


def inline_prefix(staff_client):
    form = staff_client.get("/admin/schools/district/add/").context["inline_admin_formsets"][0]
    return form.formset.prefix


def test_creating_a_district_invites_its_first_administrator(
    staff_client, django_capture_on_commit_callbacks, mailoutbox
):
    prefix = inline_prefix(staff_client)
    data = {k.replace("School_set", prefix): v for k, v in district_form().items()}

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/schools/district/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    district = District.objects.get(slug="east-ridge")
    with tenant_context(district):
        invitation = Invitation.objects.get()
        assert [s.name for s in School.objects.all()] == ["East Ridge High"]
    assert invitation.email == "superintendent@eastridge.example"
    assert invitation.role == Role.ADMIN
    assert invitation.invited_by is None
    assert [m.to for m in mailoutbox] == [["superintendent@eastridge.example"]]
    assert "East Ridge Schools" in mailoutbox[0].subject
    assert "/invitations/" in mailoutbox[0].body


def test_the_add_form_asks_for_the_first_administrator(staff_client):
    response = staff_client.get("/admin/schools/district/add/")

    assert b"First administrator" in response.content
    missing = staff_client.post(
        "/admin/schools/district/add/", district_form(first_admin_email="not an email")
    )
    assert missing.status_code == 200
    assert "first_admin_email" in missing.context["adminform"].form.errors
    assert not District.objects.filter(slug="east-ridge").exists()
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize("slug", ["invitations", "accounts", "dev"])
def test_a_district_cannot_take_a_product_address(staff_client, slug):
    response = staff_client.post(
        "/admin/schools/district/add/", district_form(slug=slug, **{"School_set-TOTAL_FORMS": "0"})
    )

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors


def test_the_change_page_shows_and_edits_the_districts_schools(staff_client, district):
    school = SchoolFactory(district=district, name="West Elementary")

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
    data.update(
        {
            f"{prefix}-{new}-name": "New Middle School",
            f"{prefix}-{new}-lowest_grade": "06",
            f"{prefix}-{new}-highest_grade": "08",
        }
    )
    response = staff_client.post(f"/admin/schools/district/{district.pk}/change/", data)

    assert b"West Elementary" in page.content and b"North High School" in page.content
    assert response.status_code == 302
    with tenant_context(district):
        names = sorted(School.objects.filter(district=district).values_list("name", flat=True))
    assert names == ["New Middle School", "North High School", school.name]
    assert not OutgoingEmail.objects.exists()  # changing a district invites nobody


def test_districts_are_not_deleted_from_the_admin(staff_client, district):
    assert staff_client.get(f"/admin/schools/district/{district.pk}/delete/").status_code == 403


def test_memberships_are_managed_in_the_product_not_the_admin():
    assert Membership not in site._registry


@pytest.mark.parametrize("object_id", ["abc", "99999999999999999999999", "-1"])
def test_garbage_district_ids_do_not_break_the_change_page(staff_client, object_id):
    response = staff_client.get(f"/admin/schools/district/{object_id}/change/")

    assert response.status_code in (302, 404)
