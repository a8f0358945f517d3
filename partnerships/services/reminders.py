"""Meeting reminders that arrive exactly once (DESIGN.md, Background work).

- Planned: `reminders_plan` writes one Reminder row per (occurrence, attendee, offset) for
  the occurrences of the next PLAN_DAYS, again whenever the meeting or its attendees
  change (rows no longer wanted are deleted, moved ones get their new time); the unique
  constraint makes planning twice harmless. The district's `next_reminder_at` is lowered
  to the earliest new row in the same transaction.
- Found: `reminder_sweep` (every minute) reads the districts whose `next_reminder_at` has
  come in one indexed query (nothing due: that one query), then in each district claims
  the due rows under a row lock with SKIP LOCKED (planned -> claimed) and enqueues one
  task per row once that commits.
- Sent: `reminder_send` (the task) locks the claimed row again, writes the email with its
  invitation through the outbox and marks the row queued in the same transaction, so a
  second task for the same row finds nothing to do. The outbox then sends it with a
  Message-ID fixed when it was queued: the one window in which a reminder can go twice is
  between the mail server's acceptance and the outbox's commit of "sent", and mail
  programs that collapse duplicates by Message-ID show it once.
- A task lost (broker down, worker killed before it committed) leaves the row claimed:
  the sweep hands it over again after STUCK_AFTER.
- Late: a reminder due while the workers were down is still sent (and marked late) when
  it is less than MAX_LATE overdue and the meeting has not started; otherwise it is
  skipped with the reason.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.jobs import enqueue
from core.mail import absolute_url, recipient_language, send_templated
from partnerships import meeting_rules
from partnerships.models import (
    ActionDigest,
    ActionItem,
    ActionStatus,
    Attendee,
    Contact,
    Meeting,
    MeetingEmailKind,
    Reminder,
    ReminderStatus,
    Response,
)
from partnerships.selectors.meetings import occurrence_key, occurrence_of, occurrences
from partnerships.services.meeting_mail import can_mail, meeting_mail
from partnerships.services.unsubscribe import unsubscribe_url
from schools.models import District, DistrictEmail, OutgoingEmail
from schools.tenancy import tenant_context, work_in_district

# Sent after its time (and marked late) when at most this overdue...
MAX_LATE = datetime.timedelta(days=1)
# ... and counted late from this much after its time.
LATE_AFTER = datetime.timedelta(minutes=5)
# A claimed row whose task has not run this long after the claim is handed over again.
STUCK_AFTER = datetime.timedelta(minutes=2)
# Rows claimed per district per sweep (the next sweep takes the rest at once).
CLAIM_BATCH = 5000

# Why a reminder was not sent (stored untranslated; shown translated).
SKIP_CANCELLED = gettext_noop("The meeting was cancelled.")
SKIP_STARTED = gettext_noop("The meeting had already started.")
SKIP_MISSED = gettext_noop("More than a day late: Trellis was not sending mail.")
SKIP_NO_ADDRESS = gettext_noop("No email address, or unsubscribed.")
SKIP_DECLINED = gettext_noop("Declined the meeting.")


def _wanted(meeting: Meeting, now: datetime.datetime) -> dict[tuple, datetime.datetime]:
    """(attendee id, occurrence start, offset) -> due time of every reminder that should
    be planned now: coming occurrences, attendees who have not declined, due in the future
    and within PLAN_DAYS."""
    if meeting.cancelled_at is not None:
        return {}
    horizon = now + datetime.timedelta(days=meeting_rules.PLAN_DAYS)
    longest = datetime.timedelta(minutes=max(meeting.reminder_offsets or [0]))
    attendees = [
        attendee
        for attendee in Attendee.objects.for_district(meeting.district_id)
        .filter(meeting=meeting)
        .exclude(response=Response.DECLINED)
        .select_related("contact", "membership__user")
        if can_mail(attendee)
    ]
    wanted = {}
    coming = occurrences(
        meeting,
        now - datetime.timedelta(days=1),
        horizon + longest + datetime.timedelta(days=1),
        include_cancelled=False,
    )
    for occurrence in coming:
        for offset in meeting.reminder_offsets:
            due = occurrence.starts_at - datetime.timedelta(minutes=offset)
            if now < due <= horizon:
                for attendee in attendees:
                    wanted[(attendee.pk, occurrence.occurrence_start, offset)] = due
    return wanted


def reminders_plan(meeting: Meeting, *, now: datetime.datetime | None = None) -> int:
    """Make the planned reminders of `meeting` exactly what it now wants (see module);
    returns the number of rows planned. Runs in the caller's transaction and district."""
    now = now or timezone.now()
    wanted = _wanted(meeting, now)
    with transaction.atomic():
        planned = {
            (row.attendee_id, row.occurrence_start, row.offset_minutes): row
            for row in Reminder.objects.for_district(meeting.district_id)
            .select_for_update()
            .filter(meeting=meeting, status=ReminderStatus.PLANNED)
        }
        gone = [row.pk for key, row in planned.items() if key not in wanted]
        if gone:
            Reminder.objects.for_district(meeting.district_id).filter(pk__in=gone).delete()
        moved = []
        for key, row in planned.items():
            if key in wanted and row.due_at != wanted[key]:
                row.due_at = wanted[key]
                moved.append(row)
        Reminder.objects.bulk_update(moved, ["due_at"])
        Reminder.objects.bulk_create(
            [
                Reminder(
                    district_id=meeting.district_id,
                    meeting=meeting,
                    attendee_id=attendee_id,
                    occurrence_start=start,
                    offset_minutes=offset,
                    due_at=due,
                )
                for (attendee_id, start, offset), due in wanted.items()
                if (attendee_id, start, offset) not in planned
            ],
            ignore_conflicts=True,  # already sent or skipped for that key: never twice
        )
        horizon = now + datetime.timedelta(days=meeting_rules.PLAN_DAYS)
        Meeting.objects.for_district(meeting.district_id).filter(pk=meeting.pk).update(
            planned_until=horizon
        )
        if wanted:
            earliest = min(wanted.values())
            # LEAST ignores NULL in PostgreSQL: a district with nothing planned takes it.
            District.objects.filter(pk=meeting.district_id).update(
                next_reminder_at=Least(F("next_reminder_at"), earliest)
            )
    return len(wanted)


