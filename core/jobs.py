"""Handing work to the worker without ever failing the person who asked for it.

Work that must happen (a mail, a PDF) is a database row first; the Celery message only
says "look at row N". So when the broker (Redis) cannot take the message, nothing is
lost: the row waits, and the app's sweep hands it over again once the broker is back
(`schools.services.email.email_sweep`, `partnerships.services.documents` for PDFs).
That is why enqueuing is allowed to fail quietly here, and must: the person's
transaction has already committed, and an error now would answer 500 for work that was
saved (and a retry would do it twice).
"""

from __future__ import annotations

import functools
import logging

from django.db import transaction

logger = logging.getLogger(__name__)

# One quick retry, then give up: the sweep is the real retry. Without a bound the
# publish could keep the person's request waiting for the broker.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task, *args) -> bool:
    """Send `task(*args)` to the broker now; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args=args, retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # any broker or connection error; the row waits for the sweep
        logger.warning(
            "could not hand %s%r to the broker (%s: %s); the sweep will",
            task.name,
            args,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """`enqueue` once the surrounding transaction commits (at once outside one).

    Robust: a failure is logged, never raised into the request that committed.
    """
    transaction.on_commit(functools.partial(enqueue, task, *args), robust=True)
