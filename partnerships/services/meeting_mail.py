"""Mail about a meeting: one email per attendee (an invitation, an update, a cancellation
or a reminder) in the attendee's language, with its iCalendar file, the signed accept and
decline links (RESPONSE_LINK) and, for a partner contact, the one-click unsubscribe; each
logged on the meeting (MeetingEmail) with its outbox row."""

from __future__ import annotations

import datetime

from django.urls import reverse

from core.mail import absolute_url, mail_language, recipient_language, send_templated
from core.signed import SignedLink, payload_id, payload_str
from partnerships.models import Attendee, MeetingEmail, MeetingEmailKind, Response
from partnerships.selectors.meetings import attendees_of
from partnerships.services import calendar
from partnerships.services.unsubscribe import unsubscribe_url
from schools.tenancy import district_locale

RESPONSE_LINK = SignedLink(
    salt="trellis.partnerships.meeting-response",
    fields={
        "d": payload_id,
        "a": payload_id,
        "r": lambda data, key: payload_str(data, key, pattern=r"accepted|declined"),
    },
    max_age=datetime.timedelta(days=400),
    url_name="meeting_response",
)


def response_url(attendee: Attendee, response: str) -> str:
    return RESPONSE_LINK.url(d=attendee.district_id, a=attendee.pk, r=response)


# --- Mail ----------------------------------------------------------------------------------


def attendee_person(attendee: Attendee):
    """(name, address, language person) of an attendee."""
    if attendee.contact_id:
        contact = attendee.contact
        return contact.name, contact.email, contact
    user = attendee.membership.user
    return user.full_name or user.email, user.email, attendee.membership


def can_mail(attendee: Attendee) -> bool:
    """Whether an attendee can be written to: an address, not unsubscribed, an active
    membership."""
    if attendee.contact_id:
        return bool(attendee.contact.email) and attendee.contact.unsubscribed_at is None
    return bool(attendee.membership.user.email) and attendee.membership.active


def meeting_mail(
    meeting, occurrence, attendee, kind, *, late=False, removed=False, invited=None
) -> int:
    """One meeting email to one attendee, with its invitation; logged on the meeting.
    Returns 1 when queued, 0 when the attendee cannot be written to. `removed`: the
    attendee's row is gone (a cancellation to someone taken off the list). `invited`: the
    meeting's attendees (attendees_of), when the caller writes to several of them."""
    if not can_mail(attendee):
        return 0
    name, address, person = attendee_person(attendee)
    language = recipient_language(person, meeting.district)
    method = "CANCEL" if kind == MeetingEmailKind.CANCELLATION else "REQUEST"
    organizer = meeting.organizer.user
    with district_locale(meeting.district, mail_language(language, meeting.district)):
        everyone = [
            (*attendee_person(other)[:2], other.response)
            for other in (attendees_of(meeting) if invited is None else invited)
            if can_mail(other)
        ]
        ics = calendar.invitation_ics(
            occurrence,
            method=method,
            attendees=everyone,
            organizer_name=organizer.full_name or organizer.email,
            description=meeting.agenda,
        )
    context = {
        "kind": kind,
        "late": late,
        "meeting": meeting,
        "occurrence": occurrence,
        "name": name,
        "district_name": meeting.district.name,
        "organizer_name": organizer.full_name or organizer.email,
        "kind_label": meeting.get_kind_display(),
        "accept_url": "" if method == "CANCEL" else response_url(attendee, Response.ACCEPTED),
        "decline_url": "" if method == "CANCEL" else response_url(attendee, Response.DECLINED),
        "response": attendee.response,
        "link": (
            absolute_url(reverse("meeting_detail", args=[meeting.district.slug, meeting.pk]))
            if attendee.membership_id
            else ""
        ),
    }
    email = send_templated(
        "partnerships/email/meeting",
        to=address,
        context=context,
        language=language,
        district=meeting.district,
        unsubscribe_url=unsubscribe_url(attendee.contact) if attendee.contact_id else "",
        attachments=[calendar.ics_attachment(ics, method)],
    )
    MeetingEmail.objects.create(
        district_id=meeting.district_id,
        meeting=meeting,
        attendee=None if removed else attendee,
        kind=kind,
        occurrence_start=occurrence.occurrence_start,
        sequence=occurrence.sequence,
        late=late,
        email=email,
    )
    return 1
