"""A real `celery worker` process against a real Redis, pointed at the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[1]


def start_worker(*, queues: str, outbox: Path, redis_url: str = "", **env) -> subprocess.Popen:
    """`celery worker -Q queues --concurrency 1` in a process group of its own; its output
    is a pipe (read it with `output(process)` once it has stopped)."""
    environment = {
        **os.environ,
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "EMAIL_OUTBOX_DIR": str(outbox),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        **env,
    }
    environment.pop("EMAIL_URL", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen, *, kill: bool = False) -> str:
    """Stop the worker (SIGKILL to the whole group with kill=True); its output."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        output = process.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate(timeout=20)[0]
    return output or ""


def own_queue(monkeypatch, service, task) -> str:
    """A queue of the test's own for a job that `service._enqueue_on_commit(job)` queues in
    the `reports` queue (shared with other checkouts' workers): the job goes there instead,
    as `task(job.district_id, job.pk)`. The routing to `reports` is each job's own test."""
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def enqueue_here(job):
        args = [job.district_id, job.pk]
        transaction.on_commit(lambda: task.apply_async(args=args, queue=queue))

    monkeypatch.setattr(service, "_enqueue_on_commit", enqueue_here)
    return queue


def wait_while(worker: subprocess.Popen, busy: Callable[[], bool], seconds: float = 90) -> None:
    """Until `busy()` is false, the worker has stopped or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and worker.poll() is None and busy():
        time.sleep(0.25)


def sweep_hands_over_then_gives_up(district, time_machine, sweep, service) -> None:
    """A job queued and lost (its message never sent), swept with `sweep()` inside the
    district's context: left alone until `service.STUCK_AFTER`, then enqueued once again,
    then given up on after `service.GIVE_UP_AFTER` (nothing enqueued). The test then reads
    how the job says it was given up on. The clock is `time_machine`'s, stopped."""
    from datetime import timedelta

    from django.test import TestCase

    from schools.tenancy import tenant_context

    with tenant_context(district), TestCase.captureOnCommitCallbacks() as sent:
        assert sweep() == 0  # not stuck yet
    time_machine.shift(service.STUCK_AFTER + timedelta(seconds=1))
    with tenant_context(district), TestCase.captureOnCommitCallbacks() as sent:
        assert sweep() == 1
    assert len(sent) == 1

    time_machine.shift(service.GIVE_UP_AFTER)
    with tenant_context(district), TestCase.captureOnCommitCallbacks() as sent:
        assert sweep() == 1
    assert sent == []
