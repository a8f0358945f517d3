"""The access helpers of student data write the access log themselves (schools/selectors.py).

A view that fetches a student through `access_student` cannot forget the row; a 404 (no
such student, or not the viewer's) writes none.
"""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from schools.models import AccessLog, RosterImport
from schools.selectors import access_roster_import, access_student
from schools.tenancy import tenant_context
from tests.factories import StudentFactory
from tests.schools.test_roster_import import csv_bytes, latest_import, simple_row, upload


def rows(district) -> list[AccessLog]:
    with tenant_context(district):
        return list(AccessLog.objects.for_district(district).order_by("at", "pk"))


def request_of(membership, path="/north/students/export.csv"):
    request = RequestFactory().get(path, headers={"User-Agent": "pytest"})
    request.user, request.membership, request.district = (
        membership.user,
        membership,
        membership.district,
    )
    request.request_id = "0123456789abcdef0123456789abcdef"
    return request


def test_access_student_writes_the_row_for_the_action_it_is_given(district, member):
    student = StudentFactory(district=district)
    counselor = member("counselor")

    with tenant_context(district):
        found = access_student(request_of(counselor), student.pk, action=AccessLog.Action.EXPORT)

    [row] = rows(district)
    assert found == student
    assert (row.action, row.object_type, row.object_id, row.student_id) == (
        "export",
        "student",
        str(student.pk),
        student.pk,
    )
    assert (row.membership_id, row.user_id, row.path, row.user_agent, row.request_id) == (
        counselor.pk,
        counselor.user_id,
        "/north/students/export.csv",
        "pytest",
        "0123456789abcdef0123456789abcdef",
    )


def test_access_student_of_another_district_is_404_and_writes_nothing(
    district, other_district, member
):
    student = StudentFactory(district=district)
    outsider = member("admin", in_district=other_district)

    with tenant_context(other_district), pytest.raises(Http404):
        access_student(request_of(outsider), student.pk)

    assert rows(district) == [] and rows(other_district) == []


def test_opening_a_student_page_writes_exactly_one_row(client, district, member):
    student = StudentFactory(district=district)
    client.force_login(member("coordinator").user)

    assert client.get(f"/{district.slug}/students/{student.pk}/").status_code == 200
    assert [(r.object_type, r.student_id) for r in rows(district)] == [("student", student.pk)]


def test_a_student_page_of_another_district_is_404_and_writes_no_row(
    client, district, other_district, member
):
    student = StudentFactory(district=district)
    client.force_login(member("coordinator", in_district=other_district).user)

    assert client.get(f"/{other_district.slug}/students/{student.pk}/").status_code == 404
    assert rows(district) == [] and rows(other_district) == []


def test_confirming_a_roster_logs_nothing_until_a_page_shows_its_students(client, district, member):
    coordinator = member("coordinator")
    client.force_login(coordinator.user)
    upload(client, district, csv_bytes([simple_row("S1")]))
    import_id = latest_import(district).pk
    url = f"/{district.slug}/students/import/{import_id}/"

    response = client.post(url, {"action": "confirm"}, follow=True)

    # The import runs in the reports queue; the progress page it returns to names no
    # student, so nothing is logged. The preview, which lists the rows, is.
    assert response.status_code == 200
    assert "The students are being imported" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"{url}progress/"
    assert rows(district) == []
    assert client.get(url).status_code == 200
    assert [(r.object_type, r.path) for r in rows(district)] == [("roster_import", url)]


def test_access_roster_import_without_an_action_writes_nothing(district, member):
    coordinator = member("coordinator")
    with tenant_context(district):
        roster_import = RosterImport.objects.create(
            district=district, uploaded_by=coordinator, filename="roster.csv", layout="simple"
        )
        access_roster_import(request_of(coordinator), roster_import.pk, action=None)
        assert rows(district) == []

        access_roster_import(request_of(coordinator), roster_import.pk)

    assert [r.object_type for r in rows(district)] == ["roster_import"]
