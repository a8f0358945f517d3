"""`manage.py bench` end to end on a tiny seeded database, so that the command never rots
(the page timings and the load test, `--load`).

Seeds a database of its own with `seed_bench` at a tiny scale, runs the benchmark once
over it (two timed requests a page) and checks that every page and job of the registry
was measured; the database is dropped afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from tests.bench.database import drop_database
from tests.bench.pages import JOBS, PAGES

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "true"}  # development commands (the suite runs DEBUG off)
    env.pop("DATABASE_NAME", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _row(report: str, first_cells: str) -> list[str]:
    for line in report.splitlines():
        if line.startswith(f"| {first_cells} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row for {first_cells!r} in the report")


def test_bench_measures_every_page_and_job_on_a_tiny_seed(tmp_path):
    database = f"test_trellis_benchcheck_{uuid.uuid4().hex[:8]}"
    output = tmp_path / "benchmarks.md"
    try:
        seeded = _manage("seed_bench", "--scale", "0.002", "--database", database, timeout=600)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        bench = _manage(
            "bench",
            "--database",
            database,
            "--requests",
            "2",
            "--warmup",
            "1",
            "--workers",
            "1",
            "--output",
            str(output),
            "--compare-rls",
            timeout=600,
        )
        assert bench.returncode == 0, bench.stdout + bench.stderr
        load = _manage(
            "bench", "--load", "--database", database, "--users", "4", "--seconds", "3",
            "--workers", "1", timeout=300,
        )  # fmt: skip
        assert load.returncode == 0, load.stdout + load.stderr
    finally:
        drop_database(database)

    report = output.read_text()
    for page in PAGES:
        cells = _row(report, f"{page.name} | {page.role}")
        # page, role, then median, p95 and SQL statements for each district, and the ratio
        large_sql, small_sql = int(cells[4]), int(cells[7])
        assert large_sql > 0 and small_sql > 0, cells
        assert re.fullmatch(r"\d+\.\d+x", cells[8]), cells
        assert page.name in bench.stdout
    # Row-level security against none, page and SQL time, with a total over every page.
    rls = report.split("## Row-level security", 1)[1].split("## Jobs", 1)[0]
    for page in [*PAGES, "**every page**"]:
        cells = _row(rls, getattr(page, "name", page))
        assert len(cells) == 9 and all(re.fullmatch(r"[+-]\d+%|n/a", c) for c in cells[2::2]), cells
    for job in JOBS:
        cells = _row(report, job.name)
        assert float(cells[1]) > 0 and int(cells[3]) > 0, cells
    assert report.count("Execution Time") >= 1, "the slowest statements have no EXPLAIN"
    # The load test: every request answered, and counted.
    served = re.search(r"requests: (\d+) \(.* a second\), errors: 0", load.stdout)
    assert served and int(served.group(1)) >= 4, load.stdout
    assert re.search(r"median [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms", load.stdout), load.stdout
