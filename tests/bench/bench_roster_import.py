"""Benchmark: parse, preview and import a roster of 50,000 students (simple layout).

Run it against the development database (embedded PostgreSQL, started if needed):

    DEBUG=true ./trellis manage shell -c "from tests.bench.bench_roster_import import main; main()"

or, with the virtualenv's Python:

    DEBUG=true .venv/bin/python -m tests.bench.bench_roster_import [ROWS]

Everything happens in one transaction that is rolled back at the end: a throwaway district,
its schools and students leave nothing behind. It prints the seconds of each phase, then a
second pass that re-imports the same file with a tenth of the rows changed (the update path).
pytest does not collect this file (it is not named test_*.py).
"""

from __future__ import annotations

import csv
import io
import sys
import time
import uuid

SIMPLE_HEADER = [
    "student_id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "grade",
    "school",
    "guardian_name",
    "guardian_email",
    "guardian_phone",
    "family_language",
]


def roster_csv(rows: int, *, changed_every: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SIMPLE_HEADER)
    for n in range(rows):
        grade = str(n % 12 + 1)
        if changed_every and n % changed_every == 0:
            grade = str((n + 1) % 12 + 1)
        writer.writerow(
            [
                f"S{n:07d}",
                f"First{n}",
                f"Last{n}",
                "",
                f"20{10 + n % 8:02d}-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                grade,
                f"Bench School {n % 4}",
                f"Guardian {n}",
                f"family{n}@example.org",
                "555-0100",
                "English",
            ]
        )
    return out.getvalue().encode()


class _Upload(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name
        self.size = len(data)


def _timed(label: str, fn, results: dict):
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    print(f"  {label:<34} {results[label]:7.2f} s", flush=True)
    return value


def run(rows: int = 50_000) -> dict:
    from django.db import transaction

    from schools.models import District, Membership, Role, School, Student, User
    from schools.services.roster import SchoolDirectory, parse_roster
    from schools.services.students import roster_import_confirm, roster_import_create
    from schools.tenancy import tenant_context

    results: dict = {}
    with transaction.atomic():
        tag = uuid.uuid4().hex[:8]
        district = District.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
        user = User.objects.create_user(f"bench-{tag}@example.org", None)
        with tenant_context(district):
            schools = [
                School.objects.create(district=district, name=f"Bench School {i}") for i in range(4)
            ]
            by = Membership.objects.create(district=district, user=user, role=Role.COORDINATOR)
            data = roster_csv(rows)
            print(f"{rows} rows, {len(data) / 1e6:.1f} MB", flush=True)
            _timed(
                "parse only",
                lambda: parse_roster(data, SchoolDirectory.build(schools), today=district.today()),
                results,
            )
            created = _timed(
                "parse + preview (upload)",
                lambda: roster_import_create(by=by, uploaded_file=_Upload(data, "bench.csv")),
                results,
            )
            _timed(
                "import (confirm), all new",
                lambda: roster_import_confirm(by=by, roster_import=created),
                results,
            )
            assert Student.objects.filter(district=district).count() == rows
            changed = roster_csv(rows, changed_every=10)
            again = _timed(
                "parse + preview, 10% changed",
                lambda: roster_import_create(by=by, uploaded_file=_Upload(changed, "bench.csv")),
                results,
            )
            assert again.updated_count == len(range(0, rows, 10)), again.updated_count
            _timed(
                "import (confirm), 10% changed",
                lambda: roster_import_confirm(by=by, roster_import=again),
                results,
            )
        total = results["parse + preview (upload)"] + results["import (confirm), all new"]
        print(f"  {'upload + confirm of new roster':<34} {total:7.2f} s", flush=True)
        transaction.set_rollback(True)
    return results


def main(rows: int | None = None) -> dict:
    return run(rows or 50_000)


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
