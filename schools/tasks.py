"""Celery tasks of the schools app: thin wrappers around services."""

from celery import shared_task

from core.districts import run_in_every_district
from schools.services import email as services


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=services.MAX_EMAIL_ATTEMPTS,
)
def send_email(email_id: int) -> bool:
    return services.email_send(email_id=email_id)


@shared_task
def requeue_stuck_email() -> int:
    return services.email_requeue_stuck()


@shared_task
def expire_roster_previews() -> int:
    """Sweep: every district's unconfirmed roster previews past their lifetime."""
    from schools.services.students import roster_imports_expire

    return sum(run_in_every_district(roster_imports_expire).values())
