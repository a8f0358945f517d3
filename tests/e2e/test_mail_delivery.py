"""A coordinator learns from the home page that a message was not delivered, reads why,
and sends it again once the cause is fixed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from schools.models import OutgoingEmail
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import DistrictEmailFactory, UserFactory

pytestmark = pytest.mark.browser


def test_a_coordinator_sends_again_a_message_the_server_refused(browser, live_server, member):
    coordinator = member("coordinator", user=UserFactory(full_name="Cam Coordinator"))
    district = coordinator.district
    failed = DistrictEmailFactory(
        district=district,
        email__to=["intake@harbor.example.org"],
        email__subject="Please confirm the listing of Harbor Family Services",
    )
    page = signed_in_page(browser, live_server.url, coordinator.user)

    page.goto(f"/{district.slug}/")
    panel = page.get_by_role("region", name="Mail not delivered")
    assert "1 message written for your district could not be delivered" in panel.inner_text()
    assert_accessible(page)
    panel.get_by_role("link", name="See why, and send again").click()
    page.wait_for_url(f"**/{district.slug}/mail/")

    row = page.get_by_role("row", name=re.compile("Harbor Family Services"))
    assert "Not delivered" in row.inner_text()
    assert "The mail server refused the address" in row.inner_text()
    shot(page, "mail-delivery")
    assert_accessible(page)

    row.get_by_role("button", name="Send again").click()
    page.wait_for_url(f"**/{district.slug}/mail/?show=problems")
    expect(page.get_by_text("will be sent again in a moment")).to_be_visible()
    expect(page.get_by_text("Every message was delivered")).to_be_visible()  # sent (eager)
    failed.email.refresh_from_db()
    assert failed.email.status == OutgoingEmail.Status.SENT

    page.get_by_role("link", name="All messages").click()
    expect(page.get_by_role("row", name=re.compile("Harbor Family Services"))).to_be_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page)
    page.context.close()
