"""Students: the roster import (upload, preview, confirm, cancel).

A roster reaches Student only through `roster_import_confirm`: the upload is parsed
and compared with the students already there, and the preview is kept in a
RosterImport row until the person confirms. The confirmation writes every row in one
transaction, by bulk upserts on (district, local_id), or nothing at all.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.capabilities import require
from schools.models import District, Membership, RosterImport, School, Student
from schools.selectors import limited_school_ids
from schools.services.roster import (
    ParsedRoster,
    SchoolDirectory,
    parse_roster,
    read_upload,
)

# Rows per INSERT ... ON CONFLICT statement, and local ids per lookup of existing rows.
UPSERT_BATCH = 5000
LOOKUP_BATCH = 10000
SAMPLE_SIZE = 10


# An unconfirmed preview (a copy of the roster) is dropped after this long.
ROSTER_PREVIEW_LIFETIME = timedelta(days=2)


class RosterImportRefused(Exception):
    """The import cannot be confirmed; the message says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def roster_import_create(*, by: Membership, uploaded_file) -> RosterImport:
    """Parse an uploaded roster and keep its preview; nothing is written to Student.

    Raises RosterFileError when the file cannot be used at all (size, encoding, header).
    A school-limited membership may only import into its schools, and only update
    students enrolled there.
    """
    require(by, "students.import")
    data = read_upload(uploaded_file)
    schools = list(School.objects.for_district(by.district))
    allowed = limited_school_ids(by)
    parsed = parse_roster(data, SchoolDirectory.build(schools, allowed), today=by.district.today())
    names = {school.pk: school.name for school in schools}
    diff = _compare(by, parsed, allowed)
    _drop_rows_with_errors(parsed, diff.errors)
    return RosterImport.objects.create(
        district_id=by.district_id,
        uploaded_by=by,
        filename=(getattr(uploaded_file, "name", "") or "roster.csv")[:255],
        layout=parsed.layout,
        fields=parsed.fields,
        rows=parsed.rows,
        errors=parsed.errors,
        error_total=parsed.error_total,
        error_rows=parsed.error_rows,
        ignored_columns=parsed.ignored_columns,
        total_rows=parsed.total_rows,
        skipped_rows=parsed.skipped_rows,
        new_count=len(diff.new),
        updated_count=len(diff.changed),
        unchanged_count=diff.unchanged,
        sample=_sample(parsed.fields, diff, names),
    )


def roster_import_confirm(*, by: Membership, roster_import: RosterImport) -> RosterImport:
    """Create and update the previewed students, all in one transaction or not at all.

    Refused while the file has errors or once cancelled; a second confirmation of an
    imported roster does nothing. Rows are compared again with the students as they are
    now, so only new and changed students are written.
    """
    require(by, "students.import")
    try:
        with transaction.atomic():
            current = (
                RosterImport.objects.select_for_update()
                .filter(district_id=by.district_id, pk=roster_import.pk)
                .get()
            )
            if current.status == RosterImport.Status.IMPORTED:
                return current
            if current.status == RosterImport.Status.CANCELLED:
                raise RosterImportRefused(_("This import was canceled. Upload the file again."))
            if current.error_total:
                raise RosterImportRefused(_("Fix these rows and upload again."))
            if not current.rows:
                raise RosterImportRefused(_("This file has no students to import."))
            parsed = ParsedRoster(layout=current.layout, fields=current.fields, rows=current.rows)
            diff = _compare(by, parsed, limited_school_ids(by))
            if diff.errors:
                raise RosterImportRefused(
                    _("Students changed since this preview. Upload the file again.")
                )
            _upsert(
                by,
                current.fields,
                diff.new,
                [row for row, _f, _c in diff.changed],
                roster_import=current,
            )
            current.status = RosterImport.Status.IMPORTED
            current.imported_at = timezone.now()
            current.new_count, current.updated_count = len(diff.new), len(diff.changed)
            current.unchanged_count = diff.unchanged
            current.rows = []  # the roster now lives in Student; keep no second copy
            current.save(
                update_fields=[
                    "status",
                    "imported_at",
                    "new_count",
                    "updated_count",
                    "unchanged_count",
                    "rows",
                    "updated_at",
                ]
            )
            return current
    except DatabaseError as error:
        raise RosterImportRefused(
            _("The import failed and nothing was imported. Try again, or upload the file again.")
        ) from error


