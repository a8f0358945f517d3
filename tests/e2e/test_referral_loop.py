"""The loop in a browser (issue 14): a counselor's referral reaches the partner, whose member
signs in and accepts it, schedules the first appointment, records it kept and closes it, each
step swapped in place on the page; the counselor then reads the timeline, with its times.
Every screen is checked with axe."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import formats, timezone
from playwright.sync_api import expect

from referrals.models import Referral, ReferralStep
from referrals.services.referrals import referral_send
from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.e2e.test_students import browse_as
from tests.factories import (
    ConsentFactory,
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
)

pytestmark = pytest.mark.browser


def named(membership, name):
    membership.user.full_name = name
    membership.user.save(update_fields=["full_name"])
    return membership


@pytest.fixture
def sent(district):
    """A referral the counselor sent to Riverbend Counseling under the family's consent."""
    with tenant_context(district):
        school = School.objects.get(district=district, name="North High School")
    partner = PartnerFactory(district=district, name="Riverbend Counseling", intake="accepting")
    ContactFactory(
        district=district,
        partner=partner,
        name="Ivy Intake",
        email="intake@riverbend.example.org",
        roles=["intake"],
    )
    student = StudentFactory(
        district=district, school=school, first_name="Amara", last_name="Okafor"
    )
    counselor = named(MembershipFactory(district=district, role="counselor"), "Carla Counselor")
    ConsentFactory(district=district, student=student, partner=partner)
    draft = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_by=counselor,
        concerns=["anxiety"],
        shared_fields=["name", "grade"],
        availability="After 3 pm, not Fridays",
    )
    with tenant_context(district):
        referral = referral_send(by=counselor, referral=draft)
    return referral


def take_step(page, summary: str, button: str, fill=None):
    """Open a step's fold, fill it, submit; htmx swaps the panel and says what was done."""
    fold = page.locator("details.loop-step", has=page.locator("summary", has_text=summary))
    fold.locator("summary").click()
    if fill:
        fill(fold)
    fold.get_by_role("button", name=button).click()


def test_the_partner_closes_the_loop_and_the_counselor_reads_the_timeline(
    browser, page, live_server, district, sent
):
    partner_member = named(
        MembershipFactory(district=district, role="partner", partner=sent.partner), "Pat Partner"
    )
    url = f"/{district.slug}/referrals/{sent.pk}/"
    browse_as(page, live_server, partner_member)
    page.goto(url)
    expect(page.get_by_role("heading", name="Where it stands")).to_be_visible()
    expect(page.locator("#referral-status")).to_have_text("Sent")
    expect(page.get_by_text("Amara Okafor")).to_be_visible()  # consented
    assert_accessible(page)
    shot(page, "loop-partner-sent")

    # Accept, with a note for the school.
    take_step(
        page,
        "Accept",
        "Accept the referral",
        lambda fold: fold.get_by_label("Note").fill("A therapist is free on Tuesdays."),
    )
    expect(page.get_by_role("status").filter(has_text="accepted")).to_be_visible()
    expect(page.locator("#referral-status")).to_have_text("Accepted")  # the header follows
    assert page.url.endswith(url)  # swapped in place, no reload

    # A date in the past is refused on the form, which stays open with the problem.
    yesterday = district.today() - datetime.timedelta(days=1)
    take_step(
        page,
        "Schedule the first appointment",
        "Save the appointment",
        lambda fold: fold.get_by_label("Date of the first appointment").fill(yesterday.isoformat()),
    )
    expect(page.get_by_text("The appointment's date cannot be in the past.")).to_be_visible()
    assert_accessible(page)
    shot(page, "loop-partner-refused")

    # Today, then kept (on the scheduled date), then closed with an outcome.
    today = district.today()
    fold = page.locator("details#step-schedule")
    fold.get_by_label("Date of the first appointment").fill(today.isoformat())
    fold.get_by_role("button", name="Save the appointment").click()
    expect(page.get_by_role("status").filter(has_text="scheduled for")).to_be_visible()
    take_step(page, "First appointment kept", "Record it as kept")
    expect(page.get_by_role("status").filter(has_text="recorded as kept")).to_be_visible()
    take_step(
        page,
        "Close with an outcome",
        "Close the referral",
        lambda fold: (
            fold.get_by_label("Outcome").select_option("completed"),
            fold.get_by_label("Note").fill("Eight sessions; the family is pleased."),
        ),
    )
    expect(page.get_by_role("status").filter(has_text="closed")).to_be_visible()
    expect(page.locator("#referral-status")).to_have_text("Closed")
    expect(page.get_by_role("heading", name="Next steps")).to_have_count(0)  # nothing left
    assert_accessible(page)

    with tenant_context(district):
        referral = Referral.objects.select_related("referred_by__user").get(pk=sent.pk)
        kinds = list(
            ReferralStep.objects.filter(referral=referral)
            .order_by("at")
            .values_list("kind", flat=True)
        )
    assert referral.status == "closed" and referral.outcome == "completed"
    assert kinds == ["sent", "accepted", "scheduled", "kept", "closed"]

    # The counselor reads the whole story, with who and when, in the district's time.
    counselor_page = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    ).new_page()
    browse_as(counselor_page, live_server, referral.referred_by)
    counselor_page.goto(url)
    timeline = counselor_page.locator("#timeline")
    steps = timeline.locator("li.timeline__step")
    expect(steps).to_have_count(5)
    expect(steps.nth(0)).to_contain_text("by Carla Counselor")
    expect(steps.nth(1)).to_contain_text("by Pat Partner, Riverbend Counseling")
    expect(steps.nth(1)).to_contain_text("A therapist is free on Tuesdays.")
    expect(steps.nth(4)).to_contain_text("Outcome: Service completed.")
    with tenant_context(district):
        accepted_at = ReferralStep.objects.get(referral=referral, kind="accepted").at
    local = timezone.localtime(accepted_at, timezone=district.time_zone)
    expect(steps.nth(1).locator("time")).to_have_text(formats.date_format(local, "DATETIME_FORMAT"))
    expect(counselor_page.get_by_text("0 business days after it was sent")).to_be_visible()
    expect(counselor_page.get_by_text("Service completed").first).to_be_visible()
    assert re.search(r"Missed appointments\s*0", counselor_page.locator("main").inner_text())
    assert_accessible(counselor_page)
    shot(counselor_page, "loop-counselor-timeline")

    # And at a phone's width nothing overflows.
    counselor_page.set_viewport_size({"width": 360, "height": 800})
    assert counselor_page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(counselor_page, "loop-counselor-timeline-phone")
    counselor_page.context.close()
