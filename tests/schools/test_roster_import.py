"""Roster import: upload, preview with every row's errors, confirm all or nothing."""

from __future__ import annotations

import csv
import datetime
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.test import TestCase
from django.utils import timezone

from schools.models import MembershipSchool, RosterImport, Student
from schools.services import roster
from schools.services.roster import parse_grade
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, StudentFactory

SIMPLE_HEADER = [
    "student_id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "grade",
    "school",
    "guardian_name",
    "guardian_email",
    "guardian_phone",
    "family_language",
]


def csv_bytes(rows, header=SIMPLE_HEADER, *, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def simple_row(local_id="S1", first="Ana", last="Morales", **over) -> list[str]:
    row = {
        "student_id": local_id,
        "first_name": first,
        "last_name": last,
        "preferred_name": "",
        "date_of_birth": "2010-04-12",
        "grade": "9",
        "school": "North High School",
        "guardian_name": "Lucía Morales",
        "guardian_email": "lucia@example.org",
        "guardian_phone": "555-0100",
        "family_language": "Spanish",
    }
    row.update(over)
    return [row[column] for column in SIMPLE_HEADER]


def upload(client, district, content: bytes, name="roster.csv"):
    return client.post(
        f"/{district.slug}/students/import/",
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def latest_import(district) -> RosterImport:
    with tenant_context(district):
        return RosterImport.objects.filter(district=district).latest("created_at")


def students(district) -> dict[str, Student]:
    with tenant_context(district):
        return {
            s.local_id: s
            for s in Student.objects.filter(district=district).select_related("school")
        }


def confirm(client, district, roster_import, action="confirm"):
    """Post the choice, then open the page it leads to (the progress page of a confirmed
    import: the import runs once the request commits, at once in tests)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            f"/{district.slug}/students/import/{roster_import.pk}/", {"action": action}
        )
    return client.get(response["Location"]) if response.status_code == 302 else response


@pytest.fixture
def coordinator(client, member):
    membership = member("coordinator")
    client.force_login(membership.user)
    return membership


def page_text(response) -> str:
    return response.content.decode()


# --- Who may import ------------------------------------------------------------------------


def test_coordinator_opens_the_upload_page_with_the_documented_layout(
    client, district, coordinator
):
    response = client.get(f"/{district.slug}/students/import/")

    assert response.status_code == 200
    text = page_text(response)
    for column in SIMPLE_HEADER:
        assert f"<code>{column}</code>" in text
    assert "North High School" in text  # the schools the school column can name


def test_counselor_may_not_import(client, district, member):
    counselor = member("counselor")
    client.force_login(counselor.user)

    assert client.get(f"/{district.slug}/students/import/").status_code == 403
    assert upload(client, district, csv_bytes([simple_row()])).status_code == 403
    assert students(district) == {}


def test_member_of_another_district_gets_404(client, district, other_district, member):
    outsider = member("coordinator", in_district=other_district)
    client.force_login(outsider.user)

    assert client.get(f"/{district.slug}/students/import/").status_code == 404
    assert upload(client, district, csv_bytes([simple_row()])).status_code == 404


def test_another_districts_import_is_404_even_to_a_coordinator(
    client, district, other_district, member
):
    theirs = member("coordinator", in_district=other_district)
    client.force_login(theirs.user)
    SchoolFactory(district=other_district, name="North High School")
    upload(client, other_district, csv_bytes([simple_row()]))
    their_import = latest_import(other_district)
    mine = member("coordinator")
    client.force_login(mine.user)

    url = f"/{district.slug}/students/import/{their_import.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "confirm"}).status_code == 404
    assert students(other_district) == {}


def test_template_download_is_the_header_row(client, district, coordinator):
    response = client.get(f"/{district.slug}/students/import/template.csv")

    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").strip() == ",".join(SIMPLE_HEADER)


# --- Happy paths ---------------------------------------------------------------------------


def test_simple_layout_previews_then_imports_on_confirmation(client, district, coordinator):
    content = csv_bytes(
        [
            simple_row("S1", "Ana", "Morales", preferred_name="Annie"),
            simple_row("S2", "Ben", "Okafor", grade="KG", date_of_birth=""),
        ]
    )

    response = upload(client, district, content)

    roster_import = latest_import(district)
    assert response.status_code == 302
    assert response["Location"] == f"/{district.slug}/students/import/{roster_import.pk}/"
    assert students(district) == {}  # nothing before confirmation
    preview = client.get(response["Location"])
    assert "Import these students" in page_text(preview)
    assert (roster_import.new_count, roster_import.updated_count) == (2, 0)
    assert "Ana Morales" in page_text(preview)  # the sample

    done = confirm(client, district, roster_import)

    assert "Roster imported. New students: 2; updated: 0." in page_text(done)
    imported = students(district)
    assert set(imported) == {"S1", "S2"}
    ana = imported["S1"]
    assert (ana.first_name, ana.last_name, ana.preferred_name) == ("Ana", "Morales", "Annie")
    assert ana.date_of_birth == date(2010, 4, 12)
    assert ana.grade == "09"
    assert ana.school.name == "North High School"
    assert (ana.guardian_name, ana.guardian_email) == ("Lucía Morales", "lucia@example.org")
    assert (ana.guardian_phone, ana.family_language) == ("555-0100", "es")  # read as a code
    assert imported["S2"].grade == "KG" and imported["S2"].date_of_birth is None
    roster_import = latest_import(district)
    assert roster_import.status == "imported" and roster_import.rows == []


def test_school_is_found_by_state_id_too(client, district, coordinator):
    SchoolFactory(district=district, name="South Middle School", state_id="CA-0042")

    upload(client, district, csv_bytes([simple_row(school="ca-0042")]))
    confirm(client, district, latest_import(district))

    assert students(district)["S1"].school.name == "South Middle School"


ONEROSTER_HEADER = list(roster.ONEROSTER_COLUMNS)


def oneroster_row(**values) -> list[str]:
    return [values.get(column, "") for column in ONEROSTER_HEADER]


def test_oneroster_users_csv_imports_students_with_their_guardians(client, district, coordinator):
    SchoolFactory(district=district, name="Roosevelt Middle", sis_id="org-77")
    rows = [
        oneroster_row(
            sourcedId="u1",
            enabledUser="true",
            orgSourcedIds="org-77",
            role="student",
            givenName="Kevin",
            familyName="Lopez",
            identifier="100200",
            agentSourcedIds="p1",
            grades="07",
        ),
        oneroster_row(
            sourcedId="u2",
            enabledUser="false",
            orgSourcedIds="unknown-org,org-77",
            role="student",
            givenName="Layla",
            familyName="Ahmed",
            grades="KG",
        ),
        oneroster_row(
            sourcedId="p1",
            role="parent",
            givenName="Rosa",
            familyName="Lopez",
            email="rosa@example.org",
            sms="555-0199",
        ),
        oneroster_row(sourcedId="t1", role="teacher", givenName="Tess", familyName="Teacher"),
    ]

    upload(client, district, csv_bytes(rows, ONEROSTER_HEADER), name="users.csv")
    roster_import = latest_import(district)
    preview = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))
    assert roster_import.layout == "oneroster"
    assert roster_import.total_rows == 2 and roster_import.skipped_rows == 2
    assert "2 rows of other roles" in preview
    assert "left as they are: preferred name, date of birth" in preview
    confirm(client, district, roster_import)

    imported = students(district)
    assert set(imported) == {"100200", "u2"}  # identifier, else sourcedId
    kevin = imported["100200"]
    assert (kevin.first_name, kevin.last_name, kevin.grade) == ("Kevin", "Lopez", "07")
    assert kevin.school.name == "Roosevelt Middle"
    assert kevin.date_of_birth is None
    assert (kevin.guardian_name, kevin.guardian_email, kevin.guardian_phone) == (
        "Rosa Lopez",
        "rosa@example.org",
        "555-0199",
    )
    assert kevin.active
    assert imported["u2"].grade == "KG" and not imported["u2"].active


def test_oneroster_without_parent_rows_leaves_guardians_alone(client, district, coordinator):
    school = SchoolFactory(district=district, name="Roosevelt Middle", state_id="0601")
    StudentFactory(district=district, school=school, local_id="100200", guardian_name="Kept")
    row = oneroster_row(
        sourcedId="u1",
        role="student",
        givenName="Kevin",
        familyName="Lopez",
        identifier="100200",
        orgSourcedIds="0601",
        grades="8",
    )

    upload(client, district, csv_bytes([row], ONEROSTER_HEADER))
    confirm(client, district, latest_import(district))

    assert students(district)["100200"].guardian_name == "Kept"


def test_reimport_updates_by_student_id_and_counts_what_changes(client, district, coordinator):
    school = district_school(district)
    StudentFactory(
        district=district, school=school, local_id="S1", first_name="Ana", last_name="Morales",
        preferred_name="", date_of_birth=date(2010, 4, 12), grade="08",
        guardian_name="Lucía Morales", guardian_email="lucia@example.org",
        guardian_phone="555-0100", family_language="es",
    )  # fmt: skip
    StudentFactory(
        district=district, school=school, local_id="S2", first_name="Ben", last_name="Okafor",
        preferred_name="", date_of_birth=date(2010, 4, 12), grade="09",
        guardian_name="Lucía Morales", guardian_email="lucia@example.org",
        guardian_phone="555-0100", family_language="es",
    )  # fmt: skip
    before = students(district)
    content = csv_bytes(
        [
            simple_row("S1", "Ana", "Morales"),  # grade 08 -> 09
            simple_row("S2", "Ben", "Okafor"),  # unchanged
            simple_row("S3", "Cleo", "Nguyen"),  # new
        ]
    )

    upload(client, district, content)
    roster_import = latest_import(district)
    assert (roster_import.new_count, roster_import.updated_count) == (1, 1)
    assert roster_import.unchanged_count == 1
    assert "Grade" in page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))
    confirm(client, district, roster_import)

    after = students(district)
    assert after["S1"].pk == before["S1"].pk and after["S1"].grade == "09"
    assert after["S2"].updated_at == before["S2"].updated_at  # not rewritten
    assert after["S3"].first_name == "Cleo"


def district_school(district):
    from schools.models import School

    with tenant_context(district):
        return School.objects.get(district=district, name="North High School")


def test_a_column_left_out_keeps_what_trellis_had(client, district, coordinator):
    StudentFactory(
        district=district, school=district_school(district), local_id="S1", guardian_name="Kept"
    )
    header = ["student_id", "first_name", "last_name", "date_of_birth", "grade", "school"]
    content = csv_bytes([["S1", "Ana", "Morales", "2010-04-12", "10", "North High School"]], header)

    upload(client, district, content)
    roster_import = latest_import(district)
    preview = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))
    confirm(client, district, roster_import)

    assert "Not in this file, so left as they are" in preview
    student = students(district)["S1"]
    assert student.guardian_name == "Kept" and student.first_name == "Ana"


# --- Row errors ----------------------------------------------------------------------------


def test_every_kind_of_row_error_is_listed_with_row_and_column(client, district, coordinator):
    rows = [
        simple_row("S1"),  # row 2: fine
        simple_row(""),  # row 3: missing id
        simple_row("S3", date_of_birth="13/03/2010"),  # row 4: day/month, not US order
        simple_row("S4", date_of_birth="2010-02-30"),  # row 5: no such day
        simple_row("S5", date_of_birth="2999-01-01"),  # row 6: in the future
        simple_row("S6", school="Hogwarts"),  # row 7
        simple_row("S7", grade="13"),  # row 8
        simple_row("S8", guardian_email="not-an-email"),  # row 9
        simple_row("S1", "Twin"),  # row 10: duplicate of row 2
        simple_row("S10", first=""),  # row 11: missing first name
        simple_row("S11", last="x" * 101),  # row 12: too long
    ]

    upload(client, district, csv_bytes(rows))
    roster_import = latest_import(district)
    text = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))

    found = {(row, column, code) for row, column, code, _value, _extra in roster_import.errors}
    assert found == {
        (3, "student_id", "missing"),
        (4, "date_of_birth", "bad_date"),
        (5, "date_of_birth", "bad_date"),
        (6, "date_of_birth", "implausible_date"),
        (7, "school", "unknown_school"),
        (8, "grade", "unknown_grade"),
        (9, "guardian_email", "bad_email"),
        (10, "student_id", "duplicate_id"),
        (11, "first_name", "missing"),
        (12, "last_name", "too_long"),
    }
    assert roster_import.error_rows == 10
    assert "10 rows have problems" in text
    assert "“13/03/2010” is not a date: write it as 03/14/2012" in text
    assert "Student id “S1” is already on row 2." in text
    assert "“Hogwarts”" in text and "The schools of your district are:" in text
    assert "“13” is not a grade" in text
    assert "Import these students" not in text  # no confirm button


def test_confirming_a_file_with_errors_is_refused(client, district, coordinator):
    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", grade="Z")]))

    response = confirm(client, district, latest_import(district))

    assert "Fix these rows and upload again." in page_text(response)
    assert students(district) == {}
    assert latest_import(district).status == "pending"


def test_many_errors_are_paginated(client, district, coordinator):
    rows = [simple_row(f"S{n}", grade="X") for n in range(150)]
    upload(client, district, csv_bytes(rows))
    url = f"/{district.slug}/students/import/{latest_import(district).pk}/"

    first, second = page_text(client.get(url)), page_text(client.get(url + "?page=2"))

    assert "page 1 of 2" in first and '<td class="num">101</td>' in first
    assert '<td class="num">102</td>' in second and '<td class="num">101</td>' not in second
    assert client.get(url + "?page=banana").status_code == 200


def test_grades_are_read_the_ways_rosters_write_them():
    assert [parse_grade(g) for g in ("PK", "TK", "K", "kg", "0", "1", "01", "9th", "Grade 12")] == [
        "PK", "PK", "KG", "KG", "KG", "01", "01", "09", "12",
    ]  # fmt: skip
    assert [parse_grade(g) for g in ("13", "UG", "", "nine", "-1")] == [None] * 5


def test_a_school_limited_coordinator_imports_only_into_their_schools(client, district, member):
    mine = district_school(district)
    other = SchoolFactory(district=district, name="Other High")
    StudentFactory(district=district, school=other, local_id="S9")
    coordinator = member("coordinator")
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=coordinator, school=mine)
    client.force_login(coordinator.user)
    rows = [simple_row("S1"), simple_row("S2", school="Other High"), simple_row("S9")]

    upload(client, district, csv_bytes(rows))
    roster_import = latest_import(district)

    found = {(row, code) for row, _column, code, _value, _extra in roster_import.errors}
    assert found == {(3, "school_not_yours"), (4, "student_not_yours")}
    assert roster_import.new_count == 1


def test_a_school_limited_coordinator_is_not_told_where_another_schools_student_is(
    client, district, member
):
    mine = district_school(district)
    other = SchoolFactory(district=district, name="Eastside Academy")
    StudentFactory(district=district, school=other, local_id="S9")
    coordinator = member("coordinator")
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=coordinator, school=mine)
    client.force_login(coordinator.user)

    upload(client, district, csv_bytes([simple_row("S9")]))
    roster_import = latest_import(district)
    text = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))

    assert "Student S9 cannot be imported." in text
    assert "enrolled" not in text and "Eastside Academy" not in text
    assert "do not manage" not in text


# --- Files that cannot be used -------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Ana;Morales".encode("utf-16"), "UTF-16"),
        (csv_bytes([simple_row(first="José")], encoding="latin-1"), "not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"),
        (b"", "The file is empty."),  # zero bytes
        (b"  \r\n\r\n", "The file is empty."),
        (csv_bytes([]), "column names but no students"),
        (b"name,age\r\nAna,12\r\n", "not a roster we know"),
        (b"student_id,first_name\r\nS1,Ana\r\n", "The file has no column last_name"),
        (b"student_id,grade,grade\r\n1,2,3\r\n", "appears twice"),
        (b'student_id,first_name\r\n"S1,Ana\r\n', "could not be read"),
    ],
    ids=[
        "utf16",
        "latin1",
        "binary",
        "xlsx",
        "zero-bytes",
        "blank",
        "header-only",
        "unknown-header",
        "missing-column",
        "duplicate-column",
        "open-quote",
    ],
)
def test_a_file_that_cannot_be_used_gets_a_message_and_no_import(
    client, district, coordinator, content, message
):
    response = upload(client, district, content)

    assert response.status_code == 200
    assert message in page_text(response)
    with tenant_context(district):
        assert not RosterImport.objects.filter(district=district).exists()


def test_a_file_over_the_size_cap_is_refused(client, district, coordinator, monkeypatch):
    monkeypatch.setattr(roster, "MAX_BYTES", 1024)
    content = csv_bytes([simple_row(f"S{n}") for n in range(100)])

    response = upload(client, district, content)

    assert "larger than" in page_text(response)
    assert students(district) == {}


def test_a_byte_order_mark_is_fine(client, district, coordinator):
    upload(client, district, csv_bytes([simple_row()], encoding="utf-8-sig"))

    roster_import = latest_import(district)
    assert roster_import.error_total == 0 and roster_import.new_count == 1
    assert roster_import.ignored_columns == []


def test_extra_columns_are_ignored_and_named(client, district, coordinator):
    header = [*SIMPLE_HEADER, "Homeroom", "Bus route"]
    upload(client, district, csv_bytes([[*simple_row(), "12B", "7"]], header))
    roster_import = latest_import(district)

    text = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))

    assert roster_import.ignored_columns == ["Homeroom", "Bus route"]
    assert "These columns are not used and were ignored: Homeroom, Bus route." in text
    assert roster_import.new_count == 1


def test_semicolons_and_header_spelling_are_tolerated(client, district, coordinator):
    header = ["Student ID", "First Name", "Last Name", "DOB", "Grade", "School"]
    row = ["S1", "Ana", "Morales", "2010-04-12", "9", "North High School"]

    upload(client, district, csv_bytes([row], header, delimiter=";"))

    assert latest_import(district).new_count == 1


# --- Confirming ------------------------------------------------------------------------------


def test_confirming_twice_does_nothing_the_second_time(client, district, coordinator):
    upload(client, district, csv_bytes([simple_row()]))
    roster_import = latest_import(district)
    confirm(client, district, roster_import)
    first = students(district)["S1"]

    again = confirm(client, district, roster_import)

    assert "already imported" in page_text(again)
    assert students(district)["S1"].updated_at == first.updated_at


def test_the_import_is_all_or_nothing(client, district, coordinator, monkeypatch):
    from schools.services import students as service

    monkeypatch.setattr(service, "UPSERT_BATCH", 2)
    real = service._upsert_chunk
    calls = []

    def fail_on_the_third_chunk(by, fields, rows, *args):
        calls.append(len(rows))
        if len(calls) == 3:
            raise IntegrityError("simulated failure half-way")
        return real(by, fields, rows, *args)

    monkeypatch.setattr(service, "_upsert_chunk", fail_on_the_third_chunk)
    upload(client, district, csv_bytes([simple_row(f"S{n}") for n in range(6)]))

    response = confirm(client, district, latest_import(district))

    assert calls == [2, 2, 2]  # two chunks were written before the failure...
    assert students(district) == {}  # ...and rolled back with it
    # The progress page says so, in words and not as an error page; the import is over.
    assert response.status_code == 200
    assert "nothing was imported" in page_text(response)
    assert latest_import(district).status == "failed"
    assert latest_import(district).rows == []


def test_history_is_written_for_every_imported_student(client, district, coordinator):
    """The import writes Student history set-based instead of by row triggers: it must be
    the same rows the triggers write (one per insert, one per real update)."""
    from schools.models import StudentEvent

    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2")]))
    confirm(client, district, latest_import(district))
    upload(client, district, csv_bytes([simple_row("S1", grade="10"), simple_row("S2")]))
    confirm(client, district, latest_import(district))
    with tenant_context(district):
        s1 = Student.objects.get(district=district, local_id="S1")
        s1.first_name = "Anna"
        s1.save()  # the trigger's own row, to compare with
        events = list(StudentEvent.objects.filter(district=district).order_by("pgh_id"))

    labels = [(e.local_id, e.pgh_label, e.grade) for e in events]
    assert labels == [
        ("S1", "insert", "09"),
        ("S2", "insert", "09"),
        ("S1", "update", "10"),
        ("S1", "update", "10"),
    ]
    by_import, by_trigger = events[2], events[3]
    tracked = [
        f.attname for f in StudentEvent._meta.concrete_fields if not f.name.startswith("pgh")
    ]
    differing = {name for name in tracked if getattr(by_import, name) != getattr(by_trigger, name)}
    assert differing == {"first_name", "updated_at"}
    assert by_import.pgh_obj_id == s1.pk
    assert by_import.pgh_context["roster_import"] == latest_import(district).pk


def test_cancel_drops_the_rows_and_confirm_is_then_refused(client, district, coordinator):
    upload(client, district, csv_bytes([simple_row()]))
    roster_import = latest_import(district)

    cancelled = confirm(client, district, roster_import, action="cancel")
    refused = confirm(client, district, roster_import)

    assert "Import canceled" in page_text(cancelled)
    assert "was canceled" in page_text(refused)
    assert latest_import(district).rows == []
    assert students(district) == {}


@pytest.mark.parametrize("data", [{}, {"action": "explode"}, {"action": ["confirm", "x"] * 50}])
def test_garbage_posts_give_a_message_not_a_500(client, district, coordinator, data):
    upload(client, district, csv_bytes([simple_row()]))
    roster_import = latest_import(district)

    response = client.post(
        f"/{district.slug}/students/import/{roster_import.pk}/", data, follow=True
    )

    assert response.status_code == 200


def test_garbage_uploads_give_a_message_not_a_500(client, district, coordinator):
    url = f"/{district.slug}/students/import/"

    assert "Choose the roster file" in page_text(client.post(url, {"file": "not a file"}))
    assert client.post(url, b"\x00\xff", content_type="application/octet-stream").status_code == 200
    two = {"file": [SimpleUploadedFile("a.csv", b"x"), SimpleUploadedFile("b.csv", b"y")]}
    assert client.post(url, two).status_code == 200


def test_fifty_thousand_rows_preview_and_import(client, district, coordinator):
    schools = [district_school(district), SchoolFactory(district=district, name="Second School")]
    rows = [
        simple_row(
            f"S{n:06d}",
            f"First{n}",
            f"Last{n}",
            grade=str(n % 12 + 1),
            school=schools[n % 2].name,
            guardian_email=f"family{n}@example.org",
        )
        for n in range(50_000)
    ]

    response = upload(client, district, csv_bytes(rows))
    roster_import = latest_import(district)
    assert response.status_code == 302
    assert (roster_import.new_count, roster_import.error_total) == (50_000, 0)
    assert students(district) == {}

    confirm(client, district, roster_import)

    with tenant_context(district):
        assert Student.objects.filter(district=district).count() == 50_000
        assert Student.objects.get(district=district, local_id="S049999").grade == "08"


def test_the_upload_still_checks_the_csrf_token(district, member):
    """The view is csrf_exempt only so that the size cap is installed first; then it checks."""
    from django.test import Client

    coordinator = member("coordinator")
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator.user)

    response = upload(client, district, csv_bytes([simple_row()]))

    assert response.status_code == 403
    with tenant_context(district):
        assert not RosterImport.objects.filter(district=district).exists()


# --- Previews nobody confirms ------------------------------------------------------------------


def test_an_unconfirmed_preview_is_dropped_after_two_days(
    client, district, other_district, coordinator, time_machine
):
    from schools.tasks import expire_roster_previews

    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", "Ben")]))
    waiting = latest_import(district)
    assert waiting.status == RosterImport.Status.PENDING and waiting.rows

    time_machine.move_to(timezone.now() + datetime.timedelta(days=1))
    assert expire_roster_previews() == 0
    time_machine.move_to(timezone.now() + datetime.timedelta(days=1, hours=1))
    assert expire_roster_previews() == 1

    expired = latest_import(district)
    assert (expired.status, expired.rows, expired.errors) == (RosterImport.Status.CANCELLED, [], [])
    assert students(district) == {}
    assert confirm(client, district, expired).status_code in (200, 302)
    assert students(district) == {}  # a cancelled preview can no longer be confirmed


def test_a_row_for_a_closed_school_is_an_error_next_to_its_school(client, district, coordinator):
    closed = SchoolFactory(district=district, name="Old Mill School")
    with tenant_context(district):
        type(closed).objects.filter(pk=closed.pk).update(closed_on=date(2025, 6, 30))

    upload(
        client, district, csv_bytes([simple_row("S1"), simple_row("S2", school="Old Mill School")])
    )

    roster_import = latest_import(district)
    found = {(row, code) for row, _column, code, _value, _extra in roster_import.errors}
    assert found == {(3, "school_closed")}  # row 1 is the header
    text = page_text(client.get(f"/{district.slug}/students/import/{roster_import.pk}/"))
    assert "“Old Mill School” is closed" in text
