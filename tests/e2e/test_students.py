"""Students in the browser: search as you type, a student's page, a roster import, the log."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from schools.models import Student
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.factories import SchoolFactory, StudentFactory, enable_totp

pytestmark = pytest.mark.browser


def browse_as(page, live_server, membership):
    """Sign the browser in as the membership's person (the sign-in form has its own tests)."""
    if membership.needs_mfa:
        enable_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_search_filters_the_list_as_you_type(page, live_server, district, member):
    school = SchoolFactory(district=district, name="Lincoln High School")
    StudentFactory(district=district, school=school, first_name="Ana", last_name="Morales")
    StudentFactory(district=district, school=school, first_name="Ben", last_name="Okafor")
    StudentFactory(district=district, school=school, first_name="Cleo", last_name="Nguyen")
    browse_as(page, live_server, member("counselor"))

    page.goto(f"/{district.slug}/students/")
    rows = page.locator("#student-results tbody tr")
    expect(rows).to_have_count(3)
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search").press_sequentially(
        "okaf", delay=40
    )  # no Enter, no click

    expect(rows).to_have_count(1)
    assert "Okafor, Ben" in rows.first.inner_text()
    expect(page.locator("#student-count")).to_have_text("1 student")
    assert re.search(r"[?&]q=okaf", page.url)  # the address can be shared and reloaded
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search").fill("nobody at all")
    page.get_by_text("No students match").wait_for()
    assert_accessible(page)

    page.reload()  # the full page for the same address
    assert page.get_by_role("searchbox", name="Search").input_value() == "nobody at all"


def test_a_students_page_shows_their_details(page, live_server, district, member):
    student = StudentFactory(
        district=district,
        first_name="Ana",
        last_name="Morales",
        preferred_name="Annie",
        date_of_birth=None,
        guardian_name="Lucía Morales",
        family_language="es",
    )
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/students/")
    page.get_by_role("link", name="Morales, Ana").click()

    page.wait_for_url(f"**/students/{student.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Annie Morales"
    assert "Lucía Morales" in page.inner_text("main")
    assert "Spanish" in page.inner_text("main")
    assert "Not recorded" in page.inner_text("main")
    assert_accessible(page)


ROSTER = (
    "student_id,first_name,last_name,preferred_name,date_of_birth,grade,school,"
    "guardian_name,guardian_email,guardian_phone,family_language\r\n"
    "S1,Ana,Morales,,2010-04-12,9,North High School,Lucía Morales,lucia@example.org,,Spanish\r\n"
    "S2,Ben,Okafor,Benji,2011-05-01,KG,North High School,,,,\r\n"
)


def test_upload_preview_and_confirm_a_roster(page, live_server, district, member):
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/students/")
    assert_accessible(page)  # the empty state
    page.get_by_role("link", name="Import a roster").first.click()
    page.wait_for_url("**/students/import/")
    assert_accessible(page)
    page.get_by_label("Roster file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER.encode()}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    page.get_by_role("heading", name="Preview of the roster").wait_for()
    assert_accessible(page)
    with tenant_context(district):
        assert not Student.objects.filter(district=district).exists()  # not before confirming
    page.get_by_role("button", name="Import these students").click()

    page.get_by_text("Roster imported. New students: 2; updated: 0.").wait_for()
    assert_accessible(page)
    with tenant_context(district):
        assert Student.objects.filter(district=district).count() == 2


def test_a_file_with_errors_is_listed_and_cannot_be_imported(page, live_server, district, member):
    browse_as(page, live_server, member("coordinator"))
    broken = ROSTER.replace("2010-04-12", "13/04/2010").replace(",KG,", ",Z,")  # day first

    page.goto(f"/{district.slug}/students/import/")
    page.get_by_label("Roster file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": broken.encode()}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    page.get_by_text("2 rows have problems").wait_for()
    assert page.get_by_role("button", name="Import these students").count() == 0
    assert "“13/04/2010” is not a date" in page.inner_text("main")
    assert_accessible(page)

    page.goto(f"/{district.slug}/students/import/")
    page.get_by_label("Roster file").set_input_files(
        files=[{"name": "roster.xlsx", "mimeType": "text/csv", "buffer": b"PK\x03\x04\x00\x00"}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_text("This looks like a spreadsheet workbook").wait_for()
    assert_accessible(page)


def test_access_log_shows_the_visit(page, live_server, district, member):
    student = StudentFactory(district=district, first_name="Ana", last_name="Morales")
    admin = member("admin")
    browse_as(page, live_server, admin)

    page.goto(f"/{district.slug}/students/{student.pk}/")
    page.get_by_role("link", name="See who has opened this page").click()

    page.wait_for_url("**/access-log/?student=*")
    table = page.locator("table")
    assert admin.user.email in table.inner_text() and "Ana Morales" in table.inner_text()
    assert_accessible(page)
