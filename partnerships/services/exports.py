"""The directory as an HSDS package: asking for one, making it in the `reports` queue,
re-enqueuing lost ones.

The DirectoryExport row is the source of truth (DESIGN.md, Background work), as for MOU
PDFs (partnerships.services.documents): a request makes a queued row and enqueues
`partnerships.tasks.render_directory_export` once committed; the task builds the zip
(`hsds_export`), stores it and marks the row ready, or failed with a short reason. A sweep
re-enqueues rows a lost message left in "queued".
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.jobs import enqueue_on_commit, mark_failed, requeue_stuck
from partnerships.models import DirectoryExport
from partnerships.services.hsds import hsds_export
from schools.capabilities import require
from schools.models import District, Membership

logger = logging.getLogger(__name__)

# A queued row not touched for this long lost its message: the sweep enqueues it again.
STUCK_AFTER = timedelta(minutes=10)
# ...and one still queued after this long keeps failing (a worker dying on it): give up.
GIVE_UP_AFTER = timedelta(hours=2)
# A finished export is kept this long (its progress page and download keep working), then
# dropped when a newer one is ready: the directory changes, a package goes stale.
KEEP_FOR = timedelta(days=1)

# Reasons stored on a failed export, translated where they are shown.
ERROR_TOO_SLOW = gettext_noop("Preparing the export took too long.")
ERROR_BUILD = gettext_noop("The export could not be prepared.")
ERROR_GAVE_UP = gettext_noop("The export was not prepared in time. Try again.")


def directory_export_request(*, by: Membership) -> DirectoryExport:
    """Queue an HSDS package of the district's directory, and enqueue it once committed;
    or return the district's export already being prepared (one at a time: it is the same
    directory for everyone who may read it)."""
    require(by, "partners.view")
    with transaction.atomic():
        # One request at a time per district, so two at once make one export, not two.
        District.objects.select_for_update().filter(pk=by.district_id).values_list("pk").first()
        export = (
            DirectoryExport.objects.for_district(by.district_id)
            .filter(status=DirectoryExport.Status.QUEUED)
            .defer("package")
            .order_by("-created_at", "-pk")
            .first()
        )
        if export is not None:
            return export
        export = DirectoryExport.objects.create(district_id=by.district_id, requested_by=by)
        _enqueue_on_commit(export)
    return export


def _enqueue_on_commit(export: DirectoryExport) -> None:
    from partnerships.tasks import render_directory_export

    # Never fails the request: with the broker down the sweep hands it over later.
    enqueue_on_commit(render_directory_export, export.district_id, export.pk)


def directory_export_build(*, export_id: int) -> bool:
    """Build a queued export (inside its district's context); True if this call did it.

    Idempotent: an export already ready or failed is left alone, and one another worker
    holds (row locked) is skipped. Once ready, the district's finished exports older than
    KEEP_FOR are deleted.
    """
    with transaction.atomic():
        export = (
            DirectoryExport.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("district")
            .defer("package")
            .filter(pk=export_id, status=DirectoryExport.Status.QUEUED)
            .first()
        )
        if export is None:
            return False
        try:
            # A savepoint: after a database error (a statement timeout, say) the row can
            # still be marked failed in this transaction.
            with transaction.atomic():
                export.package = hsds_export(export.district)
            export.error = ""
        except SoftTimeLimitExceeded:
            export.error = ERROR_TOO_SLOW
        except Exception:  # a bug must fail the export, not loop in the queue
            logger.exception("HSDS export failed export=%s", export.pk)
            export.error = ERROR_BUILD
        if export.error:
            export.package = None
        export.status = (
            DirectoryExport.Status.FAILED if export.error else DirectoryExport.Status.READY
        )
        export.save(update_fields=["package", "error", "status", "updated_at"])
        if export.status == DirectoryExport.Status.READY:
            (
                DirectoryExport.objects.for_district(export.district_id)
                .exclude(status=DirectoryExport.Status.QUEUED)
                .filter(created_at__lt=timezone.now() - KEEP_FOR)
                .delete()
            )
    return True


def directory_exports_requeue_stuck(*, district: District) -> int:
    """Enqueue again this district's exports still queued after STUCK_AFTER (run inside the
    district's context); give up on those queued past GIVE_UP_AFTER."""
    return requeue_stuck(
        DirectoryExport.objects.for_district(district)
        .filter(status=DirectoryExport.Status.QUEUED)
        .only("pk", "district_id", "created_at", "status"),
        stuck_after=STUCK_AFTER,
        give_up_after=GIVE_UP_AFTER,
        since="created_at",
        enqueue=_enqueue_on_commit,
        give_up=mark_failed(ERROR_GAVE_UP),
    )
