"""The web and workers connect as a role that owns nothing and cannot bypass RLS."""

from django.conf import settings
from django.db import connection


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_tests_run_as_the_runtime_role(db):
    [(user,)] = fetch("SELECT current_user")

    assert user == settings.DATABASE_ROLE_NAMES["runtime"]
    assert user != settings.DATABASE_ROLE_NAMES["owner"]


def test_runtime_role_has_no_superuser_no_bypassrls_and_owns_no_table(db):
    [(superuser, bypass, createrole)] = fetch(
        "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    owned = fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    )

    assert (superuser, bypass, createrole) == (False, False, False)
    assert owned == []


def test_every_table_belongs_to_the_owner_role(db):
    owners = {
        row[0]
        for row in fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    }

    assert owners == {settings.DATABASE_ROLE_NAMES["owner"]}


def test_runtime_role_cannot_change_the_schema(db):
    import pytest
    from django.db import ProgrammingError, transaction

    with pytest.raises(ProgrammingError), transaction.atomic():
        fetch("CREATE TABLE sneaky (id int)")
    with pytest.raises(ProgrammingError), transaction.atomic():
        fetch("ALTER TABLE schools_school ADD COLUMN sneaky int")
