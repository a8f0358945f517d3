"""The system check that fails for a tenant table outside the recipe (config/tenancy_checks.py)."""

from __future__ import annotations

from django.core.checks import run_checks
from django.db import connection, models
from django.test.utils import isolate_apps

from config.tenancy_checks import _migrations_pending, tenant_model_problems
from schools.models import District, School, Student


def test_the_migrated_schema_passes(db):
    assert not _migrations_pending(connection)  # else the check would skip itself
    problems = [p for p in run_checks(databases=["default"]) if p.id.startswith("trellis.E01")]
    assert problems == []


@isolate_apps("schools")
def test_a_tenant_model_whose_table_has_no_policy_is_an_error(db):
    class Unfenced(models.Model):  # noqa: DJ008
        # pghistory's shared context table: no policy, no district column.
        district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")

        class Meta:
            app_label = "schools"
            db_table = "pghistory_context"

    ids = {p.id for p in tenant_model_problems([Unfenced], connection)}
    assert "trellis.E010" in ids


@isolate_apps("schools")
def test_a_key_on_id_alone_between_tenant_tables_is_an_error(db):
    class History(models.Model):  # noqa: DJ008
        # The student history table: a tenant table whose school_id has no key at all.
        pgh_id = models.BigAutoField(primary_key=True)
        district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
        school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")

        class Meta:
            app_label = "schools"
            db_table = "schools_studentevent"

    problems = tenant_model_problems([History], connection)
    assert [p.id for p in problems] == ["trellis.E012"]
    assert "schools_studentevent.school_id" in problems[0].msg


@isolate_apps("schools")
def test_a_table_without_district_pointing_at_tenant_rows_is_an_error(db):
    class Grant(models.Model):  # noqa: DJ008
        student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "schools"
            db_table = "schools_user_groups"

    assert [p.id for p in tenant_model_problems([Grant], connection)] == ["trellis.E013"]


def test_the_real_tenant_models_pass_one_by_one(db):
    from partnerships.models import MOUSchool
    from schools.models import AccessLog, StudentUserObjectPermission

    assert (
        tenant_model_problems([MOUSchool, AccessLog, StudentUserObjectPermission], connection) == []
    )
