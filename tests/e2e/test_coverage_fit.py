"""The coverage map fits a desktop screen; a partner confirms their own listing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from partnerships.models import Partner
from schools.models import School
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.e2e.test_directory import browse_as
from tests.factories import SchoolFactory
from tests.partnerships.directory_setup import make_mou, make_partner, read

pytestmark = pytest.mark.browser


def test_the_coverage_map_fits_a_desktop_screen(page, live_server, district, member):
    north = read(district, lambda: School.objects.get(district=district))
    schools = [north] + [
        SchoolFactory(district=district, name=f"{name} School")
        for name in ("East Middle", "West Elementary", "Lincoln K-8", "Roosevelt High")
    ]
    harbor = make_partner(district, name="Harbor Counseling")
    bridge = make_partner(district, name="Bridge Youth Services")
    make_mou(district, harbor, schools=schools[:3], services=["therapy", "mentoring"])
    make_mou(district, bridge, schools=schools[1:], services=["therapy", "food_assistance"])
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/partners/coverage/")

    shot(page, "coverage-desktop")
    box = page.locator(".coverage-scroll")
    inner = box.evaluate("el => el.scrollWidth - el.clientWidth")
    assert inner <= 0  # every column is on the screen, no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    headers = page.locator(".coverage-table thead th").all_inner_texts()
    assert headers[1] == "Therapy"  # covered at the most schools
    expect(page.get_by_role("heading", name="Gaps by school")).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "coverage-phone")


def test_a_crowded_cell_counts_its_partners_and_opens_to_name_them(
    page, live_server, district, member
):
    north = read(district, lambda: School.objects.get(district=district))
    for name in ("Harbor Counseling", "Bridge Youth Services", "Cedar Family Clinic"):
        make_mou(district, make_partner(district, name=name), schools=[north], services=["therapy"])
    browse_as(page, live_server, member("coordinator"))
    page.goto(f"/{district.slug}/partners/coverage/")

    page.get_by_role("link", name="3 partners").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Therapy at North High School")
    names = page.locator(".coverage-cell-list a").all_inner_texts()
    assert names == ["Bridge Youth Services", "Cedar Family Clinic", "Harbor Counseling"]
    assert_accessible(page)
    shot(page, "coverage-cell")
    page.get_by_role("link", name="Harbor Counseling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Counseling")


def test_a_partner_confirms_their_own_listing(page, live_server, district, member):
    harbor = make_partner(district, name="Harbor Counseling", phone="555-0100")
    browse_as(page, live_server, member("partner", partner=harbor))

    page.goto(f"/{district.slug}/organization/")
    page.get_by_role("link", name="Confirm or correct the listing").click()
    page.get_by_role("heading", level=1).wait_for()
    assert_accessible(page)
    page.get_by_label("Phone").fill("555-0199")
    shot(page, "own-listing-confirm")
    page.get_by_role("button", name="Confirm the listing").click()

    page.get_by_text("your listing is confirmed").wait_for()
    assert_accessible(page)
    partner = read(district, lambda: Partner.objects.get(pk=harbor.pk))
    assert partner.phone == "555-0199" and partner.last_verified_at is not None
