"""Trellis on a phone (issue 16, part 4): at 375 px every main page fits the screen width as
each role sees it (the page itself never scrolls sideways: a wide table scrolls as one table
inside the page), is axe-clean, and the main navigation folds into a menu button that opens,
closes with Escape and works by keyboard; without script the navigation is simply shown."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from config.management.commands.seed_demo import demo_email, demo_password
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}

# Every element that reaches past the right edge without a scrolling box around it: named in a
# failure, so the message says what to fix rather than only "too wide".
OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (["auto", "scroll", "hidden"].includes(style.overflowX)) return true;
    }
    return false;
  };
  const culprits = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !scrolls(el)) {
      const classes = typeof el.className === "string" ? el.className.trim() : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (classes ? "." + classes.split(/\\s+/).join(".") : "");
      culprits.push(name + " (right " + Math.round(box.right) + ")");
    }
  }
  const wide = document.documentElement.scrollWidth;
  return wide + " > " + width + ": " + culprits.slice(0, 6).join(", ");
}"""


@pytest.fixture
def demo(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    settings.DEMO_DISTRICTS = ["demo", "riverside"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return demo_password()


def phone(browser, live_server, role, password, *, javascript=True):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(demo_email(role))
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


class Walk:
    """Visits pages at phone width and gathers every problem, so one run names them all."""

    def __init__(self, page, role):
        self.page = page
        self.role = role
        self.problems: list[str] = []

    def check(self, name):
        page = self.page
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(OVERFLOW)
        if overflow:
            self.problems.append(f"{self.role} {name} ({page.url}) overflows: {overflow}")
        try:
            assert_accessible(page)
        except AssertionError as problem:
            self.problems.append(f"{self.role} {name}: {problem}")
        shot(page, f"phone-{self.role}-{name}")

    def visit(self, path, name):
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        self.check(name)

    def follow_first(self, path, selector, name):
        """Open the list at `path` and the first item its `selector` links to."""
        self.page.goto(path)
        link = self.page.locator(selector).first
        href = link.get_attribute("href")
        assert href, f"{self.role}: no {selector} on {path}"
        self.visit(href, name)

    def assert_clean(self):
        assert not self.problems, "\n".join(self.problems)


def test_the_menu_button_folds_the_navigation_on_a_phone(browser, live_server, demo):
    page = phone(browser, live_server, "coordinator", demo)
    page.goto("/demo/")
    nav = page.get_by_role("navigation", name="Main")
    button = nav.get_by_role("button", name="Menu")
    students = nav.get_by_role("link", name="Students")

    expect(button).to_be_visible()
    assert button.get_attribute("aria-expanded") == "false"
    controlled = button.get_attribute("aria-controls")
    assert controlled and page.locator(f"#{controlled}").count() == 1
    expect(students).to_be_hidden()

    # By keyboard: Tab reaches the button, Enter opens, the links follow in tab order.
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    expect(students).to_be_visible()
    assert page.evaluate(OVERFLOW) is None
    assert_accessible(page)
    shot(page, "phone-menu-open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav') !== null")

    # Escape closes and gives the focus back to the button.
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    expect(students).to_be_hidden()
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == controlled

    # A click opens it too, and a link in it leads to its page.
    button.click()
    students.click()
    page.wait_for_url("**/demo/students/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # On a wide screen the tabs show and the button does not.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(button).to_be_hidden()
    expect(students).to_be_visible()


def test_without_script_the_navigation_is_shown_on_a_phone(browser, live_server, demo):
    page = phone(browser, live_server, "counselor", demo, javascript=False)
    page.goto("/demo/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Students")).to_be_visible()
    expect(nav.get_by_role("link", name="Referrals")).to_be_visible()
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    assert page.evaluate(OVERFLOW) is None
    shot(page, "phone-no-script")


def test_the_coordinators_pages_fit_a_phone(browser, live_server, demo):
    walk = Walk(phone(browser, live_server, "coordinator", demo), "coordinator")
    walk.visit("/demo/", "home")
    walk.visit("/demo/students/", "students")
    walk.follow_first("/demo/students/", "main tbody a[href*='/students/']", "student")
    walk.visit("/demo/referrals/", "referrals")
    walk.follow_first("/demo/referrals/", "main tbody a[href*='/referrals/']", "referral")
    walk.visit("/demo/partners/", "partners")
    walk.follow_first("/demo/partners/", "main tbody a[href*='/partners/']", "partner")
    walk.visit(walk.page.url + "edit/", "partner-edit")  # the partner's form, in sections
    walk.visit("/demo/mous/", "mous")
    walk.follow_first("/demo/mous/", "main tbody a[href*='/mous/']", "mou")
    walk.visit("/demo/funding/", "funding")
    walk.visit("/demo/stories/", "stories")
    walk.follow_first("/demo/stories/", "main tbody a[href*='/stories/']", "story")
    # Meetings (issue 18): the calendar as a list and a month, a date, the series, the
    # action items and the scheduling form.
    walk.visit("/demo/meetings/", "meetings")
    walk.visit("/demo/meetings/?view=month", "meetings-month")
    walk.follow_first("/demo/meetings/", "main a[href*='/on/']", "meeting-date")
    walk.follow_first(
        walk.page.url, "main .breadcrumbs a[href*='/meetings/']:last-child", "meeting"
    )
    walk.visit("/demo/meetings/actions/", "action-items")
    walk.visit("/demo/meetings/new/", "meeting-new")
    # A form with errors: the new-partner form sent empty.
    walk.page.goto("/demo/partners/new/")
    walk.page.locator("main form button[type=submit]").last.click()
    walk.page.wait_for_load_state()
    expect(walk.page.locator(".alert--error").first).to_be_visible()
    walk.check("partner-form-errors")
    walk.assert_clean()


def test_the_administrators_pages_fit_a_phone(browser, live_server, demo):
    walk = Walk(phone(browser, live_server, "admin", demo), "admin")
    walk.visit("/demo/", "home")
    walk.visit("/demo/people/", "people")
    walk.visit("/demo/settings/", "settings")
    walk.visit("/demo/settings/schools/", "schools")
    walk.visit("/demo/access-log/", "access-log")
    walk.visit("/demo/audit-trail/", "audit-trail")
    walk.visit("/demo/mous/", "mous")
    walk.visit("/demo/funding/", "funding")
    walk.follow_first("/demo/funding/", "main tbody a[href*='/funding/']", "funding-source")
    walk.assert_clean()


def test_the_counselors_pages_fit_a_phone(browser, live_server, demo):
    walk = Walk(phone(browser, live_server, "counselor", demo), "counselor")
    walk.visit("/demo/", "home")
    walk.visit("/demo/students/", "students")
    walk.follow_first("/demo/students/", "main tbody a[href*='/students/']", "student")
    walk.visit("/demo/referrals/", "referrals")
    walk.follow_first("/demo/referrals/", "main tbody a[href*='/referrals/']", "referral")
    walk.visit("/demo/referrals/new/", "referral-new")
    walk.visit("/demo/help-requests/", "help-requests")
    walk.visit("/demo/partners/", "partners")
    walk.assert_clean()


def test_the_partners_pages_fit_a_phone(browser, live_server, demo):
    walk = Walk(phone(browser, live_server, "partner", demo), "partner")
    walk.visit("/demo/", "home")
    walk.visit("/demo/referrals/inbox/", "inbox")
    walk.follow_first("/demo/referrals/inbox/", "main tbody a[href*='/referrals/']", "referral")
    walk.visit("/demo/organization/", "organization")
    walk.visit("/demo/meetings/", "meetings")
    walk.visit("/demo/mous/", "mous")
    walk.follow_first("/demo/mous/", "main tbody a[href*='/mous/']", "mou")
    walk.assert_clean()


def test_the_coverage_map_fits_a_phone(browser, live_server, demo):
    """A wide map scrolls sideways as one table inside the page; the page itself fits."""
    walk = Walk(phone(browser, live_server, "coordinator", demo), "coordinator")
    walk.visit("/demo/partners/coverage/", "coverage")
    walk.assert_clean()
