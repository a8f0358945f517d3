"""A request for help in the browser: a parent whose browser speaks Spanish asks the school's
counselors for help (no account, the crisis lines first, usable on a phone); the counselor
finds it in the queue, links the student and closes it. Every page is checked with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from referrals.models import HelpRequest
from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.e2e.test_students import browse_as
from tests.factories import StudentFactory

pytestmark = pytest.mark.browser

MESSAGE = (
    "Mi hija Maya llora todas las mañanas antes de ir a la escuela y casi no come desde hace "
    "dos semanas. No sé con quién hablar."
)


@pytest.fixture
def school(district):
    with tenant_context(district):
        return School.objects.get(district=district, name="North High School")


def test_a_parent_asks_in_spanish_and_the_counselor_links_and_closes_it(
    browser, live_server, transactional_db, district, school, member
):
    StudentFactory(
        district=district, school=school, first_name="Maya", last_name="Reyes", local_id="S-3107"
    )
    form_path = f"/r/help/{district.slug}/{school.pk}/"

    # --- The parent: no account, a Spanish browser, a phone-sized window too. ---------------
    parent = browser.new_context(
        base_url=live_server.url, locale="es-ES", viewport={"width": 1280, "height": 900}
    )
    parent.set_default_timeout(10_000)
    page = parent.new_page()
    page.goto(form_path)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    crisis = page.locator(".alert--urgent")
    expect(crisis).to_contain_text("911")
    expect(crisis).to_contain_text("988")
    # The crisis lines come before the form.
    crisis_top = crisis.bounding_box()["y"]
    assert crisis_top < page.locator("#id_message").bounding_box()["y"]
    expect(page.locator('a[hreflang="en"]')).to_be_visible()  # the other language
    assert_accessible(page)
    shot(page, "help-request-form")

    page.set_viewport_size({"width": 360, "height": 780})
    # Nothing wider than the phone: no sideways scrolling on the public form.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "help-request-form-360")
    assert_accessible(page)

    page.locator('input[name="asker_kind"][value="parent"]').check()
    page.locator("#id_student_name").fill("Maya Reyes")
    page.locator("#id_message").fill(MESSAGE)
    page.locator("#id_asker_name").fill("Lucía Reyes")
    page.locator("#id_asker_email").fill("lucia.reyes@example.org")
    page.locator('form.form button[type="submit"]').click()

    page.wait_for_url("**/thanks/?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".alert--urgent")).to_contain_text("988")
    assert "Maya" not in page.content()  # the page repeats nothing that was written
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "help-request-thanks-360")
    assert_accessible(page)
    parent.close()

    with tenant_context(district):
        [sent] = HelpRequest.objects.for_district(district)
    assert (sent.language, sent.status, sent.message) == ("es", "new", MESSAGE)

    # --- The counselor: the queue, the request, the student, closed. ------------------------
    staff = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    staff.set_default_timeout(10_000)
    page = staff.new_page()
    browse_as(page, live_server, member("counselor"))
    page.goto(f"/{district.slug}/")
    # The home page's inbox lists it, linked, and names no student.
    inbox = page.locator(".inbox")
    expect(inbox).to_contain_text("Request for help")
    expect(inbox.get_by_role("link", name=sent.reference)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Requests for help").first.click()
    expect(page.get_by_role("heading", name="Requests for help", level=1)).to_be_visible()
    row = page.locator("tbody tr", has_text=sent.reference)
    expect(row).to_contain_text("New")
    expect(page.get_by_text(f"/r/help/{district.slug}/{school.pk}/")).to_be_visible()
    assert_accessible(page)
    shot(page, "help-request-queue")

    row.get_by_role("link", name=sent.reference).click()
    expect(page.get_by_role("heading", name=f"Request for help {sent.reference}")).to_be_visible()
    expect(page.get_by_text(MESSAGE)).to_be_visible()
    # The student named in the request is already looked up.
    pick = page.get_by_role("button", name="Link Reyes, Maya")
    expect(pick).to_contain_text("S-3107")
    assert_accessible(page)
    shot(page, "help-request-detail")
    pick.click()

    expect(page.get_by_text("is linked to Maya Reyes")).to_be_visible()
    expect(page.get_by_role("link", name="Log a referral for Maya Reyes")).to_be_visible()
    page.get_by_label("Handled by the school").check()
    page.get_by_label("Note").fill("Met Maya and her mother on Tuesday.")
    page.get_by_role("button", name="Close the request").click()

    expect(page.get_by_text(f"Request {sent.reference} is closed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Closed")).to_be_visible()
    assert_accessible(page)
    shot(page, "help-request-closed")
    staff.close()

    with tenant_context(district):
        sent.refresh_from_db()
        assert (sent.status, sent.close_reason) == ("closed", "handled")
        assert sent.student.display_name == "Maya Reyes"
