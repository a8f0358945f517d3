"""The demo as a person first meets it (issue 15): the demo administrator signs in through
the form without enrolling MFA (the district is marked a demo, and the page says so), finds
what waits for them on the home page and follows an item to where it is done; the partner's
member finds the MOU waiting for their signature, the counselor the referrals declined or
unanswered; the coordinator switches to the second district and finds it alive. Every page
axe-clean."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from config.management.commands.seed_demo import demo_email, demo_password
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    settings.DEMO_DISTRICTS = ["demo", "riverside"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return demo_password()


def sign_in(page, role, password):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(demo_email(role))
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_the_demo_administrator_signs_in_without_mfa_and_works_from_the_inbox(
    page, live_server, demo
):
    sign_in(page, "admin", demo)
    page.goto("/demo/")
    page.wait_for_url("**/demo/")  # not sent to enroll an authenticator first
    expect(page.get_by_role("note").filter(has_text="Demo district")).to_be_visible()

    inbox = page.get_by_role("region", name="Waiting for you")
    for kind in ["MOU to review", "MOU to sign", "Story to review", "Invitation not accepted"]:
        expect(inbox.get_by_text(kind).first, kind).to_be_visible()
    assert page.get_by_text("Nothing needs you yet").count() == 0
    assert_accessible(page)
    shot(page, "home-inbox-admin")

    # An item leads to where it is done: the MOU to review, with its review buttons.
    item = inbox.locator("li", has_text="MOU to review").first
    title = item.get_by_role("link").inner_text()
    item.get_by_role("link").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Approve").first).to_be_visible()


def signed_in_context(browser, live_server, role, password):
    """A browser of its own for one demo person, signed in through the form."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, role, password)
    return context, page


def assert_home_inbox_lists(page, kinds, name):
    page.goto("/demo/")
    inbox = page.get_by_role("region", name="Waiting for you")
    for kind in kinds:
        expect(inbox.get_by_text(kind).first, kind).to_be_visible()
    assert_accessible(page)
    shot(page, name)


def test_the_partner_finds_the_mou_to_sign_and_the_coordinator_the_second_district(
    browser, live_server, demo
):
    partner, page = signed_in_context(browser, live_server, "partner", demo)
    assert_home_inbox_lists(page, ["MOU to sign", "Referral to answer"], "home-inbox-partner")
    partner.close()

    # The counselor: the referrals a partner declined or has not answered.
    counselor, page = signed_in_context(browser, live_server, "counselor", demo)
    kinds = ["Referral declined", "No answer yet", "Request for help"]
    assert_home_inbox_lists(page, kinds, "home-inbox-counselor")
    counselor.close()

    coordinator, page = signed_in_context(browser, live_server, "coordinator", demo)
    kinds = ["Renewal coming up", "Listings to verify", "Story waiting for consent"]
    assert_home_inbox_lists(page, kinds, "home-inbox-coordinator")
    page.goto("/riverside/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "Riverside Unified School District" in page.content()
    page.goto("/riverside/mous/")
    assert page.locator("tbody tr").count() >= 1
    assert_accessible(page)
    coordinator.close()
