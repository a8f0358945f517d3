"""Database roles: migrations run as the owner, everything else as the runtime role."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import connections

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextlib.contextmanager
def as_owner(alias: str = "default"):
    """Reconnect `alias` with the owner role's credentials for the duration of the block.

    The database name is kept (so a test database stays the test database).
    """
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    if saved["USER"] == settings.DATABASE_OWNER["USER"]:
        yield connection
        return
    connection.close()
    connection.settings_dict.update(settings.DATABASE_OWNER)
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_runtime_privileges(connection) -> None:
    """Give the runtime and maintenance roles data access to every table the owner made.

    Runs after each migrate, as the owner. Tables are owned by the owner only; the
    runtime role gets data privileges, never ownership, so row-level security binds it.
    """
    roles = settings.DATABASE_ROLE_NAMES
    runtime, owner = roles["runtime"], roles["owner"]
    if runtime == owner:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [list(roles.values())]
        )
        present = {row[0] for row in cursor.fetchall()}
        for role in (runtime, roles["maintenance"]):
            if role not in present:
                continue
            quoted = connection.ops.quote_name(role)
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
            )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
            # pghistory's shared context table has no district: history keeps its
            # context in each event row (PGHISTORY_CONTEXT_FIELD), and nobody reads this.
            cursor.execute(f"REVOKE ALL ON pghistory_context FROM {quoted}")
            for table in append_only_tables():
                cursor.execute(
                    f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)} "
                    f"FROM {quoted}"
                )


def append_only_tables() -> list[str]:
    """Tables nobody may rewrite: models with `append_only = True`, change history, and
    Django's admin log (what platform staff did that concerns no district)."""
    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from pghistory.models import Event

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and (getattr(model, "append_only", False) or issubclass(model, (Event, LogEntry)))
    )
