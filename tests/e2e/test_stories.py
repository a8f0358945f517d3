"""Success stories in the browser: write one, record consent, export what is publishable."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import MembershipFactory, PartnerFactory, SuccessStoryFactory

pytestmark = pytest.mark.browser


def test_coordinator_writes_a_story_records_consent_and_exports(
    browser, live_server, transactional_db, district
):
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    SuccessStoryFactory(
        district=district,
        partner=partner,
        title="Back on the team",
        story="After a hard winter, weekly sessions helped a student return to practice.",
        ready=True,
        publishable=True,
    )
    coordinator = MembershipFactory(district=district, role="coordinator")
    page = signed_in_page(browser, live_server.url, coordinator.user)

    page.goto(f"/{district.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stories").click()
    page.wait_for_url(f"**/{district.slug}/stories/")
    assert_accessible(page)
    page.get_by_role("link", name="Write a story").click()
    page.get_by_label("Title").fill("A calmer spring")
    page.get_by_label("Story").fill("A fourth grader who dreaded mornings now leads the circle.")
    page.get_by_label("Partner").select_option(label="Riverbend Family Services")
    page.get_by_label("School").select_option(label="North High School")
    assert_accessible(page)
    page.get_by_role("button", name="Save story").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("A calmer spring")
    expect(page.get_by_text("Needs consent")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Who consented").fill("The student's mother")
    assert_accessible(page)
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Given by The student's mother")).to_be_visible()
    expect(page.get_by_text("Needs review")).to_be_visible()  # an administrator reviews next
    shot(page, "story-detail")
    assert_accessible(page)

    page.get_by_role("link", name="Success stories").click()
    expect(page.get_by_role("row", name="A calmer spring")).to_be_visible()
    shot(page, "stories")
    page.get_by_role("link", name="Export for a newsletter").click()
    snippet = page.get_by_label("HTML of 1 publishable story").input_value()
    assert "Back on the team" in snippet and "A calmer spring" not in snippet
    expect(page.get_by_role("button", name="Copy HTML")).to_be_visible()  # shown by its script
    shot(page, "stories-export")
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download HTML file").click()
    assert Path(info.value.path()).read_text().count("<article") == 1


def test_partner_sees_its_own_stories(browser, live_server, transactional_db, district):
    own = PartnerFactory(district=district)
    SuccessStoryFactory(district=district, partner=own, title="Ours", ready=True, publishable=True)
    SuccessStoryFactory(district=district, partner=own, title="Not yet consented")
    SuccessStoryFactory(district=district, title="Someone else's", ready=True, publishable=True)
    partner_member = MembershipFactory(district=district, role="partner", partner=own)
    page = signed_in_page(browser, live_server.url, partner_member.user)

    page.goto(f"/{district.slug}/stories/")

    expect(page.get_by_role("link", name="Ours")).to_be_visible()
    assert page.get_by_text("Someone else's").count() == 0
    assert page.get_by_text("Not yet consented").count() == 0
    assert page.get_by_role("link", name="Write a story").count() == 0
    assert_accessible(page)
