"""An MOU from draft to active in the browser: a coordinator drafts it from the template and
edits a section inline, an administrator approves and sends it, the partner signs through
the emailed link without an account, the administrator signs, and it is active."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
    enable_totp,
)

pytestmark = pytest.mark.browser

# Screenshots for people to look at (set MOU_SCREENSHOTS=/some/dir to keep them).
SHOTS = Path(os.environ.get("MOU_SCREENSHOTS", "")) if os.environ.get("MOU_SCREENSHOTS") else None


def shot(page, name):
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def signed_in_context(browser, base_url, user):
    """A browser context with a session for `user` (the sign-in form is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context


def test_an_mou_is_drafted_approved_signed_by_both_parties_and_becomes_active(
    browser, live_server, transactional_db, district
):
    base_url = live_server.url
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    ContactFactory(
        district=district,
        partner=partner,
        name="Rita Rivers",
        email="rita@riverbend.example.org",
        roles=["leadership"],
    )
    coordinator = MembershipFactory(
        district=district, role="coordinator", user=UserFactory(full_name="Cora Coordinator")
    )
    admin = MembershipFactory(
        district=district, role="admin", user=UserFactory(full_name="Ada Admin")
    )
    enable_totp(admin.user)
    mail.outbox.clear()

    # --- The coordinator drafts from the standard template. -----------------------------
    coordinator_page = signed_in_context(browser, base_url, coordinator.user).new_page()
    coordinator_page.goto("/north/")
    coordinator_page.get_by_role("navigation", name="Main").get_by_role("link", name="MOUs").click()
    coordinator_page.wait_for_url("**/north/mous/")
    expect(coordinator_page.get_by_text("No MOUs yet")).to_be_visible()
    assert_accessible(coordinator_page)

    coordinator_page.get_by_role("link", name="Draft an MOU").first.click()
    coordinator_page.wait_for_url("**/north/mous/new/")
    assert_accessible(coordinator_page)
    coordinator_page.get_by_label("Partner", exact=True).select_option(
        label="Riverbend Family Services"
    )
    coordinator_page.get_by_label("Title").fill("School-based therapy 2025–26")
    coordinator_page.get_by_label("North High School").check()
    coordinator_page.get_by_label("Therapy", exact=True).check()
    coordinator_page.get_by_label("Start date").fill("2025-08-01")
    coordinator_page.get_by_label("End date").fill("2026-07-31")
    coordinator_page.get_by_label("Referral response time (business days)").fill("3")
    coordinator_page.get_by_label("Student's name").check()
    coordinator_page.get_by_role("button", name="Create the draft").click()
    coordinator_page.wait_for_url(re.compile(r".*/north/mous/\d+/$"))
    mou_url = coordinator_page.url
    assert (
        coordinator_page.get_by_role("heading", level=1).inner_text()
        == "School-based therapy 2025–26"
    )
    expect(coordinator_page.get_by_text("within 3 business days")).to_be_visible()
    assert_accessible(coordinator_page)

    # Inline edit of one section (htmx brings the form in place).
    coordinator_page.get_by_role("link", name="Edit Crisis protocol").click()
    editor = coordinator_page.locator("#section-crisis textarea")
    editor.wait_for()
    assert coordinator_page.url == mou_url  # still on the MOU page
    assert_accessible(coordinator_page)
    editor.fill(
        "Partner staff never leave a student at risk alone. They alert the school's crisis "
        "responder at once and call 988 or 911 when needed."
    )
    coordinator_page.get_by_role("button", name="Save as a new version").click()
    coordinator_page.get_by_text("Saved as version 2.").wait_for()
    expect(coordinator_page.get_by_text("never leave a student at risk alone")).to_be_visible()
    shot(coordinator_page, "mou-page")

    # Compare the last two versions.
    coordinator_page.get_by_role("link", name="Compare versions").first.click()
    coordinator_page.wait_for_url("**/compare/")
    expect(coordinator_page.locator("del.diff-del").first).to_be_visible()
    expect(coordinator_page.locator("ins.diff-ins").first).to_be_visible()
    assert_accessible(coordinator_page)
    shot(coordinator_page, "mou-compare")

    # Submitting with the template's bracketed choices unanswered is refused: the page lists
    # where they are, next to the button; each is filled inline, then it goes.
    coordinator_page.goto(mou_url)
    coordinator_page.get_by_role("button", name="Submit for internal review").click()
    listing = coordinator_page.locator("#mou-placeholders")
    listing.wait_for()
    assert "8. Insurance and liability: [amount]" in listing.inner_text()
    assert_accessible(coordinator_page)
    shot(coordinator_page, "mou-placeholders")
    number = 2
    for key, heading in [
        ("services", "Services, schedule and location"),
        ("insurance", "Insurance and liability"),
        ("costs", "Costs and funding"),
        ("evaluation", "Evaluation and measurable goals"),
        ("term", "Term, renewal and termination"),
    ]:
        coordinator_page.goto(mou_url)
        coordinator_page.get_by_role("link", name=f"Edit {heading}").click()
        editor = coordinator_page.locator(f"#section-{key} textarea")
        editor.wait_for()
        editor.fill(re.sub(r"\[[^\]]*\]", "as agreed", editor.input_value()))
        coordinator_page.get_by_role("button", name="Save as a new version").click()
        number += 1
        coordinator_page.get_by_text(f"Saved as version {number}.").wait_for()
    coordinator_page.goto(mou_url)
    assert coordinator_page.locator("#mou-placeholders").count() == 0
    coordinator_page.get_by_role("button", name="Submit for internal review").click()
    coordinator_page.get_by_text("Submitted for internal review.").wait_for()
    assert_accessible(coordinator_page)
    coordinator_page.goto("/north/mous/")
    shot(coordinator_page, "mou-list")

    # --- The administrator approves: the partner's contact is emailed a link. -------------
    admin_page = signed_in_context(browser, base_url, admin.user).new_page()
    admin_page.goto(mou_url)
    expect(admin_page.get_by_text("In internal review").first).to_be_visible()
    admin_page.get_by_role("button", name="Approve and send to the partner").click()
    admin_page.get_by_text("Approved and sent to the partner").wait_for()
    expect(admin_page.get_by_text("Sent to partner").first).to_be_visible()
    assert_accessible(admin_page)

    to_contact = [m for m in mail.outbox if m.to == ["rita@riverbend.example.org"]]
    assert len(to_contact) == 1
    link = re.search(r"https?://\S+/p/mous/review/\S+/", to_contact[0].body).group(0)

    # --- The partner signs through the link, without an account. --------------------------
    partner_context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    partner_context.set_default_timeout(10_000)
    partner_page = partner_context.new_page()
    partner_page.goto(link)
    assert (
        partner_page.get_by_role("heading", level=1).inner_text() == "School-based therapy 2025–26"
    )
    expect(partner_page.get_by_text("never leave a student at risk alone")).to_be_visible()
    assert_accessible(partner_page)
    shot(partner_page, "mou-partner-signing")
    # A colleague opened the same link before the partner signed (signed twice, later on).
    colleague_page = partner_context.new_page()
    colleague_page.goto(link)
    partner_page.get_by_label("Full name").fill("Rita Rivers")
    partner_page.get_by_label("Title").fill("Executive Director")
    partner_page.get_by_role("button", name=f"Sign version {number}").click()
    expect(partner_page.get_by_role("alert")).to_be_visible()  # must agree first
    partner_page.get_by_label("I have read this version").check()
    partner_page.get_by_role("button", name=f"Sign version {number}").click()
    partner_page.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(partner_page)
    colleague_page.get_by_label("Full name").fill("Sam Rivers")
    colleague_page.get_by_label("Title").fill("Deputy Director")
    colleague_page.get_by_label("I have read this version").check()
    colleague_page.get_by_role("button", name=f"Sign version {number}").click()
    colleague_page.get_by_role("heading", name="Already signed").wait_for()
    assert_accessible(colleague_page)

    # --- The administrator signs for the district: the MOU is active. ---------------------
    admin_page.goto(mou_url)
    expect(admin_page.get_by_text("Signed by partner").first).to_be_visible()
    admin_page.get_by_role("link", name="Sign for the district").click()
    admin_page.wait_for_url("**/sign/")
    assert_accessible(admin_page)
    admin_page.get_by_label("Title").fill("Superintendent")
    admin_page.get_by_label("I have read this version").check()
    admin_page.get_by_role("button", name=f"Sign version {number}").click()
    admin_page.wait_for_url(mou_url)
    expect(admin_page.get_by_text("Signed. Thank you.")).to_be_visible()
    assert admin_page.locator(".page-header .badge").inner_text() == "Active"
    expect(admin_page.get_by_text("Rita Rivers, Executive Director")).to_be_visible()
    expect(admin_page.get_by_text("Ada Admin, Superintendent")).to_be_visible()
    assert_accessible(admin_page)

    # Every signer is emailed the executed PDF once: Rita signed through the link.
    done = [m for m in mail.outbox if "Signed by both parties" in m.subject]
    assert sorted(m.to[0] for m in done) == [admin.user.email.lower(), "rita@riverbend.example.org"]
    (to_rita,) = [m for m in done if m.to == ["rita@riverbend.example.org"]]
    assert re.search(r"https?://\S+/p/mous/review/\S+/pdf/", to_rita.body)


def test_the_other_mou_pages_are_accessible(browser, live_server, transactional_db, district):
    """Templates, terms, goals, the partner's signing page in Trellis, and the link's
    problem pages: each passes axe."""
    import datetime
    from decimal import Decimal

    from partnerships.services.mous.goals import goal_create, goal_progress_add
    from schools.tenancy import tenant_context
    from tests.partnerships.mou_setup import Cast, advance, draft

    base_url = live_server.url
    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner)
    with tenant_context(district):
        goal = goal_create(
            by=cast.coordinator,
            mou=mou,
            description="Students who start services within 10 days",
            target=Decimal(120),
            unit="students",
            period="2025–26",
        )
        goal_progress_add(
            by=cast.coordinator, goal=goal, date=datetime.date(2025, 10, 1), value=Decimal(54)
        )

    coordinator = signed_in_context(browser, base_url, cast.coordinator.user).new_page()
    coordinator.goto("/north/mous/templates/")
    assert_accessible(coordinator)
    coordinator.get_by_role("link", name="New template from the standard one").click()
    coordinator.wait_for_url("**/templates/new/")
    assert_accessible(coordinator)
    coordinator.get_by_label("Name").fill("North standard")
    coordinator.get_by_role("button", name="Save the template").click()
    coordinator.wait_for_url("**/north/mous/templates/")
    coordinator.get_by_role("link", name="North standard", exact=True).click()
    expect(coordinator.get_by_role("heading", level=1)).to_contain_text("North standard")
    assert_accessible(coordinator)

    coordinator.goto(f"/north/mous/{mou.pk}/terms/")
    assert_accessible(coordinator)
    coordinator.goto(f"/north/mous/{mou.pk}/")
    expect(coordinator.get_by_text("54 of 120 students (45%)")).to_be_visible()
    coordinator.get_by_role("link", name=re.compile("^Record progress")).click()
    expect(coordinator.get_by_label("Value reached")).to_be_visible()
    assert_accessible(coordinator)
    coordinator.get_by_label("Date").fill("2025-12-01")
    coordinator.get_by_label("Value reached").fill("80")
    coordinator.get_by_role("button", name="Record").click()
    coordinator.get_by_text("80 of 120 students (67%)").wait_for()
    coordinator.get_by_text("Add a goal").click()
    coordinator.get_by_role("button", name="Add the goal").click()  # empty: errors in words
    expect(coordinator.get_by_role("alert")).to_be_visible()
    assert_accessible(coordinator)

    advance(mou, cast, "sent")
    partner = signed_in_context(browser, base_url, cast.partner_member.user).new_page()
    partner.goto("/north/mous/")
    expect(partner.get_by_role("link", name=mou.title)).to_be_visible()
    assert_accessible(partner)
    partner.get_by_role("link", name=mou.title).click()
    partner.get_by_role("link", name="Ask for changes").click()
    partner.wait_for_url("**/review/")
    assert_accessible(partner)
    partner.go_back()
    partner.get_by_role("link", name="Review and sign").click()
    partner.wait_for_url("**/sign/")
    assert_accessible(partner)

    anonymous = browser.new_context(base_url=base_url).new_page()
    anonymous.goto("/p/mous/review/not-a-real-link/")
    expect(anonymous.get_by_role("heading", name="This link is not valid")).to_be_visible()
    assert_accessible(anonymous)


def test_the_home_page_shows_mous_waiting_and_leads_to_them(
    browser, live_server, transactional_db, district
):
    """The MOU panel on the home page (registered by partnerships): accessible, and its
    status link opens the list filtered to that status."""
    from partnerships.models import MOUStatus
    from tests.partnerships.mou_setup import Cast, advance, draft

    cast = Cast(district)
    waiting = draft(cast.coordinator, partner=cast.partner, title="Waiting for review")
    advance(waiting, cast, MOUStatus.INTERNAL_REVIEW)
    draft(cast.coordinator, partner=cast.partner, title="Still a draft")

    page = signed_in_context(browser, live_server.url, cast.coordinator.user).new_page()
    page.goto("/north/")
    expect(page.get_by_role("heading", name="MOUs")).to_be_visible()
    assert page.get_by_text("Nothing needs you yet").count() == 0
    assert_accessible(page)

    page.get_by_role("link", name="In internal review").click()
    page.wait_for_url("**/north/mous/?status=internal_review")
    expect(page.get_by_text("Waiting for review")).to_be_visible()
    assert page.get_by_text("Still a draft").count() == 0
