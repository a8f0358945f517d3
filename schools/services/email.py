"""The outbox: every message Trellis sends, from queue to delivery; see DESIGN.md, Email.

A message is an OutgoingEmail row. Its life:

- `email_queue` stores it, recipients checked (what is not an address is left out and
  listed; with nobody left it is stored "failed" at once), with its own Message-ID, and
  asks the worker to send it once the transaction commits. Asking never fails the
  caller: with the broker down the row waits for the sweep (`core.jobs`).
- `email_send` (the worker) commits "sending" before it hands the message to the mail
  server, then records "sent", or "failed" with the reason for a permanent error, or
  puts it back in the queue with a later `due_at` for a transient one, within a retry
  budget of EMAIL_RETRY_HOURS.
- `email_sweep` (every minute) sends again, with the same Message-ID and counted in
  `resends`, a message whose worker stopped while sending it, and re-queues any queued
  message due for more than a minute (a lost broker message, a broker that was down).
- `email_retry` lets a person (a coordinator, or platform staff in the admin) try a
  failed message again.
"""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import timedelta
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.jobs import enqueue, enqueue_on_commit
from schools.capabilities import require
from schools.models import DistrictEmail, OutgoingEmail
from schools.tenancy import require_same_district, tenant_context

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status
Failure = OutgoingEmail.Failure

# A queued message not picked up this long after it was due is handed to the broker again;
# a message left "sending" this long by a worker that no longer holds it is sent again.
STUCK_AFTER = timedelta(minutes=1)
# A message whose worker dies while sending it every time (it crashes the worker) stops.
MAX_RESENDS = 3
# Messages the sweep handles per run (every minute).
SWEEP_BATCH = 1000

# Line breaks and other control characters (C0, DEL, C1, the Unicode line and paragraph
# separators) with the white space around them. In a header a line break is refused
# (BadHeaderError, so the message could never be sent) and NUL cannot even be stored.
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


# Sent when a message ends "failed" (message=, failure=): a higher app that wrote it may
# record what it means (partnerships marks a contact whose address the server refused).
email_failed = Signal()


class PermanentFailure(Exception):
    """A message that no later attempt can deliver (no recipient, refused, malformed)."""

    def __init__(self, failure: str, detail: str):
        self.failure = failure
        super().__init__(detail)


def single_line(text: str) -> str:
    """Text for a header such as the subject: control characters and runs of white space
    become one space, and nothing leads or trails."""
    return _BREAKS.sub(" ", str(text)).strip()


def split_recipients(to) -> tuple[list[str], list[str]]:
    """(valid addresses, refused entries) of what a caller gave as recipients.

    One address or a list of them; duplicates (in any case) once; "Name <addr>" keeps the
    address. Empty entries and anything that is not an address are refused.
    """
    if isinstance(to, str):
        to = [to]
    valid, refused, seen = [], [], set()
    for entry in to or []:
        text = single_line(entry) if isinstance(entry, str) else repr(entry)
        address = parseaddr(text)[1] if "<" in text else text
        try:
            validate_email(address)
        except ValidationError:
            refused.append(text[:254])
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            valid.append(address)
    return valid, refused


def _message_id() -> str:
    """A Message-ID on the public host name of Trellis (stable across workers)."""
    domain = urlsplit(settings.SITE_URL or "").hostname or settings.EMAIL_MESSAGE_ID_DOMAIN
    return make_msgid(domain=domain)


def email_queue(
    *,
    to,
    subject: str,
    body_text: str,
    body_html: str = "",
    from_email: str,
    unsubscribe_url: str = "",
    district=None,
    attachments: list[dict] | None = None,
) -> OutgoingEmail:
    """Store a message and send it from the worker once the surrounding transaction commits.

    - The subject is made one line (single_line).
    - `to`: what is not an address is left out and kept in `refused`; with no address
      left the row is stored failed (`Failure.NO_RECIPIENT`) and nothing is sent.
    - `unsubscribe_url` (mail to someone without an account): the message carries
      List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), so the mail provider offers
      an unsubscribe button that POSTs "List-Unsubscribe=One-Click" to that link.
    - `district`: the district the mail was written for; its coordinators see the
      delivery and may retry it when it fails.
    - `attachments`: text files, [{"filename", "mimetype", "content"}] (a calendar
      invitation is "text/calendar; method=REQUEST").
    """
    from schools.tasks import send_email

    valid, refused = split_recipients(to)
    headers = {}
    if unsubscribe_url:
        headers = {
            "List-Unsubscribe": f"<{single_line(unsubscribe_url)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    message = OutgoingEmail.objects.create(
        to=valid,
        refused=refused,
        subject=single_line(subject)[:998],
        body_text=body_text,
        body_html=body_html,
        headers=headers,
        attachments=list(attachments or []),
        from_email=from_email,
        message_id=_message_id(),
        status=Status.QUEUED if valid else Status.FAILED,
        failure="" if valid else Failure.NO_RECIPIENT,
        last_error="" if valid else f"No valid address among {refused!r}"[:500],
    )
    if district is not None:
        with tenant_context(district):
            DistrictEmail.objects.create(district=district, email=message)
    if valid:
        enqueue_on_commit(send_email, message.pk)
    else:
        logger.warning("email id=%s has no valid recipient: %r", message.pk, refused)
    return message


