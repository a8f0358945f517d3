"""Outgoing mail plumbing shared by every app.

Mail is never sent inside a request: a person's action stores an OutgoingEmail row
(schools.services.email.email_queue) and a Celery task on the `default` queue sends it.
In development the backend below writes each message to .local/outbox/ as an .eml
file, which /dev/outbox/ lists (DEBUG only).
"""

from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from config.localfiles import private_dir, write_private


class OutboxBackend(BaseEmailBackend):
    """Writes every message to EMAIL_OUTBOX_DIR, one .eml file each, owner-only.

    The messages carry sign-in, reset and invitation links: folder 0700, files 0600.
    """

    def send_messages(self, email_messages):
        outbox = private_dir(Path(settings.EMAIL_OUTBOX_DIR))
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            write_private(outbox / name, message.message().as_bytes())
        return len(email_messages)


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    subject: str
    to: str
    sent_at: datetime
    text: str
    html: str


def read_outbox(limit: int = 100) -> list[OutboxMessage]:
    """The newest messages in the development outbox, newest first."""
    outbox = Path(settings.EMAIL_OUTBOX_DIR)
    if not outbox.is_dir():
        return []
    files = sorted(outbox.glob("*.eml"), reverse=True)[:limit]
    messages = []
    for path in files:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        messages.append(
            OutboxMessage(
                name=path.stem,
                subject=str(parsed["Subject"] or ""),
                to=str(parsed["To"] or ""),
                sent_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                text=text.get_content() if text else "",
                html=html.get_content() if html else "",
            )
        )
    return messages
