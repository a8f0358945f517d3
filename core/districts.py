"""Running a job in every district: the one way a sweep crosses districts.

District has no row-level security, so the list of districts can be read anywhere; each
district's rows only inside its context. `run_in_every_district` enters each district in
turn with `schools.tenancy.work_in_district` (its row-level security context, in a
transaction of its own, or a savepoint inside the caller's; and its time zone), in id
order, and runs the job there.

A job that fails in one district is logged with the district's id, that district's work is
rolled back, and the next district still runs: one district's bad row must not stop every
other district's reminders. Once every district has run, the failures are raised together
(`DistrictsFailed`), so the caller learns of them, and a Celery task fails where the worker
logs it and monitoring sees it, instead of reporting success.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class DistrictsFailed(Exception):
    """The job raised in some districts (`failures`, by district id); it ran in every other
    one (`results`, by district id). The first failure is chained as the cause."""

    def __init__(self, message: str, failures=None, results=None):
        super().__init__(message)
        self.failures: dict[int, Exception] = failures or {}
        self.results: dict = results or {}


def run_in_every_district(job: Callable[..., T], /, **kwargs) -> dict[int, T]:
    """Call `job(district=district, **kwargs)` inside each district's context, one district
    after another in id order; return the results by district id.

    Raises DistrictsFailed once every district has run if the job raised in any (each
    failure logged with its district id, its work rolled back). A Celery soft time limit is
    not a district's failure: it stops the sweep at once, as no later district would finish.
    """
    # Imported here: schools imports core, so core must not import an app at import time.
    from celery.exceptions import SoftTimeLimitExceeded

    from schools.models import District
    from schools.tenancy import work_in_district

    name = _name(job)
    results: dict[int, T] = {}
    failures: dict[int, Exception] = {}
    for district in list(District.objects.order_by("pk")):
        try:
            with work_in_district(district):
                results[district.pk] = job(district=district, **kwargs)
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:
            logger.exception("%s failed district=%s", name, district.pk)
            failures[district.pk] = error
    if failures:
        ids = ", ".join(str(pk) for pk in failures)
        raise DistrictsFailed(
            f"{name} failed in {len(failures)} district(s): {ids}", failures, results
        ) from next(iter(failures.values()))
    return results


def _name(job) -> str:
    qualname = getattr(job, "__qualname__", None)
    return f"{job.__module__}.{qualname}" if qualname else repr(job)
