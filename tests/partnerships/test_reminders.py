"""Meeting reminders arrive exactly once (issue 18): planned ahead for 60 days, found by a
sweep that costs one query when nothing is due, claimed under a lock, sent late (and said
so) after a short outage but never for a meeting already under way, re-planned when the
meeting changes, and on the wall clock across daylight-saving changes."""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connections

from partnerships.models import Attendee, MeetingEmail, Reminder, ReminderStatus
from partnerships.services import meetings as service
from partnerships.services import reminders
from partnerships.tasks import meeting_reminder_sweep, send_meeting_reminder
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, MembershipFactory, PartnerFactory, UserFactory
from tests.worker import start_worker, stop_worker

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
DAY = 24 * 60


def local(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def make_meeting(district, zone=NY, *, first=None, rule="FREQ=MONTHLY;BYDAY=2TU", offsets=None):
    district.time_zone = zone
    district.save(update_fields=["time_zone"])
    partner = PartnerFactory(district=district)
    coordinator = MembershipFactory(
        district=district, role="coordinator", user=UserFactory(email="carla@north.example.org")
    )
    contact = ContactFactory(
        district=district, partner=partner, email="rita@riverbend.example.org", reminders=True
    )
    first = first or local(zone, 2026, 1, 13, 15, 30)
    with tenant_context(district):
        meeting, _rule = service.meeting_save(
            by=coordinator,
            title="Monthly check-in",
            starts_at=first,
            ends_at=first + datetime.timedelta(hours=1),
            recurrence=rule,
            partners=[partner],
            contacts=[contact],
            reminder_offsets=offsets or [7 * DAY, DAY],
        )
    return meeting


def planned(district):
    with tenant_context(district):
        return sorted(
            (row.due_at, row.offset_minutes)
            for row in Reminder.objects.filter(status=ReminderStatus.PLANNED)
        )


def reminder_mails():
    return [m for m in OutgoingEmail.objects.order_by("pk") if m.subject.startswith("Reminder")]


def sweep(capture):
    with capture(execute=True):
        return meeting_reminder_sweep()


def test_reminders_are_planned_for_the_next_60_days_and_the_district_knows_the_next(
    district, time_machine
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    make_meeting(district)
    # 13 January and 10 February, 7 days and 1 day before, for two attendees; 10 March's
    # first reminder (3 March, 15:30) falls after the 60 days (3 March, 9:00).
    rows = planned(district)
    assert len(rows) == 8
    assert rows[0] == (local(NY, 2026, 1, 6, 15, 30), 7 * DAY)
    district.refresh_from_db()
    assert district.next_reminder_at == local(NY, 2026, 1, 6, 15, 30)


def test_the_sweep_with_nothing_due_is_one_query(district, time_machine, count_queries):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    make_meeting(district)
    assert count_queries(reminders.reminder_sweep) == 1


def test_a_due_reminder_is_sent_once_with_its_invitation(
    district, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    meeting = make_meeting(district)
    time_machine.move_to(local(NY, 2026, 1, 6, 15, 31), tick=False)
    assert sweep(django_capture_on_commit_callbacks) == 2
    assert sweep(django_capture_on_commit_callbacks) == 0
    sent = reminder_mails()
    assert sorted(m.to[0] for m in sent) == [
        "carla@north.example.org",
        "rita@riverbend.example.org",
    ]
    delivered = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert len(delivered) == 2
    for message in delivered:
        parts = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1 and parts[0].get_param("method") == "REQUEST"
        assert parts[0].get_filename() == "invite.ics"
        assert "METHOD:REQUEST" in parts[0].get_payload(decode=True).decode()
    with tenant_context(district):
        assert MeetingEmail.objects.filter(meeting=meeting, kind="reminder").count() == 2
        assert Reminder.objects.filter(status=ReminderStatus.QUEUED, late=False).count() == 2
    # Claimed rows are looked at again two minutes later (a lost task); then the next.
    district.refresh_from_db()
    assert district.next_reminder_at == local(NY, 2026, 1, 6, 15, 33)
    time_machine.move_to(local(NY, 2026, 1, 6, 15, 34), tick=False)
    assert sweep(django_capture_on_commit_callbacks) == 0
    district.refresh_from_db()
    assert district.next_reminder_at == local(NY, 2026, 1, 12, 15, 30)


def test_two_sweeps_at_the_same_moment_send_each_reminder_once(
    district, transactional_db, time_machine
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    make_meeting(district)
    time_machine.move_to(local(NY, 2026, 1, 12, 16, 0), tick=False)  # two reminders each
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            reminders.reminder_sweep()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # The 7-day reminder is more than a day late: skipped; the 1-day one is sent, once.
    assert sorted(m.to[0] for m in reminder_mails()) == [
        "carla@north.example.org",
        "rita@riverbend.example.org",
    ]


def test_a_reminder_missed_while_the_workers_were_down_is_sent_late_but_not_after_the_start(
    district, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    meeting = make_meeting(district)
    # Down from before the 1-day reminder (12 January, 15:30) until the next morning.
    time_machine.move_to(local(NY, 2026, 1, 13, 9, 0), tick=False)
    sweep(django_capture_on_commit_callbacks)
    with tenant_context(district):
        rows = {
            (row.offset_minutes, row.status, row.late, row.skipped_reason)
            for row in Reminder.objects.filter(
                meeting=meeting, occurrence_start__lt=local(NY, 2026, 2, 1, 0, 0)
            )
        }
    assert (DAY, ReminderStatus.QUEUED, True, "") in rows  # 17.5 hours late: sent, late
    assert (7 * DAY, ReminderStatus.SKIPPED, False, reminders.SKIP_MISSED) in rows
    assert all("(late)" not in m.subject for m in reminder_mails())

    # February's 1-day reminder, with the workers back only once the meeting has begun.
    time_machine.move_to(local(NY, 2026, 2, 3, 15, 31), tick=False)
    sweep(django_capture_on_commit_callbacks)
    time_machine.move_to(local(NY, 2026, 2, 10, 15, 45), tick=False)
    sweep(django_capture_on_commit_callbacks)
    with tenant_context(district):
        february = Reminder.objects.get(
            meeting=meeting,
            offset_minutes=DAY,
            attendee__contact__isnull=False,
            occurrence_start=local(NY, 2026, 2, 10, 15, 30),
        )
    assert february.status == ReminderStatus.SKIPPED
    assert february.skipped_reason == reminders.SKIP_STARTED


def test_a_task_lost_after_the_claim_is_handed_over_again_and_sent_once(
    district, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    make_meeting(district)
    time_machine.move_to(local(NY, 2026, 1, 6, 15, 31), tick=False)
    with tenant_context(district):
        claimed, _stuck = reminders._claim(district.pk, reminders.timezone.now())
    assert len(claimed) == 2 and reminder_mails() == []  # claimed; the tasks never ran
    time_machine.move_to(local(NY, 2026, 1, 6, 15, 32), tick=False)
    assert sweep(django_capture_on_commit_callbacks) == 0  # not yet: it may still run
    time_machine.move_to(local(NY, 2026, 1, 6, 15, 35), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        counts = reminders.reminder_sweep()
    assert counts["requeued"] == 2
    assert len(reminder_mails()) == 2
    for reminder_id in claimed:  # the lost task arrives after all: nothing more
        assert send_meeting_reminder(district.pk, reminder_id) == ""
    assert len(reminder_mails()) == 2


def test_changes_replan_and_a_decline_stops_the_reminders(district, time_machine):
    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    meeting = make_meeting(district)
    with tenant_context(district):
        service.meeting_save(
            by=meeting.organizer,
            meeting=meeting,
            title=meeting.title,
            starts_at=local(NY, 2026, 1, 13, 10, 0),
            ends_at=local(NY, 2026, 1, 13, 11, 0),
            recurrence="FREQ=MONTHLY;BYDAY=2TU",
            partners=[],
            contacts=[Attendee.objects.get(meeting=meeting, contact__isnull=False).contact],
            members=[meeting.organizer],
            reminder_offsets=[DAY],
        )
    rows = planned(district)
    assert len(rows) == 4  # two dates, one offset, two people
    assert rows[0][0] == local(NY, 2026, 1, 12, 10, 0)
    with tenant_context(district):
        rita = Attendee.objects.get(meeting=meeting, contact__isnull=False)
    service.attendee_respond(
        token=service.RESPONSE_LINK.make(d=district.pk, a=rita.pk, r="declined")
    )
    assert len(planned(district)) == 2


@pytest.mark.parametrize(
    "zone, first, due",
    [
        # New York: 2nd Tuesday of March 2026 is two days after the spring change; the
        # 1-day reminder is 15:30 daylight time (19:30 UTC), not standard (20:30 UTC).
        (NY, (2026, 3, 10, 15, 30), datetime.datetime(2026, 3, 9, 19, 30, tzinfo=datetime.UTC)),
        # Los Angeles: the first Tuesday of November 2026 follows the fall change (1 Nov).
        (LA, (2026, 11, 3, 9, 0), datetime.datetime(2026, 11, 2, 17, 0, tzinfo=datetime.UTC)),
    ],
    ids=["New York spring", "Los Angeles fall"],
)
def test_reminders_keep_the_wall_clock_across_daylight_saving_changes(
    district, time_machine, zone, first, due
):
    time_machine.move_to(local(zone, *first) - datetime.timedelta(days=10), tick=False)
    make_meeting(
        district, zone, first=local(zone, *first), rule="FREQ=MONTHLY;COUNT=3", offsets=[DAY]
    )
    assert planned(district)[0][0] == due
    assert planned(district)[0][0].astimezone(zone).hour == first[3]


def test_two_real_workers_given_the_same_reminders_send_each_once(
    district, transactional_db, tmp_path, broker
):
    """Two `celery worker` processes against Redis, every reminder task delivered twice:
    each reminder is written once (on the real clock: a meeting the day after tomorrow)."""
    now = datetime.datetime.now(datetime.UTC)
    make_meeting(district, first=now + datetime.timedelta(days=2), rule="", offsets=[DAY])
    with tenant_context(district):
        ids = list(Reminder.objects.values_list("pk", flat=True))
        Reminder.objects.filter(pk__in=ids).update(
            status=ReminderStatus.CLAIMED,
            claimed_at=now,
            due_at=now - datetime.timedelta(minutes=1),
        )
    assert len(ids) == 2
    queue = f"test-{uuid.uuid4().hex[:8]}"
    workers = [start_worker(queues=queue, outbox=tmp_path / "outbox") for _ in range(2)]
    try:
        for reminder_id in ids * 2:  # every task delivered twice
            send_meeting_reminder.apply_async(args=[district.pk, reminder_id], queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with tenant_context(district):
                left = Reminder.objects.filter(pk__in=ids, status=ReminderStatus.CLAIMED).count()
            if left == 0:
                break
            time.sleep(0.25)
    finally:
        outputs = [stop_worker(worker) for worker in workers]
    with tenant_context(district):
        statuses = list(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True))
        logged = MeetingEmail.objects.filter(kind="reminder").count()
    assert set(statuses) == {ReminderStatus.QUEUED}, outputs[0][-3000:]
    assert logged == len(ids)
    assert len(reminder_mails()) == len(ids)


def test_the_weekly_digest_lists_each_owners_overdue_items_once_a_week(
    district, time_machine, django_capture_on_commit_callbacks
):
    from partnerships.models import ActionItem
    from partnerships.tasks import action_item_digest

    time_machine.move_to(local(NY, 2026, 1, 2, 9, 0), tick=False)
    meeting = make_meeting(district)
    with tenant_context(district):
        rita = Attendee.objects.get(meeting=meeting, contact__isnull=False).contact
        carla = meeting.organizer
        for what, owner, contact, due in [
            ("Send the flyer", carla, None, datetime.date(2026, 1, 5)),
            ("Share the waitlist", None, rita, datetime.date(2026, 1, 6)),
            ("Plan the spring", carla, None, datetime.date(2026, 3, 1)),  # not overdue
        ]:
            service.action_item_save(
                by=carla,
                meeting=meeting,
                what=what,
                due_date=due,
                owner_membership=owner,
                owner_contact=contact,
            )
    mail.outbox.clear()

    def digests():
        return [m for m in OutgoingEmail.objects.order_by("pk") if "overdue" in m.subject]

    # Monday 12 January 2026, 6:00 in New York: not yet; from 7:00: once each, then no more.
    time_machine.move_to(local(NY, 2026, 1, 12, 6, 0), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert action_item_digest() == 0
    time_machine.move_to(local(NY, 2026, 1, 12, 7, 5), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert action_item_digest() == 2
        assert action_item_digest() == 0
    sent = {m.to[0]: m for m in digests()}
    assert set(sent) == {"carla@north.example.org", "rita@riverbend.example.org"}
    carla_mail = [m for m in mail.outbox if m.to == ["carla@north.example.org"]][0]
    assert "Send the flyer" in carla_mail.body and "Plan the spring" not in carla_mail.body
    # The next week again; and none at all once nothing is overdue.
    time_machine.move_to(local(NY, 2026, 1, 19, 8, 0), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert action_item_digest() == 2
    with tenant_context(district):
        ActionItem.objects.filter(due_date__lt=datetime.date(2026, 2, 1)).update(status="done")
    time_machine.move_to(local(NY, 2026, 1, 26, 8, 0), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert action_item_digest() == 0