def roster_import_cancel(*, by: Membership, roster_import: RosterImport) -> RosterImport:
    """Drop a pending import and its parsed rows; an imported one stays as it is."""
    require(by, "students.import")
    with transaction.atomic():
        current = (
            RosterImport.objects.select_for_update()
            .filter(district_id=by.district_id, pk=roster_import.pk)
            .get()
        )
        if current.status == RosterImport.Status.PENDING:
            current.status = RosterImport.Status.CANCELLED
            current.rows = []
            current.save(update_fields=["status", "rows", "updated_at"])
        return current


# --- Comparing with the students already there ---------------------------------------------


class _Diff:
    def __init__(self):
        # Rows as they will be written: "no change" and "cleared" resolved (see _resolve).
        self.new: list[list] = []
        # (row, fields that change, fields of them that are cleared)
        self.changed: list[tuple[list, list[str], list[str]]] = []
        self.unchanged = 0
        self.errors: list[list] = []


def _compare(by: Membership, parsed: ParsedRoster, allowed) -> _Diff:
    """Sort valid rows into new, changed and unchanged students (one query per 10,000)."""
    diff = _Diff()
    fields = parsed.fields
    id_position = fields.index("local_id") + 1
    columns = [_column(f) for f in fields]
    for start in range(0, len(parsed.rows), LOOKUP_BATCH):
        chunk = parsed.rows[start : start + LOOKUP_BATCH]
        existing = {
            values[0]: values
            for values in Student.objects.filter(
                district_id=by.district_id, local_id__in=[row[id_position] for row in chunk]
            ).values_list(*columns)
        }
        school_position = columns.index("school_id")
        for row in chunk:
            before = existing.get(row[id_position])
            if before is None:
                diff.new.append(
                    [row[0], *(_resolve(f, None, v) for f, v in zip(fields, row[1:], strict=True))]
                )
                continue
            if allowed is not None and before[school_position] not in allowed:
                column = "student_id" if parsed.layout == "simple" else "identifier"
                diff.errors.append([row[0], column, "student_not_yours", row[id_position], ""])
                continue
            after = [
                _resolve(f, _stored(old), new)
                for f, old, new in zip(fields, before, row[1:], strict=True)
            ]
            changed = [
                f for f, old, new in zip(fields, before, after, strict=True) if _stored(old) != new
            ]
            if changed:
                resolved = dict(zip(fields, after, strict=True))
                cleared = [f for f in changed if resolved[f] in ("", None)]
                diff.changed.append(([row[0], *after], changed, cleared))
            else:
                diff.unchanged += 1
    return diff


def _column(field_name: str) -> str:
    return "school_id" if field_name == "school" else field_name


def _resolve(field_name: str, stored, value):
    """The value a row writes: None (an empty cell) keeps what is stored, or is empty for a
    new student; "" clears (a date to NULL)."""
    if value is None:
        value = stored
    if field_name == "date_of_birth":
        return value or None
    return "" if value is None else value


