"""PostgreSQL row-level security, checked with raw SQL as the runtime role.

These tests do not trust the application: they talk to the database directly, as the
web process and the workers do, and prove that a forgotten filter cannot leak.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from schools.models import AccessLog
from schools.rls import own_rows_policy, rls_sql
from schools.tenancy import enter_district_for_rest_of_transaction, tenant_context
from tests.factories import DistrictFactory, MembershipFactory, StudentFactory
from tests.security.tables import TABLE_MAKERS


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'district_id' ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def two_districts(district, other_district):
    """A student, a membership and their history in each district."""
    for d in (district, other_district):
        StudentFactory(district=d)
        MembershipFactory(district=d, role="counselor")
    return district, other_district


def test_every_table_with_district_id_is_forced_under_a_policy(db):
    tables = tenant_tables()
    assert "schools_student" in tables and "partnerships_partner" in tables

    unprotected = []
    for table in tables:
        [(enabled, forced)] = rows(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = %s AND relnamespace = 'public'::regnamespace",
            [table],
        )
        policies = rows(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s "
            "AND policyname = 'tenant_isolation'",
            [table],
        )
        if not (
            enabled and forced and policies and "district_id" in policies[0][0] and policies[0][1]
        ):
            unprotected.append(table)

    assert unprotected == [], f"tables without row-level security: {unprotected}"


def test_without_a_district_raw_sql_sees_no_tenant_row(two_districts):
    with tenant_context(None, user=None):
        counts = {table: rows(f'SELECT count(*) FROM "{table}"')[0][0] for table in tenant_tables()}

    assert set(counts.values()) == {0}, counts


def test_in_district_a_raw_sql_sees_none_of_district_b(two_districts):
    north, south = two_districts

    with tenant_context(north, user=None):
        seen = {
            table: rows(f'SELECT DISTINCT district_id FROM "{table}"') for table in tenant_tables()
        }

    leaked = {table: ids for table, ids in seen.items() if any(d != north.pk for (d,) in ids)}
    assert leaked == {}
    assert seen["schools_student"] == [(north.pk,)]  # and A's own rows are there


def test_in_district_a_a_row_for_district_b_cannot_be_written(two_districts):
    north, south = two_districts

    with tenant_context(north, user=None):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            rows(
                "INSERT INTO schools_school (created_at, updated_at, district_id, name, "
                "lowest_grade, highest_grade, state_id, nces_id) "
                "VALUES (now(), now(), %s, 'Planted', 'KG', '12', '', '')",
                [south.pk],
            )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            rows("UPDATE schools_school SET district_id = %s", [south.pk])
        assert rows("SELECT count(*) FROM schools_school WHERE name = 'Planted'") == [(0,)]


def test_a_district_setting_made_in_a_savepoint_does_not_outlive_the_block(two_districts):
    north, _ = two_districts
    with transaction.atomic():
        with tenant_context(north):
            assert rows("SELECT count(*) FROM schools_student")[0][0] == 1
        assert rows("SELECT count(*) FROM schools_student")[0][0] == 0


def test_a_person_reads_their_own_memberships_before_a_district_is_chosen(two_districts):
    north, south = two_districts
    mine = MembershipFactory(district=north, role="counselor")
    MembershipFactory(district=south, role="partner", user=mine.user)

    with tenant_context(None, user=mine.user):
        visible = rows("SELECT district_id FROM schools_membership ORDER BY district_id")
        students = rows("SELECT count(*) FROM schools_student")

    assert visible == sorted([(north.pk,), (south.pk,)])
    assert students == [(0,)]


def test_access_log_is_append_only_for_the_runtime_role(two_districts):
    north, _ = two_districts
    membership = MembershipFactory(district=north, role="counselor")
    with tenant_context(north):
        AccessLog.objects.create(
            district=north,
            membership=membership,
            user=membership.user,
            object_type="student",
            object_id="1",
            path="/north/",
        )
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            rows("UPDATE schools_accesslog SET path = '/elsewhere/'")
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            rows("DELETE FROM schools_accesslog")
        assert rows("SELECT path FROM schools_accesslog") == [("/north/",)]


def test_change_history_is_kept_and_cannot_be_rewritten(two_districts):
    north, _ = two_districts
    with tenant_context(north):
        student = StudentFactory(district=north)
        student.grade = "10"
        student.save(update_fields=["grade"])
        history = rows(
            "SELECT grade, pgh_label FROM schools_studentevent WHERE pgh_obj_id = %s "
            "ORDER BY pgh_id",
            [student.pk],
        )
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            rows("DELETE FROM schools_studentevent")

    assert history == [("09", "insert"), ("10", "update")]


# --- Table by table, by effect -------------------------------------------------------------
# Each tenant table gets a row made in district B (tests/security/tables.py), then raw SQL
# as the runtime role inside district A tries to read, copy, move and delete it.

RLS_REFUSAL = "new row violates row-level security policy"
NOT_GRANTED = "permission denied"


def attempt(sql, params=None) -> tuple[int | None, str | None]:
    """Run one statement in a savepoint: (rows affected, None) or (None, the error)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount, None
    except DatabaseError as error:
        return None, str(error)


