"""An administrator sets the district up without the Django admin (issue 15): changes the
referral response time on the settings page, then adds a school from the Schools page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from schools.models import District, School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import UserFactory, enable_totp

pytestmark = pytest.mark.browser


def test_an_administrator_changes_the_response_days_and_adds_a_school(browser, live_server, member):
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    district = admin.district
    page = signed_in_page(browser, live_server.url, admin.user)

    # Settings, from the main navigation.
    page.goto(f"/{district.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.wait_for_url(f"**/{district.slug}/settings/")
    assert page.get_by_role("heading", level=1).inner_text() == "District settings"
    assert_accessible(page)

    # A mistake first: shown next to the field, what was typed kept.
    days = page.get_by_label("Referral response time (business days)")
    days.fill("99")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_label("Referral response time (business days)").input_value() == "99"
    assert_accessible(page)
    page.get_by_label("Referral response time (business days)").fill("7")
    page.get_by_role("button", name="Save the settings").click()
    page.get_by_text("The district's settings were saved.").wait_for()
    shot(page, "district-settings")
    assert_accessible(page)
    assert District.objects.get(pk=district.pk).referral_response_days == 7

    # Schools, from the settings' own navigation.
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Schools").click()
    page.wait_for_url(f"**/{district.slug}/settings/schools/")
    assert_accessible(page)
    page.get_by_role("link", name="Add a school").click()
    page.wait_for_url(f"**/{district.slug}/settings/schools/new/")
    page.get_by_label("Name").fill("Lakeside Middle School")
    page.get_by_label("Lowest grade").select_option("06")
    page.get_by_label("Highest grade").select_option("08")
    page.get_by_label("NCES id").fill("060000112345")
    assert_accessible(page)
    page.get_by_role("button", name="Add the school").click()
    page.wait_for_url(f"**/{district.slug}/settings/schools/")
    row = page.get_by_role("row", name=re.compile("Lakeside Middle School"))
    assert "Grade 6" in row.inner_text() and "Open" in row.inner_text()
    shot(page, "district-schools")
    assert_accessible(page)
    with tenant_context(district):
        assert School.objects.filter(district=district, name="Lakeside Middle School").exists()
