"""Mail goes through an OutgoingEmail row and the worker task, exactly once."""

from django.core import mail

from schools.models import OutgoingEmail
from schools.services import email as services


def test_password_reset_mail_is_queued_then_sent_by_the_task(
    client, member, django_capture_on_commit_callbacks
):
    counselor = member("counselor")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": counselor.user.email})

    assert response.status_code == 302
    row = OutgoingEmail.objects.get()
    assert row.status == OutgoingEmail.Status.SENT
    assert row.body_text == ""  # the one-time link does not stay in the database
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [counselor.user.email]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert "Hello from Trellis!" in mail.outbox[0].body


def test_reset_for_an_unknown_address_looks_the_same(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})

    # No enumeration: same redirect; the message (if any) says nothing about an account.
    assert response.status_code == 302
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


def test_a_message_is_sent_once_even_if_the_task_runs_twice(db):
    row = services.email_queue(
        to=["a@example.org"], subject="Hello", body_text="Hi", from_email="t@example.org"
    )

    assert services.email_send(email_id=row.pk) is True
    assert services.email_send(email_id=row.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_is_counted_and_kept_for_a_later_retry(db, settings):
    settings.EMAIL_BACKEND = "tests.schools.broken_backend.BrokenBackend"
    row = services.email_queue(
        to=["a@example.org"], subject="Hello", body_text="Hi", from_email="t@example.org"
    )

    # No exception for the task to retry: the row keeps its own schedule, which survives
    # a broker restart.
    assert services.email_send(email_id=row.pk) is False
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutgoingEmail.Status.QUEUED, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.body_text == "Hi"
    assert row.due_at > row.first_attempt_at


def test_sweep_requeues_only_messages_stuck_in_queued(db, time_machine):
    import datetime as dt

    from django.utils import timezone

    time_machine.move_to(timezone.now() - dt.timedelta(hours=1))
    stuck = services.email_queue(
        to=["a@example.org"], subject="Old", body_text="x", from_email="t@example.org"
    )
    time_machine.move_to(timezone.now() + dt.timedelta(hours=1))
    services.email_queue(
        to=["b@example.org"], subject="New", body_text="x", from_email="t@example.org"
    )

    # Eager in tests: a requeued message is sent on the spot.
    assert services.email_sweep()["requeued"] == 1
    stuck.refresh_from_db()
    assert stuck.status == OutgoingEmail.Status.SENT


def test_sign_up_is_closed(client, db):
    response = client.get("/accounts/signup/")

    assert response.status_code == 200
    assert b"Sign Up Closed" in response.content or b"closed" in response.content.lower()


# --- Subjects are one line ------------------------------------------------------------------


def test_control_characters_in_a_subject_become_single_spaces_and_the_mail_is_sent(db):
    row = services.email_queue(
        to=["a@example.org"],
        subject="  Hello\r\nthere\x00\tand\x0b\x1b[31m\x85 bye\u2028now\r",
        body_text="Hi",
        from_email="t@example.org",
    )

    assert row.subject == "Hello there and [31m bye now"
    assert services.email_send(email_id=row.pk) is True
    row.refresh_from_db()
    assert row.status == OutgoingEmail.Status.SENT
    assert mail.outbox[0].subject == "Hello there and [31m bye now"


def test_mail_about_an_mou_whose_title_has_control_characters_is_sent(
    district, django_capture_on_commit_callbacks
):
    from tests.partnerships.mou_setup import Cast, advance, draft

    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner, title="Counseling\r\nat North\x0bHigh\x1b")

    with django_capture_on_commit_callbacks(execute=True):
        advance(mou, cast, "sent")

    rows = list(OutgoingEmail.objects.order_by("pk"))
    assert rows and all(row.status == OutgoingEmail.Status.SENT for row in rows)
    assert len(mail.outbox) == len(rows)
    subjects = [message.subject for message in mail.outbox]
    assert any("Counseling at North High" in subject for subject in subjects)
    assert not any(ch in subject for subject in subjects for ch in "\r\n\x0b\x1b")


def test_a_subject_shows_the_title_as_typed_not_html_escaped(
    district, django_capture_on_commit_callbacks
):
    from tests.partnerships.mou_setup import Cast, advance, draft

    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner, title='R&D <pilot> "Kids\' Minds"')

    with django_capture_on_commit_callbacks(execute=True):
        advance(mou, cast, "sent")

    subjects = [message.subject for message in mail.outbox]
    assert any('R&D <pilot> "Kids\' Minds"' in subject for subject in subjects), subjects
    assert not any("&amp;" in subject or "&lt;" in subject for subject in subjects)
