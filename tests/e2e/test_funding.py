"""The funding page in the browser: add a source, see the mix and what ends soon."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import FundingSourceFactory, MembershipFactory, PartnerFactory

pytestmark = pytest.mark.browser


def test_coordinator_adds_funding_and_sees_the_mix(
    browser, live_server, transactional_db, district
):
    today = timezone.localdate()
    PartnerFactory(district=district, name="Riverbend Family Services")
    FundingSourceFactory(
        district=district,
        kind="district_budget",
        funder="Student services budget",
        amount=Decimal("80000"),
        start_date=today - datetime.timedelta(days=400),
        end_date=today + datetime.timedelta(days=40),
    )
    FundingSourceFactory(
        district=district,
        kind="donation",
        funder="Rotary Club",
        amount=Decimal("6000"),
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=300),
    )
    coordinator = MembershipFactory(district=district, role="coordinator")
    page = signed_in_page(browser, live_server.url, coordinator.user)

    page.goto(f"/{district.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Funding").click()
    page.wait_for_url(f"**/{district.slug}/funding/")
    expect(page.get_by_text("1 funding source ends within 90 days")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Add a funding source").click()
    page.wait_for_url("**/funding/new/")
    assert_accessible(page)
    page.get_by_label("Kind").select_option(label="Grant")
    page.get_by_label("Funder").fill("SAMHSA Project AWARE")
    page.get_by_label("Amount (USD)").fill("250000")
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("End date").fill((today - datetime.timedelta(days=1)).isoformat())
    page.get_by_label("Riverbend Family Services").check()
    page.get_by_role("button", name="Add funding source").click()

    # The end before the start is refused next to the field; what was typed stays.
    expect(
        page.get_by_text("The end date must be on or after the start date.").first
    ).to_be_visible()
    assert page.get_by_label("Funder").input_value() == "SAMHSA Project AWARE"
    assert_accessible(page)
    page.get_by_label("End date").fill((today + datetime.timedelta(days=3 * 365)).isoformat())
    page.get_by_role("button", name="Add funding source").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("SAMHSA Project AWARE")
    expect(page.get_by_text("Riverbend Family Services")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Funding").first.click()
    page.wait_for_url(f"**/{district.slug}/funding/")
    expect(page.get_by_role("img", name="Funding by kind and year")).to_be_visible()
    expect(page.get_by_role("table", name="Amount by kind and school year (USD)")).to_be_visible()
    shot(page, "funding")
    assert_accessible(page)
    page.get_by_label("Count by").select_option("calendar")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("table", name="Amount by kind and calendar year (USD)")).to_be_visible()
    assert_accessible(page)


def test_viewer_reads_the_funding_page(browser, live_server, transactional_db, district):
    viewer = MembershipFactory(district=district, role="viewer")
    page = signed_in_page(browser, live_server.url, viewer.user)

    page.goto(f"/{district.slug}/funding/")

    expect(page.get_by_text("No funding sources yet")).to_be_visible()
    assert page.get_by_role("link", name="Add a funding source").count() == 0
    assert_accessible(page)
