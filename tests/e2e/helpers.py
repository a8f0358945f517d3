"""Shared steps for browser tests."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.test import Client

# Screenshots for people to look at (set PARTNERSHIP_SCREENSHOTS=/some/dir to keep them).
SHOTS = os.environ.get("PARTNERSHIP_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def signed_in_page(browser, base_url, user, *, timeout_ms=15_000):
    """A page with a session for `user` (the sign-in form itself is tested in test_sign_in)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
    )  # no smooth scrolling under a click (see the `page` fixture)
    context.set_default_timeout(timeout_ms)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context.new_page()
