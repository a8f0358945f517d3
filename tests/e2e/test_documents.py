"""The PDF of an MOU from its page: prepare it, watch it become ready, download it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from partnerships.mou_rules import default_template_sections
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import MembershipFactory, MOUFactory, MOUVersionFactory, PartnerFactory

pytestmark = pytest.mark.browser


def test_coordinator_prepares_and_downloads_the_pdf_from_the_mou_page(
    browser, live_server, transactional_db, district
):
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    mou = MOUFactory(district=district, partner=partner, title="Counselling at North High")
    MOUVersionFactory(
        district=district,
        mou=mou,
        number=1,
        sections=default_template_sections(),
        terms={"partner": partner.name, "district": district.name, "response_days": 3},
    )
    coordinator = MembershipFactory(district=district, role="coordinator")
    page = signed_in_page(browser, live_server.url, coordinator.user)

    page.goto(f"/{district.slug}/mous/{mou.pk}/")
    panel = page.locator("#mou-pdf-panel")
    prepare = panel.get_by_role("button", name="Prepare PDF of version 1")
    prepare.wait_for()  # the panel loads itself into the MOU page
    assert_accessible(page)
    prepare.click()

    download_link = panel.get_by_role("link", name="Download PDF of version 1")
    download_link.wait_for()  # polled every 2 seconds until ready
    shot(page, "mou-page-pdf-panel")
    assert_accessible(page)
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == "counselling-at-north-high-v1.pdf"
    data = Path(download.path()).read_bytes()
    text = " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "North Valley Unified" in text and "Purpose and objectives" in text
    assert "DRAFT" in text


def test_the_pdf_page_works_without_the_mou_page_script(
    browser, live_server, transactional_db, district
):
    mou = MOUFactory(district=district, title="Mentoring agreement")
    MOUVersionFactory(district=district, mou=mou, number=1)
    MOUVersionFactory(district=district, mou=mou, number=2)
    coordinator = MembershipFactory(district=district, role="coordinator")
    page = signed_in_page(browser, live_server.url, coordinator.user)

    page.goto(f"/{district.slug}/mous/{mou.pk}/pdf/")
    assert page.get_by_role("heading", level=1).inner_text() == "PDFs of Mentoring agreement"
    assert_accessible(page)
    page.get_by_role("button", name="Prepare PDF of version 2").click()

    page.get_by_role("link", name="Download PDF of version 2").wait_for()
    expect(page.get_by_role("button", name="Prepare PDF of version 1")).to_be_visible()
    shot(page, "mou-pdfs-page")
    assert_accessible(page)
