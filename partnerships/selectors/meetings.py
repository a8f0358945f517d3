"""Reads of meetings: the meetings a member may see, the occurrences of a series in a
window (series and its exceptions merged), attendees and the mail sent about a meeting."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.shortcuts import get_object_or_404

from partnerships import meeting_rules
from partnerships.models import (
    ActionItem,
    ActionStatus,
    Attendee,
    Meeting,
    MeetingEmail,
    MeetingOccurrence,
    MeetingPartner,
)
from schools.capabilities import can
from schools.models import Role


def meetings_visible(membership):
    """The meetings `membership` may see: the district's for staff, those of its own
    organization for a partner member, none without `meetings.view`."""
    meetings = Meeting.objects.for_district(membership.district_id)
    if not can(membership, "meetings.view"):
        return meetings.none()
    if membership.role == Role.PARTNER:
        partner_meetings = MeetingPartner.objects.for_district(membership.district_id).filter(
            partner_id=membership.partner_id
        )
        meetings = meetings.filter(pk__in=partner_meetings.values("meeting_id"))
    return meetings


def access_meeting(membership, meeting_id, *, manage: bool = False) -> Meeting:
    """One meeting `membership` may see (and, with `manage`, change), or 404."""
    meetings = meetings_visible(membership)
    if manage and not can(membership, "meetings.manage"):
        meetings = meetings.none()
    return get_object_or_404(
        meetings.select_related("organizer__user", "mou", "district"), pk=meeting_id
    )


@dataclass
class Occurrence:
    """One occurrence as it will happen: the series' values with its exception applied."""

    meeting: Meeting
    occurrence_start: datetime.datetime  # the rule's start (the RECURRENCE-ID)
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    location: str
    online_url: str
    cancelled: bool
    sequence: int  # the series' and this occurrence's changes together
    record: MeetingOccurrence | None

    @property
    def key(self) -> str:
        """The occurrence in a URL: its original start as UTC digits."""
        return occurrence_key(self.occurrence_start)

    @property
    def has_minutes(self) -> bool:
        return bool(self.record and self.record.minutes.strip())