def primary_key(table: str) -> str:
    [(column,)] = rows(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary",
        [f'"{table}"'],
    )
    return column


def copyable_columns(table: str) -> list[str]:
    """Every column an INSERT may name (identity and generated columns fill themselves)."""
    return [
        name
        for (name,) in rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attidentity = '' AND attgenerated = '' ORDER BY attnum",
            [f'"{table}"'],
        )
    ]


def test_every_tenant_table_has_a_row_maker(db):
    tables = set(tenant_tables())

    assert sorted(tables - TABLE_MAKERS.keys()) == [], (
        "no row maker for these tenant tables: add one to TABLE_MAKERS in tests/security/tables.py"
    )
    assert sorted(TABLE_MAKERS.keys() - tables) == [], "makers for tables that do not exist"


def cross_district_problems(table: str, inside_a, inside_b) -> list[str]:
    """What raw SQL inside district A could do to a row of `table` made in district B."""
    a, b = inside_a.pk, inside_b.pk
    pk = primary_key(table)
    row_id = TABLE_MAKERS[table](inside_b)
    the_row = f'"{table}" WHERE "{pk}" = %s'
    columns = ", ".join(f'"{c}"' for c in copyable_columns(table))
    # Append-only tables: the runtime role may not UPDATE or DELETE them at all.
    rewritable = rows("SELECT has_table_privilege(%s, 'UPDATE')", [f'"{table}"'])[0][0]
    problems = []

    with tenant_context(inside_b, user=None):
        made = rows(f"SELECT district_id, to_jsonb({table})::text FROM {the_row}", [row_id])
    if [district_id for district_id, _ in made] != [b]:
        return [f"the maker made no row of district B: {made!r}"]
    copy = made[0][1]

    with tenant_context(inside_a, user=None):
        if rows(f"SELECT count(*) FROM {the_row}", [row_id]) != [(0,)]:
            problems.append("SELECT in A sees B's row")
        _, error = attempt(
            f'INSERT INTO "{table}" ({columns}) SELECT {columns} '
            f'FROM jsonb_populate_record(NULL::"{table}", %s::jsonb)',
            [copy],
        )
        if RLS_REFUSAL not in (error or ""):
            problems.append(f"INSERT in A of a copy of B's row not refused by the policy: {error}")
        for statement, params in (
            (f'UPDATE "{table}" SET district_id = %s WHERE "{pk}" = %s', [a, row_id]),
            (f"DELETE FROM {the_row}", [row_id]),
        ):
            touched, error = attempt(statement, params)
            if touched != 0 and (rewritable or NOT_GRANTED not in (error or "")):
                problems.append(f"{statement.split()[0]} in A of B's row: {touched} rows, {error}")

    with tenant_context(inside_b, user=None):
        _, error = attempt(f'UPDATE "{table}" SET district_id = %s WHERE "{pk}" = %s', [a, row_id])
        if (RLS_REFUSAL if rewritable else NOT_GRANTED) not in (error or ""):
            problems.append(f"moving B's row to A from inside B not refused: {error}")
        if rows(f"SELECT district_id FROM {the_row}", [row_id]) != [(b,)]:
            problems.append("B's row is no longer in B")
    return problems


