"""What every builder shares: the run's context, the districts' plan, COPY and ids, times.

Rows go in with COPY on the maintenance connection (BYPASSRLS: PostgreSQL refuses COPY
FROM on a table under row-level security to any role subject to it). Every trigger and
constraint stays on: the change-history triggers fire, composite tenant keys are
checked. Ids are taken from the tables' own sequences before the rows are written
(`new_ids`), so builders can point rows at each other without reading them back, and
the sequences end past every inserted id.
"""

from __future__ import annotations

import datetime
import itertools
import math
import random
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

UTC = datetime.UTC

# The largest district at scale 1, as issue 12 asks; others are sized from its ratios.
LARGE = {
    "students": 150_000,
    "schools": 300,
    "partners": 1_000,
    "mous": 2_000,
    "funding": 200,
    "access_log": 1_000_000,
}
# The reference district for the ratio: never scaled.
SMALL = {"students": 20, "schools": 2, "partners": 5, "mous": 4, "funding": 2, "access_log": 300}
OTHER_DISTRICTS = 48
OTHER_STUDENTS = (100, 8_000)  # log-uniform, before scaling
LARGE_SLUG, SMALL_SLUG = "bench-large", "bench-small"


# --- The plan ------------------------------------------------------------------------------


@dataclass
class SchoolSeed:
    id: int
    name: str
    level: str  # elementary, middle, high, k8, k12, alternative
    lowest_grade: str
    highest_grade: str
    grades: tuple[str, ...]


@dataclass
class MemberSeed:
    id: int
    user_id: int
    role: str
    name: str
    email: str
    # None: every school of the district; otherwise the schools it is limited to.
    school_ids: tuple[int, ...] | None = None
    partner_id: int | None = None
    active: bool = True
    crisis_responder: bool = False
    joined: datetime.datetime | None = None


@dataclass
class DistrictSeed:
    """One district: its plan (sizes, place) and, as builders run, what they made."""

    slug: str
    name: str
    time_zone: str
    state: str
    city: str
    domain: str  # staff email domain
    area_codes: tuple[str, ...]
    self_consent_age: int
    sizes: dict[str, int]
    id: int = 0
    created_at: datetime.datetime | None = None
    schools: list[SchoolSeed] = field(default_factory=list)
    # School id -> its students' ids (every student of the district is in one list).
    students: dict[int, list[int]] = field(default_factory=dict)
    # Student id -> when it came onto the roster (UTC seconds): nothing happens to it before.
    student_since: dict[int, float] = field(default_factory=dict)
    members: list[MemberSeed] = field(default_factory=list)
    # Role -> the benchmark's sign-in membership (`<role>@<slug>.bench.test`).
    signin: dict[str, MemberSeed] = field(default_factory=dict)
    # Filled by the partnerships builder: partner id -> facts later builders need.
    partners: list[dict[str, Any]] = field(default_factory=list)
    mous: list[dict[str, Any]] = field(default_factory=list)
    # Anything a later builder wants to hand on to the next one.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def student_count(self) -> int:
        return sum(len(ids) for ids in self.students.values())

    def members_with(self, *roles: str, active: bool = True) -> list[MemberSeed]:
        return [m for m in self.members if m.role in roles and (m.active or not active)]


@dataclass
class Seed:
    """One run: the connection, the knobs, the districts and what has been counted."""

    conn: Any  # psycopg.Connection as the maintenance role
    scale: float
    seed: int
    today: datetime.date
    districts: list[DistrictSeed] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Email addresses taken so far (User.email is unique, case-insensitively).
    emails: set[str] = field(default_factory=set)
    password_hash: str = ""
    stdout: Any = None

    def rng(self, *names: object) -> random.Random:
        """A generator of its own for one builder (and district): adding or changing a
        builder leaves the data of every other one as it was."""
        return random.Random(":".join([str(self.seed), *map(str, names)]))

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    def count(self, label: str, n: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + n

    def district(self, slug: str) -> DistrictSeed:
        return next(d for d in self.districts if d.slug == slug)

    @property
    def school_year_start(self) -> int:
        """The calendar year the current school year began in (it starts in August)."""
        return self.today.year if self.today.month >= 8 else self.today.year - 1

    def unique_email(self, local: str, domain: str) -> str:
        local = ascii_slug(local, ".")
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email


def scaled(value: float, scale: float, minimum: int) -> int:
    return max(minimum, round(value * scale))


def plan_sizes(students: int, scale: float) -> dict[str, int]:
    """A district's counts, proportionate to the largest one's, with sensible minimums."""
    ratio = students / LARGE["students"]
    students = scaled(students, scale, 10)
    return {
        "students": students,
        "schools": max(2 if students >= 150 else 1, round(students / 480)),
        "partners": scaled(LARGE["partners"] * ratio, scale, 3),
        "mous": scaled(LARGE["mous"] * ratio, scale, 2),
        "funding": scaled(LARGE["funding"] * ratio, scale, 1),
        "access_log": scaled(LARGE["access_log"] * ratio, scale, 50),
    }


# --- COPY and ids --------------------------------------------------------------------------


def _columns(model, fields: Sequence[str]) -> list[str]:
    by_name = {}
    for f in model._meta.concrete_fields:
        by_name[f.name] = by_name[f.attname] = f.column
    return [by_name[name] for name in fields]


# Rows per COPY statement: each statement queues a trigger event per row and key it checks
# (fired at its end), so a million-row statement holds millions of them at once.
BATCH = 50_000


def copy_rows(conn, model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY `rows` (tuples in the order of `fields`, attnames) into the model's table.

    JSON values must be wrapped in psycopg.types.json.Jsonb; lists become arrays.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table),
        sql.SQL(", ").join(map(sql.Identifier, _columns(model, fields))),
    )
    rows, n = iter(rows), 0
    while True:
        batch = list(itertools.islice(rows, BATCH))
        if not batch:
            return n
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in batch:
                copy.write_row(row)
        n += len(batch)


def new_ids(conn, model, n: int) -> list[int]:
    """`n` ids from the table's own sequence (so the sequence ends past them)."""
    if n <= 0:
        return []
    rows = conn.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [model._meta.db_table, n],
    ).fetchall()
    return [row[0] for row in rows]


# --- Names, dates and times ----------------------------------------------------------------

_ASCII = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüñçÁÉÍÓÚÑÇ", "aaaaaaeeeeiiiiooooouuuuncAEIOUNC")


def ascii_slug(text: str, sep: str = "") -> str:
    text = text.translate(_ASCII).lower()
    out = []
    for ch in text:
        if ch.isalnum():
            out.append(ch)
        elif ch in " -_.&/" and out and out[-1] != sep:
            out.append(sep)
    return "".join(out).strip(sep)


def weighted(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


def cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def lognormal_weights(rng: random.Random, n: int, sigma: float) -> list[float]:
    return [math.exp(rng.gauss(0, sigma)) for _ in range(n)]


def at_local(
    zone: zoneinfo.ZoneInfo, day: datetime.date, hour: int = 9, minute: int = 0, second: int = 0
) -> datetime.datetime:
    """A moment of the district's day, in UTC."""
    local = datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
    return local.astimezone(UTC)


def business_moment(rng: random.Random, zone, day: datetime.date) -> datetime.datetime:
    """Some time of a working day (8:00 to 17:00) on the district's clock, in UTC."""
    seconds = rng.randint(8 * 3600, 17 * 3600)
    return at_local(zone, day, seconds // 3600, seconds // 60 % 60, seconds % 60)


def days_ago(today: datetime.date, n: int) -> datetime.date:
    return today - datetime.timedelta(days=n)
