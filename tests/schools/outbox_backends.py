"""Mail servers that answer the way real ones do when something is wrong (for test_outbox).

Each stands for the mail server, which is outside Trellis; the outbox under test is real.
"""

import smtplib

from django.core.mail import BadHeaderError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as Fine  # noqa: F401


class Unreachable(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


class AllRecipientsRefused(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused(
            {to: (550, b"5.1.1 no such user") for m in email_messages for to in m.to}
        )


class Greylisted(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused(
            {to: (450, b"4.7.1 try again later") for m in email_messages for to in m.to}
        )


class MessageRejected(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(554, b"5.7.1 message rejected")


class HeaderError(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            message.message()  # builds the headers, as the SMTP backend does
        raise BadHeaderError("Header values can't contain newlines")


class SendsToNobody(BaseEmailBackend):
    def send_messages(self, email_messages):
        return 0


class StallAfterDelivering(BaseEmailBackend):
    """Delivers (the development outbox's .eml file), says so in a file beside the
    outbox, then hangs: the worker can be killed between the mail server taking the
    message and the outbox recording it (test_outbox_faults)."""

    def send_messages(self, email_messages):
        import time
        from pathlib import Path

        from django.conf import settings

        from config.mail import OutboxBackend

        OutboxBackend().send_messages(email_messages)
        (Path(settings.EMAIL_OUTBOX_DIR).parent / "delivered").touch()
        time.sleep(300)
        return len(email_messages)
