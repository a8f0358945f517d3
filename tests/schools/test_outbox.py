"""The outbox under faults (issue 11), through the service, the sweep and the pages.

The process-level faults (a worker killed mid-send, Redis stopped) are in
test_outbox_faults.py; here each rule is tried on its own, in process.
"""

from __future__ import annotations

import datetime as dt
import html
import smtplib
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from schools.models import DistrictEmail, OutgoingEmail
from schools.services import email as services
from schools.tenancy import tenant_context
from tests.factories import DistrictEmailFactory, OutgoingEmailFactory

Status = OutgoingEmail.Status
Failure = OutgoingEmail.Failure


def queue(to, **fields):
    return services.email_queue(
        to=to, subject="Hello", body_text="Hi", from_email="t@example.org", **fields
    )


def send(row) -> OutgoingEmail:
    services.email_send(email_id=row.pk)
    row.refresh_from_db()
    return row


@pytest.fixture
def backend(settings):
    """Point the mail backend at tests.schools.outbox_backends.<name>."""

    def use(name):
        settings.EMAIL_BACKEND = f"tests.schools.outbox_backends.{name}"

    return use


# --- Recipients are checked when queued ------------------------------------------------------


@pytest.mark.parametrize("to", [[], [""], ["   "], ["not-an-address"], "not-an-address"])
def test_a_message_to_nobody_is_stored_failed_with_the_reason_and_never_sent(
    db, to, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue(to)

    row.refresh_from_db()
    assert (row.status, row.failure) == (Status.FAILED, Failure.NO_RECIPIENT)
    assert row.attempts == 0
    assert mail.outbox == []


def test_one_bad_address_does_not_stop_the_good_one(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue(
            ["not-an-address", "Rosa <rosa@partner.example.org>", "ROSA@partner.example.org"]
        )

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.refused == ["not-an-address"]
    assert [m.to for m in mail.outbox] == [["rosa@partner.example.org"]]


def test_every_message_carries_its_own_message_id_on_the_public_host(db, settings):
    settings.SITE_URL = "https://trellis.example.org"
    first, second = queue(["a@example.org"]), queue(["b@example.org"])

    assert first.message_id.endswith("@trellis.example.org>")
    assert first.message_id != second.message_id
    send(first)
    assert mail.outbox[0].extra_headers["Message-ID"] == first.message_id
    assert mail.outbox[0].message()["Message-ID"] == first.message_id


# --- Permanent errors fail at once, with the reason ------------------------------------------


@pytest.mark.parametrize(
    ("name", "failure", "error"),
    [
        ("AllRecipientsRefused", Failure.REFUSED, "SMTPRecipientsRefused"),
        ("MessageRejected", Failure.REJECTED, "SMTPDataError"),
        ("HeaderError", Failure.INVALID, "BadHeaderError"),
        ("SendsToNobody", Failure.NO_RECIPIENT, "PermanentFailure"),
    ],
)
def test_a_permanent_error_fails_the_message_at_once_with_its_reason(
    db, backend, name, failure, error
):
    backend(name)
    row = send(queue(["a@example.org"]))

    assert (row.status, row.failure, row.attempts) == (Status.FAILED, failure, 1)
    assert row.last_error.startswith(error)
    assert row.body_text == "Hi"  # kept: a coordinator may send it again


def test_a_row_whose_recipients_are_not_a_list_fails_instead_of_being_retried_forever(db):
    row = OutgoingEmailFactory(to="a@example.org")  # written by hand, bypassing email_queue

    row = send(row)

    assert (row.status, row.failure) == (Status.FAILED, Failure.INVALID)
    assert "TypeError" in row.last_error
    assert services.email_sweep(now=timezone.now() + dt.timedelta(hours=1))["requeued"] == 0


def test_a_stored_row_with_no_recipient_fails_rather_than_counting_as_sent(db):
    row = send(OutgoingEmailFactory(to=[]))

    assert (row.status, row.failure) == (Status.FAILED, Failure.NO_RECIPIENT)
    assert mail.outbox == []


# --- Transient errors are retried with backoff, within a budget of hours -----------------------


def test_an_unreachable_server_is_retried_with_growing_waits_then_given_up(
    db, backend, settings, time_machine
):
    settings.EMAIL_RETRY_HOURS = 24
    backend("Unreachable")
    row = queue(["a@example.org"])
    start = timezone.now()
    time_machine.move_to(start, tick=False)

    waits = []
    while True:
        row = send(row)
        if row.status != Status.QUEUED:
            break
        waits.append(row.due_at - timezone.now())
        time_machine.move_to(row.due_at, tick=False)

    minutes = [wait.total_seconds() / 60 for wait in waits]
    assert minutes[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert set(minutes[7:]) == {60}
    assert (row.status, row.failure) == (Status.FAILED, Failure.UNREACHABLE)
    assert timezone.now() - start <= dt.timedelta(hours=24)
    assert timezone.now() - start > dt.timedelta(hours=22)
    assert row.attempts == len(waits) + 1


def test_a_missing_outbox_folder_is_transient(db, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings.EMAIL_BACKEND = "config.mail.OutboxBackend"
    settings.EMAIL_OUTBOX_DIR = blocker / "outbox"  # cannot be made

    row = send(queue(["a@example.org"]))

    assert (row.status, row.attempts) == (Status.QUEUED, 1)
    assert row.due_at > timezone.now()

    settings.EMAIL_OUTBOX_DIR = tmp_path / "outbox"
    OutgoingEmail.objects.filter(pk=row.pk).update(due_at=timezone.now())
    row = send(row)
    assert row.status == Status.SENT
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_a_greylisting_refusal_is_retried(db, backend):
    backend("Greylisted")
    row = send(queue(["a@example.org"]))

    assert (row.status, row.failure) == (Status.QUEUED, "")


# --- The sweep ---------------------------------------------------------------------------------


@pytest.fixture
def broker_down():
    """Publishing goes to a broker that is not there (as when Redis is stopped)."""
    app.conf.task_always_eager = False
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.task_always_eager = True


def test_a_message_queued_while_the_broker_is_down_is_sent_by_the_next_sweep_after_a_minute(
    db, broker_down, django_capture_on_commit_callbacks, time_machine
):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue(["a@example.org"])  # the enqueue fails quietly

    assert services.email_sweep()["requeued"] == 0  # not yet a minute
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
    assert services.email_sweep()["requeued"] == 1  # broker still down: fails quietly too
    touched = OutgoingEmail.objects.get(pk=row.pk).updated_at
    assert services.email_sweep()["requeued"] == 0  # touched: left a minute

    app.conf.task_always_eager = True  # the broker is back (eager: sent on the spot)
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
    assert services.email_sweep()["requeued"] == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert touched < row.updated_at


def test_a_message_waiting_for_its_retry_is_left_until_due(db, backend, time_machine):
    backend("Unreachable")
    row = send(queue(["a@example.org"]))
    backend("Fine")

    time_machine.move_to(timezone.now() + dt.timedelta(seconds=59))
    assert services.email_sweep()["requeued"] == 0
    time_machine.move_to(row.due_at + dt.timedelta(seconds=1))
    assert services.email_sweep()["requeued"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def _interrupted(row, *, ago=dt.timedelta(minutes=2)) -> OutgoingEmail:
    """As a worker that died after committing "sending" leaves it."""
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status=Status.SENDING, attempts=1, updated_at=timezone.now() - ago
    )
    row.refresh_from_db()
    return row


def test_an_interrupted_send_is_sent_again_with_the_same_message_id_and_counted(db):
    row = _interrupted(queue(["a@example.org"]))

    assert services.email_sweep()["resent"] == 1

    row.refresh_from_db()
    assert (row.status, row.resends, row.attempts) == (Status.SENT, 1, 2)
    [message] = mail.outbox
    assert message.message()["Message-ID"] == row.message_id


def test_a_send_under_way_is_not_taken_back(transactional_db):
    """A worker still sending holds the row's lock: the sweep leaves the row alone."""
    row = _interrupted(queue(["a@example.org"]))
    locked, release = threading.Event(), threading.Event()

    def worker():
        try:
            with transaction.atomic():
                OutgoingEmail.objects.select_for_update().get(pk=row.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert services.email_sweep()["resent"] == 0
    finally:
        release.set()
        thread.join()
    row.refresh_from_db()
    assert (row.status, row.resends) == (Status.SENDING, 0)


def test_a_recent_sending_row_is_left_alone(db):
    row = _interrupted(queue(["a@example.org"]), ago=dt.timedelta(seconds=10))

    assert services.email_sweep()["resent"] == 0
    row.refresh_from_db()
    assert row.status == Status.SENDING


def test_a_message_that_keeps_killing_its_worker_stops_after_three_resends(db, broker_down):
    row = queue(["a@example.org"])  # the broker is down: nothing is sent here
    for _ in range(services.MAX_RESENDS):
        _interrupted(row)
        assert services.email_sweep()["resent"] == 1
    _interrupted(row)

    assert services.email_sweep()["failed"] == 1
    row.refresh_from_db()
    assert (row.status, row.failure, row.resends) == (
        Status.FAILED,
        Failure.INTERRUPTED,
        services.MAX_RESENDS + 1,
    )
    assert mail.outbox == []


# --- The district's mail delivery page --------------------------------------------------------


def _client(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_a_coordinator_sees_what_failed_with_the_reason_and_sends_it_again(
    member, district, django_capture_on_commit_callbacks
):
    coordinator = member("coordinator")
    failed = DistrictEmailFactory(district=district)
    delivered = DistrictEmailFactory(
        district=district, email__status=Status.SENT, email__subject="Delivered fine"
    )
    client = _client(coordinator)

    page = client.get(reverse("mail_list", args=[district.slug]))

    assert page.status_code == 200
    text = page.content.decode()
    assert failed.email.subject in text
    assert "The mail server refused the address" in text
    assert "550 5.1.1 no such user" in text
    assert delivered.email.subject not in text  # needs no one: shown under "All messages"
    assert (
        delivered.email.subject
        in client.get(reverse("mail_list", args=[district.slug]) + "?show=all").content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mail_retry", args=[district.slug, failed.pk]))

    assert response.status_code == 302
    failed.email.refresh_from_db()
    assert failed.email.status == Status.SENT
    assert [m.subject for m in mail.outbox] == [failed.email.subject]


def test_the_mail_page_is_for_the_office_and_the_district_only(
    member, district, other_district, django_capture_on_commit_callbacks
):
    failed = DistrictEmailFactory(district=district)
    theirs = DistrictEmailFactory(district=other_district)
    counselor = _client(member("counselor"))
    coordinator = _client(member("coordinator"))

    assert counselor.get(reverse("mail_list", args=[district.slug])).status_code == 403
    assert counselor.post(reverse("mail_retry", args=[district.slug, failed.pk])).status_code == 403
    page = coordinator.get(reverse("mail_list", args=[district.slug]) + "?show=all")
    assert theirs.email.subject not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("mail_retry", args=[district.slug, theirs.pk]))
    assert response.status_code == 404
    theirs.email.refresh_from_db()
    assert theirs.email.status == Status.FAILED
    assert mail.outbox == []


def test_the_retry_service_refuses_another_districts_message(member, other_district):
    coordinator = member("coordinator")
    theirs = DistrictEmailFactory(district=other_district)

    with pytest.raises(PermissionDenied):
        services.district_email_retry(by=coordinator, link=theirs)
    theirs.email.refresh_from_db()
    assert theirs.email.status == Status.FAILED


def test_sending_again_what_is_no_longer_failed_says_so(member, district):
    coordinator = member("coordinator")
    sent = DistrictEmailFactory(district=district, email__status=Status.SENT)
    client = _client(coordinator)

    response = client.post(reverse("mail_retry", args=[district.slug, sent.pk]), follow=True)

    assert "no longer waiting to be tried again" in response.content.decode()


def test_the_mail_page_costs_the_same_queries_for_many_messages(
    member, district, django_assert_max_num_queries
):
    client = _client(member("coordinator"))
    url = reverse("mail_list", args=[district.slug])
    DistrictEmailFactory(district=district)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    DistrictEmailFactory.create_batch(30, district=district)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_home_page_tells_the_office_of_undelivered_mail(member, district):
    coordinator = _client(member("coordinator"))
    home = reverse("district_home", args=[district.slug])
    assert "Mail not delivered" not in coordinator.get(home).content.decode()

    DistrictEmailFactory(district=district)

    text = coordinator.get(home).content.decode()
    assert "Mail not delivered" in text
    assert reverse("mail_list", args=[district.slug]) in text
    assert "Mail not delivered" not in _client(member("counselor")).get(home).content.decode()


def test_mail_written_for_a_district_is_linked_to_it(district, django_capture_on_commit_callbacks):
    from core.mail import send_templated

    with django_capture_on_commit_callbacks(execute=True):
        row = send_templated(
            "schools/email/invitation",
            to="new@example.org",
            context={"district": district, "url": "https://x", "role": "Counselor"},
            language="en",
            district=district,
        )

    with tenant_context(district):
        assert DistrictEmail.objects.get(email=row).district == district


# --- Platform staff: the admin action ------------------------------------------------------------


def test_platform_staff_send_failed_messages_again_from_the_admin(
    db, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory, enable_totp

    staff = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(staff)
    client = Client()
    client.force_login(staff)
    failed = OutgoingEmailFactory(status=Status.FAILED, failure=Failure.UNREACHABLE)
    sent = OutgoingEmailFactory(status=Status.SENT, body_text="")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:schools_outgoingemail_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "1 message will be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert len(mail.outbox) == 1


def test_the_admin_never_shows_a_body(db):
    from tests.factories import UserFactory, enable_totp

    staff = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(staff)
    client = Client()
    client.force_login(staff)
    row = OutgoingEmailFactory(status=Status.FAILED, body_text="secret reset link xyz")

    page = client.get(reverse("admin:schools_outgoingemail_change", args=[row.pk]))

    assert page.status_code == 200
    assert "secret reset link xyz" not in page.content.decode()
    assert html.escape(row.message_id) in page.content.decode()


def test_smtp_exceptions_are_classified():
    classify = services._classify
    assert classify(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")})) == Failure.REFUSED
    assert classify(smtplib.SMTPRecipientsRefused({"a@x": (450, b"later")})) is None
    assert classify(smtplib.SMTPAuthenticationError(535, b"bad")) is None
    assert classify(smtplib.SMTPServerDisconnected("gone")) is None
    assert classify(ConnectionRefusedError()) is None
    assert classify(smtplib.SMTPDataError(554, b"spam")) == Failure.REJECTED
    assert classify(smtplib.SMTPDataError(421, b"busy")) is None
