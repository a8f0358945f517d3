"""A new administrator's first look: the getting-started checklist on the district home,
following a step to its page, and the step ticking itself off."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.factories import DistrictFactory, MembershipFactory, PartnerFactory, enable_totp

pytestmark = pytest.mark.browser


def browse_as(page, live_server, membership):
    """Sign the browser in as the membership's person (the sign-in form has its own tests)."""
    enable_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_a_fresh_administrator_sees_the_checklist_and_follows_a_step(page, live_server):
    district = DistrictFactory(slug="east", name="East Ridge Unified")
    admin = MembershipFactory(district=district, role="admin")
    browse_as(page, live_server, admin)

    page.goto("/east/")
    checklist = page.get_by_role("region", name="Getting started")
    expect(checklist).to_be_visible()
    expect(checklist.get_by_text("0 of 5 steps done")).to_be_visible()
    for title in ["Add your schools", "Invite your people", "Import your roster"]:
        expect(checklist.get_by_role("heading", name=title)).to_be_visible()
    assert page.get_by_text("Nothing needs you yet").count() == 0
    assert_accessible(page)
    shot(page, "getting-started-fresh")

    # "Draft an MOU" with no partner says to add one first, and links there.
    checklist.get_by_role("link", name="Draft an MOU").click()
    page.wait_for_url("**/east/mous/new/")
    expect(page.get_by_role("heading", name="Add a partner first")).to_be_visible()
    assert_accessible(page)
    shot(page, "getting-started-mou-without-partner")
    page.get_by_role("link", name="Add a partner").click()
    page.wait_for_url("**/east/partners/new/")

    # A partner ticks its step off: a check and the word "Done", and no link.
    PartnerFactory(district=district, name="Harbor Counseling")
    page.goto("/east/")
    step = page.locator("#getting-started-partner")
    expect(step.get_by_text("Done")).to_be_visible()
    assert step.get_by_role("link").count() == 0
    expect(checklist.get_by_text("1 of 5 steps done")).to_be_visible()
    assert_accessible(page)
    shot(page, "getting-started-one-done")

    # A roster needs schools first.
    checklist.get_by_role("link", name="Import a roster").click()
    page.wait_for_url("**/east/students/import/")
    expect(page.get_by_role("heading", name="Add your schools first")).to_be_visible()
    assert_accessible(page)
    shot(page, "getting-started-roster-without-schools")
