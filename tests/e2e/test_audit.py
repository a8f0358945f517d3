"""An administrator changes a member's role and reads it on the audit trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import UserFactory, enable_totp

pytestmark = pytest.mark.browser


def test_admin_reads_a_role_change_on_the_audit_trail(browser, live_server, member):
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    member("counselor", user=UserFactory(full_name="Chris Counselor"))
    page = signed_in_page(browser, live_server.url, admin.user)

    # Nothing yet: the empty state, reached from the navigation.
    page.goto("/north/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit trail").click()
    page.wait_for_url("**/north/audit-trail/")
    assert page.get_by_role("heading", level=1).inner_text() == "Audit trail"
    expect(page.get_by_text("Nothing has changed yet")).to_be_visible()
    assert_accessible(page)

    page.goto("/north/people/")
    page.get_by_role("link", name="Chris Counselor").click()
    page.get_by_label("Coordinator").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/north/people/")

    page.goto("/north/audit-trail/")
    row = page.get_by_role("row", name=re.compile("Chris Counselor"))
    assert "Role changed" in row.inner_text()
    assert "from Counselor to Coordinator" in row.inner_text()
    assert "Ada Admin" in row.inner_text()
    shot(page, "audit-trail")
    assert_accessible(page)

    # At phone width the table scrolls inside its region; the page stays usable.
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page)
    page.context.close()
