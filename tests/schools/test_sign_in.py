"""Signing in: verified email only, password reset, no account enumeration, closed sign-up,
rate limits on failed attempts, and the idle sign-out of roles that see students."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from schools.models import OutgoingEmail, User
from tests.factories import PASSWORD, enable_totp
from tests.schools.auth_steps import LOGIN_URL, sign_in_with_password

RESET_URL = "/accounts/password/reset/"
NEW_PASSWORD = "a brand new passphrase for trellis"


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def login_errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


# --- Verified email -----------------------------------------------------------------------


def test_a_person_whose_address_is_not_verified_cannot_sign_in(client, member):
    counselor = member("counselor")
    EmailAddress.objects.filter(user=counselor.user).update(verified=False)

    response = sign_in_with_password(client, counselor.user)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not is_signed_in(client)
    assert client.get(f"/{counselor.district.slug}/")["Location"].startswith(LOGIN_URL)
    # The address is sent a verification link instead.
    sent = OutgoingEmail.objects.get()
    assert sent.to == [counselor.user.email]
    assert "/accounts/confirm-email/" in sent.body_text


def test_a_verified_person_signs_in(client, member):
    counselor = member("counselor")

    response = sign_in_with_password(client, counselor.user)

    assert response.status_code == 302
    assert is_signed_in(client)
    assert client.get(f"/{counselor.district.slug}/").status_code == 200


# --- Password reset -----------------------------------------------------------------------


def test_password_reset_from_request_to_signing_in_with_the_new_password(client, member):
    counselor = member("counselor")

    response = client.post(RESET_URL, {"email": counselor.user.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"

    mail = OutgoingEmail.objects.get()
    assert mail.to == [counselor.user.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.body_text)
    assert link, mail.body_text
    form_page = client.get(link.group(1))
    # The key moves from the address into the session (it must not leak via Referer).
    assert form_page.status_code == 302
    assert form_page["Location"].endswith("-set-password/")
    response = client.post(
        form_page["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"
    assert not is_signed_in(client)  # ACCOUNT_LOGIN_ON_PASSWORD_RESET is off

    refused = sign_in_with_password(client, counselor.user, PASSWORD)
    assert refused.status_code == 200 and not is_signed_in(client)
    assert sign_in_with_password(client, counselor.user, NEW_PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_a_reset_link_works_only_once(client, member):
    counselor = member("counselor")
    client.post(RESET_URL, {"email": counselor.user.email})
    path = re.search(r"(/accounts/password/reset/key/\S+/)", OutgoingEmail.objects.get().body_text)
    form_page = client.get(path.group(1))
    client.post(form_page["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = client.get(path.group(1))

    assert again.status_code == 200
    assert again.context["token_fail"]


# --- No account enumeration ---------------------------------------------------------------


def test_unknown_email_and_wrong_password_give_the_same_answer(client, member):
    counselor = member("counselor")

    wrong_password = client.post(
        LOGIN_URL, {"login": counselor.user.email, "password": "not the password at all"}
    )
    unknown = client.post(
        LOGIN_URL, {"login": "nobody@example.org", "password": "not the password at all"}
    )

    assert wrong_password.status_code == unknown.status_code == 200
    assert login_errors(wrong_password) == login_errors(unknown)
    assert login_errors(unknown) == [
        "The email address and/or password you specified are not correct."
    ]


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, member):
    counselor = member("counselor")

    known = client.post(RESET_URL, {"email": counselor.user.email})
    unknown = client.post(RESET_URL, {"email": "nobody@example.org"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # Only the real account is mailed; an unknown address gets nothing (sign-up is closed).
    assert [m.to for m in OutgoingEmail.objects.all()] == [[counselor.user.email]]


def test_sign_up_is_closed(client, db):
    page = client.get("/accounts/signup/")
    response = client.post(
        "/accounts/signup/",
        {"email": "walk-in@example.org", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert page.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in page.templates]
    assert response.status_code == 200
    assert not User.objects.filter(email="walk-in@example.org").exists()
    assert not is_signed_in(client)


# --- Rate limits --------------------------------------------------------------------------


@pytest.fixture
def few_attempts(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip,3/5m/key"}


def test_repeated_failed_sign_ins_lock_the_account_out_even_with_the_right_password(
    client, member, few_attempts
):
    counselor = member("counselor")
    for _ in range(3):
        response = sign_in_with_password(client, counselor.user, "wrong password guess")
        assert login_errors(response) == [
            "The email address and/or password you specified are not correct."
        ]

    response = sign_in_with_password(client, counselor.user, PASSWORD)

    assert response.status_code == 200
    assert login_errors(response) == ["Too many failed login attempts. Try again later."]
    assert not is_signed_in(client)


def test_failed_attempts_on_other_accounts_from_one_address_are_limited_too(
    client, db, few_attempts
):
    for n in range(3):
        client.post(LOGIN_URL, {"login": f"guess{n}@example.org", "password": "guess"})

    response = client.post(LOGIN_URL, {"login": "guess9@example.org", "password": "guess"})

    assert login_errors(response) == ["Too many failed login attempts. Try again later."]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(
    client, db, few_attempts, settings
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(3):
        client.post(
            LOGIN_URL,
            {"login": f"guess{n}@example.org", "password": "guess"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )

    same = client.post(
        LOGIN_URL,
        {"login": "guess8@example.org", "password": "guess"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    other = client.post(
        LOGIN_URL,
        {"login": "guess9@example.org", "password": "guess"},
        headers={"X-Forwarded-For": "198.51.100.20"},
    )

    assert "Too many failed login attempts. Try again later." in login_errors(same)
    assert "Too many failed login attempts. Try again later." not in login_errors(other)


# --- Idle sign-out ------------------------------------------------------------------------


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def signed_in_member(client, member, role):
    membership = member(role)
    enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


STUDENT_ROLES = ["admin", "coordinator", "counselor", "partner"]


@pytest.mark.parametrize("role", STUDENT_ROLES)
def test_roles_that_see_students_are_signed_out_after_30_idle_minutes(client, member, clock, role):
    membership = signed_in_member(client, member, role)
    home = f"/{membership.district.slug}/"
    assert client.get(home).status_code == 200

    clock.shift(timedelta(minutes=31))
    response = client.get(home)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next={home}"
    assert not is_signed_in(client)


@pytest.mark.parametrize("role", STUDENT_ROLES)
def test_roles_that_see_students_stay_in_after_29_idle_minutes(client, member, clock, role):
    membership = signed_in_member(client, member, role)
    home = f"/{membership.district.slug}/"
    client.get(home)

    clock.shift(timedelta(minutes=29))

    assert client.get(home).status_code == 200


def test_activity_restarts_the_idle_clock(client, member, clock):
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    client.get(home)
    for _ in range(3):
        clock.shift(timedelta(minutes=20))
        assert client.get(home).status_code == 200


def test_account_pages_count_as_activity_once_the_idle_clock_runs(client, member, clock):
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    client.get(home)

    clock.shift(timedelta(minutes=20))
    assert client.get("/accounts/2fa/").status_code == 200
    clock.shift(timedelta(minutes=20))

    assert client.get(home).status_code == 200


def test_a_viewer_is_not_signed_out_after_31_idle_minutes(client, member, clock):
    viewer = signed_in_member(client, member, "viewer")
    home = f"/{viewer.district.slug}/"
    client.get(home)

    clock.shift(timedelta(minutes=31))

    assert client.get(home).status_code == 200


def test_a_viewer_who_also_sees_students_elsewhere_stays_on_the_idle_clock(
    client, member, other_district, clock
):
    """The session can open the other district's students, so viewing here is no reprieve."""
    viewer = signed_in_member(client, member, "viewer")
    member("counselor", in_district=other_district, user=viewer.user)
    client.get(f"/{other_district.slug}/")
    client.get(f"/{viewer.district.slug}/")

    clock.shift(timedelta(minutes=31))

    assert client.get(f"/{viewer.district.slug}/")["Location"].startswith(LOGIN_URL)


def test_an_htmx_request_after_the_idle_sign_out_reloads_the_sign_in_page(client, member, clock):
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    client.get(home)

    clock.shift(timedelta(minutes=31))
    response = client.get(home, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{LOGIN_URL}?next={home}"
