"""`manage.py seed_bench` at a tiny scale, into a database of its own, read back as the web
process reads it: the runtime role, under row-level security, one district at a time."""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings

from tests.bench.database import drop_database
from tests.bench.seed import bench_email, bench_totp_secret
from tests.bench.seed.base import DistrictSeed, SchoolSeed, Seed
from tests.bench.seed.schools import student_rows

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("admin", "coordinator", "counselor", "partner", "viewer")


def _runtime_connection(dbname: str) -> psycopg.Connection:
    default = settings.DATABASES["default"]
    info = {
        "host": default["HOST"] or None,
        "port": default["PORT"] or None,
        "user": default["USER"],
        "password": default["PASSWORD"] or None,
        "dbname": dbname,
    }
    return psycopg.connect(**{key: value for key, value in info.items() if value is not None})


@contextlib.contextmanager
def _in_district(conn, district_id: int):
    """What tenant_context does, in raw SQL: the setting lives as long as the transaction."""
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT set_config('app.district_id', %s, true)", [str(district_id)])
        yield


def _one(conn, query: str, *params):
    return conn.execute(query, params).fetchone()[0]


def test_seed_bench_builds_valid_data_that_row_level_security_scopes():
    name = f"test_trellis_seedcheck_{secrets.token_hex(4)}"
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "seed_bench", "--scale", "0.002", "--database", name],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "true"},
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "seeded in" in result.stdout
        with _runtime_connection(name) as conn:
            _check(conn)
    finally:
        drop_database(name)


def _check(conn) -> None:
    ids = dict(conn.execute("SELECT slug, id FROM schools_district").fetchall())
    assert {"bench-large", "bench-small", "bench-d01"} <= set(ids)

    # Outside a district the runtime role sees no tenant row at all (fail closed).
    with conn.transaction(force_rollback=True):
        assert _one(conn, "SELECT count(*) FROM schools_student") == 0
        assert _one(conn, "SELECT count(*) FROM schools_accesslog") == 0

    with _in_district(conn, ids["bench-large"]):
        students = _one(conn, "SELECT count(*) FROM schools_student")
        assert students == 300  # 150,000 at scale 0.002
        # Every student is in a school of this district (the join sees only its schools).
        assert students == _one(
            conn,
            "SELECT count(*) FROM schools_student s JOIN schools_school c ON c.id = s.school_id",
        )
        assert _one(conn, "SELECT count(*) FROM schools_studentevent") == students  # history on
        log = _one(conn, "SELECT count(*) FROM schools_accesslog")
        assert log == 2_000
        # Each view is by the membership's own person, of a student it may see.
        assert log == _one(
            conn,
            """SELECT count(*) FROM schools_accesslog a
               JOIN schools_membership m ON m.id = a.membership_id AND m.user_id = a.user_id
               JOIN schools_student s ON s.id = a.student_id
               WHERE NOT EXISTS (SELECT 1 FROM schools_membershipschool l
                                 WHERE l.membership_id = m.id)
                  OR EXISTS (SELECT 1 FROM schools_membershipschool l
                             WHERE l.membership_id = m.id AND l.school_id = s.school_id)""",
        )
        assert _one(conn, "SELECT count(*) FROM partnerships_mou") >= 4
        assert _one(conn, "SELECT count(*) FROM partnerships_mouversion") >= 4

    for slug in ("bench-large", "bench-small", "bench-d01"):
        with _in_district(conn, ids[slug]):
            people = dict(
                conn.execute(
                    """SELECT u.email, m.role FROM schools_membership m
                       JOIN schools_user u ON u.id = m.user_id
                       JOIN account_emailaddress e ON e.user_id = u.id AND e.verified
                       WHERE m.active AND u.email LIKE %s""",
                    [f"%@{slug}.bench.test"],
                ).fetchall()
            )
            assert people == {bench_email(role, slug): role for role in ROLES}
            # The partner account's organisation has MOUs it can open.
            assert _one(
                conn,
                """SELECT count(*) FROM partnerships_mou o
                   JOIN schools_membership m ON m.partner_id = o.partner_id
                   JOIN schools_user u ON u.id = m.user_id
                   WHERE u.email = %s AND o.status IN ('active', 'expiring')""",
                bench_email("partner", slug),
            )
        admin = bench_email("admin", slug)
        secret = _one(
            conn,
            """SELECT a.data ->> 'secret' FROM mfa_authenticator a
               JOIN schools_user u ON u.id = a.user_id WHERE u.email = %s AND a.type = 'totp'""",
            admin,
        )
        from allauth.mfa.utils import decrypt

        assert decrypt(secret) == bench_totp_secret(admin)

    with _in_district(conn, ids["bench-small"]):
        counts = [
            _one(conn, f"SELECT count(*) FROM {table}")
            for table in (
                "schools_student",
                "schools_school",
                "partnerships_partner",
                "partnerships_mou",
            )
        ]
        assert counts == [20, 2, 5, 4]
        assert 200 <= _one(conn, "SELECT count(*) FROM schools_accesslog") <= 400
        # The sequences end past the copied ids: new rows take fresh ones.
        school = _one(
            conn,
            """INSERT INTO schools_school (created_at, updated_at, name, lowest_grade,
                   highest_grade, state_id, nces_id, sis_id, district_id)
               VALUES (now(), now(), 'Probe School', 'KG', '05', '', '', '', %s) RETURNING id""",
            ids["bench-small"],
        )
        conn.execute(
            """INSERT INTO schools_student (created_at, updated_at, local_id, first_name,
                   last_name, preferred_name, grade, guardian_name, guardian_email,
                   guardian_phone, family_language, active, district_id, school_id)
               VALUES (now(), now(), 'probe', 'Pat', 'Probe', '', 'KG', '', '', '', '', true,
                       %s, %s)""",
            [ids["bench-small"], school],
        )


def test_students_are_the_same_for_the_same_seed_and_born_for_their_grade():
    today = datetime.date(2026, 3, 2)

    def students(seed: int) -> list[tuple]:
        ctx = Seed(conn=None, scale=1, seed=seed, today=today)
        district = DistrictSeed(
            slug="d",
            name="D",
            time_zone="America/Chicago",
            state="IL",
            city="Lakeshore",
            domain="d.example.org",
            area_codes=("312",),
            self_consent_age=12,
            sizes={},
            id=1,
            created_at=datetime.datetime(2021, 5, 3, 15, tzinfo=datetime.UTC),
        )
        district.schools = [
            SchoolSeed(1, "E", "elementary", "KG", "05", ("KG", "01", "02", "03", "04", "05")),
            SchoolSeed(2, "H", "high", "06", "12", ("06", "07", "08", "09", "10", "11", "12")),
        ]
        return student_rows(ctx, ctx.rng("schools", "d"), district, list(range(1, 501)))

    first = students(42)
    assert first == students(42)
    assert first != students(43)
    for row in first:
        born, grade = row[7], row[8]
        if born is None or grade != "KG":
            continue
        age_on_september_1 = (datetime.date(2025, 9, 1) - born).days / 365.25
        assert 4 <= age_on_september_1 < 7, (born, grade)