def test_a_row_of_district_b_cannot_be_read_copied_moved_or_deleted_from_district_a(
    district, other_district
):
    """For every tenant table, as the runtime role: SELECT in A sees nothing of B; INSERT of
    a copy of B's row and moving B's row to A are refused by WITH CHECK; UPDATE and DELETE
    in A touch no row of B."""
    problems = {}
    for table in tenant_tables():
        if table not in TABLE_MAKERS:
            problems[table] = ["no row maker in tests/security/tables.py"]
        elif found := cross_district_problems(table, district, other_district):
            problems[table] = found

    assert problems == {}


# --- Each policy is exactly the helper's ---------------------------------------------------

# What PostgreSQL stores for schools.rls's expression, pinned so that a change to the helper
# itself (an escape clause, a constant) fails here as well as in the effect tests above.
TENANT_MATCH = (
    "(district_id = (NULLIF(current_setting('app.district_id'::text, true), ''::text))::bigint)"
)
# The one documented exception: a person reads their own memberships before choosing a
# district (schools.rls.own_rows_policy, schools/tenancy.py).
OWN_ROWS_TABLES = {"schools_membership"}

POLICIES = (
    "SELECT tablename, policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
    "WHERE schemaname = {schema}"
)


def test_every_policy_is_exactly_the_one_the_migration_helper_writes(db):
    # A scratch table of our own, put under row-level security by the helper's own SQL:
    # PostgreSQL stores its policies in the normalized form it will store for every table.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE rls_probe (id bigint, district_id bigint, user_id bigint)"
        )
        cursor.execute(rls_sql("rls_probe"))
        cursor.execute(own_rows_policy("rls_probe").sql)
    probe = {
        policy: (permissive, roles, cmd, qual, check)
        for _, policy, permissive, roles, cmd, qual, check in rows(
            POLICIES.format(schema="pg_my_temp_schema()::regnamespace::text")
        )
    }
    assert probe["tenant_isolation"] == (
        "PERMISSIVE",
        ["public"],
        "ALL",
        TENANT_MATCH,
        TENANT_MATCH,
    )
    [(enabled, forced)] = rows(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'rls_probe'::regclass"
    )
    assert enabled and forced

    stored = {}
    for table, policy, *definition in rows(POLICIES.format(schema="'public'")):
        stored.setdefault(table, {})[policy] = tuple(definition)
    flags = dict(
        (name, (enabled, forced))
        for name, enabled, forced in rows(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"
        )
    )

    wrong = {}
    for table in tenant_tables():
        expected = {"tenant_isolation": probe["tenant_isolation"]}
        if table in OWN_ROWS_TABLES:
            expected["own_rows"] = probe["own_rows"]
        if stored.get(table, {}) != expected or flags.get(table) != (True, True):
            wrong[table] = {"policies": stored.get(table), "enabled, forced": flags.get(table)}

    assert wrong == {}
    assert set(tenant_tables()) >= OWN_ROWS_TABLES


# --- No district outlives its transaction on a reused connection ----------------------------


@pytest.mark.django_db(transaction=True)
def test_no_district_setting_survives_the_transaction_that_made_it():
    """Committed, rolled back, ended by an exception, or entered for the rest of a request's
    transaction: afterwards the same connection is in no district and sees no tenant row."""
    north = DistrictFactory(slug="north")
    person = MembershipFactory(district=north).user
    StudentFactory(district=north)

    def after():
        return rows(
            "SELECT pg_backend_pid(), current_setting('app.district_id', true), "
            "current_setting('app.user_id', true), (SELECT count(*) FROM schools_student)"
        )[0]

    pid = rows("SELECT pg_backend_pid()")[0][0]
    seen = {}

    with tenant_context(north, user=person):
        inside = rows("SELECT count(*) FROM schools_student")
    seen["committed"] = after()

    with transaction.atomic():
        with tenant_context(north, user=person):
            pass
        transaction.set_rollback(True)
    seen["rolled back"] = after()

    with pytest.raises(LookupError), tenant_context(north, user=person):
        raise LookupError
    seen["exception"] = after()

    with transaction.atomic():
        enter_district_for_rest_of_transaction(north)
    seen["rest of transaction, committed"] = after()

    assert inside == [(1,)]  # the context worked while it lasted
    for case, (backend, district_id, user_id, students) in seen.items():
        assert backend == pid, f"{case}: not the same connection"
        assert (district_id or "", user_id or "", students) == ("", "", 0), case
