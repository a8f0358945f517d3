"""The meeting pages (issue 18): scheduling through the form (errors next to the field,
nothing written), who may open what, the calendar and the action items at a fixed number
of queries, inline status changes, the calendar feed and the answer link."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from partnerships.models import ActionItem, Attendee, Meeting, Reminder
from partnerships.services import meetings as service
from partnerships.services import reminders
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    enable_totp,
)
from tests.partnerships.meeting_setup import make_cast

NY = ZoneInfo("America/New_York")


@pytest.fixture
def cast(district):
    return make_cast(district)


def signed_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def form_data(partner, contact, **changes):
    data = {
        "title": "Monthly check-in",
        "kind": "check_in",
        "date": "2026-01-13",
        "start_time": "15:30",
        "end_time": "16:30",
        "repeats": "monthly_weekday",
        "location": "North High, room 12",
        "partners": [partner.pk],
        "contacts": [contact.pk],
        "reminder_offsets": [7 * 1440, 1440],
        "agenda": "Referrals this month",
    }
    data.update(changes)
    return data


def test_a_coordinator_schedules_a_monthly_check_in_from_the_form(client, cast, time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    partner, coordinator, contact = cast
    signed_in(client, coordinator)
    response = client.post(reverse("meeting_new", args=["north"]), form_data(partner, contact))
    assert response.status_code == 302
    with tenant_context(coordinator.district):
        meeting = Meeting.objects.get()
        assert meeting.recurrence.startswith("FREQ=MONTHLY;BYDAY=2TU;UNTIL=")
        assert meeting.starts_at.astimezone(NY).hour == 15
        assert Attendee.objects.filter(meeting=meeting).count() == 2
        assert Reminder.objects.filter(meeting=meeting).count() == 8
    page = client.get(response.url)
    text = page.content.decode()
    assert "Monthly on the second Tuesday" in text
    assert "Rita Rivers" in text and "Invitation" in text
    # The series' notice: an endless repeat is given an end two years ahead.
    assert "repeats until January 13, 2028" in text
    # Editing offers the choice it was made with, and the end it was given.
    edit = client.get(reverse("meeting_edit", args=["north", meeting.pk]))
    initial = edit.context["form"].initial
    assert (initial["repeats"], initial["until"]) == ("monthly_weekday", datetime.date(2028, 1, 13))


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"end_time": "15:00"}, "end_time", "The end must be after the start."),
        ({"repeats": "custom", "custom_rule": "FREQ=HOURLY"}, "custom_rule", "at most once a day"),
        ({"repeats": "custom", "custom_rule": ""}, "custom_rule", "Write the rule"),
        ({"until": "2025-12-01"}, "until", "must end on or after its first date"),
        ({"online_url": "not a link"}, "online_url", "Enter a valid URL."),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(
    client, cast, changes, field, message
):
    partner, coordinator, contact = cast
    signed_in(client, coordinator)
    response = client.post(
        reverse("meeting_new", args=["north"]), form_data(partner, contact, **changes)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in error for error in errors), errors
    with tenant_context(coordinator.district):
        assert not Meeting.objects.exists()
    assert not OutgoingEmail.objects.exists()


def schedule(cast, **changes):
    partner, coordinator, contact = cast
    start = datetime.datetime(2026, 1, 13, 15, 30, tzinfo=NY)
    values = {
        "by": coordinator,
        "title": "Monthly check-in",
        "starts_at": start,
        "ends_at": start + datetime.timedelta(hours=1),
        "recurrence": "FREQ=MONTHLY;BYDAY=2TU",
        "partners": [partner],
        "contacts": [contact],
    }
    values.update(changes)
    with tenant_context(coordinator.district):
        return service.meeting_save(**values)[0]


def test_who_opens_the_meeting_pages(client, cast, district, other_district, time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    meeting = schedule(cast)
    detail = reverse("meeting_detail", args=["north", meeting.pk])
    signed_in(client, cast[1])
    assert client.get(detail).status_code == 200
    assert client.get(reverse("meeting_edit", args=["north", meeting.pk])).status_code == 200

    counselor = MembershipFactory(district=district, role="counselor")
    signed_in(client, counselor)
    assert client.get(detail).status_code == 200
    assert client.get(reverse("meeting_edit", args=["north", meeting.pk])).status_code == 403
    assert client.get(reverse("meeting_new", args=["north"])).status_code == 403

    stranger = MembershipFactory(district=other_district, role="coordinator")
    signed_in(client, stranger)
    assert client.get(f"/south/meetings/{meeting.pk}/").status_code == 404
    assert client.get(detail).status_code == 404


def test_the_calendar_and_the_action_items_cost_the_same_queries_for_3_or_12_meetings(
    client, cast, district, django_assert_max_num_queries, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    signed_in(client, cast[1])

    def add(count):
        for index in range(count):
            meeting = schedule(cast, title=f"Check-in {index}")
            with tenant_context(district):
                ActionItem.objects.create(
                    district=district,
                    meeting=meeting,
                    what=f"Item {index}",
                    owner_contact=cast[2],
                    due_date=datetime.date(2026, 1, 1),
                )

    client.get(reverse("meeting_calendar", args=["north"]))  # the session's first request
    counts = {}
    for total in (3, 12):
        add(total - len(counts and [1] * 3))
        for name, query in (
            ("list", ""),
            ("month", "?view=month&month=2026-02"),
        ):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as context:
                assert (
                    client.get(reverse("meeting_calendar", args=["north"]) + query).status_code
                    == 200
                )
            counts[(name, total)] = len(context.captured_queries)
        with CaptureQueriesContext(connection) as context:
            page = client.get(reverse("action_item_list", args=["north"]) + "?show=overdue")
        assert page.status_code == 200
        counts[("actions", total)] = len(context.captured_queries)
        assert page.content.decode().count("Overdue") >= total
    for name in ("list", "month", "actions"):
        assert counts[(name, 3)] == counts[(name, 12)], counts


def test_action_items_come_in_pages_that_keep_the_filters(
    client, cast, district, time_machine, monkeypatch
):
    from partnerships.views import meetings as views

    monkeypatch.setattr(views, "ACTION_PAGE", 2)
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    meeting = schedule(cast)
    with tenant_context(district):
        for n in range(5):
            ActionItem.objects.create(
                district=district,
                meeting=meeting,
                what=f"Task {n}",
                owner_contact=cast[2],
                due_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
            )
    signed_in(client, cast[1])
    url = reverse("action_item_list", args=["north"])

    seen = []
    for number in (1, 2, 3):
        page = client.get(url, {"show": "open", "page": number}).content.decode()
        seen += [f"Task {n}" for n in range(5) if f"Task {n}<" in page]
        assert f"Page {number} of 3" in page
        if number < 3:
            assert f"show=open&amp;page={number + 1}" in page
    assert seen == [f"Task {n}" for n in range(5)]  # by due date, each once
    assert client.get(url, {"page": "999"}).status_code == 200  # past the end: the last page


def test_a_status_changes_inline_and_only_the_owner_or_the_office_may(
    client, cast, district, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    meeting = schedule(cast)
    owner = MembershipFactory(district=district, role="counselor")
    other = MembershipFactory(district=district, role="counselor")
    with tenant_context(district):
        item = ActionItem.objects.create(
            district=district,
            meeting=meeting,
            what="Call the families",
            owner_membership=owner,
            due_date=datetime.date(2026, 1, 20),
        )
    url = reverse("action_item_status", args=["north", item.pk])
    signed_in(client, other)
    assert client.post(url, {"status": "done"}, HTTP_HX_REQUEST="true").status_code == 403
    signed_in(client, owner)
    response = client.post(url, {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="item-{item.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()  # the row only
    with tenant_context(district):
        item.refresh_from_db()
    assert item.status == "done" and item.done_on == district.today()
    bad = client.post(url, {"status": "finished"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Choose a status." in bad.content.decode()


def test_a_member_subscribes_to_a_secret_calendar_feed_and_revokes_it(client, cast, time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    schedule(cast)
    signed_in(client, cast[1])
    client.post(reverse("calendar_feed_manage", args=["north"]), {"action": "new"})
    page = client.get(reverse("meeting_calendar", args=["north"])).content.decode()
    feed_url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page).group(1)
    path = feed_url.split("//", 1)[1].split("/", 1)[1]
    client.logout()
    response = client.get("/" + path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) >= 3 and all(e["SUMMARY"] == "Monthly check-in" for e in events)
    # Shown once: the page no longer shows it.
    signed_in(client, cast[1])
    assert feed_url not in client.get(reverse("meeting_calendar", args=["north"])).content.decode()
    client.post(reverse("calendar_feed_manage", args=["north"]), {"action": "revoke"})
    client.logout()
    assert client.get("/" + path).status_code == 404
    assert client.get("/" + path.replace("north", "south")).status_code == 404


def test_the_answer_link_asks_first_then_records_in_the_contacts_language(
    client, cast, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    meeting = schedule(cast)
    with tenant_context(meeting.district):
        rita = Attendee.objects.get(meeting=meeting, contact__isnull=False)
    path = reverse(
        "meeting_response",
        args=[service.RESPONSE_LINK.make(d=rita.district_id, a=rita.pk, r="declined")],
    )
    page = client.get(path)
    assert page.status_code == 200 and page["Content-Language"] == "es"
    assert "Rechazar la invitación" in page.content.decode()
    with tenant_context(meeting.district):
        rita.refresh_from_db()
    assert rita.response == "invited"  # a link scanner's GET answers nothing
    done = client.post(path)
    assert done.status_code == 200
    with tenant_context(meeting.district):
        rita.refresh_from_db()
    assert rita.response == "declined"
    assert client.get(path[:-3] + "xx/").status_code == 404


def test_the_spanish_speaking_contact_gets_her_reminder_in_spanish(
    cast, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC), tick=False)
    schedule(cast)
    time_machine.move_to(datetime.datetime(2026, 1, 12, 21, 0, tzinfo=datetime.UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep()
    (message,) = [
        m
        for m in mail.outbox
        if m.to == ["rita@riverbend.example.org"] and "Recordatorio" in m.subject
    ]
    assert message.subject.startswith("Recordatorio: Monthly check-in el 13 de enero de 2026")
    html = message.alternatives[0][0]
    assert 'lang="es"' in html and "Aceptar" in html and "Rechazar" in html
    assert "Trellis no lee" in message.body


def test_the_partner_page_shows_its_meetings_and_open_action_items(
    client, cast, district, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    partner, coordinator, contact = cast
    signed_in(client, coordinator)
    url = reverse("partner_detail", args=["north", partner.pk])
    empty = client.get(url).content.decode()
    assert "No meeting with this partner in the next 60 days." in empty
    meeting = schedule(cast)
    with tenant_context(district):
        service.action_item_save(
            by=coordinator,
            meeting=meeting,
            what="Share the waitlist numbers",
            due_date=datetime.date(2025, 12, 20),
            owner_contact=contact,
        )
    text = client.get(url).content.decode()
    assert "Monthly check-in" in text and "January 13, 2026" in text
    assert "Share the waitlist numbers" in text and "Overdue" in text
    # The partner's own member sees them on their organization's page.
    own = MembershipFactory(district=district, role="partner", partner=partner)
    signed_in(client, own)
    assert (
        "Share the waitlist numbers"
        in client.get(reverse("partner_own", args=["north"])).content.decode()
    )


def test_the_organizer_is_asked_for_minutes_and_owners_see_overdue_items_at_home(
    client, cast, district, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    partner, coordinator, contact = cast
    start = datetime.datetime(2025, 12, 16, 15, 30, tzinfo=NY)  # ended 16 days ago
    meeting = schedule(
        cast, starts_at=start, ends_at=start + datetime.timedelta(hours=1), recurrence=""
    )
    owner = MembershipFactory(district=district, role="counselor")
    with tenant_context(district):
        service.action_item_save(
            by=coordinator,
            meeting=meeting,
            what="Call the three families",
            due_date=datetime.date(2025, 12, 30),
            owner_membership=owner,
        )
    signed_in(client, coordinator)
    home = client.get(reverse("district_home", args=["north"])).content.decode()
    assert "Minutes to write" in home and "Monthly check-in" in home
    signed_in(client, owner)
    home = client.get(reverse("district_home", args=["north"])).content.decode()
    assert "Action item overdue" in home and "Call the three families" in home
    assert "Minutes to write" not in home  # a counselor does not keep the minutes

    # Once the minutes are written, the organizer is no longer asked.
    from partnerships.selectors.meetings import occurrence_key, occurrence_of

    with tenant_context(district):
        occurrence = occurrence_of(meeting, occurrence_key(meeting.starts_at))
        service.occurrence_record_save(
            by=coordinator, occurrence=occurrence, minutes="We met.", decisions=""
        )
    signed_in(client, coordinator)
    assert (
        "Minutes to write"
        not in client.get(reverse("district_home", args=["north"])).content.decode()
    )


def test_an_address_the_mail_server_refuses_is_marked_on_the_contact_and_shown(
    client, cast, district, settings, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    settings.EMAIL_BACKEND = "tests.schools.outbox_backends.AllRecipientsRefused"
    with django_capture_on_commit_callbacks(execute=True):
        meeting = schedule(cast)
    contact = cast[2]
    with tenant_context(district):
        contact.refresh_from_db()
    assert contact.email_refused_at is not None
    signed_in(client, cast[1])
    page = client.get(reverse("meeting_detail", args=["north", meeting.pk])).content.decode()
    assert "The mail server refused this address" in page
    assert "The mail server refused the address" in page  # the delivery column says why


def test_a_partners_reminder_contacts_are_invited_unless_others_are_chosen(
    client, cast, district, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    partner, coordinator, rita = cast
    other = ContactFactory(district=district, partner=partner, email="o@riverbend.example.org")
    signed_in(client, coordinator)
    data = form_data(partner, rita, contacts=[])
    assert client.post(reverse("meeting_new", args=["north"]), data).status_code == 302
    with tenant_context(district):
        meeting = Meeting.objects.get()
        invited = set(
            Attendee.objects.filter(meeting=meeting, contact__isnull=False).values_list(
                "contact_id", flat=True
            )
        )
    assert invited == {rita.pk}  # Rita receives reminders; the other contact does not
    data = form_data(partner, rita, contacts=[other.pk], title="Second")
    assert client.post(reverse("meeting_new", args=["north"]), data).status_code == 302
    with tenant_context(district):
        second = Meeting.objects.get(title="Second")
        invited = set(
            Attendee.objects.filter(meeting=second, contact__isnull=False).values_list(
                "contact_id", flat=True
            )
        )
    assert invited == {other.pk}


def test_action_items_filter_by_owner_partner_and_overdue(client, cast, district, time_machine):
    time_machine.move_to(datetime.datetime(2026, 1, 2, 14, 0, tzinfo=datetime.UTC))
    partner, coordinator, rita = cast
    meeting = schedule(cast)
    other_meeting = schedule(cast, title="Another", partners=[PartnerFactory(district=district)])
    with tenant_context(district):
        for what, member, contact, due, where in [
            ("Rita's late item", None, rita, datetime.date(2025, 12, 1), meeting),
            ("Carla's coming item", coordinator, None, datetime.date(2026, 2, 1), meeting),
            ("Elsewhere", coordinator, None, datetime.date(2025, 12, 2), other_meeting),
        ]:
            service.action_item_save(
                by=coordinator,
                meeting=where,
                what=what,
                due_date=due,
                owner_membership=member,
                owner_contact=contact,
            )
    signed_in(client, coordinator)
    url = reverse("action_item_list", args=["north"])

    def shown(query):
        page = client.get(url + query)
        assert page.status_code == 200
        return {
            w
            for w in ("Rita's late item", "Carla's coming item", "Elsewhere")
            if w.replace("'", "&#x27;") in page.content.decode()
        }

    assert shown("") == {"Rita's late item", "Carla's coming item", "Elsewhere"}
    assert shown(f"?owner=c{rita.pk}") == {"Rita's late item"}
    assert shown("?owner=me") == {"Carla's coming item", "Elsewhere"}
    assert shown("?show=overdue") == {"Rita's late item", "Elsewhere"}
    assert shown(f"?partner={partner.pk}") == {"Rita's late item", "Carla's coming item"}
    assert shown("?owner=c999999&partner=nonsense") == {  # unknown values: ignored
        "Rita's late item",
        "Carla's coming item",
        "Elsewhere",
    }


def test_the_month_grid_answers_any_month_asked_for(client, cast):
    signed_in(client, cast[1])
    url = reverse("meeting_calendar", args=["north"]) + "?view=month&month="
    for month in ("0001-01", "9999-12", "2026-13", "x", "2026-02"):
        assert client.get(url + month).status_code == 200, month
