"""Settings for a worker process started by a test: Trellis's own, with the mail server
chosen by TEST_EMAIL_BACKEND (one of tests/schools/outbox_backends.py)."""

import os

from config.settings import *  # noqa: F403

EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND") or EMAIL_BACKEND  # noqa: F405
