"""The district context that PostgreSQL row-level security checks.

Every tenant table has a policy comparing `district_id` with the transaction-local
setting `app.district_id`; Membership also lets a person read their own rows by
`app.user_id` (the one lookup made before a district is chosen). Both settings are
made with `set_config(..., true)`, so they die with the transaction, and restored on
exit, so a nested block (a savepoint) cannot leak its district into the rest of the
transaction. Outside a context, tenant tables show no rows and accept no writes.
"""

from __future__ import annotations

import contextlib
import functools

from django.db import connection, transaction

DISTRICT_SETTING = "app.district_id"
USER_SETTING = "app.user_id"


KEEP = object()


def _value(obj) -> str | None:
    if obj is KEEP:
        return None  # COALESCE below keeps the current value
    if obj is None:
        return ""
    return str(getattr(obj, "pk", obj))


@contextlib.contextmanager
def tenant_context(district=None, *, user=KEEP):
    """Enter a district (and optionally a person) for the block.

    `district` and `user` may be instances or ids; None clears, KEEP leaves as is.
    Opens a transaction if none is open: a transaction-local setting outside one
    would be silently lost.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting(%(d)s, true), current_setting(%(u)s, true), "
                "set_config(%(d)s, COALESCE(%(dv)s, current_setting(%(d)s, true), ''), true), "
                "set_config(%(u)s, COALESCE(%(uv)s, current_setting(%(u)s, true), ''), true)",
                {
                    "d": DISTRICT_SETTING,
                    "u": USER_SETTING,
                    "dv": _value(district),
                    "uv": _value(user),
                },
            )
            previous_district, previous_user, _, _ = cursor.fetchone()
        # On an exception the savepoint's rollback undoes the settings by itself.
        yield
        if not outermost:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                    [DISTRICT_SETTING, previous_district or "", USER_SETTING, previous_user or ""],
                )


def current_district_id() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT NULLIF(current_setting(%s, true), '')::bigint", [DISTRICT_SETTING])
        return cursor.fetchone()[0]


def in_district(task_function):
    """For Celery tasks whose first argument is `district_id`: run inside that district."""

    @functools.wraps(task_function)
    def wrapper(district_id, *args, **kwargs):
        with tenant_context(district_id):
            return task_function(district_id, *args, **kwargs)

    return wrapper


def enter_district_for_rest_of_transaction(district) -> None:
    """Set the district until the current transaction ends (the request middleware's use).

    Only for a transaction that ends with the unit of work (a request): everywhere else
    use `tenant_context`, which restores the previous district on exit.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("entering a district outside a transaction would be silently lost")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [DISTRICT_SETTING, _value(district)])