def reminders_extend(*, district, now: datetime.datetime | None = None) -> int:
    """Plan on (hourly): the meetings of `district` whose plan ends within a day."""
    now = now or timezone.now()
    edge = now + datetime.timedelta(days=meeting_rules.PLAN_DAYS - 1)
    meetings = (
        Meeting.objects.for_district(district.pk)
        .filter(cancelled_at__isnull=True, planned_until__lt=edge)
        .select_related("district")
    )
    count = 0
    for meeting in meetings:
        last = meeting_rules.last_start(meeting.starts_at, meeting.recurrence, district.time_zone)
        if last + meeting.duration < now:
            continue
        count += reminders_plan(meeting, now=now)
    return count


def reminder_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Claim every due reminder of every district and hand each to the worker.

    One query when nothing is due (the districts whose next reminder has come); then, per
    district with something due, one transaction that claims its due rows (and takes back
    rows whose task was lost), and one message per row after the commit."""
    from partnerships.tasks import send_meeting_reminder

    now = now or timezone.now()
    counts = {"claimed": 0, "requeued": 0}
    due_districts = list(
        District.objects.filter(next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .values_list("pk", flat=True)
    )
    for district_id in due_districts:
        with work_in_district(district_id):
            claimed, stuck = _claim(district_id, now)
        counts["claimed"] += len(claimed)
        counts["requeued"] += len(stuck)
        for reminder_id in [*claimed, *stuck]:
            enqueue(send_meeting_reminder, district_id, reminder_id)
    return counts


def _claim(district_id: int, now) -> tuple[list[int], list[int]]:
    with transaction.atomic():
        # Taken first: planning lowers next_reminder_at under the same row lock, so the
        # value written below never hides a row planned meanwhile.
        District.objects.select_for_update().filter(pk=district_id).values_list("pk").first()
        rows = Reminder.objects.for_district(district_id)
        claimed = list(
            rows.filter(status=ReminderStatus.PLANNED, due_at__lte=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:CLAIM_BATCH]
        )
        if claimed:
            rows.filter(pk__in=claimed).update(status=ReminderStatus.CLAIMED, claimed_at=now)
        stuck = list(
            rows.filter(status=ReminderStatus.CLAIMED, claimed_at__lt=now - STUCK_AFTER)
            .exclude(pk__in=claimed)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:CLAIM_BATCH]
        )
        if stuck:
            rows.filter(pk__in=stuck).update(claimed_at=now)
        more = len(claimed) == CLAIM_BATCH or len(stuck) == CLAIM_BATCH
        nexts = rows.filter(status=ReminderStatus.PLANNED).aggregate(due=Min("due_at"))["due"]
        waiting = rows.filter(status=ReminderStatus.CLAIMED).aggregate(at=Min("claimed_at"))["at"]
        candidates = [value for value in (nexts, waiting and waiting + STUCK_AFTER) if value]
        if more:
            candidates.append(now)
        District.objects.filter(pk=district_id).update(
            next_reminder_at=min(candidates) if candidates else None
        )
    return claimed, stuck


def reminder_send(*, reminder_id: int, now: datetime.datetime | None = None) -> str:
    """Send one claimed reminder (the task); returns what became of it: "sent", "late",
    "skipped", or "" when another task had it already. Exactly once: the row is locked
    and moved out of "claimed" in the transaction that queues its email."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=reminder_id, status=ReminderStatus.CLAIMED)
            .select_related(
                "meeting__district",
                "meeting__organizer__user",
                "attendee__contact",
                "attendee__membership__user",
            )
            .first()
        )
        if reminder is None:
            return ""
        meeting, attendee = reminder.meeting, reminder.attendee
        occurrence = occurrence_of(meeting, occurrence_key(reminder.occurrence_start))
        reason = ""
        if occurrence is None or occurrence.cancelled:
            reason = SKIP_CANCELLED
        elif occurrence.starts_at <= now:
            reason = SKIP_STARTED
        elif now - reminder.due_at > MAX_LATE:
            reason = SKIP_MISSED
        elif attendee.response == Response.DECLINED:
            reason = SKIP_DECLINED
        elif not can_mail(attendee):
            reason = SKIP_NO_ADDRESS
        if reason:
            reminder.status = ReminderStatus.SKIPPED
            reminder.skipped_reason = reason
            reminder.save(update_fields=["status", "skipped_reason", "updated_at"])
            return "skipped"
        reminder.late = now - reminder.due_at > LATE_AFTER
        meeting_mail(meeting, occurrence, attendee, MeetingEmailKind.REMINDER, late=reminder.late)
        reminder.status = ReminderStatus.QUEUED
        reminder.save(update_fields=["status", "late", "updated_at"])
        return "late" if reminder.late else "sent"


