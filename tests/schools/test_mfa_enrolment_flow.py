"""Enrolling in two-factor right after signing in: the password is typed once, and the
recovery-codes page leads back to where the person was going."""

import time

from allauth.mfa.utils import is_mfa_enabled

from tests.schools.auth_steps import sign_in_with_password
from tests.schools.test_mfa import ENROL_URL, REAUTH_URL, RECOVERY_URL, enrol


def test_a_person_who_just_signed_in_enrolls_without_typing_the_password_again(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)

    response = client.get(f"/{admin.district.slug}/", follow=True)

    assert response.redirect_chain == [(ENROL_URL, 302)]
    assert response.status_code == 200
    _secret, enrolled = enrol(client)
    assert enrolled["Location"] == RECOVERY_URL
    assert is_mfa_enabled(admin.user)


def test_a_sign_in_long_ago_still_asks_for_the_password_before_enrolment(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] = time.time() - 3600
    session["account_authentication_methods"] = records
    session.save()

    response = client.get(ENROL_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH_URL)


def test_recovery_codes_page_continues_to_the_page_the_person_was_going_to(client, member):
    admin = member("admin")
    sign_in_with_password(client, admin.user)
    going_to = f"/{admin.district.slug}/students/?q=ana"
    assert client.get(going_to)["Location"] == ENROL_URL
    enrol(client)

    page = client.get(RECOVERY_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{going_to.replace("&", "&amp;")}"' in html
    assert f"Continue to {admin.district.name}" in html
    assert client.get(going_to).status_code == 200


def test_recovery_codes_page_of_a_person_who_enrolled_on_their_own_continues_home(client, member):
    counselor = member("counselor")  # not required to enroll: nothing was interrupted
    sign_in_with_password(client, counselor.user)
    enrol(client)

    page = client.get(RECOVERY_URL)

    assert page.status_code == 200
    assert b"Continue to Trellis" in page.content
    assert b'href="/"' in page.content
