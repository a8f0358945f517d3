"""The benchmark's own database on the project's PostgreSQL server.

The benchmark data (tests/bench/seed) lives in a database of its own, `trellis_bench` by
default, beside the development and test databases on the same server: created by the
owner role, migrated like any other, and filled through the maintenance role, which
PostgreSQL lets COPY into tables under row-level security (it has BYPASSRLS).
"""

from __future__ import annotations

import os

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from psycopg import sql

BENCH_DATABASE = "trellis_bench"


def _conninfo(credentials: dict, dbname: str) -> dict:
    info = {
        "host": credentials.get("HOST") or None,
        "port": credentials.get("PORT") or None,
        "user": credentials["USER"],
        "password": credentials.get("PASSWORD") or None,
        "dbname": dbname,
        "connect_timeout": 10,
    }
    return {key: value for key, value in info.items() if value is not None}


def _owner_connection() -> psycopg.Connection:
    """The owner role on the server's `postgres` database (or the configured one, where
    a managed server does not let it connect to `postgres`), for CREATE/DROP DATABASE."""
    try:
        return psycopg.connect(**_conninfo(settings.DATABASE_OWNER, "postgres"), autocommit=True)
    except psycopg.OperationalError:
        configured = settings.DATABASES["default"]["NAME"]
        return psycopg.connect(**_conninfo(settings.DATABASE_OWNER, configured), autocommit=True)


def database_exists(name: str) -> bool:
    with _owner_connection() as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def create_database(name: str) -> bool:
    """Create `name` owned by the owner role if it is missing; True when it was created."""
    with _owner_connection() as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                sql.Identifier(name), sql.Identifier(settings.DATABASE_ROLE_NAMES["owner"])
            )
        )
    return True


def drop_database(name: str) -> None:
    """Drop `name` if it exists (PostgreSQL refuses while anyone is connected to it)."""
    connection = connections["default"]
    if connection.settings_dict["NAME"] == name:
        connection.close()
    with _owner_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def use_database(name: str, *, create: bool) -> None:
    """Point the default connection at database `name` of the same server.

    With create=True the database is created (owned by the owner role) when missing and
    migrated; `migrate` switches to the owner role by itself and grants the runtime and
    maintenance roles their privileges.
    """
    connection = connections["default"]
    connection.close()
    connection.settings_dict["NAME"] = name
    if create:
        create_database(name)
        call_command("migrate", interactive=False, verbosity=0)


def maintenance_connection(dbname: str | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg connection as the maintenance role (BYPASSRLS) to the default connection's
    database: COPY into a table under row-level security is refused to any other role.

    DATABASE_MAINTENANCE_URL, when set, gives its credentials; otherwise the default
    connection's host and port with the maintenance role and no password (the embedded
    server trusts its local roles).
    """
    default = connections["default"].settings_dict
    dbname = dbname or default["NAME"]
    url = os.environ.get("DATABASE_MAINTENANCE_URL", "")
    if url:
        return psycopg.connect(url, dbname=dbname, **kwargs)
    credentials = {**default, "USER": settings.DATABASE_ROLE_NAMES["maintenance"], "PASSWORD": ""}
    return psycopg.connect(**_conninfo(credentials, dbname), **kwargs)
