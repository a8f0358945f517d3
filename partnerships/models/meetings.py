"""Meetings between a district and its partners, their attendees, action items and the
reminders sent before each occurrence (DESIGN.md, Time and Email and calendar).

Times are stored in UTC and recur in the district's zone: a series is its first
occurrence (`starts_at`, `ends_at`) and an RFC 5545 rule (`recurrence`, read by
`partnerships.meeting_rules`), so "15:30 on the second Tuesday" stays 15:30 across
daylight-saving changes. An occurrence is named by its original start (its RECURRENCE-ID
in calendar terms, `occurrence_start`); a MeetingOccurrence row exists only where one
occurrence differs from the series (moved, cancelled) or has its own minutes.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from schools.models import Membership, OutgoingEmail, School, TenantModel

from . import MOU, Contact, Partner

# Reminder offsets in minutes before an occurrence; the organizer's default choice.
DEFAULT_REMINDER_OFFSETS = [7 * 24 * 60, 24 * 60]


def default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


class MeetingKind(models.TextChoices):
    CHECK_IN = "check_in", _("Partnership check-in")
    MOU_REVIEW = "mou_review", _("MOU review")
    CASE_CONSULTATION = "consultation", _("Case consultation (no student names)")
    TRAINING = "training", _("Training")


class Meeting(TenantModel):
    """One meeting or a series of them, with what was agreed."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=16, choices=MeetingKind.choices, default=MeetingKind.CHECK_IN
    )
    partners = models.ManyToManyField(
        Partner, through="MeetingPartner", blank=True, related_name="+"
    )
    schools = models.ManyToManyField(School, through="MeetingSchool", blank=True, related_name="+")
    # The MOU this meeting reviews, when it reviews one.
    mou = models.ForeignKey(MOU, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    organizer = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("organizer")
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    online_url = models.URLField(_("online meeting link"), max_length=500, blank=True)
    # The first occurrence, in UTC (shown and recurring in the district's zone).
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # An RFC 5545 RRULE value without the "RRULE:" prefix ("FREQ=MONTHLY;BYDAY=2TU"); empty
    # for a single meeting. Always bounded (UNTIL or COUNT) once saved: see meeting_rules.
    recurrence = models.CharField(_("repeats"), max_length=300, blank=True)
    # Reminder offsets in minutes before each occurrence.
    reminder_offsets = models.JSONField(default=default_reminder_offsets)
    agenda = models.TextField(_("agenda"), blank=True)
    # The calendar identity of the series: an occurrence's UID is derived from it.
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    # Raised on each change that calendar programs must see (time, place, attendees).
    sequence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Reminders are planned up to this time (the next 60 days, moved on by the sweep).
    planned_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["district", "starts_at"], name="meeting_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_end_after"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def duration(self):
        return self.ends_at - self.starts_at


class MeetingPartner(TenantModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "meeting", "partner"], name="meeting_partner_unique"
            ),
        ]
        indexes = [models.Index(fields=["district", "partner"], name="meeting_partner_idx")]

    def __str__(self):
        return f"{self.meeting_id} → {self.partner_id}"


class MeetingSchool(TenantModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "meeting", "school"], name="meeting_school_unique"
            ),
        ]

    def __str__(self):
        return f"{self.meeting_id} → {self.school_id}"


