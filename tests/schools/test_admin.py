"""The Django admin: platform staff only, signing in through allauth."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.sites import site

from schools.models import District, Invitation, Membership, OutgoingEmail, Role, School, User
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, UserFactory, enable_totp
from tests.schools.auth_steps import MFA_URL, sign_in, sign_in_with_password

ENROL_URL = "/accounts/2fa/totp/activate/"

PAGES = [
    "/admin/",
    "/admin/schools/district/",
    "/admin/schools/district/add/",
    "/admin/schools/user/",
    "/admin/schools/outgoingemail/",
]


def staff_user(**kwargs):
    """Platform staff with an authenticator app, as the admin requires."""
    user = UserFactory(is_staff=True, is_superuser=True, **kwargs)
    enable_totp(user)
    return user


@pytest.mark.parametrize("url", PAGES)
def test_platform_staff_open_admin_pages(client, district, url):
    client.force_login(staff_user())

    assert client.get(url).status_code == 200


# --- MFA: platform staff sign in with a second factor, like any district administrator ---


def every_admin_page(district) -> list[str]:
    """The index, every registered model's list and add pages, and a change page."""
    pages = ["/admin/", f"/admin/schools/district/{district.pk}/change/", "/admin/password_change/"]
    for model in site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages += [base, base + "add/"]
    return pages


def test_staff_with_a_password_alone_cannot_open_any_admin_page(client, district):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert sign_in_with_password(client, staff).status_code == 302

    for url in every_admin_page(district):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ENROL_URL, url
    posted = client.post("/admin/schools/district/add/", {"name": "Sneaky", "slug": "sneaky"})
    assert posted["Location"] == ENROL_URL
    assert not District.objects.filter(slug="sneaky").exists()


def test_the_enrolment_page_says_why_staff_were_sent_there(client, district):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[0] == (ENROL_URL, 302)
    assert b"Platform administration requires two-factor authentication" in response.content


def test_staff_with_an_authenticator_sign_in_with_a_code_and_open_the_admin(client, district):
    staff = UserFactory(is_staff=True, is_superuser=True)
    secret = enable_totp(staff)

    # The password alone stops at the code prompt: the admin is still closed.
    assert sign_in_with_password(client, staff)["Location"] == MFA_URL
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    response = sign_in(client, staff, secret=secret)
    assert response.status_code == 302
    for url in every_admin_page(district):
        assert client.get(url).status_code in (200, 403), url  # 403: pages no one may add
    assert client.get("/admin/").status_code == 200


# --- Authenticators: listed, never their secret, never editable -------------------------


def test_the_admin_never_shows_or_changes_an_authenticator_secret(client, district):
    person = UserFactory(full_name="Ada Lovelace")
    secret = enable_totp(person)
    authenticator = Authenticator.objects.get(user=person, type=Authenticator.Type.TOTP)
    stored = dict(authenticator.data)
    client.force_login(staff_user())
    base = "/admin/mfa/authenticator/"

    pages = [client.get(base), client.get(f"{base}{authenticator.pk}/change/")]
    posted = [
        client.post(f"{base}{authenticator.pk}/change/", {"data": '{"secret": "AAAA"}'}),
        client.post(f"{base}{authenticator.pk}/delete/", {"post": "yes"}),
        client.post(base, {"action": "delete_selected", "_selected_action": [authenticator.pk]}),
        client.post(f"{base}add/", {"user": person.pk, "type": "totp", "data": "{}"}),
    ]

    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        assert secret.encode() not in page.content
        assert stored["secret"].encode() not in page.content
        assert b'name="data"' not in page.content
    assert str(person).encode() in pages[0].content  # staff still see who has one
    assert [response.status_code for response in posted] != [302] * 4
    authenticator.refresh_from_db()
    assert authenticator.data == stored
    assert Authenticator.objects.filter(user=person).count() == 1


def test_people_are_deactivated_not_deleted_in_the_admin(client, district):
    person = UserFactory()
    client.force_login(staff_user())

    response = client.post(f"/admin/schools/user/{person.pk}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/schools/user/", {"action": "delete_selected", "_selected_action": [person.pk]}
    )

    assert response.status_code == 403
    assert bulk.status_code in (200, 302)
    assert User.objects.filter(pk=person.pk).exists()


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
    client.force_login(staff_user())
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


def test_a_district_cannot_have_an_unknown_time_zone(staff_client):
    response = staff_client.post(
        "/admin/schools/district/add/",
        district_form(time_zone="Mars/Olympus_Mons", **{"School_set-TOTAL_FORMS": "0"}),
    )

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["time_zone"]
    assert "Mars/Olympus_Mons is not one of the available choices" in message
    assert not District.objects.filter(slug="east-ridge").exists()


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
