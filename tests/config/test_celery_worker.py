"""A real Celery worker process, against the real Redis broker, sends a queued email."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from schools.models import OutgoingEmail
from tests.config.helpers import ROOT


@pytest.fixture
def worker(tmp_path, transactional_db):
    """Start `celery worker` on a queue of its own, pointed at the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "EMAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "REDIS_URL": settings.REDIS_URL,
    }
    env.pop("EMAIL_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue, tmp_path / "outbox", process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def broker():
    """Publish to the real broker (the suite runs tasks eagerly otherwise)."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_worker_process_sends_a_queued_email(worker, broker):
    queue, outbox, process = worker
    # Created directly, not through email_queue: its on-commit hook would publish to the
    # shared `default` queue, where another checkout's worker could take it.
    row = OutgoingEmail.objects.create(
        to=["coordinator@example.org"],
        subject="Check-in reminder",
        body_text="See you Tuesday.",
        from_email="t@example.org",
    )
    from schools.tasks import send_email

    send_email.apply_async(args=[row.pk], queue=queue)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.status != OutgoingEmail.Status.QUEUED or process.poll() is not None:
            break
        time.sleep(0.25)
    if row.status != OutgoingEmail.Status.SENT:
        process.terminate()
        output = process.communicate(timeout=20)[0]
        pytest.fail(f"worker did not send the email (status {row.status}):\n{output[-3000:]}")
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    assert b"Check-in reminder" in files[0].read_bytes()
