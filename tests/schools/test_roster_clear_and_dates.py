"""Roster import: an empty cell changes nothing, "(clear)" empties a field and the preview
says so, and US dates are read as month/day/year."""

from datetime import date

import pytest

from schools.services.roster import parse_date
from tests.factories import StudentFactory
from tests.schools.test_roster_import import (
    SIMPLE_HEADER,
    confirm,
    coordinator,  # noqa: F401 (fixture)
    csv_bytes,
    district_school,
    latest_import,
    page_text,
    simple_row,
    students,
    upload,
)


@pytest.fixture
def ana(district):
    return StudentFactory(
        district=district, school=district_school(district), local_id="S1", first_name="Ana",
        last_name="Morales", preferred_name="Annie", date_of_birth=date(2010, 4, 12),
        grade="09", guardian_name="Lucía Morales", guardian_email="lucia@example.org",
        guardian_phone="555-0100", family_language="es",
    )  # fmt: skip


def preview_of(client, district):
    roster_import = latest_import(district)
    return roster_import, page_text(
        client.get(f"/{district.slug}/students/import/{roster_import.pk}/")
    )


def test_empty_cells_keep_what_trellis_has(client, district, coordinator, ana):  # noqa: F811
    row = simple_row(
        "S1", preferred_name="", date_of_birth="", guardian_name="", guardian_email="",
        guardian_phone="", family_language="",
    )  # fmt: skip

    upload(client, district, csv_bytes([row]))
    roster_import, _text = preview_of(client, district)
    assert (roster_import.updated_count, roster_import.unchanged_count) == (0, 1)
    confirm(client, district, roster_import)

    kept = students(district)["S1"]
    assert (kept.preferred_name, kept.date_of_birth) == ("Annie", date(2010, 4, 12))
    assert (kept.guardian_name, kept.guardian_email) == ("Lucía Morales", "lucia@example.org")
    assert (kept.guardian_phone, kept.family_language) == ("555-0100", "es")


def test_a_clear_cell_empties_that_field_and_the_preview_says_cleared(
    client,
    district,
    coordinator,  # noqa: F811
    ana,
):
    row = simple_row("S1", guardian_phone="(clear)", date_of_birth="(Clear)", grade="10")

    upload(client, district, csv_bytes([row]))
    roster_import, text = preview_of(client, district)
    assert roster_import.updated_count == 1
    assert '<span class="muted">grade</span>; ' in text
    assert "cleared: date of birth, guardian phone" in text
    confirm(client, district, roster_import)

    student = students(district)["S1"]
    assert student.guardian_phone == "" and student.date_of_birth is None
    assert student.grade == "10" and student.preferred_name == "Annie"


def test_a_column_marked_clear_empties_the_field_where_its_cells_are_empty(
    client,
    district,
    coordinator,  # noqa: F811
    ana,
):
    header = [c if c != "preferred_name" else "preferred_name (clear)" for c in SIMPLE_HEADER]
    rows = [simple_row("S1", preferred_name=""), simple_row("S2", "Ben", preferred_name="")]

    upload(client, district, csv_bytes(rows, header))
    roster_import, text = preview_of(client, district)
    assert (roster_import.new_count, roster_import.updated_count) == (1, 1)
    assert "cleared: preferred name" in text
    confirm(client, district, roster_import)

    imported = students(district)
    assert imported["S1"].preferred_name == ""
    assert imported["S1"].guardian_phone == "555-0100"  # that column was not marked
    assert imported["S2"].preferred_name == ""


def test_a_required_field_cannot_be_cleared(client, district, coordinator, ana):  # noqa: F811
    upload(client, district, csv_bytes([simple_row("S1", first="(clear)")]))

    roster_import, text = preview_of(client, district)
    assert [(e[0], e[1], e[2]) for e in roster_import.errors] == [(2, "first_name", "cannot_clear")]
    assert "it cannot be cleared" in text


def test_a_new_student_with_empty_cells_is_imported_with_those_fields_empty(
    client,
    district,
    coordinator,  # noqa: F811
):
    upload(client, district, csv_bytes([simple_row("S9", date_of_birth="", guardian_phone="")]))
    confirm(client, district, latest_import(district))

    new = students(district)["S9"]
    assert new.date_of_birth is None and new.guardian_phone == ""


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("03/14/2012", date(2012, 3, 14)),
        ("3/4/2012", date(2012, 3, 4)),
        ("12/03/2010", date(2010, 12, 3)),
        ("2012-03-14", date(2012, 3, 14)),
    ],
)
def test_us_and_iso_dates_are_read(written, expected):
    assert parse_date(written) == expected


@pytest.mark.parametrize("written", ["14/03/2012", "03/14/12", "2012-3-14", "2/30/2012", "March 4"])
def test_dates_that_are_not_clear_are_refused(written):
    assert parse_date(written) is None


def test_a_us_date_in_the_roster_is_imported(client, district, coordinator):  # noqa: F811
    upload(client, district, csv_bytes([simple_row("S1", date_of_birth="3/4/2012")]))
    roster_import = latest_import(district)
    assert roster_import.error_total == 0
    confirm(client, district, roster_import)

    assert students(district)["S1"].date_of_birth == date(2012, 3, 4)
