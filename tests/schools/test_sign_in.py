"""Signing in: verified email only, password reset, no account enumeration, closed sign-up,
rate limits on failed attempts, and the idle sign-out of roles that see students."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone, translation
from django.utils.translation import gettext

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

IP_LIMIT = "Too many failed login attempts. Try again later."
WRONG = "The email address and/or password you specified are not correct."
ATTACKER, OWNER_ADDRESS, OTHER = "203.0.113.7", "198.51.100.20", "192.0.2.55"
ATTACKER_2 = "192.0.2.66"


@pytest.fixture
def few_attempts(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


@pytest.fixture
def behind_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def attempt(client, email, password, address):
    """A sign-in from `address`, as the trusted proxy reports it."""
    return client.post(
        LOGIN_URL,
        {"login": email, "password": password},
        headers={"X-Forwarded-For": address},
        REMOTE_ADDR="10.0.0.1",
    )


def throttle_notices(user):
    return [m for m in OutgoingEmail.objects.all() if m.to == [user.email]]


def test_failed_attempts_on_other_accounts_from_one_address_are_limited_too(
    client, db, few_attempts
):
    for n in range(3):
        client.post(LOGIN_URL, {"login": f"guess{n}@example.org", "password": "guess"})

    response = client.post(LOGIN_URL, {"login": "guess9@example.org", "password": "guess"})

    assert login_errors(response) == [IP_LIMIT]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(
    client, db, few_attempts, behind_proxy
):
    for n in range(3):
        attempt(client, f"guess{n}@example.org", "guess", ATTACKER)

    same = attempt(client, "guess8@example.org", "guess", ATTACKER)
    other = attempt(client, "guess9@example.org", "guess", OWNER_ADDRESS)

    assert IP_LIMIT in login_errors(same)
    assert IP_LIMIT not in login_errors(other)


def test_wrong_passwords_slow_the_account_down_for_a_short_while_not_lock_it(
    client, member, frozen, behind_proxy
):
    counselor = member("counselor")
    for _ in range(5):
        response = attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
        assert login_errors(response) == [WRONG]

    # Right away even the right password waits, from any address: the account is slowed.
    waiting = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)
    assert login_errors(waiting) == ["Too many attempts: try again in 30 seconds."]
    assert not is_signed_in(client)

    frozen.shift(timedelta(seconds=31))
    response = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)

    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_attacking_address_stays_blocked_after_the_account_delay(
    client, member, frozen, behind_proxy
):
    counselor = member("counselor")
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)

    frozen.shift(timedelta(minutes=6))
    attacker = attempt(client, counselor.user.email, "another guess", ATTACKER)
    attacker_elsewhere = attempt(client, "someone@example.org", "another guess", ATTACKER)
    owner = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)

    assert login_errors(attacker) == [IP_LIMIT]
    assert login_errors(attacker_elsewhere) == [IP_LIMIT]
    assert owner.status_code == 302


def test_one_address_cannot_keep_the_owner_out_even_with_a_loose_address_limit(
    client, member, frozen, behind_proxy, settings
):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "1000/m/ip"}
    counselor = member("counselor")
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
    frozen.shift(timedelta(seconds=31))
    for _ in range(20):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)

    response = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)

    assert response.status_code == 302


def test_failures_from_many_addresses_make_the_delay_grow(client, member, frozen, behind_proxy):
    counselor = member("counselor")
    for n in range(5):
        attempt(client, counselor.user.email, "wrong password guess", f"203.0.113.{n + 1}")
    frozen.shift(timedelta(seconds=31))
    attempt(client, counselor.user.email, "wrong password guess", OTHER)

    frozen.shift(timedelta(seconds=31))
    waiting = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)
    frozen.shift(timedelta(seconds=30))
    response = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)

    assert login_errors(waiting) == ["Too many attempts: try again in 29 seconds."]
    assert response.status_code == 302


def test_the_delay_is_capped_at_15_minutes(client, member, frozen, behind_proxy):
    counselor = member("counselor")
    for n in range(10):  # 30 s, 1, 2, 4, 8 minutes, then 16 would pass the cap
        if n >= 5:
            frozen.shift(timedelta(minutes=9))
        attempt(client, counselor.user.email, "wrong password guess", f"203.0.113.{n + 1}")

    waiting = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)
    frozen.shift(timedelta(minutes=15, seconds=1))
    response = attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS)

    assert login_errors(waiting) == ["Too many attempts: try again in 900 seconds."]
    assert response.status_code == 302


def test_the_owner_is_told_once_by_email_when_their_account_is_slowed(
    client, member, frozen, behind_proxy
):
    counselor = member("counselor")
    counselor.user.preferred_language = "es"
    counselor.user.save(update_fields=["preferred_language"])
    for _ in range(4):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
    assert throttle_notices(counselor.user) == []

    attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
    for n in range(3):  # the attack goes on from elsewhere: no second mail
        frozen.shift(timedelta(minutes=16))
        attempt(client, counselor.user.email, "wrong password guess", f"192.0.2.{n + 1}")

    [notice] = throttle_notices(counselor.user)
    assert "/accounts/password/reset/" in notice.body_text
    assert "/accounts/password/reset/" in notice.body_html
    for detail in (ATTACKER, "wrong password guess", PASSWORD):
        assert detail not in notice.subject + notice.body_text + notice.body_html
    with translation.override("es"):
        expected_subject = gettext("Someone tried to sign in to your Trellis account")
    assert notice.subject == expected_subject


def test_an_unknown_address_is_slowed_the_same_and_nobody_is_mailed(
    client, member, frozen, behind_proxy
):
    counselor = member("counselor")
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
        attempt(client, "nobody@example.org", "wrong password guess", OTHER)

    known = attempt(client, counselor.user.email, "a guess", OWNER_ADDRESS)
    unknown = attempt(client, "nobody@example.org", "a guess", OWNER_ADDRESS)

    assert login_errors(known) == login_errors(unknown)
    assert [m.to for m in OutgoingEmail.objects.all()] == [[counselor.user.email]]


def test_signing_in_ends_the_episode(client, member, frozen, behind_proxy):
    counselor = member("counselor")
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)
    frozen.shift(timedelta(seconds=31))
    assert attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS).status_code == 302
    client.logout()

    # A new failure starts from zero: no delay after it, and a new episode is mailed again.
    attempt(client, counselor.user.email, "wrong password guess", OTHER)
    assert attempt(client, counselor.user.email, PASSWORD, OWNER_ADDRESS).status_code == 302
    client.logout()
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER_2)
    assert len(throttle_notices(counselor.user)) == 2


def reset_password(client, user, address):
    """The whole reset flow, from `address`: request, link, new password."""
    headers = {"X-Forwarded-For": address}
    client.post(RESET_URL, {"email": user.email}, headers=headers, REMOTE_ADDR="10.0.0.1")
    mail = OutgoingEmail.objects.get(to=[user.email], body_text__contains="/reset/key/")
    path = re.search(r"(/accounts/password/reset/key/\S+/)", mail.body_text).group(1)
    form_page = client.get(path, headers=headers)
    done = client.post(
        form_page["Location"],
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        headers=headers,
        REMOTE_ADDR="10.0.0.1",
    )
    assert done["Location"] == "/accounts/password/reset/key/done/"


def test_a_password_reset_lifts_the_delay_on_the_account(client, member, frozen, behind_proxy):
    counselor = member("counselor")
    for _ in range(5):
        attempt(client, counselor.user.email, "wrong password guess", ATTACKER)

    reset_password(client, counselor.user, OWNER_ADDRESS)
    response = attempt(client, counselor.user.email, NEW_PASSWORD, OWNER_ADDRESS)

    assert response.status_code == 302


def test_resetting_ones_own_password_does_not_unblock_the_address(
    client, member, frozen, behind_proxy
):
    victim, attacker = member("counselor"), member("counselor")
    for _ in range(5):
        attempt(client, victim.user.email, "wrong password guess", ATTACKER)

    reset_password(client, attacker.user, ATTACKER)
    response = attempt(client, "someone-else@example.org", "another guess", ATTACKER)

    assert login_errors(response) == [IP_LIMIT]


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


def session_writes(fn) -> int:
    """How many times fn() wrote a session row (UPDATE or INSERT on django_session)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        fn()
    return sum(
        1
        for query in context.captured_queries
        if query["sql"].startswith(("UPDATE", "INSERT")) and '"django_session"' in query["sql"]
    )


