"""Meetings (issue 18): series on the district's wall clock, invitations with RFC 5545 files
that calendar programs accept, updates that keep the UID and raise SEQUENCE, cancellations,
answers from signed links, and who may see and change a meeting."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from icalendar import Calendar

from core.signed import BadLink
from partnerships import meeting_rules
from partnerships.models import Attendee, MeetingEmail, Response
from partnerships.selectors.meetings import access_meeting, occurrences
from partnerships.services import meetings as service
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, PartnerFactory
from tests.partnerships.meeting_setup import make_cast

NY = ZoneInfo("America/New_York")


@pytest.fixture
def cast(district):
    return make_cast(district)


LA = ZoneInfo("America/Los_Angeles")


def local(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def schedule(cast, **changes):
    partner, coordinator, contact = cast
    values = {
        "by": coordinator,
        "title": "Monthly check-in",
        "starts_at": local(NY, 2026, 1, 13, 15, 30),  # the second Tuesday of January
        "ends_at": local(NY, 2026, 1, 13, 16, 30),
        "recurrence": "FREQ=MONTHLY;BYDAY=2TU",
        "location": "North High, room 12",
        "partners": [partner],
        "contacts": [contact],
        "agenda": "Referrals this month\nMOU goals",
    }
    values.update(changes)
    with tenant_context(coordinator.district):
        return service.meeting_save(**values)


def invitations(to: str):
    """The iCalendar files sent to `to`, oldest first."""
    found = []
    for message in OutgoingEmail.objects.order_by("pk"):
        if message.to == [to]:
            for item in message.attachments:
                found.append((message, Calendar.from_ical(item["content"])))
    return found


def event_of(calendar):
    return calendar.walk("VEVENT")[0]


# --- The wall clock ----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", [NY, LA], ids=["New York", "Los Angeles"])
def test_the_second_tuesday_at_15_30_stays_15_30_across_both_daylight_saving_changes(zone):
    first = local(zone, 2026, 1, 13, 15, 30)
    rule = meeting_rules.check_rule("FREQ=MONTHLY;BYDAY=2TU", first, zone)
    starts = meeting_rules.occurrence_starts(
        first,
        rule.text,
        zone,
        local(zone, 2026, 1, 1, 0, 0),
        local(zone, 2026, 12, 31, 0, 0),
    )
    local_starts = [start.astimezone(zone) for start in starts]
    assert [start.date() for start in local_starts][:4] == [
        datetime.date(2026, 1, 13),
        datetime.date(2026, 2, 10),
        datetime.date(2026, 3, 10),  # two days after the spring change (8 March)
        datetime.date(2026, 4, 14),
    ]
    assert {(start.hour, start.minute) for start in local_starts} == {(15, 30)}
    offsets = {start.utcoffset() for start in local_starts}
    assert len(offsets) == 2  # standard and daylight time: UTC differs, the wall clock not
    assert local_starts[-1].date() == datetime.date(2026, 12, 8)  # after the fall change


def test_a_district_in_another_zone_gets_its_own_local_times():
    first_ny = local(NY, 2026, 3, 3, 9, 0)
    first_la = local(LA, 2026, 3, 3, 9, 0)
    rule = "FREQ=WEEKLY;COUNT=3"
    ny = meeting_rules.occurrence_starts(
        first_ny, rule, NY, first_ny, first_ny + datetime.timedelta(30)
    )
    la = meeting_rules.occurrence_starts(
        first_la, rule, LA, first_la, first_la + datetime.timedelta(30)
    )
    assert [s.astimezone(NY).hour for s in ny] == [9, 9, 9]
    assert [s.astimezone(LA).hour for s in la] == [9, 9, 9]
    assert [b - a for a, b in zip(ny, la, strict=True)] == [datetime.timedelta(hours=3)] * 3


def test_every_four_weeks_and_a_rule_that_never_ends_is_given_an_end():
    first = local(NY, 2026, 1, 6, 10, 0)
    rule = meeting_rules.check_rule("RRULE:FREQ=WEEKLY;INTERVAL=4", first, NY)
    assert rule.capped_until == datetime.date(2028, 1, 6)
    assert "UNTIL=20280106T235959" in rule.text
    last = meeting_rules.last_start(first, rule.text, NY)
    assert last.astimezone(NY).date() <= datetime.date(2028, 1, 6)
    assert last.astimezone(NY).hour == 10


@pytest.mark.parametrize(
    "text, message",
    [
        ("FREQ=HOURLY", "at most once a day"),
        ("FREQ=DAILY;BYHOUR=1,2,3,4", "more than 366"),
        ("FREQ=SOMETIMES", "not a repeat rule"),
        ("FREQ=WEEKLY;UNTIL=yesterday", "not a repeat rule"),
        ("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20200101", "no meeting on or after"),
        ("<script>", "not a repeat rule"),
    ],
)
def test_rules_that_cannot_be_kept_are_refused_with_a_message(text, message):
    with pytest.raises(ValidationError) as refused:
        meeting_rules.check_rule(text, local(NY, 2026, 1, 13, 15, 30), NY)
    assert message in " ".join(refused.value.message_dict["recurrence"])


def test_an_end_before_the_start_is_refused_next_to_the_end(cast):
    with pytest.raises(ValidationError) as refused:
        schedule(cast, ends_at=local(NY, 2026, 1, 13, 15, 0))
    assert refused.value.message_dict["ends_at"] == ["The end must be after the start."]


# --- Invitations, updates, cancellations ----------------------------------------------------


def test_scheduling_invites_everyone_with_a_calendar_file_calendar_programs_accept(
    cast, time_machine
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    sent = invitations("rita@riverbend.example.org")
    assert len(sent) == 1
    message, calendar = sent[0]
    assert message.subject.startswith("Invitación")  # Rita reads Spanish
    assert message.attachments[0]["mimetype"].startswith("text/calendar; method=REQUEST")
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    assert str(event["UID"]).startswith(f"{meeting.uid}-20260113T203000Z@")
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART") == local(NY, 2026, 1, 13, 15, 30)
    assert event["SEQUENCE"] == 0
    assert "mailto:" in str(event["ORGANIZER"])
    assert event["ORGANIZER"].params["CN"] == "Carla Coordinator"
    attendees = {str(a).lower() for a in event.get("ATTENDEE")}
    assert attendees == {"mailto:rita@riverbend.example.org", "mailto:carla@north.example.org"}
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    assert "no lee" in str(event["DESCRIPTION"])  # the answer is the link, in her language
    assert "/p/meetings/respond/" in message.body_text
    with tenant_context(meeting.district):
        assert MeetingEmail.objects.filter(meeting=meeting, kind="invitation").count() == 2


def test_a_change_of_time_keeps_the_uid_and_raises_the_sequence_the_agenda_sends_nothing(
    cast, time_machine
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    first_uid = str(event_of(invitations("rita@riverbend.example.org")[0][1])["UID"])

    schedule(cast, meeting=meeting, agenda="A new agenda")
    assert len(invitations("rita@riverbend.example.org")) == 1  # nothing sent

    schedule(
        cast,
        meeting=meeting,
        starts_at=local(NY, 2026, 1, 13, 16, 0),
        ends_at=local(NY, 2026, 1, 13, 17, 0),
    )
    message, calendar = invitations("rita@riverbend.example.org")[-1]
    event = event_of(calendar)
    assert message.subject.startswith("Cambio")
    assert calendar["METHOD"] == "REQUEST"
    assert event["SEQUENCE"] == 1
    # The occurrence moved by half an hour is a new occurrence of the rule: its UID names
    # the new start; the series' identity (its uid) is the same.
    assert str(event["UID"]).split("-2026")[0] == first_uid.split("-2026")[0]


def test_moving_one_occurrence_keeps_its_uid_and_cancelling_sends_cancel(cast, time_machine):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    with tenant_context(meeting.district):
        first = occurrences(meeting, local(NY, 2026, 1, 1, 0, 0), local(NY, 2026, 1, 31, 0, 0))[0]
        moved = service.occurrence_change(
            by=meeting.organizer,
            occurrence=first,
            starts_at=local(NY, 2026, 1, 14, 15, 30),
            ends_at=local(NY, 2026, 1, 14, 16, 30),
            location="District office",
        )
    uid = str(event_of(invitations("rita@riverbend.example.org")[0][1])["UID"])
    _message, update = invitations("rita@riverbend.example.org")[-1]
    assert str(event_of(update)["UID"]) == uid  # the same occurrence, moved
    assert event_of(update)["SEQUENCE"] == 1
    assert event_of(update).decoded("DTSTART") == local(NY, 2026, 1, 14, 15, 30)
    assert str(event_of(update)["LOCATION"]) == "District office"

    with tenant_context(meeting.district):
        service.occurrence_cancel(by=meeting.organizer, occurrence=moved)
    _message, cancel = invitations("rita@riverbend.example.org")[-1]
    assert cancel["METHOD"] == "CANCEL"
    assert str(event_of(cancel)["UID"]) == uid
    assert event_of(cancel)["SEQUENCE"] == 2
    assert str(event_of(cancel)["STATUS"]) == "CANCELLED"


def test_cancelling_the_series_tells_everyone_invited(cast, time_machine):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    with tenant_context(meeting.district):
        sent = service.meeting_cancel(by=meeting.organizer, meeting=meeting)
    # January and February fall within the next 60 days; two attendees each.
    assert sent == 4
    _message, cancel = invitations("rita@riverbend.example.org")[-1]
    assert cancel["METHOD"] == "CANCEL"


# --- Answers -----------------------------------------------------------------------------------


def test_a_contact_answers_from_the_signed_link_and_a_tampered_link_is_refused(cast, time_machine):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    with tenant_context(meeting.district):
        rita = Attendee.objects.get(meeting=meeting, contact__isnull=False)
    token = service.RESPONSE_LINK.make(d=rita.district_id, a=rita.pk, r="declined")
    service.attendee_respond(token=token)
    with tenant_context(meeting.district):
        rita.refresh_from_db()
    assert rita.response == Response.DECLINED and rita.responded_at is not None
    with pytest.raises(BadLink):
        service.attendee_respond(token=token[:-2] + ("A" if token[-1] != "A" else "B") + "x")
    forged = service.RESPONSE_LINK.make(d=rita.district_id + 1, a=rita.pk, r="accepted")
    assert service.attendee_respond(token=forged) is None  # not an attendee of that district


# --- Who may see and change ------------------------------------------------------------------


def test_who_may_see_and_change_a_meeting(cast, district, other_district, time_machine):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0))
    meeting, _rule = schedule(cast)
    partner, coordinator, _contact = cast
    counselor = MembershipFactory(district=district, role="counselor")
    own_partner = MembershipFactory(district=district, role="partner", partner=partner)
    other_partner = MembershipFactory(
        district=district, role="partner", partner=PartnerFactory(district=district)
    )
    stranger = MembershipFactory(district=other_district, role="coordinator")
    with tenant_context(district):
        assert access_meeting(coordinator, meeting.pk, manage=True) == meeting
        assert access_meeting(counselor, meeting.pk) == meeting
        with pytest.raises(Http404):
            access_meeting(counselor, meeting.pk, manage=True)
        assert access_meeting(own_partner, meeting.pk) == meeting
        with pytest.raises(Http404):
            access_meeting(other_partner, meeting.pk)
        with pytest.raises(PermissionDenied):
            service.meeting_cancel(by=counselor, meeting=meeting)
    with tenant_context(other_district), pytest.raises(Http404):
        access_meeting(stranger, meeting.pk)
    with tenant_context(other_district), pytest.raises(PermissionDenied):
        service.meeting_cancel(by=stranger, meeting=meeting)


def test_a_saved_rule_is_offered_again_as_the_choice_it_came_from():
    first = local(NY, 2026, 1, 13, 15, 30)
    monthly = meeting_rules.check_rule("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20260630", first, NY)
    assert meeting_rules.as_choice(monthly.text, first, NY) == (
        "monthly_weekday",
        datetime.date(2026, 6, 30),
        "",
    )
    assert meeting_rules.as_choice("", first, NY) == ("none", None, "")
    custom = meeting_rules.check_rule("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", first, NY)
    assert meeting_rules.as_choice(custom.text, first, NY) == ("custom", None, custom.text)
