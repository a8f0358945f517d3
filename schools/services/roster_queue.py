"""The roster confirmation in the `reports` queue: queueing it, running it, lost messages.

Writing a large roster takes longer than a request should. Confirming marks the
RosterImport "queued" with who confirmed it and enqueues `schools.tasks.run_roster_import`
once committed (DESIGN.md, Background work: the row is the source of truth, the message
only names it). The task runs `roster_import_confirm` as the person who confirmed, in one
transaction: the roster is imported whole, or the import is "failed" with the reason and
nothing is written. A sweep hands over again imports whose message the broker lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.jobs import enqueue_on_commit, requeue_stuck
from schools.capabilities import CapabilityDenied, require
from schools.models import District, Membership, RosterImport
from schools.services.students import RosterImportRefused, roster_import_confirm

logger = logging.getLogger(__name__)

# A queued import not touched for this long lost its message: the sweep enqueues it again.
STUCK_AFTER = timedelta(minutes=10)
# ...and one still queued this long after its confirmation keeps failing: give up.
GIVE_UP_AFTER = timedelta(hours=2)

# Reasons stored on a failed import (English; translated where they are shown).
FAILURE_NOT_ALLOWED = gettext_noop(
    "The person who confirmed this import may no longer import students. Nothing was imported."
)
FAILURE_TOO_SLOW = gettext_noop("The import took too long and nothing was imported. Try again.")
FAILURE_UNEXPECTED = gettext_noop(
    "The import failed and nothing was imported. Try again, or upload the file again."
)
FAILURE_GAVE_UP = gettext_noop("The import did not start in time and nothing was imported.")


def roster_import_queue(*, by: Membership, roster_import: RosterImport) -> RosterImport:
    """Confirm a previewed roster: queue it for the worker once committed.

    Refused (RosterImportRefused) while the file has errors or no students, and once
    cancelled; an import already queued, imported or failed is returned as it is (a second
    click of the button changes nothing).
    """
    require(by, "students.import")
    with transaction.atomic():
        current = (
            RosterImport.objects.select_for_update()
            .defer("rows")
            .filter(district_id=by.district_id, pk=roster_import.pk)
            .get()
        )
        if current.status == RosterImport.Status.CANCELLED:
            raise RosterImportRefused(_("This import was canceled. Upload the file again."))
        if current.status != RosterImport.Status.PENDING:
            return current
        if current.error_total:
            raise RosterImportRefused(_("Fix these rows and upload again."))
        if not current.total_rows:
            raise RosterImportRefused(_("This file has no students to import."))
        current.status = RosterImport.Status.QUEUED
        current.confirmed_by = by
        current.confirmed_at = timezone.now()
        current.failure = ""
        current.save(
            update_fields=["status", "confirmed_by", "confirmed_at", "failure", "updated_at"]
        )
        _enqueue_on_commit(current)
    return current


def _enqueue_on_commit(roster_import: RosterImport) -> None:
    from schools.tasks import run_roster_import

    # Never fails the request: with the broker down the sweep hands it over later.
    enqueue_on_commit(run_roster_import, roster_import.district_id, roster_import.pk)


def roster_import_run(*, import_id: int) -> bool:
    """Import a queued roster (inside its district's context); True if this call did it.

    Idempotent: an import no longer queued is left alone, one another worker holds (row
    locked) is skipped. The students are written in one transaction by
    `roster_import_confirm`, as the person who confirmed (their role and school limits
    now); if it refuses or fails, nothing is written and the import is marked failed with
    the reason, and its parsed rows are dropped (the file must be uploaded again).
    """
    with transaction.atomic():
        current = (
            RosterImport.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("confirmed_by__district")
            .defer("rows")
            .filter(pk=import_id, status=RosterImport.Status.QUEUED)
            .first()
        )
        if current is None:
            return False
        failure = ""
        try:
            # Refusals are kept in English (the message ids) and translated when shown.
            with translation.override(None):
                roster_import_confirm(by=current.confirmed_by, roster_import=current)
        except RosterImportRefused as refused:
            failure = str(refused.message)
        except CapabilityDenied:
            failure = FAILURE_NOT_ALLOWED
        except SoftTimeLimitExceeded:
            failure = FAILURE_TOO_SLOW
        except Exception:  # a bug must fail the import, not loop in the queue
            logger.exception("roster import failed import=%s", current.pk)
            failure = FAILURE_UNEXPECTED
        if failure:
            _fail(current, failure)
    return True


def _fail(roster_import: RosterImport, failure: str) -> None:
    roster_import.status = RosterImport.Status.FAILED
    roster_import.failure = failure[:300]
    roster_import.rows = []  # no second copy of the roster waits for a retry that won't come
    roster_import.save(update_fields=["status", "failure", "rows", "updated_at"])


def roster_imports_requeue_stuck(*, district: District) -> int:
    """Enqueue again this district's imports still queued after STUCK_AFTER (run inside
    the district's context); fail those queued past GIVE_UP_AFTER since confirmed."""
    return requeue_stuck(
        RosterImport.objects.for_district(district)
        .filter(status=RosterImport.Status.QUEUED)
        .only("pk", "district_id", "created_at", "confirmed_at", "status"),
        stuck_after=STUCK_AFTER,
        give_up_after=GIVE_UP_AFTER,
        since="confirmed_at",
        enqueue=_enqueue_on_commit,
        give_up=lambda row: _fail(row, FAILURE_GAVE_UP),
    )