def occurrence_key(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_key(key: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


def occurrences(
    meeting: Meeting,
    after: datetime.datetime,
    before: datetime.datetime,
    *,
    records: dict | None = None,
    include_cancelled: bool = True,
) -> list[Occurrence]:
    """The occurrences of `meeting` whose original start is in [after, before), in order.

    `records`: the meeting's MeetingOccurrence rows by original start, when the caller has
    read them for many meetings at once (one query); else they are read here.
    """
    zone = meeting.district.time_zone
    starts = meeting_rules.occurrence_starts(
        meeting.starts_at, meeting.recurrence, zone, after, before
    )
    if records is None:
        records = {
            row.occurrence_start: row
            for row in MeetingOccurrence.objects.for_district(meeting.district_id).filter(
                meeting=meeting, occurrence_start__gte=after, occurrence_start__lt=before
            )
        }
    found = []
    for start in starts:
        found.append(_occurrence(meeting, start, records.get(start)))
    if not include_cancelled:
        found = [occurrence for occurrence in found if not occurrence.cancelled]
    return found


def _occurrence(meeting, start, record) -> Occurrence:
    cancelled = meeting.cancelled_at is not None or bool(record and record.cancelled)
    return Occurrence(
        meeting=meeting,
        occurrence_start=start,
        starts_at=(record.starts_at if record and record.starts_at else start),
        ends_at=(record.ends_at if record and record.ends_at else start + meeting.duration),
        location=(record.location if record and record.location else meeting.location),
        online_url=(record.online_url if record and record.online_url else meeting.online_url),
        cancelled=cancelled,
        sequence=meeting.sequence + (record.sequence if record else 0),
        record=record,
    )


def occurrence_of(meeting: Meeting, key: str) -> Occurrence | None:
    """The occurrence named by `key` (occurrence_key), or None if the series has none."""
    start = parse_occurrence_key(key)
    if start is None:
        return None
    found = occurrences(meeting, start, start + datetime.timedelta(seconds=1))
    return found[0] if found else None


def records_by_meeting(meetings, after, before) -> dict[int, dict]:
    """The MeetingOccurrence rows of `meetings` (of one district) with an original start in
    [after, before), by meeting id and start: one query, for `occurrences(records=...)`."""
    by_meeting: dict[int, dict] = {meeting.pk: {} for meeting in meetings}
    if meetings:
        rows = MeetingOccurrence.objects.for_district(meetings[0].district_id).filter(
            meeting_id__in=list(by_meeting),
            occurrence_start__gte=after,
            occurrence_start__lt=before,
        )
        for row in rows:
            by_meeting[row.meeting_id][row.occurrence_start] = row
    return by_meeting


def calendar_occurrences(membership, after, before, *, partner=None) -> list[Occurrence]:
    """Every occurrence in [after, before) of the meetings `membership` may see (with
    `partner` only), in time order: two queries (meetings, their exceptions) however many.
    A single meeting that started before the window (by more than a meeting lasts) is not
    read at all."""
    visible = meetings_visible(membership)
    if partner is not None:
        visible = visible.filter(pk__in=meetings_with_partner(membership.district_id, partner))
    meetings = list(
        visible.filter(starts_at__lt=before)
        .exclude(recurrence="", starts_at__lt=after - meeting_rules.MAX_DURATION)
        .select_related("district")
        .order_by("starts_at", "pk")
    )
    records = records_by_meeting(meetings, after, before)
    found = []
    for meeting in meetings:
        found.extend(occurrences(meeting, after, before, records=records[meeting.pk]))
    found.sort(key=lambda occurrence: (occurrence.starts_at, occurrence.meeting.pk))
    return found


def attendees_of(meeting: Meeting):
    return (
        Attendee.objects.for_district(meeting.district_id)
        .filter(meeting=meeting)
        .select_related("membership__user", "contact__partner")
        .order_by("contact_id", "pk")
    )


def meeting_emails(meeting: Meeting, limit: int = 200):
    """The mail sent about a meeting, newest first, with its delivery status."""
    return (
        MeetingEmail.objects.for_district(meeting.district_id)
        .filter(meeting=meeting)
        .select_related("attendee__membership__user", "attendee__contact", "email")
        .order_by("-created_at", "-pk")[:limit]
    )


def action_items(membership):
    """Action items of the meetings `membership` may see."""
    return (
        ActionItem.objects.for_district(membership.district_id)
        .filter(meeting__in=meetings_visible(membership))
        .select_related("meeting", "owner_membership__user", "owner_contact__partner")
    )


def open_action_items(membership):
    return action_items(membership).filter(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS])


def meetings_with_partner(district_id: int, partner):
    """The ids of the district's meetings with `partner` (a subquery)."""
    return (
        MeetingPartner.objects.for_district(district_id)
        .filter(partner=partner)
        .values("meeting_id")
    )


def partner_meetings(membership, partner, now, *, limit: int = 5) -> dict:
    """The partner page's section: the next meetings with `partner` (60 days) and the open
    action items of its meetings, that `membership` may see; a fixed handful of queries."""
    coming = [
        occurrence
        for occurrence in calendar_occurrences(
            membership,
            now,
            now + datetime.timedelta(days=meeting_rules.PLAN_DAYS),
            partner=partner,
        )
        if not occurrence.cancelled
    ][:limit]
    items = list(
        open_action_items(membership)
        .filter(meeting_id__in=meetings_with_partner(membership.district_id, partner))
        .order_by("due_date", "pk")[:10]
    )
    return {"coming": coming, "items": items}


def action_item_owners(membership) -> list[tuple[str, str]]:
    """The people who own an action item `membership` may see, as filter choices:
    ("m<membership id>", name) for members, ("c<contact id>", "name (partner)") for partner
    contacts; one query."""
    rows = (
        action_items(membership)
        .values(
            "owner_membership_id",
            "owner_membership__user__full_name",
            "owner_membership__user__email",
            "owner_contact_id",
            "owner_contact__name",
            "owner_contact__partner__name",
        )
        .distinct()
    )
    owners = {}
    for row in rows:
        if row["owner_membership_id"]:
            name = row["owner_membership__user__full_name"] or row["owner_membership__user__email"]
            owners[f"m{row['owner_membership_id']}"] = name
        elif row["owner_contact_id"]:
            owners[f"c{row['owner_contact_id']}"] = (
                f"{row['owner_contact__name']} ({row['owner_contact__partner__name']})"
            )
    return sorted(owners.items(), key=lambda item: item[1].lower())
