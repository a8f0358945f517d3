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


# Composite keys. PostgreSQL checks a foreign key without row-level security, so a key on
# `id` alone lets a row of one district point at a row of another. Every table with a
# `district_id` and the primary key `id` (a change-history table's `id` is the tracked
# row's, not its own) gets UNIQUE (district_id, id), and every single-column foreign key from
# such a table to the `id` of another such table is replaced by
# (district_id, x_id) REFERENCES x (district_id, id), NOT DEFERRABLE. The sweep reads
# the catalog, so it is idempotent and covers whatever the app's migrations just made:
# put `tenant_keys()` at the end of every migration that adds a tenant table or a
# foreign key between tenant tables (tests/security/test_composite_keys.py and the
# `trellis.E010` system check fail otherwise).
TENANT_KEYS_SQL = r"""
DO $tenant_keys$
DECLARE
    r record;
    tenant_tables oid[];
BEGIN
    SELECT coalesce(array_agg(c.oid), '{}') INTO tenant_tables
    FROM pg_class c
    JOIN pg_attribute d ON d.attrelid = c.oid AND d.attname = 'district_id' AND NOT d.attisdropped
    JOIN pg_attribute i ON i.attrelid = c.oid AND i.attname = 'id' AND NOT i.attisdropped
    JOIN pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p' AND p.conkey = ARRAY[i.attnum]
    WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace;

    FOR r IN
        SELECT c.oid AS rel, c.relname
        FROM pg_class c
        WHERE c.oid = ANY (tenant_tables)
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint k
              WHERE k.conrelid = c.oid AND k.contype IN ('u', 'p')
                AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum = ANY (k.conkey))
                    = ARRAY['district_id', 'id'])
    LOOP
        EXECUTE format(
            'ALTER TABLE %s ADD CONSTRAINT %I UNIQUE (district_id, id)',
            r.rel::regclass,
            left(r.relname, 40) || '_' || left(md5(r.relname), 8) || '_tenant_key'
        );
    END LOOP;

    FOR r IN
        SELECT k.conname, k.conrelid, k.confrelid, c.relname, a.attname AS col
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
        WHERE k.contype = 'f'
          AND cardinality(k.conkey) = 1
          AND k.conrelid = ANY (tenant_tables)
          AND k.confrelid = ANY (tenant_tables)
          AND ra.attname = 'id'
          AND a.attname <> 'district_id'
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.conrelid::regclass, r.conname);
        EXECUTE format(
            'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (district_id, %I) '
            'REFERENCES %s (district_id, id) NOT DEFERRABLE',
            r.conrelid::regclass,
            left(r.relname || '_' || r.col, 40) || '_'
                || left(md5(r.relname || r.col), 8) || '_tenant_fk',
            r.col,
            r.confrelid::regclass
        );
    END LOOP;
END
$tenant_keys$;
"""


# Backwards: every composite key made by the sweep becomes Django's single-column key
# again, so that an earlier migration's schema is exactly what Django expects (a field
# re-added going forward again gets its key back from the next sweep).
UNDO_TENANT_KEYS_SQL = r"""
DO $undo_tenant_keys$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT k.conname, k.conrelid, k.confrelid, c.relname, a.attname AS col
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[2]
        WHERE k.contype = 'f' AND k.conname LIKE '%\_tenant\_fk'
          AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.conrelid::regclass, r.conname);
        EXECUTE format(
            'ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %s (id) '
            'DEFERRABLE INITIALLY DEFERRED',
            r.conrelid::regclass,
            left(r.relname || '_' || r.col, 50) || '_' || left(md5(r.relname || r.col), 8) || '_fk',
            r.col,
            r.confrelid::regclass
        );
    END LOOP;
    FOR r IN
        SELECT k.conname, k.conrelid FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.contype = 'u' AND k.conname LIKE '%\_tenant\_key'
          AND c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.conrelid::regclass, r.conname);
    END LOOP;
END
$undo_tenant_keys$;
"""


class _TenantKeys(migrations.RunSQL):
    """The sweep, after the keys Django has put off until the end of the migration.

    On PostgreSQL, CreateModel adds its foreign keys as "deferred SQL", run when the
    migration ends, after every operation: a sweep in the migration that creates the
    tables would find no key to make composite. They are made first, so the sweep sees them.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        while schema_editor.deferred_sql:
            schema_editor.execute(schema_editor.deferred_sql.pop(0))
        super().database_forwards(app_label, schema_editor, from_state, to_state)


def tenant_keys() -> migrations.RunSQL:
    """Composite keys for every tenant table and every foreign key between them (see above)."""
    return _TenantKeys(TENANT_KEYS_SQL, reverse_sql=UNDO_TENANT_KEYS_SQL)


def for_each_district(sql: str) -> str:
    """SQL that runs `sql` once inside each district's context (for data migrations).

    Under FORCE ROW LEVEL SECURITY even the owner sees no tenant row without a district,
    so a data migration that must touch every district's rows enters each in turn.
    """
    return f"""
        DO $each_district$
        DECLARE d bigint;
        BEGIN
            FOR d IN SELECT id FROM schools_district LOOP
                PERFORM set_config('app.district_id', d::text, true);
                {sql};
            END LOOP;
            PERFORM set_config('app.district_id', '', true);
        END
        $each_district$;
    """


def history_context_in_events(model_name: str, table: str) -> list:
    """Move a pghistory event table from the shared context table to JSON in the event.

    pghistory's `pghistory_context` has no district and every district could read it;
    with PGHISTORY_CONTEXT_FIELD = ContextJSONField the context is a column of the
    event row, under the event table's row-level security. The old `pgh_context_id`
    column is kept as the context's id (the UUID that groups one request's changes) and
    each row's metadata is copied across.
    """
    import pghistory.utils
    from django.db import models

    return [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name=model_name, name="pgh_context"),
                migrations.AddField(
                    model_name=model_name,
                    name="pgh_context",
                    field=pghistory.utils.JSONField(null=True),
                ),
                migrations.AddField(
                    model_name=model_name,
                    name="pgh_context_id",
                    field=models.UUIDField(null=True),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE {table} ADD COLUMN pgh_context jsonb NULL;"
                    + for_each_district(
                        f"UPDATE {table} e SET pgh_context = c.metadata "
                        f"FROM pghistory_context c WHERE c.id = e.pgh_context_id"
                    )
                    + f"""
                    DO $drop_index$
                    DECLARE i regclass;
                    BEGIN
                        FOR i IN SELECT x.indexrelid::regclass FROM pg_index x
                            JOIN pg_attribute a ON a.attrelid = x.indrelid
                                AND a.attnum = x.indkey[0] AND a.attname = 'pgh_context_id'
                            WHERE x.indrelid = '{table}'::regclass AND x.indnatts = 1
                        LOOP
                            EXECUTE format('DROP INDEX %s', i);
                        END LOOP;
                    END
                    $drop_index$;
                    """,
                    reverse_sql=f"ALTER TABLE {table} DROP COLUMN pgh_context;",
                )
            ],
        )
    ]
