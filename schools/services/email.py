"""Things people (and the system) do in the schools app; see DESIGN.md, Layout."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from schools.models import OutgoingEmail

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 5

# Line breaks and other control characters (C0, DEL, C1, the Unicode line and paragraph
# separators) with the white space around them. In a header a line break is refused
# (BadHeaderError, so the message could never be sent) and NUL cannot even be stored.
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def single_line(text: str) -> str:
    """Text for a header such as the subject: control characters and runs of white space
    become one space, and nothing leads or trails."""
    return _BREAKS.sub(" ", str(text)).strip()


def email_queue(
    *,
    to: list[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    from_email: str,
    unsubscribe_url: str = "",
) -> OutgoingEmail:
    """Store a message and send it from the worker once the surrounding transaction commits.

    The subject is made one line (single_line). With `unsubscribe_url` (mail to someone
    without an account) the message carries List-Unsubscribe and List-Unsubscribe-Post
    (RFC 8058): the mail provider offers the reader an unsubscribe button, which POSTs
    "List-Unsubscribe=One-Click" to that link.
    """
    from schools.tasks import send_email

    headers = {}
    if unsubscribe_url:
        headers = {
            "List-Unsubscribe": f"<{single_line(unsubscribe_url)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    message = OutgoingEmail.objects.create(
        to=list(to),
        subject=single_line(subject)[:998],
        body_text=body_text,
        body_html=body_html,
        headers=headers,
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
            subject=single_line(message.subject),  # rows queued before single_line existed
            body=message.body_text,
            from_email=message.from_email,
            to=message.to,
            headers={name: single_line(value) for name, value in message.headers.items()},
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
            message.headers = {}
            message.save(
                update_fields=[
                    "attempts",
                    "status",
                    "sent_at",
                    "body_text",
                    "body_html",
                    "headers",
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
