"""The partner's intake contact closes the loop from the emailed link, in a browser (issue 14,
part 2): the summary identifies nobody; they accept, get a one-time code by email, see the
student information the consent and the MOU allow, schedule the first appointment, record it
kept and close the referral with an outcome. Every page axe-clean."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from referrals.models import Referral, ReferralStep
from referrals.services.referrals import referral_send
from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.factories import (
    ConsentFactory,
    ContactFactory,
    MOUFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
)

pytestmark = pytest.mark.browser

INTAKE = "intake@riverbend.example.org"
LINK_RE = re.compile(r"(/r/intake/[^/\s\"]+/)")
CODE_RE = re.compile(r"\b(\d{6})\b")
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def referral(district, member):
    with tenant_context(district):
        school = School.objects.get(district=district, name="North High School")
    partner = PartnerFactory(district=district, name="Riverbend Counseling", intake="accepting")
    contact = ContactFactory(
        district=district, partner=partner, name="Ivy Intake", email=INTAKE, roles=["intake"]
    )
    MOUFactory(district=district, partner=partner, shared_fields=["name", "grade"])
    student = StudentFactory(
        district=district,
        school=school,
        first_name="Amara",
        last_name="Okafor",
        grade="09",
        guardian_email="grace.okafor@example.org",
    )
    ConsentFactory(district=district, student=student, partner=partner)
    counselor = member("counselor")
    draft = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_by=counselor,
        shared_fields=["name", "grade", "guardian_contact"],
        concerns=["anxiety"],
        services=["therapy"],
        urgency="urgent",
        availability="Weekday afternoons",
    )
    with tenant_context(district):
        referral_send(by=counselor, referral=draft)
    draft.intake_contact = contact
    return draft


def step_form(page, action):
    return page.locator("form", has=page.locator(f"input[name=step][value={action}]"))


def test_the_intake_contact_accepts_verifies_schedules_and_closes_from_the_link(
    page, district, referral
):
    [notice] = [m for m in mail.outbox if m.to == [INTAKE]]
    assert "Amara" not in notice.body and "Okafor" not in notice.body
    link = LINK_RE.search(notice.body).group(1)

    # --- Before the code: a summary that identifies nobody, and the answer. -------------
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {referral.reference}")
    expect(page.get_by_text("North High School")).to_be_visible()
    expect(page.get_by_text("Anxiety")).to_be_visible()
    content = page.content()
    assert "Amara" not in content and "Okafor" not in content and "grace.okafor" not in content
    assert_accessible(page)
    shot(page, "intake-summary")
    phone = page.context.browser.new_context(viewport=PHONE, is_mobile=True)
    small = phone.new_page()
    small.goto(page.url)
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()

    step_form(page, "accept").get_by_role("button", name="Accept the referral").click()
    expect(page.get_by_text("You accepted the referral")).to_be_visible()
    assert_accessible(page)

    # --- The one-time code, from the contact's own mail. --------------------------------
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_text("We sent a 6-digit code")).to_be_visible()
    assert_accessible(page)
    [code_mail] = [m for m in mail.outbox if m.to == [INTAKE]][1:]
    code = CODE_RE.search(code_mail.body).group(1)
    page.get_by_label("The 6-digit code from the email").fill(code)
    page.get_by_role("button", name="Show the student information").click()

    expect(page.get_by_text("Amara Okafor")).to_be_visible()
    expect(page.get_by_text("Weekday afternoons")).to_be_visible()
    assert "grace.okafor" not in page.content()  # consented, but not in the MOU
    assert_accessible(page)
    shot(page, "intake-verified")

    # --- The loop: schedule (today), kept, closed with an outcome. ----------------------
    today = district.today()
    page.locator("summary", has_text="Schedule the first appointment").click()
    schedule = step_form(page, "schedule")
    schedule.get_by_label("Date of the first appointment").fill(today.isoformat())
    schedule.get_by_role("button", name="Save the appointment").click()
    expect(page.get_by_text("The first appointment is scheduled")).to_be_visible()
    assert_accessible(page)

    page.locator("summary", has_text="First appointment kept").click()
    step_form(page, "kept").get_by_role("button", name="Record it as kept").click()
    expect(page.get_by_text("recorded as kept")).to_be_visible()
    assert_accessible(page)

    page.locator("summary", has_text="Close with an outcome").click()
    close = step_form(page, "close")
    close.get_by_label("Outcome").select_option(label="Service completed")
    close.get_by_label("Note").fill("Six sessions; the family will continue privately.")
    close.get_by_role("button", name="Close the referral").click()
    expect(page.get_by_text("The referral is closed")).to_be_visible()
    expect(page.get_by_text("Six sessions; the family will continue privately.")).to_be_visible()
    assert_accessible(page)
    shot(page, "intake-closed")

    with tenant_context(district):
        final = Referral.objects.get(pk=referral.pk)
        steps = list(ReferralStep.objects.filter(referral=final).order_by("at", "pk"))
    assert (final.status, final.outcome, final.first_appointment_on) == (
        "closed",
        "completed",
        today,
    )
    assert [step.kind for step in steps] == ["sent", "accepted", "scheduled", "kept", "closed"]
    assert {step.by_contact_id for step in steps[1:]} == {referral.intake_contact.pk}