class MeetingOccurrence(TenantModel):
    """One occurrence where it differs from its series, or has its own record.

    `occurrence_start` is the start the rule gives it (its RECURRENCE-ID, UTC); moved, it
    keeps it and has its own `starts_at`/`ends_at`/place."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="occurrences")
    occurrence_start = models.DateTimeField()
    # Set when this occurrence was moved (NULL: as the series says).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    online_url = models.URLField(_("online meeting link"), max_length=500, blank=True)
    cancelled = models.BooleanField(default=False)
    # Changes of this occurrence alone, added to the series' sequence in its invitation.
    sequence = models.PositiveIntegerField(default=0)
    minutes = models.TextField(_("minutes"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "meeting", "occurrence_start"], name="meeting_occurrence_once"
            ),
        ]

    def __str__(self):
        return f"{self.meeting_id} @ {self.occurrence_start:%Y-%m-%d %H:%M}"


class Response(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Attendee(TenantModel):
    """A member or a partner contact invited to a meeting (every occurrence of it)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    response = models.CharField(
        _("response"), max_length=8, choices=Response.choices, default=Response.INVITED
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(membership__isnull=True) ^ models.Q(contact__isnull=True),
                name="attendee_one_person",
            ),
            models.UniqueConstraint(
                fields=["district", "meeting", "membership"], name="attendee_member_once"
            ),
            models.UniqueConstraint(
                fields=["district", "meeting", "contact"], name="attendee_contact_once"
            ),
        ]

    def __str__(self):
        return f"{self.meeting_id}: {self.membership_id or self.contact_id}"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class ActionItem(TenantModel):
    """Something agreed at a meeting: what, who, by when."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    # The occurrence it was agreed at (NULL: the series as a whole).
    occurrence_start = models.DateTimeField(null=True, blank=True)
    what = models.CharField(_("what"), max_length=300)
    owner_membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    owner_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["district", "status", "due_date"], name="action_item_due_idx")
        ]

    def __str__(self):
        return self.what


class ReminderStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CLAIMED = "claimed", _("Being sent")
    QUEUED = "queued", _("Sent")
    SKIPPED = "skipped", _("Not sent")


class Reminder(TenantModel):
    """One reminder: (occurrence, recipient, offset), planned ahead, claimed once.

    The unique constraint is the claim: planning twice never makes two rows, and the
    sweep moves a row planned -> claimed under a row lock (SKIP LOCKED) before the worker
    writes its email through the outbox in the same transaction that marks it queued."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="+")
    occurrence_start = models.DateTimeField()
    offset_minutes = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=ReminderStatus.choices, default=ReminderStatus.PLANNED
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Sent after its time (the workers were down), still before the meeting.
    late = models.BooleanField(default=False)
    # Why a reminder was not sent, in words for the organizer.
    skipped_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "meeting", "attendee", "occurrence_start", "offset_minutes"],
                name="reminder_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "due_at"],
                condition=models.Q(status="planned"),
                name="reminder_due_idx",
            ),
            models.Index(
                fields=["district", "claimed_at"],
                condition=models.Q(status="claimed"),
                name="reminder_claimed_idx",
            ),
        ]

    def __str__(self):
        return f"{self.meeting_id}/{self.attendee_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class MeetingEmailKind(models.TextChoices):
    INVITATION = "invitation", _("Invitation")
    UPDATE = "update", _("Update")
    CANCELLATION = "cancel", _("Cancellation")
    REMINDER = "reminder", _("Reminder")


class MeetingEmail(TenantModel):
    """Every email about a meeting, per recipient: what, when, and (through the outbox
    row) whether it was delivered. Shown on the meeting page."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="emails")
    attendee = models.ForeignKey(
        Attendee, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=MeetingEmailKind.choices)
    occurrence_start = models.DateTimeField()
    sequence = models.PositiveIntegerField(default=0)
    late = models.BooleanField(default=False)
    # The outbox row (not a tenant table: its delivery status is read from it).
    email = models.ForeignKey(
        OutgoingEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["district", "meeting", "created_at"], name="meeting_email_idx")
        ]

    def __str__(self):
        return f"{self.kind} {self.meeting_id} → {self.attendee_id}"


class CalendarFeed(TenantModel):
    """A member's secret calendar address (one per membership, so one per district).

    Only a hash of the secret is stored; revoking sets `revoked_at` and a new feed gets a
    new secret."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    secret_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "membership"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_live",
            ),
        ]

    def __str__(self):
        return f"feed {self.membership_id}"


class ActionDigest(TenantModel):
    """Claims one weekly digest of overdue action items for one owner: unique, so sent once
    a week however often the sweep runs. `owner` is "m<membership id>" or "c<contact id>"."""

    week = models.DateField()  # the Monday of the district's week it was sent in
    owner = models.CharField(max_length=24)
    items = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "week", "owner"], name="action_digest_once"
            ),
        ]

    def __str__(self):
        return f"{self.week} {self.owner}"
