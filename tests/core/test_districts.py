"""Running a job in every district: each inside its own context and time zone, one
district's failure neither stopping the others nor hidden from the caller."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.utils import timezone

from core.districts import DistrictsFailed, run_in_every_district
from schools.models import District, School
from schools.tenancy import current_district_id, tenant_context
from tests.factories import DistrictFactory, SchoolFactory


@pytest.fixture
def districts(district, other_district):
    """Three districts in three time zones, each with schools of its own."""
    third = DistrictFactory(slug="east", name="East Bay", time_zone="Pacific/Auckland")
    other_district.time_zone = "Europe/Madrid"
    other_district.save(update_fields=["time_zone"])
    SchoolFactory.create_batch(2, district=other_district)
    SchoolFactory.create_batch(3, district=third)
    return [district, other_district, third]


def setting_and_rows() -> tuple[str, list[int]]:
    """What PostgreSQL itself sees: the district setting, and the districts of the school
    rows that row-level security lets through."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.district_id', true)")
        [setting] = cursor.fetchone()
        cursor.execute("SELECT DISTINCT district_id FROM schools_school")
        return setting, [row[0] for row in cursor.fetchall()]


def test_every_district_is_visited_inside_its_own_context_and_zone(districts):
    def job(*, district, label):
        setting, rows = setting_and_rows()
        return label, setting, rows, str(timezone.get_current_timezone())

    results = run_in_every_district(job, label="seen")

    assert list(results) == sorted(District.objects.values_list("pk", flat=True))
    assert results == {
        d.pk: ("seen", str(d.pk), [d.pk], str(d.time_zone))
        for d in sorted(districts, key=lambda d: d.pk)
    }
    assert {str(d.time_zone) for d in districts} == {
        "America/Chicago",
        "Europe/Madrid",
        "Pacific/Auckland",
    }
    assert current_district_id() is None  # and nothing is left behind
    assert str(timezone.get_current_timezone()) == "UTC"


def test_a_failing_district_does_not_stop_the_next_and_the_caller_is_told(districts, caplog):
    first, *others = sorted(districts, key=lambda d: d.pk)

    def job(*, district):
        SchoolFactory(district=district, name="Made by the job")
        if district == first:
            raise RuntimeError("one district's bad row")
        return current_district_id()

    with (
        caplog.at_level(logging.ERROR, logger="core.districts"),
        pytest.raises(DistrictsFailed) as failed,
    ):
        run_in_every_district(job)

    assert list(failed.value.failures) == [first.pk]
    assert isinstance(failed.value.__cause__, RuntimeError)
    assert failed.value.results == {d.pk: d.pk for d in others}  # the next ones ran
    assert f"district={first.pk}" in caplog.text and "bad row" in caplog.text
    for district in districts:  # the failing district's work is rolled back, no other's
        with tenant_context(district):
            made = School.objects.filter(name="Made by the job").count()
        assert made == (0 if district == first else 1)


def test_a_sweep_task_runs_every_district_and_fails_when_one_failed(districts, monkeypatch):
    from schools.services import students
    from schools.tasks import expire_roster_previews

    first = min(districts, key=lambda d: d.pk)
    visited = []

    def expire(*, district):
        visited.append(district.pk)
        if district == first:
            raise RuntimeError("boom")
        return 1

    monkeypatch.setattr(students, "roster_imports_expire", expire)

    with pytest.raises(DistrictsFailed):
        expire_roster_previews()
    assert sorted(visited) == sorted(d.pk for d in districts)
