"""The district context that PostgreSQL row-level security checks.

Every tenant table has a policy comparing `district_id` with the transaction-local
setting `app.district_id`; Membership also lets a person read their own rows by
`app.user_id` (the one lookup made before a district is chosen). Both settings are
made with `set_config(..., true)`, so they die with the transaction, and restored on
exit, so a nested block (a savepoint) cannot leak its district into the rest of the
transaction. Outside a context, tenant tables show no rows and accept no writes.

A district's clock goes with its context (DESIGN.md, Time): the request middleware
activates the district's time zone, and work outside a request (a task, one district of
a sweep, a signed link's page) enters it with `work_in_district`; mail and PDFs are
rendered in `district_locale`.
"""

from __future__ import annotations

import contextlib
import functools

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation

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


def _time_zone_of(district):
    """The district's zone; for an id, read from District (which has no row-level security).

    None (UTC) for an id that names no district: its context shows no rows either.
    """
    if hasattr(district, "time_zone"):
        return district.time_zone
    from schools.models import District

    return District.objects.filter(pk=district).values_list("time_zone", flat=True).first()


@contextlib.contextmanager
def work_in_district(district):
    """Enter a district for work outside its requests: `tenant_context` and its time zone.

    For a task, one district of a sweep, or a page reached by a signed link: dates and times
    are the district's (`timezone.localdate()`, `|date` in templates), as the middleware
    makes them in a district's request. `district` may be an instance or an id.
    """
    with tenant_context(district), timezone.override(_time_zone_of(district)):
        yield


@contextlib.contextmanager
def district_locale(district, language: str | None = None):
    """Render mail or a PDF for a district: in its time zone, in `language` (or its own).

    The one way to say it outside a request; `district` None (mail to a person before any
    district is known) renders in UTC, and then `language` is needed.
    """
    zone = district.time_zone if district is not None else None
    language = language or district.default_language
    with translation.override(language), timezone.override(zone):
        yield


def in_district(task_function):
    """For Celery tasks whose first argument is `district_id`: run inside that district,
    in its time zone (`work_in_district`)."""

    @functools.wraps(task_function)
    def wrapper(district_id, *args, **kwargs):
        with work_in_district(district_id):
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


# --- References between districts' rows ---------------------------------------------------
# The database refuses a key into another district (schools/rls.py `tenant_keys()`), but
# as an IntegrityError: services check first, with these two, and refuse with a message.


def _district_id_of(obj) -> int:
    """A district's id from a District, a tenant row or an id."""
    from schools.models import District

    if isinstance(obj, int):
        return obj
    return obj.pk if isinstance(obj, District) else obj.district_id


def outside(district, value) -> bool:
    """True when `value` (a row, None, or an iterable of rows) holds a row of another district.

    For a person's choices on a form: the caller says which field and why, e.g.
    `if outside(district, schools): errors["schools"] = [_("Choose among ...")]`.
    """
    if value is None:
        return False
    rows = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    district_id = _district_id_of(district)
    return any(row is not None and _district_id_of(row) != district_id for row in rows)


def require_same_district(by, *objects) -> None:
    """PermissionDenied unless every object is of the acting membership's district.

    For the rows a service acts on (the MOU being signed, the partner being edited): a
    caller that passes another district's row is a bug or an attack, not a choice.
    """
    for obj in objects:
        if by is None or outside(by.district_id, obj):
            raise PermissionDenied
