"""Calendar files (RFC 5545, written with `icalendar`): the invitation sent with meeting
mail (iTIP methods REQUEST and CANCEL, RFC 5546) and a member's calendar feed.

- One VEVENT per occurrence, with a UID stable for that occurrence (the series' uid and
  the occurrence's original start), so an update or a cancellation replaces the event a
  calendar already holds; SEQUENCE is the series' changes plus the occurrence's own.
- Times carry the district's TZID, with its VTIMEZONE in the file.
- ORGANIZER is Trellis's sending address (CN: the organizer's name). Calendar programs
  send their replies there, and Trellis does not read them: the accept and decline links
  of the email are the record, and the event's description says so.
"""

from __future__ import annotations

import datetime
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from partnerships.selectors.meetings import Occurrence, occurrence_key

PRODID = "-//Trellis//Partnership meetings//EN"
ICS_MIMETYPE = "text/calendar"

PARTSTAT = {"invited": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED"}


def _host() -> str:
    return urlsplit(settings.SITE_URL or "").hostname or settings.EMAIL_MESSAGE_ID_DOMAIN


def occurrence_uid(occurrence: Occurrence) -> str:
    """The UID of one occurrence: the same for every file that speaks of it."""
    return f"{occurrence.meeting.uid}-{occurrence_key(occurrence.occurrence_start)}@{_host()}"


def sender_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"no-reply@{_host()}"


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _event(occurrence: Occurrence, *, status: str, attendees=(), organizer_name: str = ""):
    zone = occurrence.meeting.district.time_zone
    meeting = occurrence.meeting
    event = Event()
    event.add("uid", occurrence_uid(occurrence))
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", occurrence.starts_at.astimezone(zone))
    event.add("dtend", occurrence.ends_at.astimezone(zone))
    event.add("sequence", occurrence.sequence)
    event.add("summary", meeting.title)
    event.add("status", status)
    place = occurrence.location or occurrence.online_url
    if place:
        event.add("location", place)
    if occurrence.online_url:
        event.add("url", occurrence.online_url)
    organizer = vCalAddress(f"mailto:{sender_address()}")
    if organizer_name:
        organizer.params["CN"] = vText(organizer_name)
    event.add("organizer", organizer)
    for name, address, response in attendees:
        attendee = vCalAddress(f"mailto:{address}")
        if name:
            attendee.params["CN"] = vText(name)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText(PARTSTAT.get(response, "NEEDS-ACTION"))
        attendee.params["RSVP"] = vText("FALSE")
        event.add("attendee", attendee, encode=0)
    return event


def invitation_ics(
    occurrence: Occurrence,
    *,
    method: str,
    attendees: list[tuple[str, str, str]],
    organizer_name: str,
    description: str = "",
) -> str:
    """The iCalendar text of an invitation (method REQUEST) or a cancellation (CANCEL) of
    one occurrence. `attendees`: (name, address, response) of everyone invited; written in
    the active language (the recipient's)."""
    if method not in {"REQUEST", "CANCEL"}:
        raise ValueError(f"unknown iTIP method {method!r}")
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    event = _event(occurrence, status=status, attendees=attendees, organizer_name=organizer_name)
    note = _(
        "Answer with the Accept or Decline link in the email: Trellis does not read replies "
        "sent from a calendar program."
    )
    event.add("description", f"{description}\n\n{note}".strip())
    calendar = _calendar(method)
    calendar.add_component(event)
    _add_zone(calendar, occurrence.starts_at)
    return calendar.to_ical().decode()


def feed_ics(name: str, occurrences: list[Occurrence], due_items: list, zone) -> str:
    """A member's calendar feed: `occurrences` as events (cancelled ones as such) and
    action items as all-day events on their due date."""
    calendar = _calendar(None)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(zone))
    for occurrence in occurrences:
        calendar.add_component(
            _event(occurrence, status="CANCELLED" if occurrence.cancelled else "CONFIRMED")
        )
    for item in due_items:
        event = Event()
        event.add("uid", f"action-{item.meeting.uid}-{item.pk}@{_host()}")
        event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
        event.add("dtstart", item.due_date)
        event.add("dtend", item.due_date + datetime.timedelta(days=1))
        event.add("summary", _("Due: %(what)s") % {"what": item.what})
        event.add("description", item.meeting.title)
        calendar.add_component(event)
    if occurrences:
        _add_zone(calendar, occurrences[0].starts_at, occurrences[-1].ends_at)
    return calendar.to_ical().decode()


def _add_zone(calendar: Calendar, first, last=None) -> None:
    """The VTIMEZONE of the zones used, with the transitions around the events only (a
    file per invitation should not carry seventy years of daylight-saving dates)."""
    last = last or first
    calendar.add_missing_timezones(
        first_date=(first - datetime.timedelta(days=366)).date(),
        last_date=(last + datetime.timedelta(days=366)).date(),
    )


def ics_attachment(text: str, method: str) -> dict:
    """An outbox attachment (schools.services.email) for an invitation."""
    return {
        "filename": "invite.ics",
        "mimetype": f"{ICS_MIMETYPE}; method={method}; charset=utf-8",
        "content": text,
    }
