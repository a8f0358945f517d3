"""Two-factor authentication in the browser: the sign-in challenge and enrolment."""

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.factories import PASSWORD, enable_totp
from tests.schools.auth_steps import totp_code

pytestmark = pytest.mark.browser


def sign_in_with_password(page, user):
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_person_with_an_authenticator_signs_in_with_password_then_code(page, member):
    admin = member("admin")
    secret = enable_totp(admin.user)

    sign_in_with_password(page, admin.user)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert_accessible(page)
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()

    page.wait_for_url(f"**/{admin.district.slug}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert_accessible(page)


def test_a_wrong_code_keeps_the_person_out(page, member):
    admin = member("admin")
    enable_totp(admin.user)

    sign_in_with_password(page, admin.user)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(totp_code(generate_totp_secret()))  # another app's code
    page.get_by_role("button", name="Sign In").click()

    assert "/accounts/2fa/authenticate/" in page.url
    expect(page.get_by_text("Incorrect code").first).to_be_visible()
    assert_accessible(page)
    page.goto(f"/{admin.district.slug}/")  # still signing in: back to the code
    assert "/accounts/2fa/authenticate/" in page.url


def test_admin_without_an_authenticator_enrols_and_reaches_the_district(page, member):
    admin = member("admin")

    sign_in_with_password(page, admin.user)
    # Sent from the district to enrolment, without being asked for the password again.
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    expect(page.get_by_text("requires two-factor authentication")).to_be_visible()
    expect(page.get_by_role("img").first).to_be_visible()  # the QR code
    assert_accessible(page)
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    assert len(page.get_by_label("Unused codes").input_value().split()) == 10
    assert_accessible(page)
    page.get_by_role("link", name=f"Continue to {admin.district.name}").click()
    page.wait_for_url(f"**/{admin.district.slug}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert_accessible(page)
