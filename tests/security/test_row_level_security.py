"""PostgreSQL row-level security, checked with raw SQL as the runtime role.

These tests do not trust the application: they talk to the database directly, as the
web process and the workers do, and prove that a forgotten filter cannot leak.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from schools.models import AccessLog
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, StudentFactory


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
