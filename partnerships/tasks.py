"""Celery tasks of the partnerships app: thin wrappers that take ids and call services.

Task names matter: CELERY_TASK_ROUTES sends `*.tasks.render_*` to the `reports` queue.
Sweeps loop over districts (District has no row-level security) and enter each one's
context and time zone in turn; one district's failure does not stop the others.
"""

from __future__ import annotations

import logging

from celery import shared_task

from partnerships.services import documents, renewals
from schools.models import District
from schools.tenancy import in_district, work_in_district

logger = logging.getLogger(__name__)


# --- MOU PDFs (reports queue) ----------------------------------------------------------------


@shared_task(soft_time_limit=documents.SOFT_TIME_LIMIT, time_limit=documents.TIME_LIMIT)
@in_district
def render_mou_pdf(district_id: int, document_id: int) -> bool:
    return documents.mou_pdf_render(document_id=document_id)


@shared_task
def requeue_stuck_mou_pdfs() -> int:
    requeued = 0
    for district in District.objects.order_by("pk"):
        try:
            with work_in_district(district):
                requeued += documents.mou_pdf_requeue_stuck(district=district)
        except Exception:
            logger.exception("requeue of stuck MOU PDFs failed district=%s", district.pk)
    return requeued


# --- MOU renewals ----------------------------------------------------------------------------


@shared_task
def mou_renewal_sweep() -> int:
    """Hourly: expiring/expired statuses and the 60- and 30-day renewal emails."""
    sent = 0
    for district in District.objects.order_by("pk"):
        try:
            sent += renewals.mou_renewal_sweep_district(district=district).notices
        except Exception:
            logger.exception("MOU renewal sweep failed district=%s", district.pk)
    return sent
