"""Two-factor authentication: who must have it, enrolment, the sign-in challenge, recovery codes.

Everything goes through allauth's real views; codes are computed with allauth's own TOTP
helpers from the secret the enrolment page shows.
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import generate_totp_secret
from allauth.mfa.utils import is_mfa_enabled

from schools.models import Role
from tests.factories import PASSWORD, enable_totp
from tests.schools.auth_steps import (
    MFA_URL,
    sign_in,
    sign_in_with_password,
    totp_code,
)
from tests.security.urls import district_urls, make_values

ENROL_URL = "/accounts/2fa/totp/activate/"
RECOVERY_URL = "/accounts/2fa/recovery-codes/"
REAUTH_URL = "/accounts/reauthenticate/"
URLS = district_urls()


def signed_in(client, district) -> bool:
    return client.get(f"/{district.slug}/").status_code == 200


def sign_out(client):
    client.post("/accounts/logout/")


def confirm_password(client, user, password=PASSWORD):
    """allauth asks for the password again before authenticators and codes are shown."""
    response = client.post(REAUTH_URL, {"password": password})
    assert response.status_code == 302


def enrol(client):
    """Open the enrolment page, read the secret it shows, confirm with a code from it."""
    page = client.get(ENROL_URL)
    assert page.status_code == 200
    secret = re.search(rb'id="authenticator_secret"[^>]*value="([A-Z2-7=]+)"', page.content)
    if secret is None:
        secret = re.search(rb'value="([A-Z2-7=]+)"[^>]*id="authenticator_secret"', page.content)
    secret = secret.group(1).decode()
    response = client.post(ENROL_URL, {"code": totp_code(secret)})
    return secret, response


@pytest.mark.parametrize("url", URLS, ids=[u.name for u in URLS])
def test_admin_without_an_authenticator_is_sent_to_enrolment_from_every_district_page(
    client, member, url
):
    admin = member("admin")
    client.force_login(admin.user)
    path = url.build(admin.district.slug, make_values(url.arguments, admin.district))

    response = client.get(path)

    assert response.status_code == 302, path
    assert response["Location"] == ENROL_URL
    assert client.post(path, {})["Location"] == ENROL_URL


def test_the_enrolment_page_says_why_the_person_was_sent_there(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    confirm_password(client, admin.user)

    response = client.get(f"/{admin.district.slug}/", follow=True)

    assert response.redirect_chain == [(ENROL_URL, 302)]
    assert response.status_code == 200
    assert b"requires two-factor authentication" in response.content


@pytest.mark.parametrize("role", Role.values)
def test_every_role_must_enrol_when_the_district_requires_it(client, district, member, role):
    district.mfa_required = True
    district.save(update_fields=["mfa_required"])
    person = member(role)
    client.force_login(person.user)

    response = client.get(f"/{district.slug}/")

    assert response.status_code == 302
    assert response["Location"] == ENROL_URL


@pytest.mark.parametrize("role", ["coordinator", "counselor", "partner", "viewer"])
def test_other_roles_need_no_authenticator_when_the_district_does_not_require_one(
    client, district, member, role
):
    person = member(role)
    client.force_login(person.user)

    assert client.get(f"/{district.slug}/").status_code == 200


def test_the_rule_follows_the_district_not_the_person(client, district, other_district, member):
    """A counselor in a district that requires MFA and one that does not: only the first asks."""
    other_district.mfa_required = True
    other_district.save(update_fields=["mfa_required"])
    here = member("counselor")
    member("counselor", in_district=other_district, user=here.user)
    client.force_login(here.user)

    assert client.get(f"/{district.slug}/").status_code == 200
    assert client.get(f"/{other_district.slug}/")["Location"] == ENROL_URL


def test_htmx_requests_are_sent_to_enrolment_with_a_full_page_redirect(client, member):
    admin = member("admin")
    client.force_login(admin.user)

    response = client.get(f"/{admin.district.slug}/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == ENROL_URL


def test_enrolment_account_and_sign_out_pages_open_without_a_redirect_loop(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)

    # From the landing page to the district, to enrolment (the password was just typed:
    # not asked again): the chain ends on a page (follow=True raises on a loop).
    landing = client.get("/", follow=True)
    assert [url.split("?")[0] for url, _ in landing.redirect_chain] == [
        f"/{admin.district.slug}/",
        ENROL_URL,
    ]
    assert landing.status_code == 200
    for path in (ENROL_URL, "/accounts/2fa/", "/accounts/password/change/", "/accounts/email/"):
        assert client.get(path).status_code == 200, path

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_admin_enrols_with_the_secret_on_the_page_and_then_reaches_the_district(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    # Just signed in: the password is not asked for a second time.
    assert client.get(ENROL_URL).status_code == 200

    _secret, response = enrol(client)

    assert response.status_code == 302
    assert response["Location"] == RECOVERY_URL  # recovery codes are made at enrolment
    assert is_mfa_enabled(admin.user, [Authenticator.Type.TOTP])
    assert signed_in(client, admin.district)


def test_a_wrong_code_does_not_enrol(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    confirm_password(client, admin.user)
    client.get(ENROL_URL)

    response = client.post(ENROL_URL, {"code": totp_code(generate_totp_secret())})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not is_mfa_enabled(admin.user)
    assert client.get(f"/{admin.district.slug}/")["Location"] == ENROL_URL


def test_a_person_with_an_authenticator_is_asked_for_a_code_after_the_password(client, member):
    counselor = member("counselor")
    secret = enable_totp(counselor.user)

    response = sign_in_with_password(client, counselor.user)

    assert response.status_code == 302
    assert response["Location"] == MFA_URL
    assert not signed_in(client, counselor.district)  # the password alone is not enough

    response = client.post(MFA_URL, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert signed_in(client, counselor.district)


def test_a_wrong_code_at_sign_in_is_refused(client, member):
    admin = member("admin")
    enable_totp(admin.user)
    sign_in_with_password(client, admin.user)

    response = client.post(MFA_URL, {"code": totp_code(generate_totp_secret())})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not signed_in(client, admin.district)


def test_the_same_authenticator_code_cannot_be_used_twice(client, member):
    admin = member("admin")
    secret = enable_totp(admin.user)
    code = totp_code(secret)
    sign_in_with_password(client, admin.user)
    client.post(MFA_URL, {"code": code})
    assert signed_in(client, admin.district)
    sign_out(client)

    sign_in_with_password(client, admin.user)
    response = client.post(MFA_URL, {"code": code})

    assert response.status_code == 200
    assert not signed_in(client, admin.district)


def test_a_recovery_code_signs_in_once_and_never_again(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    confirm_password(client, admin.user)
    enrol(client)
    codes = client.get(RECOVERY_URL).context["unused_codes"]
    assert len(codes) == 10
    sign_out(client)

    sign_in_with_password(client, admin.user)
    response = client.post(MFA_URL, {"code": codes[0]})
    assert response.status_code == 302
    assert signed_in(client, admin.district)
    sign_out(client)

    sign_in_with_password(client, admin.user)
    reused = client.post(MFA_URL, {"code": codes[0]})
    assert reused.status_code == 200
    assert reused.context["form"].errors["code"]
    assert not signed_in(client, admin.district)

    client.post(MFA_URL, {"code": codes[1]})
    assert signed_in(client, admin.district)
    confirm_password(client, admin.user)
    remaining = client.get(RECOVERY_URL).context["unused_codes"]
    assert codes[0] not in remaining and codes[1] not in remaining
    assert len(remaining) == 8


def test_sign_in_with_password_and_code_through_the_helper(client, member):
    """The helper other suites use really signs in (and fails loudly when it cannot)."""
    admin = member("admin")
    secret = enable_totp(admin.user)

    sign_in(client, admin.user, secret=secret)

    assert signed_in(client, admin.district)
