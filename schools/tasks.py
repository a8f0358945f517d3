"""Celery tasks of the schools app: thin wrappers around services."""

from celery import shared_task

from core.districts import run_in_every_district
from schools.services import email as services
from schools.tenancy import in_district


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


# --- The roster confirmation (reports queue: CELERY_TASK_ROUTES) ----------------------------


@shared_task
@in_district
def run_roster_import(district_id: int, import_id: int) -> bool:
    from schools.services.roster_queue import roster_import_run

    return roster_import_run(import_id=import_id)


@shared_task
def requeue_stuck_roster_imports() -> int:
    """Confirmed imports whose message was lost: handed over again after 10 minutes."""
    from schools.services.roster_queue import roster_imports_requeue_stuck

    return sum(run_in_every_district(roster_imports_requeue_stuck).values())
