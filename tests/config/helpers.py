"""Run manage.py in a child process with a chosen environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#kq2!vL9mZp4@wR8tN1sY6uB3eH5jC0fG-aD_oI+lK=QzXcVbN",
    "ALLOWED_HOSTS": "trellis.example.org",
    # Never connected to by `check`: these only have to parse.
    "DATABASE_URL": "postgres://trellis_app@db.example.org:5432/trellis",
    "DATABASE_OWNER_URL": "postgres://trellis_owner@db.example.org:5432/trellis",
    "REDIS_URL": "redis://redis.example.org:6379/0",
    "EMAIL_URL": "smtp://mail.example.org:587",
    "SITE_URL": "https://trellis.example.org",
}


def manage(*args: str, env: dict | None = None, timeout: int = 120, clean: bool = False):
    """manage.py ARGS; with clean=True only PATH/HOME and `env` reach the child."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    if not clean:
        base = dict(os.environ)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
