"""The referral lists and the pages around them in a browser (issue 14): a counselor filters
the list as they pick (the URL follows), a partner's member reads their inbox and their
scorecard, an administrator keeps the closed days. Every screen is checked with axe."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.e2e.test_students import browse_as
from tests.factories import MembershipFactory, PartnerFactory, ReferralFactory, StudentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def referrals(district):
    """Three sent referrals to Riverbend (one overdue, one urgent) and one draft."""
    with tenant_context(district):
        school = School.objects.get(district=district, name="North High School")
    partner = PartnerFactory(district=district, name="Riverbend Counseling", intake="accepting")
    counselor = MembershipFactory(district=district, role="counselor")
    today = district.today()
    made = []
    for first, last, urgency, due in (
        ("Amara", "Okafor", "routine", today - datetime.timedelta(days=3)),
        ("Ben", "Silva", "urgent", today + datetime.timedelta(days=4)),
        ("Cleo", "Nguyen", "routine", today + datetime.timedelta(days=5)),
    ):
        student = StudentFactory(district=district, school=school, first_name=first, last_name=last)
        made.append(
            ReferralFactory(
                district=district,
                student=student,
                partner=partner,
                referred_by=counselor,
                urgency=urgency,
                status="sent",
                sent_at=timezone.now(),
                response_due_on=due,
                shared_fields=[],
            )
        )
    ReferralFactory(district=district, referred_by=counselor, partner=partner)
    return {"counselor": counselor, "partner": partner, "referrals": made}


def test_the_counselor_filters_the_list_as_they_pick(page, live_server, district, referrals):
    browse_as(page, live_server, referrals["counselor"])
    page.goto(f"/{district.slug}/referrals/")
    rows = page.locator("#referral-results tbody tr")
    expect(rows).to_have_count(4)
    assert_accessible(page)

    page.get_by_label("Urgency").select_option("urgent")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Silva")
    assert "urgency=urgent" in page.url  # the filter lives in the URL
    shot(page, "referral-list-filtered")
    assert_accessible(page)

    # The partner is typed, part of its name; the list follows as the person types.
    page.get_by_label("Partner").fill("harbor")
    expect(rows).to_have_count(0)
    expect(page.locator("#referral-results")).to_contain_text("0 referrals")
    page.get_by_label("Partner").fill("riverb")
    expect(rows).to_have_count(1)
    assert "partner_name=riverb" in page.url


def test_a_partner_member_reads_the_inbox_overdue_first_and_the_scorecard(
    page, live_server, district, referrals
):
    member = MembershipFactory(district=district, role="partner", partner=referrals["partner"])
    browse_as(page, live_server, member)

    page.goto(f"/{district.slug}/referrals/inbox/")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    overdue = referrals["referrals"][0]
    expect(rows.first).to_contain_text(overdue.reference)
    expect(page.locator("main")).not_to_contain_text("Okafor")  # no student names
    shot(page, "partner-inbox")
    assert_accessible(page)

    page.goto(f"/{district.slug}/organization/")
    expect(page.locator("main")).to_contain_text("Referrals received")
    shot(page, "partner-scorecard")
    assert_accessible(page)


def test_an_administrator_adds_a_closed_day(page, live_server, district, member):
    browse_as(page, live_server, member("admin"))
    page.goto(f"/{district.slug}/settings/closed-days/")
    assert_accessible(page)

    day = district.today() + datetime.timedelta(days=30)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    form = page.locator("form", has=page.get_by_role("button", name="Add the day"))
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Name").fill("Teacher work day")
    form.get_by_role("button", name="Add the day").click()

    expect(page.locator("main")).to_contain_text("Teacher work day")
    shot(page, "closed-days")
    assert_accessible(page)
