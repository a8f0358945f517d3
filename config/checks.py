"""System checks for the parts of Trellis's configuration Django does not know about."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.database)
def runtime_role_cannot_bypass_row_security(app_configs, databases=None, **kwargs):
    """The web and worker role must be bound by row-level security (`check --database default`)."""
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    problems = []
    if row and row[0]:
        problems.append(
            Warning(
                "DATABASE_URL connects as a superuser or a role with BYPASSRLS.",
                hint="Connect the web and workers as the runtime role (trellis_app).",
                id="trellis.W002",
            )
        )
    if settings.DATABASE_ROLE_NAMES["runtime"] == settings.DATABASE_ROLE_NAMES["owner"]:
        problems.append(
            Warning(
                "DATABASE_URL and DATABASE_OWNER_URL use the same role.",
                hint="Migrations run as the owner; the runtime role must own no table.",
                id="trellis.W003",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def email_is_delivered(app_configs, **kwargs):
    if settings.EMAIL_BACKEND == "config.mail.OutboxBackend":
        return [
            Warning(
                "EMAIL_URL is not set: mail is written to the local outbox, not delivered.",
                hint="Set EMAIL_URL, for example smtp://user:password@mail.example.org:587.",
                id="trellis.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def site_url_is_set(app_configs, **kwargs):
    if not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                "SITE_URL is not an https:// address: links in mail sent by background "
                "sweeps (renewals, unsubscribe) would not work.",
                hint="Set SITE_URL, for example https://trellis.example.org.",
                id="trellis.W004",
            )
        ]
    return []
