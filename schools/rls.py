"""Migration operations that put a table under row-level security.

Every app calls `enable_rls("<table>")` in the migration that creates a table with a
`district_id` column; tests/security/test_row_level_security.py fails for any such
table without it.
"""

from django.db import migrations

_MATCH = "district_id = NULLIF(current_setting('app.district_id', true), '')::bigint"


def rls_sql(table: str) -> str:
    return f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS tenant_isolation ON {table};
        CREATE POLICY tenant_isolation ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH});
    """


def enable_rls(table: str) -> migrations.RunSQL:
    """One policy, one equality on district_id, no OR escape: index scans stay possible."""
    return migrations.RunSQL(
        rls_sql(table),
        reverse_sql=f"""
            DROP POLICY IF EXISTS tenant_isolation ON {table};
            ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
        """,
    )


def own_rows_policy(table: str, column: str = "user_id") -> migrations.RunSQL:
    """Let a person read their own rows of `table` before a district is chosen."""
    match = f"{column} = NULLIF(current_setting('app.user_id', true), '')::bigint"
    return migrations.RunSQL(
        f"CREATE POLICY own_rows ON {table} FOR SELECT USING ({match});",
        reverse_sql=f"DROP POLICY IF EXISTS own_rows ON {table};",
    )
