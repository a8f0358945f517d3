"""Celery tasks of the schools app: thin wrappers around services."""

from celery import shared_task

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
    from schools.models import District
    from schools.services.students import roster_imports_expire
    from schools.tenancy import work_in_district

    expired = 0
    for district in District.objects.order_by("pk"):
        with work_in_district(district):
            expired += roster_imports_expire()
    return expired
