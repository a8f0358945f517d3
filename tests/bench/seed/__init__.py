"""Synthetic data for the benchmark: `manage.py seed_bench --scale S` (issue 12).

Fifty districts of varied size, built by bulk insert (COPY as the maintenance role) into
the benchmark's own, freshly migrated database, deterministically from a seed and a day
(`today`): the same seed, scale and day give the same rows, ids included.

- `bench-large` (Lakeshore Unified, America/Chicago): 300 schools, 150,000 students,
  1,000 partners, 2,000 MOUs, 200 funding sources, a year of access log (a million rows).
- `bench-small` (Pine Hollow): 20 students in 2 schools, 5 partners, 4 MOUs, 300 access-log
  rows: the reference district for the ratio. It is never scaled.
- `bench-d01` ... `bench-d48`: 100 to 8,000 students each (log-uniform), everything else in
  proportion to the largest district.
- In every district, one sign-in account per role, `<role>@<slug>.bench.test`, password
  BENCH_PASSWORD; administrators have an authenticator app whose secret is
  `bench_totp_secret(email)`; the partner account belongs to a partner with an MOU in
  force (and the most MOUs it can see).

`scale` multiplies every count of the large and the other districts (and the number of
other districts), with minimums, so `--scale 0.002` takes seconds.

Adding a builder (later issues: referrals, screenings, meetings, surveys): write
`tests/bench/seed/<app>.py` with `build(ctx: Seed) -> dict[str, int]` and append it to
BUILDERS below. A builder reads what earlier ones made from `ctx.districts` (schools,
students by school and when each came onto the roster, members with their role, school
limits and the day they joined, the sign-in members, partners, MOUs; `DistrictSeed.extra`
for anything new: nothing should happen to a student or by a person before they were
there), draws from its own generator
(`ctx.rng("<app>", district.slug)`, so it changes nobody else's rows), takes ids with
`new_ids` and writes with `copy_rows` (base.py), counts with `ctx.count(label, n)` and
returns the counts to print. Data must satisfy every constraint and trigger: they stay on.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from tests.bench.seed import partnerships, referrals, schools
from tests.bench.seed.base import Seed
from tests.bench.seed.schools import BENCH_PASSWORD, bench_email, bench_totp_secret

__all__ = ["BENCH_PASSWORD", "BUILDERS", "bench_email", "bench_totp_secret", "seed"]

# In order: each may use what the ones before it made.
BUILDERS: list[Callable[[Seed], dict[str, int]]] = [
    schools.build,
    partnerships.build,
    referrals.build,
    schools.build_access_log,
]


def _name(builder) -> str:
    module = builder.__module__.rsplit(".", 1)[-1]
    function = builder.__name__.removeprefix("build_")
    return module if function == "build" else f"{module}.{function}"


def seed(
    *,
    scale: float = 1.0,
    seed: int = 42,
    today: datetime.date | None = None,
    stdout=None,
) -> dict:
    """Fill the default connection's database (empty and migrated) with the benchmark data.

    Returns {"counts": rows per kind, "seconds": per builder, "total_seconds": ...}.
    """
    from django.contrib.auth.hashers import make_password

    from tests.bench.database import maintenance_connection

    if scale <= 0:
        raise ValueError("scale must be positive")
    started = time.monotonic()
    seconds: dict[str, float] = {}
    with maintenance_connection() as conn:
        conn.execute("SET synchronous_commit = off")
        ctx = Seed(
            conn=conn,
            scale=scale,
            seed=seed,
            today=today or datetime.date.today(),
            # One hash for every seeded person (hashing is slow on purpose).
            password_hash=make_password(BENCH_PASSWORD, salt=f"trellisbench{seed}"),
            stdout=stdout,
        )
        for builder in BUILDERS:
            name, begun = _name(builder), time.monotonic()
            # Django's foreign keys to non-tenant tables are DEFERRABLE INITIALLY DEFERRED:
            # checked at commit, they pile up in the trigger queue and slow every later
            # statement down (150,000 students took 55 s instead of 6). Checked at once
            # instead: every row is checked all the same.
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            counts = builder(ctx)
            conn.commit()
            seconds[name] = round(time.monotonic() - begun, 1)
            shown = ", ".join(f"{key} {value:,}" for key, value in counts.items())
            ctx.say(f"  {name}: {shown} ({seconds[name]} s)")
    begun = time.monotonic()
    _vacuum_analyze()
    seconds["vacuum_analyze"] = round(time.monotonic() - begun, 1)
    return {
        "counts": dict(ctx.counts),
        "seconds": seconds,
        "total_seconds": round(time.monotonic() - started, 1),
    }


def _vacuum_analyze() -> None:
    """Statistics and the visibility map, as a database that has lived a while has them
    (the owner role owns the tables; VACUUM and ANALYZE skip tables one does not own)."""
    from config.db import as_owner

    with as_owner() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = 'public' AND tableowner = current_user"
        )
        cursor.execute(f"VACUUM (ANALYZE) {cursor.fetchone()[0]}")
