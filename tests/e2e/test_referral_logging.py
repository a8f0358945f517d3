"""Logging a referral in the browser: the student found as you type, the suggestions
refreshed, the crisis protocol shown the moment Emergency is chosen, the page accessible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from partnerships.models import PartnerSchool, Service
from referrals.models import Referral
from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.e2e.test_students import browse_as
from tests.factories import MOUFactory, PartnerFactory, StudentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def directory(district):
    with tenant_context(district):
        school = School.objects.get(district=district, name="North High School")
    best = PartnerFactory(
        district=district,
        name="Riverbend Counseling",
        intake="accepting",
        languages=["es", "en"],
        payments=["medicaid"],
        capacity=4,
    )
    PartnerFactory(district=district, name="Lakeside Family Services", intake="waitlist")
    with tenant_context(district):
        Service.objects.create(district=district, partner=best, category="therapy")
        PartnerSchool.objects.create(district=district, partner=best, school=school)
    MOUFactory(district=district, partner=best, status="active")
    StudentFactory(
        district=district,
        school=school,
        first_name="Amara",
        last_name="Okafor",
        preferred_name="Ama",
        local_id="S-2041",
        family_language="Spanish",
    )
    return best


def test_counselor_logs_a_referral_on_one_page(page, live_server, district, member, directory):
    browse_as(page, live_server, member("counselor"))
    page.goto(f"/{district.slug}/referrals/new/")
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()
    expect(page.locator(".crisis-panel")).to_be_hidden()
    assert_accessible(page)

    page.get_by_label("Student", exact=True).press_sequentially("okaf", delay=40)
    result = page.get_by_role("button", name="Okafor, Amara")
    expect(result).to_be_visible()
    assert "S-2041" in result.inner_text()
    shot(page, "referral-search")
    assert_accessible(page)
    result.focus()
    page.keyboard.press("Enter")  # the keyboard picks a student

    expect(page.locator(".picked-student")).to_contain_text("Okafor, Amara")
    expect(page.get_by_label("Family's preferred language")).to_have_value("es")
    page.get_by_label("Anxiety", exact=True).check()
    page.get_by_label("Therapy", exact=True).check()
    suggestion = page.locator(".partner-option", has_text="Riverbend Counseling")
    expect(suggestion).to_contain_text("Offers Therapy")
    expect(suggestion).to_contain_text("Speaks Spanish")
    expect(suggestion).to_contain_text("Serves North High School")
    expect(page.locator(".partner-option").first).to_contain_text("Riverbend Counseling")
    page.get_by_label("Riverbend Counseling").check()
    shot(page, "referral-form")
    assert_accessible(page)

    page.get_by_label("Emergency", exact=True).check()
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("988")
    expect(panel).to_contain_text("Trellis does not replace a call")
    shot(page, "referral-emergency")
    assert_accessible(page)
    page.get_by_label("Routine", exact=True).check()
    expect(panel).to_be_hidden()

    page.get_by_role("button", name="Save the referral").click()
    page.wait_for_url(f"**/{district.slug}/referrals/*/")
    with tenant_context(district):
        [referral] = Referral.objects.filter(district=district)
    assert referral.partner_id == directory.pk
    assert referral.family_language == "es"
    assert referral.services == ["therapy"]


def test_emergency_without_javascript_shows_the_protocol_first(
    browser, live_server, district, member, directory, transactional_db
):
    from tests.e2e.helpers import signed_in_page

    counselor = member("counselor")
    page = signed_in_page(browser, live_server.url, counselor.user)
    page.context.route("**/*.js", lambda route: route.abort())  # no htmx, no script
    page.goto(f"/{district.slug}/referrals/new/")
    page.get_by_label("Student", exact=True).fill("okafor")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("button", name="Okafor, Amara").click()
    page.get_by_label("Anxiety", exact=True).check()
    page.get_by_label("Emergency", exact=True).check()
    page.get_by_role("button", name="Save the referral").click()

    expect(page.get_by_role("alert")).to_contain_text("follow the crisis protocol")
    expect(page.locator(".crisis-panel")).to_be_visible()
    with tenant_context(district):
        assert not Referral.objects.filter(district=district).exists()
    shot(page, "referral-emergency-no-js")
    page.get_by_label("I have followed the crisis protocol").check()
    page.get_by_role("button", name="Save the referral").click()
    page.wait_for_url(f"**/{district.slug}/referrals/*/")
    with tenant_context(district):
        assert Referral.objects.get(district=district).urgency == "emergency"
    page.context.close()
