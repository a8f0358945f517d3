"""The record of disclosures a family may inspect, printed as a PDF (FERPA 34 CFR 99.32)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import formats, timezone, translation
from pypdf import PdfReader

from schools.models import AccessLog
from schools.tenancy import tenant_context
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    DisclosureFactory,
    ReferralFactory,
    enable_totp,
)


def pdf_url(student):
    return f"/{student.district.slug}/students/{student.pk}/disclosures.pdf"


def pdf_text(response) -> str:
    """The document's text with its line breaks as spaces (a table cell wraps)."""
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def access_log(district, membership):
    with tenant_context(district):
        return list(AccessLog.objects.for_district(district).filter(membership=membership))


def on_district_clock(district, moment) -> str:
    with translation.override("en"):
        return formats.date_format(timezone.localtime(moment, district.time_zone), "DATE_FORMAT")


@pytest.fixture
def admin(client, member):
    admin = member("admin")
    enable_totp(admin.user)
    client.force_login(admin.user)
    return admin


@pytest.fixture
def disclosure(district, student, partner):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    referral = ReferralFactory(district=district, student=student, partner=partner)
    return DisclosureFactory(
        district=district,
        consent=consent,
        referral=referral,
        fields=["name", "grade"],
        recipient="Riverbend Counseling <intake@riverbend.example.org>",
        disclosed_at=timezone.now() - datetime.timedelta(days=40),
    )


def test_an_admin_prints_the_record_and_it_is_logged(client, district, admin, student, disclosure):
    ConsentRevocationFactory(
        district=district,
        consent=disclosure.consent,
        revoked_at=timezone.now() - datetime.timedelta(days=2),
    )

    response = client.get(pdf_url(student))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    content = pdf_text(response)
    assert "Record of disclosures (FERPA 34 CFR 99.32)" in content
    assert "North Valley Unified" in content
    assert "Amara Okafor" in content
    assert "Riverbend Counseling" in content
    assert "Student's name, Grade" in content
    assert f"Consent {disclosure.consent.reference}" in content
    assert on_district_clock(district, disclosure.disclosed_at) in content
    assert (
        f"Revoked {on_district_clock(district, timezone.now() - datetime.timedelta(days=2))}"
        in content
    )
    assert on_district_clock(district, timezone.now()) in content  # the date printed
    [logged] = access_log(district, admin)
    assert (logged.object_type, logged.student_id, logged.action) == (
        "student",
        student.pk,
        "print",
    )


def test_an_empty_record_still_prints(client, district, admin, student):
    response = client.get(pdf_url(student))

    assert response.status_code == 200
    assert "No records of this student have been disclosed." in pdf_text(response)


@pytest.mark.parametrize("role", ["counselor", "coordinator", "viewer", "partner"])
def test_only_administrators_print_it(client, district, member, student, disclosure, role):
    someone = member(role)
    client.force_login(someone.user)

    assert client.get(pdf_url(student)).status_code == 403
    assert access_log(district, someone) == []


def test_another_district_gets_404(client, district, other_district, member, student, disclosure):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(pdf_url(student)).status_code == 404
    assert (
        client.get(f"/{other_district.slug}/students/{student.pk}/disclosures.pdf").status_code
        == 404
    )


def test_an_unknown_student_is_404_and_not_logged(client, district, admin):
    assert client.get(f"/{district.slug}/students/99999999/disclosures.pdf").status_code == 404
    assert access_log(district, admin) == []