def email_send(*, email_id: int) -> bool:
    """Send one queued message; True if this call handed it to the mail server.

    Two transactions. The first claims the row (SKIP LOCKED, so two workers given the
    same id cannot both take it) and commits "sending". The second locks it again for
    the send itself and records the outcome; a worker that dies in between leaves the
    row in "sending", unlocked, for the sweep to resolve. Never raises for a mail error:
    the outcome is on the row.
    """
    attempt = _claim(email_id)
    if attempt is None:
        return False
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=Status.SENDING, attempts=attempt)
            .first()
        )
        if message is None:  # the sweep took it back meanwhile
            return False
        try:
            sent = _build(message).send()
            if not sent:
                raise PermanentFailure(Failure.NO_RECIPIENT, "The message had no recipient.")
        except Exception as exc:  # any error: classified and recorded, never lost
            _record_failure(message, exc)
            return False
        message.status = Status.SENT
        message.sent_at = timezone.now()
        message.failure = ""
        message.body_text = message.body_html = ""
        message.headers = {}
        message.attachments = []
        message.save(
            update_fields=[
                "status",
                "sent_at",
                "failure",
                "refused",
                "body_text",
                "body_html",
                "headers",
                "attachments",
                "updated_at",
            ]
        )
    return True


def _claim(email_id: int) -> int | None:
    """Commit "sending" on a queued, due message; the attempt's number, or None."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=Status.QUEUED, due_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.status = Status.SENDING
        message.attempts += 1
        message.first_attempt_at = message.first_attempt_at or now
        message.message_id = message.message_id or _message_id()  # rows queued before it
        message.save(
            update_fields=["status", "attempts", "first_attempt_at", "message_id", "updated_at"]
        )
        return message.attempts


def _build(message: OutgoingEmail) -> EmailMultiAlternatives:
    """The message as Django sends it; raises PermanentFailure for a row that cannot be."""
    if not isinstance(message.to, list) or not all(isinstance(a, str) for a in message.to):
        raise PermanentFailure(
            Failure.INVALID,
            f"TypeError: recipients must be a list of addresses, not {message.to!r}",
        )
    valid, refused = split_recipients(message.to)
    if not valid:
        raise PermanentFailure(Failure.NO_RECIPIENT, f"No valid address among {refused!r}")
    # Rows queued before recipients were checked: the good addresses get it, the rest are
    # listed, as email_queue does.
    message.refused = [*message.refused, *(r for r in refused if r not in message.refused)]
    if not isinstance(message.headers, dict):
        raise PermanentFailure(Failure.INVALID, f"TypeError: headers {message.headers!r}")
    mail = EmailMultiAlternatives(
        subject=single_line(message.subject),  # rows queued before single_line existed
        body=message.body_text,
        from_email=message.from_email,
        to=valid,
        headers={
            **{str(name): single_line(value) for name, value in message.headers.items()},
            "Message-ID": message.message_id,
        },
    )
    if message.body_html:
        mail.attach_alternative(message.body_html, "text/html")
    if not isinstance(message.attachments, list):
        raise PermanentFailure(Failure.INVALID, f"TypeError: attachments {message.attachments!r}")
    for item in message.attachments:
        mail.attach(_attachment(item))
    return mail


def _attachment(item) -> MIMEBase:
    """One stored attachment as a MIME part. A calendar invitation keeps its `method`
    parameter (RFC 6047), which calendar programs read to offer "add to calendar"."""
    try:
        filename, mimetype, content = item["filename"], item["mimetype"], item["content"]
        maintype, _slash, rest = str(mimetype).partition("/")
        subtype, *params = [part.strip() for part in rest.split(";")]
        part = MIMEText(str(content), subtype, "utf-8")
        if maintype != "text":
            raise ValueError(f"only text attachments are stored, not {mimetype!r}")
        for param in params:
            name, _eq, value = param.partition("=")
            part.set_param(name.strip(), value.strip())
        part.add_header("Content-Disposition", "attachment", filename=str(filename))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PermanentFailure(Failure.INVALID, f"attachment {item!r:.200}: {exc}") from exc
    return part


def _classify(exc: Exception) -> str | None:
    """The Failure of a permanent error, or None for a transient one (worth retrying)."""
    if isinstance(exc, PermanentFailure):
        return exc.failure
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return Failure.REFUSED if codes and min(codes) >= 500 else None
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return None  # Trellis's own mail settings: fixed by the operator, then it goes out
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return Failure.REJECTED if exc.smtp_code >= 500 else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return Failure.REJECTED if exc.smtp_code >= 500 else None
    if isinstance(exc, OSError):  # unreachable server, timeouts, the outbox folder missing
        return None
    if isinstance(exc, (ValueError, TypeError, LookupError, AttributeError, UnicodeError)):
        return Failure.INVALID  # BadHeaderError is a ValueError
    return None


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _record_failure(message: OutgoingEmail, exc: Exception) -> None:
    now = timezone.now()
    message.last_error = f"{type(exc).__name__}: {exc}"[:500]
    failure = _classify(exc)
    if failure is None:
        due = now + retry_delay(message.attempts)
        budget = timedelta(hours=settings.EMAIL_RETRY_HOURS)
        if due - (message.first_attempt_at or now) > budget:
            failure = Failure.UNREACHABLE
        else:
            message.status = Status.QUEUED
            message.due_at = due
    if failure is not None:
        message.status = Status.FAILED
        message.failure = failure
    message.save(update_fields=["status", "due_at", "failure", "last_error", "updated_at"])
    if failure is not None:
        # Higher apps mark what they know of the address (a partner contact refused).
        email_failed.send(sender=OutgoingEmail, message=message, failure=failure)
    log = logger.warning if failure is None else logger.error
    log(
        "email id=%s attempt %s %s: %s",
        message.pk,
        message.attempts,
        "will be retried" if failure is None else f"failed ({failure})",
        message.last_error,
    )


def email_sweep(*, now=None) -> dict[str, int]:
    """Resolve what a crash or a lost broker message left behind; run every minute.

    - "sending" for over STUCK_AFTER and not locked by a worker: its worker died while
      sending. Sent again with the same Message-ID (mail programs that collapse
      duplicates show it once), counted in `resends`; after MAX_RESENDS it fails.
    - queued, due, and untouched for over STUCK_AFTER: handed to the broker again, and
      touched so that the next sweep leaves it a minute.
    """
    from schools.tasks import send_email

    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    counts = {"resent": 0, "requeued": 0, "failed": 0}
    with transaction.atomic():
        interrupted = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENDING, updated_at__lt=cutoff)
            .order_by("updated_at")[:SWEEP_BATCH]
        )
        for message in interrupted:
            message.resends += 1
            message.updated_at = now
            if message.resends > MAX_RESENDS:
                message.status, message.failure = Status.FAILED, Failure.INTERRUPTED
                message.last_error = f"The worker stopped while sending it {MAX_RESENDS} times."
                counts["failed"] += 1
            else:
                message.status, message.due_at = Status.QUEUED, now
                message.last_error = (
                    "The worker stopped while sending it; sent again with the same Message-ID."
                )
                counts["resent"] += 1
            message.save(
                update_fields=["status", "due_at", "failure", "resends", "last_error", "updated_at"]
            )
            logger.warning(
                "email id=%s was interrupted while sending: %s", message.pk, message.status
            )
        stuck = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED, due_at__lte=now, updated_at__lt=cutoff)
            .order_by("due_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        OutgoingEmail.objects.filter(pk__in=stuck).update(updated_at=now)
        counts["requeued"] = len(stuck)
    for pk in [m.pk for m in interrupted if m.status == Status.QUEUED] + stuck:
        enqueue(send_email, pk)
    return counts


def email_retry(email: OutgoingEmail) -> bool:
    """Queue a failed message again, with a fresh retry budget; False if it was not failed.

    Its recipients are checked again: a row that can never be sent (no address) stays
    failed. For platform staff (the admin action) and, through `district_email_retry`,
    for the people of the district it was written for.
    """
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update().filter(pk=email.pk, status=Status.FAILED)
        ).first()
        if message is None:
            return False
        message.status = Status.QUEUED
        message.due_at = timezone.now()
        message.first_attempt_at = None
        message.failure = ""
        message.save(
            update_fields=["status", "due_at", "first_attempt_at", "failure", "updated_at"]
        )
        from schools.tasks import send_email

        enqueue_on_commit(send_email, message.pk)
    return True


def district_email_retry(*, by, link: DistrictEmail) -> bool:
    """A coordinator tries again a message written for their district that failed."""
    require(by, "mail.manage")
    require_same_district(by, link)
    return email_retry(link.email)
