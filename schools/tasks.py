"""Celery tasks of the schools app: thin wrappers around services."""

from celery import shared_task

from core.districts import run_in_every_district
from schools.services import email as services


@shared_task
def send_email(email_id: int) -> bool:
    """Send one outbox row. No Celery retries: the row keeps its own schedule (`due_at`),
    which the sweep follows, so a retry survives a broker restart."""
    return services.email_send(email_id=email_id)


@shared_task
def email_sweep() -> dict:
    """Every minute: interrupted sends resolved, lost or delayed messages handed over."""
    return services.email_sweep()


@shared_task
def expire_roster_previews() -> int:
    """Sweep: every district's unconfirmed roster previews past their lifetime."""
    from schools.services.students import roster_imports_expire

    return sum(run_in_every_district(roster_imports_expire).values())