def _stored(value):
    """A stored value in the form the parser gives (dates as YYYY-MM-DD)."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _drop_rows_with_errors(parsed: ParsedRoster, errors: list[list]) -> None:
    if not errors:
        return
    bad = {error[0] for error in errors}
    parsed.rows = [row for row in parsed.rows if row[0] not in bad]
    parsed.errors = sorted(parsed.errors + errors, key=lambda error: error[0])
    parsed.error_total += len(errors)
    parsed.error_rows += len(bad)


def _sample(fields, diff: _Diff, school_names) -> list[dict]:
    def describe(row, action, changed=(), cleared=()):
        values = dict(zip(fields, row[1:], strict=True))
        return {
            "action": action,
            "row": row[0],
            "local_id": values["local_id"],
            "name": f"{values['first_name']} {values['last_name']}",
            "grade": values["grade"],
            "school": school_names.get(values["school"], ""),
            "changes": [f for f in changed if f != "local_id" and f not in cleared],
            "cleared": list(cleared),
        }

    return [describe(row, "new") for row in diff.new[:SAMPLE_SIZE]] + [
        describe(row, "update", changed, cleared)
        for row, changed, cleared in diff.changed[:SAMPLE_SIZE]
    ]


# The columns an import writes: every Student column but the ones the database fills.
_SKIP = {"id", "created_at", "updated_at", "district"}


def _student_columns() -> list:
    # (issue 13, pages2) Generated columns (the prefix search keys) are the database's to
    # fill: an INSERT naming them is refused.
    return [
        f
        for f in Student._meta.concrete_fields
        if f.name not in _SKIP and not getattr(f, "generated", False)
    ]


def _upsert(by: Membership, fields: list[str], new_rows, changed_rows, *, roster_import) -> None:
    """INSERT ... SELECT FROM unnest(...) ON CONFLICT (district, local_id) DO UPDATE, in chunks.

    Raw SQL on purpose: bulk_create builds a model instance per row, which costs more than
    the database does at 50,000 rows. The history pghistory's row triggers would write is
    written set-based instead, one INSERT ... SELECT per chunk (the row triggers cost a
    quarter of a millisecond per row); test_roster_import checks that it is the same.
    """
    now = timezone.now()
    context = history_context(roster_import=roster_import.pk, membership=by.pk)
    with _history_triggers_off():
        for label, rows in (("insert", new_rows), ("update", changed_rows)):
            for start in range(0, len(rows), UPSERT_BATCH):
                _upsert_chunk(by, fields, rows[start : start + UPSERT_BATCH], now, label, context)


def _upsert_chunk(by, fields, rows, now, label, context) -> None:
    from django.db import connection

    columns = _student_columns()
    position = {name: i + 1 for i, name in enumerate(fields)}  # row[0] is the row number
    arrays = []
    for field in columns:
        if field.name in position:
            i = position[field.name]
            arrays.append([row[i] for row in rows])
        else:
            arrays.append([field.get_default()] * len(rows))
    names = [connection.ops.quote_name(f.column) for f in columns]
    types = [f"%s::{f.db_type(connection)}[]" for f in columns]
    updated = [
        f"{connection.ops.quote_name(f.column)} = EXCLUDED.{connection.ops.quote_name(f.column)}"
        for f in columns
        if f.name in position and f.name != "local_id"
    ]
    if "family_language" in position:
        # The roster now says the family's language: what an older roster had written that
        # named no language (schools migration 0011) has had its answer.
        updated.append("family_language_unrecognized = ''")
    local_ids = arrays[[f.name for f in columns].index("local_id")]
    history = [connection.ops.quote_name(c) for c in _tracked_columns()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO schools_student (created_at, updated_at, district_id, {", ".join(names)})
            SELECT %s, %s, %s, * FROM unnest({", ".join(types)})
            ON CONFLICT (district_id, local_id) DO UPDATE
            SET {", ".join(updated)}, updated_at = EXCLUDED.updated_at
            """,
            [now, now, by.district_id, *arrays],
        )
        cursor.execute(
            f"""
            INSERT INTO schools_studentevent
                (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, pgh_context,
                 {", ".join(history)})
            SELECT %s, %s, id, %s, %s::jsonb, {", ".join(history)} FROM schools_student
            WHERE district_id = %s AND local_id = ANY(%s::text[])
            """,
            [now, label, context[0], context[1], by.district_id, local_ids],
        )


def _tracked_columns() -> list[str]:
    """The Student columns its history rows copy (StudentEvent's own columns are pgh_*)."""
    event = Student._meta.get_field("events").related_model
    return [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]


def history_context(**metadata) -> tuple[str, str]:
    """The (id, metadata) pghistory stores in each event of one import (who, which import).

    Kept in the event rows themselves (PGHISTORY_CONTEXT_FIELD), under their district's
    row-level security, never in pghistory's shared context table.
    """
    import json
    import uuid

    return str(uuid.uuid4()), json.dumps(metadata)


@contextlib.contextmanager
def _history_triggers_off():
    """Skip Student's pghistory insert/update row triggers for this transaction only."""
    import pgtrigger
    from django.db import connection

    ids = [
        trigger.get_pgid(model)
        for model, trigger in pgtrigger.registered()
        if model is Student and trigger.name in ("insert_insert", "update_update")
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
        (previous,) = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(ids) + "}"]
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [previous or "{}"])


def roster_imports_expire(
    *, district: District, older_than: timedelta = ROSTER_PREVIEW_LIFETIME
) -> int:
    """Cancel the district's previews nobody confirmed within `older_than` and drop their
    parsed rows.

    A preview holds a copy of the roster (student data): it must not wait forever.
    Runs inside the district's context (see schools.tasks.expire_roster_previews).
    """
    cutoff = timezone.now() - older_than
    return (
        RosterImport.objects.for_district(district)
        .filter(status=RosterImport.Status.PENDING, created_at__lt=cutoff)
        .update(status=RosterImport.Status.CANCELLED, rows=[], errors=[], updated_at=timezone.now())
    )
