"""Signing in through the real allauth views, as a person would (password, then a code)."""

from __future__ import annotations

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)

from tests.factories import PASSWORD, enable_totp

LOGIN_URL = "/accounts/login/"
MFA_URL = "/accounts/2fa/authenticate/"


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now, computed with allauth's own helpers.

    Waits out the last seconds of a period so that the code is still valid when the
    server checks it.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def sign_in_with_password(client, user, password=PASSWORD):
    return client.post(LOGIN_URL, {"login": user.email, "password": password})


def sign_in(client, user, *, secret=None, password=PASSWORD):
    """Password, then the authenticator code when the person has one; returns the last response."""
    response = sign_in_with_password(client, user, password)
    if secret is not None:
        assert response.status_code == 302 and response["Location"] == MFA_URL, response
        response = client.post(MFA_URL, {"code": totp_code(secret)})
    return response


def sign_in_admin(client, membership):
    """Give the person an authenticator and sign them in with password and code."""
    secret = enable_totp(membership.user)
    response = sign_in(client, membership.user, secret=secret)
    assert response.status_code == 302, response
    return secret
