"""Celery tasks of the partnerships app: thin wrappers that take ids and call services.

Task names matter: CELERY_TASK_ROUTES sends `*.tasks.render_*` to the `reports` queue.
Sweeps run their service in every district with `core.districts.run_in_every_district`
(each district's context and time zone in turn; one district's failure does not stop the
others, and fails the task once all have run).
"""

from __future__ import annotations

from celery import shared_task

from core import pdf
from core.districts import run_in_every_district
from partnerships.services import documents, exports, reminders, renewals
from schools.tenancy import in_district

# --- MOU PDFs (reports queue) ----------------------------------------------------------------


@shared_task(soft_time_limit=pdf.SOFT_TIME_LIMIT, time_limit=pdf.TIME_LIMIT)
@in_district
def render_mou_pdf(district_id: int, document_id: int) -> bool:
    return documents.mou_pdf_render(document_id=document_id)


@shared_task
def requeue_stuck_mou_pdfs() -> int:
    return sum(run_in_every_district(documents.mou_pdf_requeue_stuck).values())


# --- MOU renewals ----------------------------------------------------------------------------


@shared_task
def mou_renewal_sweep() -> int:
    """Hourly: expiring/expired statuses and the 60- and 30-day renewal emails."""
    results = run_in_every_district(renewals.mou_renewal_sweep_district)
    return sum(result.notices for result in results.values())


# --- Meeting reminders -----------------------------------------------------------------------


@shared_task
def meeting_reminder_sweep() -> int:
    """Every minute: claim the due reminders of every district (one query when none)."""
    return reminders.reminder_sweep()["claimed"]


@shared_task
@in_district
def send_meeting_reminder(district_id: int, reminder_id: int) -> str:
    return reminders.reminder_send(reminder_id=reminder_id)


@shared_task
def meeting_reminders_extend() -> int:
    """Hourly: plan the reminders of series whose plan ends within a day."""
    return sum(run_in_every_district(reminders.reminders_extend).values())


@shared_task
def action_item_digest() -> int:
    """Hourly; sends each owner's weekly digest of overdue action items once a week, on
    Monday morning in the district's zone (or at the first run after it)."""
    return sum(run_in_every_district(reminders.action_digest_when_due).values())


# --- The directory as an HSDS package (reports queue) ----------------------------------------


@shared_task
@in_district
def render_directory_export(district_id: int, export_id: int) -> bool:
    return exports.directory_export_build(export_id=export_id)


@shared_task
def requeue_stuck_directory_exports() -> int:
    return sum(run_in_every_district(exports.directory_exports_requeue_stuck).values())
