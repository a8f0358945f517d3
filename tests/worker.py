"""A real `celery worker` process against a real Redis, pointed at the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

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
