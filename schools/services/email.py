"""Things people (and the system) do in the schools app; see DESIGN.md, Layout."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from schools.models import OutgoingEmail

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5


def email_queue(
    *, to: list[str], subject: str, body_text: str, body_html: str = "", from_email: str
) -> OutgoingEmail:
    """Store a message and send it from the worker once the surrounding transaction commits."""
    from schools.tasks import send_email

    message = OutgoingEmail.objects.create(
        to=list(to),
        subject=subject.replace("\n", " ").strip(),
        body_text=body_text,
        body_html=body_html,
        from_email=from_email,
    )
    transaction.on_commit(lambda: send_email.delay(message.pk))
    return message


def email_send(*, email_id: int) -> bool:
    """Send one queued message exactly once; True if this call sent it.

    The row is locked with SKIP LOCKED, so two workers given the same id cannot both
    send; a message already sent is left alone. Failures are counted and re-raised so
    that the task can retry; after MAX_EMAIL_ATTEMPTS the message is marked failed.
    """
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.QUEUED)
            .first()
        )
        if message is None:
            return False
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=message.from_email,
            to=message.to,
        )
        if message.body_html:
            mail.attach_alternative(message.body_html, "text/html")
        message.attempts += 1
        failure = None
        try:
            mail.send()
        except Exception as exc:  # any transport error: count it, keep the row, retry
            failure = exc
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= MAX_EMAIL_ATTEMPTS:
                message.status = OutgoingEmail.Status.FAILED
            message.save(update_fields=["attempts", "last_error", "status", "updated_at"])
        else:
            message.status = OutgoingEmail.Status.SENT
            message.sent_at = timezone.now()
            message.body_text = message.body_html = ""
            message.save(
                update_fields=[
                    "attempts",
                    "status",
                    "sent_at",
                    "body_text",
                    "body_html",
                    "updated_at",
                ]
            )
    if failure is not None:
        logger.warning("email send failed id=%s attempt=%s", email_id, message.attempts)
        raise failure
    return True


def email_requeue_stuck(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Enqueue again every message still queued after `older_than` (a lost broker message)."""
    from schools.tasks import send_email

    cutoff = timezone.now() - older_than
    ids = list(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.QUEUED, updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        send_email.delay(pk)
    return len(ids)