# --- The weekly digest of overdue action items ---------------------------------------------------


def action_digest_district(*, district, now: datetime.datetime | None = None) -> int:
    """Once a week, one email to each owner of overdue action items, listing them; nothing to
    an owner with nothing overdue. Claimed per (week, owner) on a unique row, so a sweep run
    twice (or hourly) sends each digest once. Returns the number of digests sent."""
    now = now or timezone.now()
    today = timezone.localdate(now, timezone=district.time_zone)
    week = today - datetime.timedelta(days=today.weekday())
    overdue = (
        ActionItem.objects.for_district(district.pk)
        .filter(
            status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS],
            due_date__lt=today,
            meeting__cancelled_at__isnull=True,
        )
        .select_related("meeting", "owner_membership__user", "owner_contact")
        .order_by("due_date", "pk")
    )
    by_owner: dict[str, list] = {}
    for item in overdue:
        if item.owner_membership_id:
            key = f"m{item.owner_membership_id}"
        elif item.owner_contact_id:
            key = f"c{item.owner_contact_id}"
        else:
            continue
        by_owner.setdefault(key, []).append(item)
    # Owners who had this week's digest already: skipped without trying (the unique claim
    # below still decides when two runs meet).
    done = set(
        ActionDigest.objects.for_district(district.pk)
        .filter(week=week)
        .values_list("owner", flat=True)
    )
    actions_url = absolute_url(reverse("action_item_list", args=[district.slug]) + "?owner=me")
    sent = 0
    for key, items in by_owner.items():
        if key in done:
            continue
        first = items[0]
        if key.startswith("m"):
            member = first.owner_membership
            address, person, unsubscribe = member.user.email, member, ""
            if not member.active:
                continue
        else:
            contact = first.owner_contact
            if not contact.email or contact.unsubscribed_at is not None:
                continue
            address, person, unsubscribe = contact.email, contact, unsubscribe_url(contact)
        try:
            with transaction.atomic():
                ActionDigest.objects.create(
                    district_id=district.pk, week=week, owner=key, items=len(items)
                )
                send_templated(
                    "partnerships/email/action_digest",
                    to=address,
                    context={
                        "items": items,
                        "item_count": len(items),
                        "district_name": district.name,
                        "link": actions_url if key.startswith("m") else "",
                    },
                    language=recipient_language(person, district),
                    district=district,
                    unsubscribe_url=unsubscribe,
                )
        except IntegrityError:
            continue  # this week's digest for this owner was sent already
        sent += 1
    return sent


# The digest goes out from this hour on Monday, district time.
DIGEST_HOUR = 7


def action_digest_when_due(*, district, now: datetime.datetime | None = None) -> int:
    """`action_digest_district` from Monday DIGEST_HOUR on (district time); the claim makes
    the later runs of the week send nothing more."""
    now = now or timezone.now()
    local = now.astimezone(district.time_zone)
    if local.weekday() == 0 and local.hour < DIGEST_HOUR:
        return 0
    return action_digest_district(district=district, now=now)


# --- Addresses the mail server refused --------------------------------------------------------


def mark_refused_address(sender, *, message, failure, **kwargs) -> None:
    """(schools.services.email.email_failed) A message to a partner contact's address that
    the mail server refused: the contact is marked, and the coordinator sees it on the
    meeting and partner pages until the address is changed. Trellis receives no mail, so a
    bounce after acceptance is out of reach.

    The outbox is not a tenant table; the district that wrote the message is found through
    its DistrictEmail row, district by district (a refusal is rare, and each look is one
    indexed query under that district's row-level security)."""
    if failure != OutgoingEmail.Failure.REFUSED or not isinstance(message.to, list):
        return
    addresses = [address for address in message.to if isinstance(address, str)]
    for district_id in District.objects.order_by("pk").values_list("pk", flat=True):
        with tenant_context(district_id):
            if (
                not DistrictEmail.objects.for_district(district_id)
                .filter(email_id=message.pk)
                .exists()
            ):
                continue
            for address in addresses:
                Contact.objects.for_district(district_id).filter(
                    email__iexact=address, email_refused_at__isnull=True
                ).update(email_refused_at=timezone.now())
            return
