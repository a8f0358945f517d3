"""System check: every tenant model's table is fenced off in the database itself.

Run by `manage.py check --database default` (and by `./trellis run` before serving):
for each model with a `district` (TenantModel, and tables such as the guardian grant
table that carry one), its table is under a forced `tenant_isolation` policy, carries
UNIQUE (district_id, id), and every foreign key of it to another tenant table is the
composite (district_id, x_id). A model pointing at tenant rows without a district is an
error too. The fixes are `enable_rls()` and `tenant_keys()` from schools/rls.py, in the
migration that made the table.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register


@register(Tags.database)
def tenant_tables_are_fenced(app_configs, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from django.apps import apps
    from django.db import connection

    if _migrations_pending(connection):
        return []  # the check is about the migrated schema; migrate first
    models = (
        [m for config in app_configs for m in config.get_models()]
        if app_configs
        else apps.get_models()
    )
    return tenant_model_problems(models, connection)


def _migrations_pending(connection) -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _is_tenant(model) -> bool:
    return any(f.name == "district" for f in model._meta.concrete_fields)


def tenant_model_problems(models, connection) -> list[Error]:
    """Errors for the given models' tables (see the module's docstring)."""
    catalog = _Catalog(connection)
    problems = []
    for model in models:
        meta = model._meta
        if not meta.managed or meta.proxy or not catalog.exists(meta.db_table):
            continue
        table = meta.db_table
        foreign_keys = [
            f
            for f in meta.concrete_fields
            if f.many_to_one
            and f.db_constraint
            and f.name != "district"
            and _is_tenant(f.related_model)
            and f.related_model._meta.pk.name == "id"
        ]
        if not _is_tenant(model):
            for field in foreign_keys:
                problems.append(
                    Error(
                        f"{table}.{field.column} points at {field.related_model._meta.db_table}, "
                        "a tenant table, from a table without district_id.",
                        hint="Give the model a district and put its table under "
                        "enable_rls() and tenant_keys() (schools/rls.py).",
                        obj=model,
                        id="trellis.E013",
                    )
                )
            continue
        if not catalog.fenced(table):
            problems.append(
                Error(
                    f"{table} has a district but no forced tenant_isolation policy.",
                    hint="Add enable_rls('<table>') from schools/rls.py to its migration.",
                    obj=model,
                    id="trellis.E010",
                )
            )
        if meta.pk.name == "id" and not catalog.unique_district_id(table):
            problems.append(
                Error(
                    f"{table} has no UNIQUE (district_id, id) for composite keys to reference.",
                    hint="End its migration with tenant_keys() from schools/rls.py.",
                    obj=model,
                    id="trellis.E011",
                )
            )
        for field in foreign_keys:
            target = field.related_model._meta.db_table
            if not catalog.composite_key(table, field.column, target):
                problems.append(
                    Error(
                        f"{table}.{field.column} references {target} without the district: "
                        "a row could point into another district.",
                        hint="End the migration that added it with tenant_keys() "
                        "from schools/rls.py.",
                        obj=model,
                        id="trellis.E012",
                    )
                )
    return problems


class _Catalog:
    """The few catalog facts the check needs, read once."""

    def __init__(self, connection):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity "
                "AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid "
                "AND p.polname = 'tenant_isolation') "
                "FROM pg_class c WHERE c.relkind = 'r' "
                "AND c.relnamespace = current_schema()::regnamespace"
            )
            self._fenced = dict(cursor.fetchall())
            cursor.execute(
                """
                SELECT k.contype, c.relname, r.relname,
                       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
                             ORDER BY u.o),
                       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
                             ORDER BY u.o),
                       k.condeferrable
                FROM pg_constraint k
                JOIN pg_class c ON c.oid = k.conrelid
                LEFT JOIN pg_class r ON r.oid = k.confrelid
                WHERE k.contype IN ('f', 'u', 'p')
                  AND c.relnamespace = current_schema()::regnamespace
                """
            )
            self._constraints = cursor.fetchall()

    def exists(self, table: str) -> bool:
        return table in self._fenced

    def fenced(self, table: str) -> bool:
        return bool(self._fenced.get(table))

    def unique_district_id(self, table: str) -> bool:
        return any(
            kind in ("u", "p") and source == table and sorted(columns) == ["district_id", "id"]
            for kind, source, _, columns, _, _ in self._constraints
        )

    def composite_key(self, table: str, column: str, target: str) -> bool:
        return any(
            kind == "f"
            and source == table
            and referenced_table == target
            and columns == ["district_id", column]
            and referenced == ["district_id", "id"]
            and not deferrable
            for kind, source, referenced_table, columns, referenced, deferrable in self._constraints
        )
