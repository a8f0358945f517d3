"""A form sent back with problems takes the view to its error summary (issue 16, part 5): sent
from the bottom of a long page, the summary at the top is focused and in sight, on a wide
screen and on a phone, and the same when an htmx swap brings the summary in."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from config.management.commands.seed_demo import demo_email, demo_password
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot

pytestmark = pytest.mark.browser

FOCUSED_SUMMARY_IN_VIEW = """() => {
  const summary = document.activeElement;
  if (!summary || !summary.matches("[data-error-summary]")) {
    return "focus is on " + (summary && summary.outerHTML.slice(0, 80));
  }
  const box = summary.getBoundingClientRect();
  if (box.top < -1 || box.top >= window.innerHeight) {
    return "summary at " + box.top + " of " + window.innerHeight;
  }
  return null;
}"""


@pytest.fixture
def demo(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    settings.DEMO_DISTRICTS = ["demo", "riverside"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return demo_password()


def coordinator_page(browser, live_server, password, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(demo_email("coordinator"))
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def send_from_the_bottom(page):
    """Open the long new-partner form, scroll to its last button and send it empty."""
    page.goto("/demo/partners/new/")
    assert page.locator("[data-error-summary]").count() == 0
    button = page.locator("main form.form button[type=submit]").last
    button.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0, "the form is not long enough to test this"
    with page.expect_navigation():
        button.click()


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 375, "height": 812}],
    ids=["wide", "phone"],
)
def test_a_form_sent_from_the_bottom_focuses_its_error_summary(
    browser, live_server, demo, viewport
):
    page = coordinator_page(browser, live_server, demo, viewport)
    send_from_the_bottom(page)

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name="Name: This field is required.")).to_be_visible()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert page.evaluate(FOCUSED_SUMMARY_IN_VIEW) is None
    assert_accessible(page)
    shot(page, f"error-focus-{viewport['width']}")

    # The summary's link still leads to the field.
    summary.get_by_role("link", name="Name: This field is required.").click()
    assert page.evaluate("document.activeElement.id") == "id_name"


def test_a_summary_brought_in_by_htmx_is_focused(browser, live_server, demo):
    """A section of a partner's form is saved in place (htmx): its summary, brought in by
    the swap, is focused and in sight."""
    page = coordinator_page(browser, live_server, demo, {"width": 1280, "height": 900})
    page.goto("/demo/partners/")
    page.locator("main tbody a[href*='/partners/']").first.click()
    page.get_by_role("link", name="Edit the listing").click()
    contacts = page.locator("section#contacts")
    new_row = contacts.locator("fieldset.directory-row").last
    new_row.get_by_label("Name").fill("Bo Tran")
    new_row.get_by_label("Email").fill("not an email")
    button = contacts.get_by_role("button", name="Save “Contacts”")
    button.scroll_into_view_if_needed()
    top_before = page.evaluate("window.scrollY")
    assert top_before > 0

    button.click()

    summary = contacts.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert page.evaluate(FOCUSED_SUMMARY_IN_VIEW) is None
    assert page.evaluate("window.scrollY") < top_before
    expect(summary).to_contain_text("check the fields marked below")
    assert_accessible(page)
