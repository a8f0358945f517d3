"""A real Celery worker process, against the real Redis broker, sends a queued email."""

import time
import uuid

import pytest

from schools.models import OutgoingEmail
from tests.worker import start_worker, stop_worker


@pytest.fixture
def worker(tmp_path, transactional_db):
    """Start `celery worker` on a queue of its own, pointed at the test database."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    process = start_worker(queues=queue, outbox=tmp_path / "outbox")
    yield queue, tmp_path / "outbox", process
    stop_worker(process)


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
        under_way = (OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING)
        if row.status not in under_way or process.poll() is not None:
            break
        time.sleep(0.25)
    if row.status != OutgoingEmail.Status.SENT:
        output = stop_worker(process)
        pytest.fail(f"worker did not send the email (status {row.status}):\n{output[-3000:]}")
    files = list(outbox.glob("*.eml"))
    assert len(files) == 1
    assert b"Check-in reminder" in files[0].read_bytes()
