"""Handing work to the worker without ever failing the person who asked for it.

Work that must happen (a mail, a PDF) is a database row first; the Celery message only
says "look at row N". So when the broker (Redis) cannot take the message, nothing is
lost: the row waits, and the app's sweep hands it over again once the broker is back
(`schools.services.email.email_sweep`, `partnerships.services.documents` for PDFs,
`requeue_stuck` below for the other jobs of the `reports` queue).
That is why enqueuing is allowed to fail quietly here, and must: the person's
transaction has already committed, and an error now would answer 500 for work that was
saved (and a retry would do it twice).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

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


def requeue_stuck(
    queued,
    *,
    stuck_after: timedelta,
    give_up_after: timedelta,
    since: str,
    enqueue: Callable,
    give_up: Callable,
    limit: int = 200,
) -> int:
    """Hand over again the rows of `queued` (a queryset of one district's rows still
    queued, run inside its context) whose message was lost: not touched for `stuck_after`.

    A row still queued `give_up_after` past its field `since` keeps failing (a worker dying
    on it): `give_up(row)` marks it failed instead. Otherwise its `updated_at` is touched
    (not again before `stuck_after`) and `enqueue(row)` hands it over once committed. Rows
    a worker holds are locked and skipped. Finding nothing costs one indexed query.
    """
    now = timezone.now()
    with transaction.atomic():
        stuck = list(
            queued.select_for_update(skip_locked=True)
            .filter(updated_at__lt=now - stuck_after)
            .order_by("updated_at")[:limit]
        )
        for row in stuck:
            started = getattr(row, since) or row.created_at
            if started < now - give_up_after:
                give_up(row)
            else:
                row.save(update_fields=["updated_at"])
                enqueue(row)
    return len(stuck)


def mark_failed(error: str) -> Callable:
    """requeue_stuck's `give_up` for a job row with a `status` (its model's Status.FAILED)
    and an `error`: the row is marked failed, saying `error`."""

    def give_up(row) -> None:
        row.status = type(row).Status.FAILED
        row.error = error
        row.save(update_fields=["status", "error", "updated_at"])

    return give_up
