"""The family's language as an ISO 639 code: read from rosters, shown by name in the reader's
language, and the move of the free text stored before to codes (schools migration 0011)."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schools.models import Student
from schools.tenancy import tenant_context
from tests.factories import StudentFactory
from tests.schools.test_roster_import import (
    confirm,
    csv_bytes,
    latest_import,
    page_text,
    simple_row,
    students,
    upload,
)

migration = importlib.import_module("schools.migrations.0011_family_language_codes")


def student_url(student) -> str:
    return f"/{student.district.slug}/students/{student.pk}/"


@pytest.fixture
def coordinator(client, member):
    membership = member("coordinator")
    client.force_login(membership.user)
    return membership


# --- The roster import ------------------------------------------------------------------------


def test_the_roster_import_reads_names_and_codes_as_codes(client, district, coordinator):
    rows = [
        simple_row("S1", family_language="Spanish"),
        simple_row("S2", family_language="Español"),
        simple_row("S3", family_language="es_MX"),
        simple_row("S4", family_language="vietnamita"),
        simple_row("S5", family_language="Haitian Creole"),
        simple_row("S6", family_language=""),
    ]

    upload(client, district, csv_bytes(rows))
    roster_import = latest_import(district)
    confirm(client, district, roster_import)

    assert roster_import.error_total == 0
    languages = {key: s.family_language for key, s in students(district).items()}
    assert languages == {"S1": "es", "S2": "es", "S3": "es-mx", "S4": "vi", "S5": "ht", "S6": ""}


def test_an_unknown_language_is_a_row_error_that_says_what_to_write(client, district, coordinator):
    rows = [simple_row("S1"), simple_row("S2", family_language="Elvish")]

    upload(client, district, csv_bytes(rows))
    roster_import = latest_import(district)
    text = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))

    assert [(row, column, code) for row, column, code, *_rest in roster_import.errors] == [
        (3, "family_language", "unknown_language")
    ]
    assert "“Elvish” is not a language Trellis knows." in text
    assert "ISO 639 code" in text
    assert "Import these students" not in text
    assert students(district) == {}


def test_a_roster_that_gives_the_language_replaces_the_text_kept_by_the_migration(
    client, district, coordinator
):
    student = StudentFactory(district=district, local_id="S1", family_language="")
    with tenant_context(district):
        Student.objects.filter(pk=student.pk).update(family_language_unrecognized="Other")
    before = page_text(client.get(student_url(student)))

    upload(client, district, csv_bytes([simple_row("S1", family_language="Somali")]))
    confirm(client, district, latest_import(district))

    after = students(district)["S1"]
    assert "An earlier roster said “Other”" in before
    assert (after.family_language, after.family_language_unrecognized) == ("so", "")
    assert "An earlier roster said" not in page_text(client.get(student_url(student)))


# --- The student's page ------------------------------------------------------------------------


def test_the_student_page_names_the_language_in_the_readers_language(client, district, member):
    client.force_login(member("counselor").user)
    student = StudentFactory(district=district, family_language="es-mx")

    english = page_text(client.get(student_url(student)))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    spanish = page_text(client.get(student_url(student)))

    assert "Spanish (Mexico)" in english and "es-mx" not in english
    assert "Español (México)" in spanish


def test_a_weaker_role_and_another_district_do_not_see_the_language(
    client, district, other_district, member
):
    student = StudentFactory(district=district, family_language="vi")

    client.force_login(member("viewer").user)
    weaker = client.get(student_url(student))
    client.force_login(member("coordinator", in_district=other_district).user)
    elsewhere = client.get(student_url(student))

    assert weaker.status_code == 403 and "Vietnamese" not in page_text(weaker)
    assert elsewhere.status_code == 404


# --- The migration to codes ---------------------------------------------------------------------


def _events(district, student) -> list:
    event = Student._meta.get_field("events").related_model
    with tenant_context(district):
        return list(event.objects.filter(pgh_obj_id=student.pk).order_by("pgh_id"))


def test_the_migration_reads_every_districts_students_and_keeps_what_it_cannot_read(
    district, other_district
):
    written = {
        "S1": "Spanish",
        "S2": "Español",
        "S3": "es",  # already a code: untouched
        "S4": "Other",
        "S5": "",
        "S6": "Haitian  Creole",
    }
    mine = {key: StudentFactory(district=district, local_id=key) for key in written}
    theirs = StudentFactory(district=other_district, local_id="T1")
    with tenant_context(district):
        for key, value in written.items():
            Student.objects.filter(pk=mine[key].pk).update(family_language=value)
    with tenant_context(other_district):
        Student.objects.filter(pk=theirs.pk).update(family_language="vietnamita")
    events_before = {key: len(_events(district, student)) for key, student in mine.items()}

    with CaptureQueriesContext(connection) as queries:
        migration.forwards(apps, SimpleNamespace(connection=connection))

    with tenant_context(district):
        after = {
            s.local_id: (s.family_language, s.family_language_unrecognized)
            for s in Student.objects.filter(district=district)
        }
    with tenant_context(other_district):
        assert Student.objects.get(pk=theirs.pk).family_language == "vi"
    assert after == {
        "S1": ("es", ""),
        "S2": ("es", ""),
        "S3": ("es", ""),
        "S4": ("", "Other"),
        "S5": ("", ""),
        "S6": ("ht", ""),
    }
    # Set-based: a few statements per district, however many students it has.
    assert len(queries) <= 4 + 3 * 3
    # One history row for each changed student, saying the migration made it.
    events = {key: _events(district, student) for key, student in mine.items()}
    assert {key: len(rows) - events_before[key] for key, rows in events.items()} == {
        "S1": 1,
        "S2": 1,
        "S3": 0,
        "S4": 1,
        "S5": 0,
        "S6": 1,
    }
    assert events["S4"][-1].family_language_unrecognized == "Other"
    assert events["S1"][-1].family_language == "es"
    assert events["S1"][-1].pgh_context["migration"] == "schools.0011_family_language_codes"

    migration.backwards(apps, SimpleNamespace(connection=connection))

    with tenant_context(district):
        back = {
            s.local_id: (s.family_language, s.family_language_unrecognized)
            for s in Student.objects.filter(district=district)
        }
    assert back == {
        "S1": ("Spanish", ""),
        "S2": ("Spanish", ""),
        "S3": ("Spanish", ""),
        "S4": ("Other", ""),
        "S5": ("", ""),
        "S6": ("Haitian Creole", ""),
    }
    assert json.loads(json.dumps(_events(district, mine["S4"])[-1].pgh_context))["direction"] == (
        "backwards"
    )
