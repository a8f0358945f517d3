"""Meetings in the browser (issue 18): a coordinator schedules a monthly check-in with a
partner contact, the reminder goes out with its calendar invitation, the contact answers
from the link, and action items change status in place."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from partnerships.models import Meeting, Reminder
from partnerships.services import reminders
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import ContactFactory, MembershipFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.browser


def test_a_coordinator_schedules_a_check_in_and_the_reminder_carries_the_invitation(
    browser, live_server, transactional_db, district
):
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    ContactFactory(
        district=district,
        partner=partner,
        name="Rita Rivers",
        email="rita@riverbend.example.org",
        reminders=True,
    )
    coordinator = MembershipFactory(
        district=district, role="coordinator", user=UserFactory(full_name="Carla Coordinator")
    )
    page = signed_in_page(browser, live_server.url, coordinator.user)
    page.goto("/north/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    page.wait_for_url("**/north/meetings/")
    expect(page.get_by_text("No meetings in the next 60 days")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Schedule a meeting").first.click()
    page.wait_for_url("**/meetings/new/")
    assert_accessible(page)
    day = district.today() + datetime.timedelta(days=3)
    page.get_by_label("Title").fill("Monthly check-in with Riverbend")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Starts at").fill("15:30")
    page.get_by_label("Ends at").fill("15:00")  # before the start: refused next to it
    page.get_by_label("Repeats", exact=True).select_option("monthly_weekday")
    page.get_by_label("Riverbend Family Services", exact=True).check()
    page.get_by_label("Rita Rivers", exact=False).check()
    page.get_by_role("button", name="Schedule and invite").click()
    expect(page.get_by_text("The end must be after the start.").first).to_be_visible()
    assert page.get_by_label("Title").input_value() == "Monthly check-in with Riverbend"
    assert_accessible(page)

    page.get_by_label("Ends at").fill("16:30")
    page.get_by_role("button", name="Schedule and invite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly check-in with Riverbend")
    expect(page.get_by_text("Meeting scheduled")).to_be_visible()
    expect(page.get_by_text("Monthly on the").first).to_be_visible()
    expect(page.get_by_role("cell", name="Riverbend Family Services")).to_be_visible()
    assert_accessible(page)
    shot(page, "meeting-detail")

    # The worker's sweep when the 1-day reminder is due: Rita's reminder, with the invite.
    with tenant_context(district):
        meeting = Meeting.objects.get()
        due = Reminder.objects.filter(meeting=meeting).order_by("due_at").first().due_at
        assert Reminder.objects.filter(meeting=meeting, offset_minutes=1440).exists()
    mail.outbox.clear()
    reminders.reminder_sweep(now=max(due, timezone.now()) + datetime.timedelta(minutes=1))
    sent = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert any(m.to == ["rita@riverbend.example.org"] for m in sent)
    parts = [
        part for part in sent[0].message().walk() if part.get_content_type() == "text/calendar"
    ]
    assert parts and "BEGIN:VEVENT" in parts[0].get_payload(decode=True).decode()

    page.reload()
    expect(page.get_by_role("rowheader", name="Reminder").first).to_be_visible()

    # The calendar lists it; the month view too.
    page.get_by_role("link", name="Meetings").first.click()
    page.wait_for_url("**/north/meetings/")
    expect(page.get_by_role("link", name="Monthly check-in with Riverbend").first).to_be_visible()
    assert_accessible(page)
    shot(page, "meeting-calendar")
    page.get_by_role("link", name="Month", exact=True).click()
    page.wait_for_url("**view=month**")
    assert_accessible(page)
    shot(page, "meeting-month")


def test_action_items_change_status_in_place(browser, live_server, transactional_db, district):
    from partnerships.models import ActionItem
    from partnerships.services import meetings as service

    coordinator = MembershipFactory(district=district, role="coordinator")
    start = timezone.now() - datetime.timedelta(days=10)
    with tenant_context(district):
        meeting, _rule = service.meeting_save(
            by=coordinator,
            title="Check-in",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )
        service.action_item_save(
            by=coordinator,
            meeting=meeting,
            what="Send the flyer to both schools",
            due_date=district.today() - datetime.timedelta(days=2),
            owner_membership=coordinator,
        )
    page = signed_in_page(browser, live_server.url, coordinator.user)
    page.goto("/north/meetings/actions/?show=overdue")
    expect(page.locator(".badge", has_text="Overdue")).to_be_visible()
    assert_accessible(page)
    shot(page, "meeting-action-items")
    page.get_by_label("Status of “Send the flyer to both schools”").select_option("done")
    with tenant_context(district):
        for _ in range(50):
            if ActionItem.objects.get().status == "done":
                break
            page.wait_for_timeout(100)
        assert ActionItem.objects.get().status == "done"
    # The meeting page flags the meeting without minutes a week after.
    page.goto(f"/north/meetings/{meeting.pk}/")
    expect(page.get_by_text("no minutes yet").first).to_be_visible()
    assert_accessible(page)


def test_in_a_large_district_the_coordinator_finds_the_partner_by_name(
    browser, live_server, transactional_db, district
):
    from core.picker import PICK_ALL_UP_TO
    from tests.factories import MOUFactory

    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    MOUFactory(district=district, partner=partner, title="Riverbend school-based counseling")
    ContactFactory(
        district=district, partner=partner, name="Rita Rivers", email="rita@riverbend.example.org"
    )
    for n in range(PICK_ALL_UP_TO + 1):
        other = PartnerFactory(district=district, name=f"Community Partner {n:03d}")
        MOUFactory(district=district, partner=other, title=f"Agreement {n:03d}")
    coordinator = MembershipFactory(
        district=district, role="coordinator", user=UserFactory(full_name="Carla Coordinator")
    )
    page = signed_in_page(browser, live_server.url, coordinator.user)
    page.goto("/north/meetings/new/")
    partners = page.get_by_role("group", name="Partners")
    expect(partners.get_by_text("None chosen yet")).to_be_visible()
    expect(page.get_by_label("Community Partner 000")).to_have_count(0)  # no list of them all

    partners.get_by_label("Find by name").fill("riverb")
    expect(page.get_by_label("Riverbend Family Services", exact=True)).to_be_visible()
    partners.get_by_label("Find by name").press("Enter")  # searches; sends nothing
    expect(page.get_by_label("Riverbend Family Services", exact=True)).to_be_visible()
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    assert page.url.endswith("/meetings/new/")
    page.get_by_label("Riverbend Family Services", exact=True).check()
    # The MOU list follows the partners chosen.
    expect(page.get_by_label("MOU it reviews").locator("option")).to_have_count(2)
    page.get_by_label("MOU it reviews").select_option(label="Riverbend school-based counseling")
    # Another search keeps the chosen one.
    partners.get_by_label("Find by name").fill("community partner 01")
    expect(partners.get_by_label("Community Partner 010")).to_be_visible()
    expect(page.get_by_label("Riverbend Family Services", exact=True)).to_be_checked()
    assert_accessible(page)
    shot(page, "meeting-form-picker")

    page.get_by_label("Title").fill("Check-in with Riverbend")
    page.get_by_label("Date").fill((district.today() + datetime.timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Schedule and invite").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-in with Riverbend")
    with tenant_context(district):
        meeting = Meeting.objects.get()
        assert [p.name for p in meeting.partners.all()] == ["Riverbend Family Services"]
        assert meeting.mou.title == "Riverbend school-based counseling"


def test_a_partner_checked_while_a_search_is_on_its_way_stays_checked(
    browser, live_server, transactional_db, district
):
    """The answer to a search sent before the box was checked would draw it unchecked (and a
    later search would forget it): the answer is dropped and the search asked again."""
    from core.picker import PICK_ALL_UP_TO

    PartnerFactory(district=district, name="Riverbend Family Services")
    for n in range(PICK_ALL_UP_TO + 1):
        PartnerFactory(district=district, name=f"Community Partner {n:03d}")
    coordinator = MembershipFactory(district=district, role="coordinator")
    page = signed_in_page(browser, live_server.url, coordinator.user)
    page.goto("/north/meetings/new/")
    partners = page.get_by_role("group", name="Partners")
    search = partners.get_by_label("Find by name")
    search.fill("riverb")
    riverbend = page.get_by_label("Riverbend Family Services", exact=True)
    expect(riverbend).to_be_visible()

    held = []

    def hold_the_next_partner_search(route):
        if "field=partners" in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/meetings/pick/**", hold_the_next_partner_search)
    with page.expect_request(lambda request: "field=partners" in request.url):
        search.fill("riverbend")
    riverbend.check()  # while the search is held
    assert len(held) == 1
    with page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()
    expect(riverbend).to_be_checked()
    search.fill("community partner 01")
    expect(partners.get_by_label("Community Partner 010")).to_be_visible()
    expect(riverbend).to_be_checked()
