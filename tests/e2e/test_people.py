"""An administrator invites a counselor through the pages; the counselor accepts by email."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.factories import UserFactory, enable_totp

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a long and unusual passphrase 42"


def sign_in_as(context, user, base_url):
    """Give a browser context a session for `user` (the sign-in form is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])


def test_admin_invites_a_counselor_who_accepts_and_lands_on_the_district_home(
    page, browser, live_server, member
):
    base_url = live_server.url
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    sign_in_as(page.context, admin.user, base_url)
    mail.outbox.clear()

    # The members page, reached from the navigation.
    page.goto("/north/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.wait_for_url("**/north/people/")
    assert page.get_by_role("heading", level=1).inner_text() == "People"
    expect(page.get_by_role("cell", name=re.compile("Ada Admin"))).to_be_visible()
    assert_accessible(page)

    # Filter as you type (htmx): the table narrows without a page load.
    page.get_by_label("Search by name or email").fill("nobody-matches-this")
    page.get_by_text("Nobody matches").wait_for()
    assert "q=nobody-matches-this" in page.url
    page.get_by_label("Search by name or email").fill("")
    page.get_by_role("cell", name=re.compile("Ada Admin")).wait_for()

    # The invitation form: a mistake first, then the real thing.
    page.get_by_role("link", name="Invite someone").first.click()
    page.wait_for_url("**/north/people/invite/")
    assert_accessible(page)
    page.get_by_label("Email address").fill("not an address")
    page.get_by_label("Counselor").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_text("Enter a valid email address.").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email address").fill("new.counselor@example.org")
    page.get_by_label("North High School").check()
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url("**/north/people/")
    expect(page.get_by_text("Invitation sent to new.counselor@example.org.")).to_be_visible()
    expect(page.get_by_text("new.counselor@example.org").first).to_be_visible()
    assert_accessible(page)

    # The email (sent by the worker once the request committed) carries the link.
    assert [m.to for m in mail.outbox] == [["new.counselor@example.org"]]
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    assert "Ada Admin" in mail.outbox[0].body

    # The invitee opens it in their own browser.
    invitee = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    invitee.set_default_timeout(10_000)
    other = invitee.new_page()
    other.goto(link)
    assert other.get_by_role("heading", level=1).inner_text() == "Join North Valley Unified"
    assert_accessible(other)
    other.get_by_label("Full name").fill("Nia New")
    other.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    other.get_by_label("Password again").fill(NEW_PASSWORD)
    other.get_by_role("button", name="Create account and join").click()
    other.wait_for_url(f"{base_url}/north/")
    assert other.get_by_role("heading", level=1).inner_text() == "Welcome, Nia"
    assert_accessible(other)

    # The link works once.
    other.goto(link)
    assert other.get_by_role("heading", level=1).inner_text() == "This invitation was already used"
    assert_accessible(other)
    invitee.close()

    # The administrator now sees the counselor as a member, and no invitation waiting.
    page.goto("/north/people/")
    expect(page.get_by_role("cell", name=re.compile("Nia New"))).to_be_visible()
    expect(page.get_by_text("No invitations waiting")).to_be_visible()


def test_admin_changes_then_deactivates_a_member(page, live_server, member):
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    member("counselor", user=UserFactory(full_name="Chris Counselor"))
    sign_in_as(page.context, admin.user, live_server.url)

    page.goto("/north/people/")
    page.get_by_role("link", name="Chris Counselor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chris Counselor")
    assert_accessible(page)
    page.get_by_label("Coordinator").check()
    page.get_by_label("Crisis responder").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/north/people/")
    expect(page.get_by_text("Changes to Chris Counselor saved.")).to_be_visible()

    page.get_by_role("link", name="Chris Counselor").click()
    page.get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Chris Counselor?")
    expect(page.get_by_text("Nothing open")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Deactivate", exact=True).click()
    page.wait_for_url("**/north/people/")
    row = page.get_by_role("row", name=re.compile("Chris Counselor"))
    assert "Deactivated" in row.inner_text() and "Coordinator" in row.inner_text()
    assert_accessible(page)
