"""Meetings: scheduling a meeting or a series, changing or cancelling it or one occurrence,
its record (agenda, minutes, decisions), attendees' answers and action items.

Rule violations raise ValidationError keyed by form field; acting without the capability
raises PermissionDenied. A change that calendar programs must see (time, place, repeat
rule, attendees) raises the sequence and sends an update (METHOD:REQUEST) to every
attendee; cancelling sends METHOD:CANCEL; editing the agenda or the minutes sends
nothing. Reminders are re-planned in the same transaction (partnerships.services.reminders).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerships import meeting_rules
from partnerships.models import (
    MOU,
    ActionItem,
    ActionStatus,
    Attendee,
    Contact,
    Meeting,
    MeetingEmailKind,
    MeetingKind,
    MeetingOccurrence,
    Partner,
    Response,
)
from partnerships.selectors.meetings import (
    Occurrence,
    attendees_of,
    occurrences,
)
from partnerships.services.meeting_mail import (
    RESPONSE_LINK,
    meeting_mail,
    response_url,
)
from partnerships.services.reminders import reminders_plan
from schools.capabilities import can, require
from schools.models import Membership, School
from schools.tenancy import outside, require_same_district, tenant_context

# The reminder offsets a form offers, in minutes before the meeting.
OFFSET_CHOICES = (14 * 24 * 60, 7 * 24 * 60, 2 * 24 * 60, 24 * 60, 2 * 60, 30)
MAX_OFFSETS = 4

# --- Scheduling ----------------------------------------------------------------------------


def _validate(
    *,
    district,
    title,
    kind,
    starts_at,
    ends_at,
    rule_text,
    partners,
    schools,
    mou,
    members,
    contacts,
    offsets,
) -> meeting_rules.Rule:
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("Give the meeting a title.")]
    if kind not in MeetingKind.values:
        errors["kind"] = [_("Choose a kind of meeting.")]
    rule = meeting_rules.Rule("")
    if starts_at is None:
        errors["starts_at"] = [_("Enter when the meeting starts.")]
    elif ends_at is None:
        errors["ends_at"] = [_("Enter when the meeting ends.")]
    else:
        try:
            meeting_rules.check_times(starts_at, ends_at)
            rule = meeting_rules.check_rule(rule_text, starts_at, district.time_zone)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if outside(district, list(partners)):
        errors["partners"] = [_("Choose among your district's partners.")]
    if outside(district, list(schools)):
        errors["schools"] = [_("Choose among your district's schools.")]
    if mou is not None and outside(district, mou):
        errors["mou"] = [_("Choose among your district's MOUs.")]
    if outside(district, list(members)):
        errors["members"] = [_("Choose among your district's members.")]
    if outside(district, list(contacts)):
        errors["contacts"] = [_("Choose among your partners' contacts.")]
    if (
        not isinstance(offsets, (list, tuple))
        or len(offsets) > MAX_OFFSETS
        or any(not isinstance(value, int) or not 0 < value <= 60 * 24 * 60 for value in offsets)
    ):
        errors["reminder_offsets"] = [
            _("Choose at most %(count)s reminder times.") % {"count": MAX_OFFSETS}
        ]
    if errors:
        raise ValidationError(errors)
    return rule


_CALENDAR_FIELDS = ("starts_at", "ends_at", "recurrence", "location", "online_url", "title")
MEETING_FIELDS = (
    "title",
    "kind",
    "mou",
    "location",
    "online_url",
    "starts_at",
    "ends_at",
    "recurrence",
    "reminder_offsets",
    "agenda",
    "sequence",
)


@transaction.atomic
def meeting_save(
    *,
    by: Membership,
    meeting: Meeting | None = None,
    title: str,
    kind: str = MeetingKind.CHECK_IN,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    recurrence: str = "",
    location: str = "",
    online_url: str = "",
    partners: list[Partner] = (),
    schools: list[School] = (),
    mou: MOU | None = None,
    agenda: str = "",
    reminder_offsets: list[int] | None = None,
    members: list[Membership] = (),
    contacts: list[Contact] = (),
) -> tuple[Meeting, meeting_rules.Rule]:
    """Schedule a meeting or a series (meeting=None), or change one; returns it with the
    checked repeat rule (whose `capped_until` says when an endless rule was given an end).

    The organizer is always an attendee. New attendees get an invitation to the next
    occurrence; a change of time, place, rule or attendees raises the sequence and sends
    an update of the coming occurrences to every attendee (and a cancellation to anyone
    removed).
    """
    require(by, "meetings.manage")
    district = by.district
    creating = meeting is None
    if creating:
        meeting = Meeting(district_id=by.district_id, organizer=by)
    else:
        require_same_district(by, meeting)
        if meeting.cancelled_at:
            raise ValidationError({"__all__": [_("This meeting was cancelled.")]})
    partners, schools, members, contacts = (
        list(partners),
        list(schools),
        list(members),
        list(contacts),
    )
    offsets = sorted(
        {
            int(v)
            for v in (
                reminder_offsets if reminder_offsets is not None else meeting.reminder_offsets
            )
        },
        reverse=True,
    )
    rule = _validate(
        district=district,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        rule_text=recurrence,
        partners=partners,
        schools=schools,
        mou=mou,
        members=members,
        contacts=contacts,
        offsets=offsets,
    )
    before = {field: getattr(meeting, field) for field in _CALENDAR_FIELDS}
    meeting.title = title.strip()
    meeting.kind = kind
    meeting.mou = mou
    meeting.location = location.strip()
    meeting.online_url = online_url.strip()
    meeting.starts_at = starts_at
    meeting.ends_at = ends_at
    meeting.recurrence = rule.text
    meeting.reminder_offsets = offsets
    meeting.agenda = agenda.strip()
    calendar_changed = not creating and any(
        getattr(meeting, field) != value for field, value in before.items()
    )
    if creating:
        meeting.save()
    links = {"district_id": meeting.district_id}
    meeting.partners.set(partners, through_defaults=links)
    meeting.schools.set(schools, through_defaults=links)
    added, removed = _set_attendees(meeting, [by, *members], contacts)
    if calendar_changed or (not creating and (added or removed)):
        meeting.sequence += 1
    if not creating:
        meeting.save(update_fields=[*MEETING_FIELDS, "updated_at"])

    reminders_plan(meeting)
    coming = _coming(meeting)
    if not coming or not (creating or calendar_changed or added or removed):
        return meeting, rule
    invited = list(attendees_of(meeting))
    if creating:
        for attendee in invited:
            meeting_mail(meeting, coming[0], attendee, MeetingEmailKind.INVITATION, invited=invited)
        return meeting, rule
    new = {attendee.pk for attendee in added}
    for occurrence in coming:
        for attendee in invited:
            if attendee.response == Response.DECLINED:
                continue
            kind = MeetingEmailKind.INVITATION if attendee.pk in new else MeetingEmailKind.UPDATE
            meeting_mail(meeting, occurrence, attendee, kind, invited=invited)
        for attendee in removed:
            meeting_mail(
                meeting,
                occurrence,
                attendee,
                MeetingEmailKind.CANCELLATION,
                removed=True,
                invited=invited,
            )
    return meeting, rule


def _set_attendees(meeting, members, contacts):
    """Make the attendee list exactly `members` and `contacts`; (added, removed) attendees.
    Removed attendees are returned unsaved-deleted (their rows are gone, their values kept
    for the cancellation)."""
    current = list(attendees_of(meeting))
    want_members = {m.pk for m in members}
    want_contacts = {c.pk for c in contacts}
    removed = [
        a
        for a in current
        if (a.membership_id and a.membership_id not in want_members)
        or (a.contact_id and a.contact_id not in want_contacts)
    ]
    have_members = {a.membership_id for a in current if a.membership_id}
    have_contacts = {a.contact_id for a in current if a.contact_id}
    added = [
        Attendee(district_id=meeting.district_id, meeting=meeting, membership=m)
        for m in dict.fromkeys(members)
        if m.pk not in have_members
    ] + [
        Attendee(district_id=meeting.district_id, meeting=meeting, contact=c)
        for c in dict.fromkeys(contacts)
        if c.pk not in have_contacts
    ]
    Attendee.objects.bulk_create(added)
    if removed:
        Attendee.objects.for_district(meeting.district_id).filter(
            pk__in=[a.pk for a in removed]
        ).delete()
    return added, removed


def _coming(meeting) -> list[Occurrence]:
    """The occurrences of the next PLAN_DAYS not yet over (and not cancelled)."""
    now = timezone.now()
    return [
        occurrence
        for occurrence in occurrences(
            meeting,
            now - meeting.duration,
            now + datetime.timedelta(days=meeting_rules.PLAN_DAYS),
            include_cancelled=False,
        )
        if occurrence.ends_at > now
    ]


@transaction.atomic
def meeting_cancel(*, by: Membership, meeting: Meeting) -> int:
    """Cancel a meeting or a whole series: everyone invited gets METHOD:CANCEL for its
    coming occurrences, and no more reminders. Returns the number of emails."""
    require(by, "meetings.manage")
    require_same_district(by, meeting)
    if meeting.cancelled_at:
        return 0
    coming = _coming(meeting)
    meeting.cancelled_at = timezone.now()
    meeting.sequence += 1
    meeting.save(update_fields=["cancelled_at", "sequence", "updated_at"])
    reminders_plan(meeting)
    invited = list(attendees_of(meeting))
    sent = 0
    for occurrence in coming:
        occurrence.sequence += 1
        occurrence.cancelled = True
        for attendee in invited:
            sent += meeting_mail(
                meeting, occurrence, attendee, MeetingEmailKind.CANCELLATION, invited=invited
            )
    return sent


def _record(meeting, occurrence_start) -> MeetingOccurrence:
    record, _created = (
        MeetingOccurrence.objects.for_district(meeting.district_id)
        .select_for_update()
        .get_or_create(
            district_id=meeting.district_id, meeting=meeting, occurrence_start=occurrence_start
        )
    )
    return record


@transaction.atomic
def occurrence_change(
    *,
    by: Membership,
    occurrence: Occurrence,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    location: str = "",
    online_url: str = "",
) -> Occurrence:
    """Move one occurrence of a series, or change its place: an update to every attendee."""
    meeting = occurrence.meeting
    require(by, "meetings.manage")
    require_same_district(by, meeting)
    meeting_rules.check_times(starts_at, ends_at)
    if occurrence.cancelled:
        raise ValidationError({"__all__": [_("This occurrence was cancelled.")]})
    record = _record(meeting, occurrence.occurrence_start)
    record.starts_at, record.ends_at = starts_at, ends_at
    record.location, record.online_url = location.strip(), online_url.strip()
    record.sequence += 1
    record.save()
    reminders_plan(meeting)
    changed = occurrences(
        meeting, occurrence.occurrence_start, occurrence.occurrence_start + datetime.timedelta(1)
    )[0]
    invited = list(attendees_of(meeting))
    for attendee in invited:
        if attendee.response != Response.DECLINED:
            meeting_mail(meeting, changed, attendee, MeetingEmailKind.UPDATE, invited=invited)
    return changed


@transaction.atomic
def occurrence_cancel(*, by: Membership, occurrence: Occurrence) -> int:
    """Cancel one occurrence: METHOD:CANCEL to everyone invited, no more reminders for it."""
    meeting = occurrence.meeting
    require(by, "meetings.manage")
    require_same_district(by, meeting)
    if occurrence.cancelled:
        return 0
    record = _record(meeting, occurrence.occurrence_start)
    record.cancelled = True
    record.sequence += 1
    record.save()
    reminders_plan(meeting)
    occurrence.cancelled = True
    occurrence.sequence += 1
    invited = list(attendees_of(meeting))
    return sum(
        meeting_mail(meeting, occurrence, attendee, MeetingEmailKind.CANCELLATION, invited=invited)
        for attendee in invited
    )


@transaction.atomic
def occurrence_record_save(
    *, by: Membership, occurrence: Occurrence, minutes: str, decisions: str
) -> MeetingOccurrence:
    """The minutes and decisions of one occurrence: no mail, no change of sequence."""
    meeting = occurrence.meeting
    require(by, "meetings.manage")
    require_same_district(by, meeting)
    record = _record(meeting, occurrence.occurrence_start)
    record.minutes, record.decisions = minutes.strip(), decisions.strip()
    record.save(update_fields=["minutes", "decisions", "updated_at"])
    return record


# --- Answers -------------------------------------------------------------------------------


def attendee_respond(*, token: str) -> Attendee | None:
    """Record an attendee's answer from the signed link in their email (the link carries
    the answer). None when the attendee was removed since. Raises core.signed.BadLink for
    a tampered or expired link."""
    data = RESPONSE_LINK.read(token)
    with tenant_context(data["d"]):
        attendee = (
            Attendee.objects.for_district(data["d"])
            .select_for_update()
            .filter(pk=data["a"])
            .first()
        )
        if attendee is None:
            return None
        _answer(attendee, data["r"])
        return attendee


def attendee_lookup(*, token: str):
    """(attendee, answer) named by a response link, or (None, answer) when removed."""
    data = RESPONSE_LINK.read(token)
    with tenant_context(data["d"]):
        attendee = (
            Attendee.objects.for_district(data["d"])
            .select_related(
                "meeting__district", "meeting__organizer__user", "contact", "membership__user"
            )
            .filter(pk=data["a"])
            .first()
        )
    return attendee, data["r"]


@transaction.atomic
def meeting_respond(*, by: Membership, meeting: Meeting, response: str) -> Attendee:
    """A member answers for themselves on the meeting page."""
    if response not in (Response.ACCEPTED, Response.DECLINED):
        raise ValidationError({"response": [_("Choose to accept or decline.")]})
    attendee = (
        Attendee.objects.for_district(by.district_id)
        .select_for_update()
        .filter(meeting=meeting, membership=by)
        .first()
    )
    if attendee is None:
        raise PermissionDenied
    _answer(attendee, response)
    return attendee


def _answer(attendee: Attendee, response: str) -> None:
    if attendee.response == response:
        return
    attendee.response = response
    attendee.responded_at = timezone.now()
    attendee.save(update_fields=["response", "responded_at", "updated_at"])
    reminders_plan(attendee.meeting)


# --- Action items --------------------------------------------------------------------------


@transaction.atomic
def action_item_save(
    *,
    by: Membership,
    meeting: Meeting,
    item: ActionItem | None = None,
    what: str,
    due_date: datetime.date,
    owner_membership: Membership | None = None,
    owner_contact: Contact | None = None,
    occurrence_start: datetime.datetime | None = None,
) -> ActionItem:
    """Add an action item to a meeting, or change one: what, one owner, a due date."""
    require(by, "meetings.manage")
    require_same_district(by, meeting)
    errors: dict[str, list[str]] = {}
    if not (what or "").strip():
        errors["what"] = [_("Say what is to be done.")]
    if due_date is None:
        errors["due_date"] = [_("Enter a due date.")]
    if (owner_membership is None) == (owner_contact is None):
        errors["owner"] = [_("Choose one owner: a member or a partner contact.")]
    elif outside(by.district, owner_membership) or outside(by.district, owner_contact):
        errors["owner"] = [_("Choose among your district's people.")]
    if errors:
        raise ValidationError(errors)
    if item is None:
        item = ActionItem(district_id=meeting.district_id, meeting=meeting)
    elif item.meeting_id != meeting.pk:
        raise PermissionDenied
    item.what = what.strip()
    item.due_date = due_date
    item.owner_membership, item.owner_contact = owner_membership, owner_contact
    item.occurrence_start = occurrence_start
    item.save()
    return item


def can_update_item(membership: Membership, item: ActionItem) -> bool:
    """Managers, and the member who owns the item, may change its status."""
    return can(membership, "meetings.manage") or item.owner_membership_id == membership.pk


@transaction.atomic
def action_item_set_status(*, by: Membership, item: ActionItem, status: str) -> ActionItem:
    """Move an action item to `status`; done records the district's date."""
    require_same_district(by, item)
    if not can_update_item(by, item):
        raise PermissionDenied
    if status not in ActionStatus.values:
        raise ValidationError({"status": [_("Choose a status.")]})
    item.status = status
    item.done_on = by.district.today() if status == ActionStatus.DONE else None
    item.save(update_fields=["status", "done_on", "updated_at"])
    return item


__all__ = [
    "RESPONSE_LINK",
    "action_item_save",
    "action_item_set_status",
    "attendee_lookup",
    "attendee_respond",
    "meeting_cancel",
    "meeting_respond",
    "meeting_save",
    "occurrence_cancel",
    "occurrence_change",
    "occurrence_record_save",
    "response_url",
]