def session_expiry(client):
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_request_within_a_minute_of_the_last_does_not_write_the_session(client, member, clock):
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    assert session_writes(lambda: client.get(home)) == 1  # the clock starts
    expiry = session_expiry(client)

    clock.shift(timedelta(seconds=50))
    assert session_writes(lambda: client.get(home)) == 0
    assert session_writes(lambda: client.get("/accounts/2fa/")) == 0

    assert session_expiry(client) == expiry


def test_a_request_after_the_refresh_minute_moves_the_expiry_on(client, member, clock):
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    client.get(home)
    expiry = session_expiry(client)

    clock.shift(timedelta(seconds=61))
    assert session_writes(lambda: client.get(home)) == 1

    assert session_expiry(client) == expiry + timedelta(seconds=61)


def test_the_last_counted_activity_signs_out_even_if_the_session_was_saved_since(
    client, member, clock
):
    """A session saved for another reason moves the stored expiry on; the idle clock
    still counts from the last activity it recorded."""
    counselor = signed_in_member(client, member, "counselor")
    home = f"/{counselor.district.slug}/"
    client.get(home)

    clock.shift(timedelta(seconds=50))
    session = client.session
    session["something else"] = "saved"
    session.save()
    clock.shift(timedelta(minutes=29, seconds=15))
    response = client.get(home)

    assert response["Location"] == f"{LOGIN_URL}?next={home}"
    assert not is_signed_in(client)


def test_a_viewer_session_is_never_written_by_the_idle_clock(client, member, clock):
    viewer = signed_in_member(client, member, "viewer")
    home = f"/{viewer.district.slug}/"
    client.get(home)

    clock.shift(timedelta(minutes=5))

    assert session_writes(lambda: client.get(home)) == 0
