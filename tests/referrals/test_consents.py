"""Consents: recorded under a rule, revoked by a new row, told to the partner, never rewritten."""

from __future__ import annotations

import datetime

import pghistory
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from referrals.models import Consent, ConsentRevocation, Disclosure, Referral
from referrals.rules import FORM_MAX_BYTES
from referrals.selectors import consents_of, covering_consent
from referrals.services.consents import (
    consent_record_form,
    consent_revoke,
    verbal_agreement_record,
)
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    PDF_BYTES,
    ConsentFactory,
    ConsentRevocationFactory,
    ContactFactory,
    DisclosureFactory,
    DistrictFactory,
    EmergencyOverrideFactory,
    PartnerFactory,
    StudentFactory,
    VerbalAgreementFactory,
)
from tests.referrals.helpers import act

# The footer of every mail in Spanish (the body's own strings await the lead's translation).
SPANISH_FOOTER = "Para dejar de recibir todo correo de Trellis en esta dirección:"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(data=PDF_BYTES, name="consent.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def record(by, student, partner, **overrides):
    today = by.district.today()
    arguments = {
        "fields": ["name", "grade"],
        "purpose": "School-based counseling",
        "consenter_kind": "guardian",
        "consenter_name": "Grace Okafor",
        "signed_on": today,
        "valid_until": today + datetime.timedelta(days=365),
        "form": upload(),
        **overrides,
    }
    return act(consent_record_form, by=by, student=student, partner=partner, **arguments)


def errors_of(raised) -> dict:
    return raised.value.message_dict


# --- Recording a signed form -----------------------------------------------------------------


def test_a_guardians_signed_form_is_recorded_with_its_rule(district, counselor, student, partner):
    consent = record(counselor, student, partner)

    assert (consent.rule, consent.rule_age, consent.method) == ("guardian", None, "signed_form")
    assert consent.recorded_by == counselor
    assert bytes(consent.form) == PDF_BYTES
    assert (consent.form_name, consent.form_content_type) == ("consent.pdf", "application/pdf")
    assert consent.signed_at.astimezone(district.time_zone).date() == district.today()
    with tenant_context(district):
        assert (
            covering_consent(
                student=student, partner=partner, fields=["grade"], on=district.today()
            )
            == consent
        )


def _student_aged(district, school, years: int, *, days_later: int = 0):
    today = district.today()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return StudentFactory(
        district=district,
        school=school,
        date_of_birth=birthday + datetime.timedelta(days=days_later),
    )


@pytest.mark.parametrize(
    ("years", "days_later", "expected"),
    [
        (13, 1, None),  # turns 13 tomorrow: below the district's age
        (13, 0, ("self_consent", 13)),  # 13 today: at it
        (16, 0, ("self_consent", 13)),  # above it
        (18, 0, ("adult", 18)),  # 18: the student's own rights
    ],
)
def test_a_student_consents_by_age_on_the_date_signed(
    district, school, counselor, partner, years, days_later, expected
):
    district.student_self_consent_age = 13
    district.save(update_fields=["student_self_consent_age"])
    student = _student_aged(district, school, years, days_later=days_later)

    if expected is None:
        with pytest.raises(ValidationError) as raised:
            record(counselor, student, partner, consenter_kind="student")
        assert errors_of(raised) == {
            "consenter_kind": [
                "The student was under 13 on the date signed: a parent or guardian must sign."
            ]
        }
    else:
        consent = record(counselor, student, partner, consenter_kind="student")
        assert (consent.consenter_kind, consent.rule, consent.rule_age) == ("student", *expected)


def test_a_17_year_old_cannot_consent_where_the_district_age_is_18(
    district, school, counselor, partner
):
    student = _student_aged(district, school, 17)
    with pytest.raises(ValidationError) as raised:
        record(counselor, student, partner, consenter_kind="student")
    assert list(errors_of(raised)) == ["consenter_kind"]


def test_a_student_without_a_date_of_birth_cannot_consent_alone(district, counselor, partner):
    student = StudentFactory(district=district, date_of_birth=None)
    with pytest.raises(ValidationError) as raised:
        record(counselor, student, partner, consenter_kind="student")
    assert list(errors_of(raised)) == ["consenter_kind"]


def test_the_form_is_checked_by_content_not_by_name(counselor, student, partner):
    with pytest.raises(ValidationError) as raised:
        record(counselor, student, partner, form=upload(b"MZ\x90\x00 not a pdf", "consent.pdf"))
    assert errors_of(raised) == {"form": ["Upload the signed form as a PDF, JPEG or PNG file."]}

    consent = record(
        counselor, student, partner, form=upload(PNG_BYTES, "scan.pdf", "application/pdf")
    )
    assert consent.form_content_type == "image/png"  # what the content is, not the claim


def test_a_form_over_10_mb_or_empty_or_missing_is_refused(counselor, student, partner):
    too_big = upload(PDF_BYTES + b"\x00" * FORM_MAX_BYTES)
    for form in (too_big, upload(b""), None):
        with pytest.raises(ValidationError) as raised:
            record(counselor, student, partner, form=form)
        assert list(errors_of(raised)) == ["form"]


def test_dates_fields_and_names_are_checked(district, counselor, student, partner):
    today = district.today()
    with pytest.raises(ValidationError) as raised:
        record(
            counselor,
            student,
            partner,
            signed_on=today + datetime.timedelta(days=1),
            valid_until=today,
            fields=["name", "blood_type"],
            purpose="  ",
            consenter_name="",
        )
    assert set(errors_of(raised)) == {
        "signed_on",
        "valid_until",
        "fields",
        "purpose",
        "consenter_name",
    }


def test_another_districts_partner_is_refused(counselor, student, other_district):
    with pytest.raises(ValidationError) as raised:
        record(counselor, student, PartnerFactory(district=other_district))
    assert list(errors_of(raised)) == ["partner"]


def test_recording_needs_the_capability_and_the_district(member, student, partner, other_district):
    for role in ("viewer", "partner"):
        with pytest.raises(PermissionDenied):
            record(member(role), student, partner)
    with pytest.raises(PermissionDenied):
        record(member("admin", in_district=other_district), student, partner)


# --- Revocation ------------------------------------------------------------------------------


def test_revocation_is_a_new_row_and_tells_the_partners_intake_contact(
    district, counselor, student, partner
):
    ContactFactory(district=district, partner=partner, email="boss@riverbend.example.org")
    consent = record(counselor, student, partner)

    revocation = act(
        consent_revoke,
        by=counselor,
        consent=consent,
        revoked_by_name="Grace Okafor",
        reason="Changed her mind",
    )

    assert revocation.consent_id == consent.pk and revocation.recorded_by == counselor
    assert revocation.notified == ["intake@riverbend.example.org"]
    [mail] = OutgoingEmail.objects.all()
    assert mail.to == ["intake@riverbend.example.org"]
    text = mail.subject + mail.body_text + mail.body_html
    assert f"C-{consent.pk}" in text and "North High School" in text
    for identifying in (student.first_name, student.last_name, student.local_id):
        assert identifying not in text
    assert "unsubscribe" in mail.body_text.lower()  # mail to someone without an account
    with tenant_context(district):
        assert (
            covering_consent(student=student, partner=partner, fields=["name"], on=district.today())
            is None
        )


def test_revocation_writes_in_the_contacts_language(district, counselor, student, partner):
    with tenant_context(district):
        partner.contacts.update(preferred_language="Spanish")
    consent = record(counselor, student, partner)

    act(consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")

    [mail] = OutgoingEmail.objects.all()
    assert SPANISH_FOOTER in mail.body_text


def test_a_consent_is_revoked_once(district, counselor, student, partner):
    consent = record(counselor, student, partner)
    act(consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")

    with pytest.raises(ValidationError):
        act(consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")
    with tenant_context(district):
        assert ConsentRevocation.objects.count() == 1
    assert OutgoingEmail.objects.count() == 1


def test_revocation_needs_who_revoked(counselor, student, partner):
    consent = record(counselor, student, partner)
    with pytest.raises(ValidationError) as raised:
        act(consent_revoke, by=counselor, consent=consent, revoked_by_name=" ")
    assert list(errors_of(raised)) == ["revoked_by_name"]


def test_revoking_needs_the_capability_and_the_district(member, counselor, student, partner):
    consent = record(counselor, student, partner)
    for role in ("viewer", "partner"):
        with pytest.raises(PermissionDenied):
            act(consent_revoke, by=member(role), consent=consent, revoked_by_name="G")
    outsider = member("admin", in_district=DistrictFactory())
    with pytest.raises(PermissionDenied):
        act(consent_revoke, by=outsider, consent=consent, revoked_by_name="G")
    assert OutgoingEmail.objects.count() == 0


# --- Verbal agreement ------------------------------------------------------------------------


def test_a_verbal_agreement_is_a_note(district, counselor, student, partner):
    note = act(
        verbal_agreement_record,
        by=counselor,
        student=student,
        partner=partner,
        note="Father agreed by phone; form to follow.",
    )
    assert note.recorded_by == counselor
    with tenant_context(district):
        assert not Consent.objects.exists()


def test_a_verbal_agreement_about_another_students_referral_is_refused(
    district, counselor, student, partner
):
    from tests.factories import ReferralFactory

    theirs = ReferralFactory(district=district)
    with pytest.raises(ValidationError) as raised:
        act(verbal_agreement_record, by=counselor, student=student, referral=theirs, note="Yes.")
    assert list(errors_of(raised)) == ["referral"]


# --- Reads -----------------------------------------------------------------------------------


def test_a_students_consents_are_listed_without_their_forms(
    district, counselor, student, partner, count_queries
):
    for _ in range(5):
        consent = ConsentFactory(district=district, student=student, partner=partner)
    ConsentRevocationFactory(district=district, consent=consent)
    ConsentFactory(district=district)  # another student's

    def read():
        with tenant_context(district):
            rows = consents_of(counselor, student)
            for row in rows:
                (row.partner.name, row.recorded_by.user.email, getattr(row, "revocation", None))
        return rows

    assert count_queries(read) <= 3
    with tenant_context(district):
        rows = consents_of(counselor, student)
    assert len(rows) == 5
    assert all("form" in row.get_deferred_fields() for row in rows)


# --- Append-only, for the runtime role --------------------------------------------------------

APPEND_ONLY = {
    "referrals_consent": lambda d: ConsentFactory(district=d).pk,
    "referrals_consentrevocation": lambda d: ConsentRevocationFactory(district=d).pk,
    "referrals_verbalagreement": lambda d: VerbalAgreementFactory(district=d).pk,
    "referrals_emergencyoverride": lambda d: EmergencyOverrideFactory(district=d).pk,
    "referrals_disclosure": lambda d: DisclosureFactory(district=d).pk,
}


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_the_runtime_role_cannot_rewrite_or_delete(district, table):
    pk = APPEND_ONLY[table](district)

    with tenant_context(district):
        for statement in (
            f"UPDATE {table} SET created_at = now() - interval '1 year' WHERE id = %s",
            f"DELETE FROM {table} WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="permission denied"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [pk])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE id = %s", [pk])
            assert cursor.fetchone() == (1,)


# --- Change history: who, and from which request ---------------------------------------------


def test_referrals_consents_and_disclosures_keep_who_and_which_request(
    district, counselor, student, partner
):
    from referrals.services.referrals import referral_create, referral_send

    with pghistory.context(user=counselor.user_id, membership=counselor.pk, request_id="req-1"):
        consent = record(counselor, student, partner)
        referral = act(
            referral_create,
            by=counselor,
            student=student,
            school=student.school,
            partner=partner,
            submission_key="6f1c1c0e-7d1e-4a35-9b57-0a4f3c2f1a11",
            concerns=["grief"],
            shared_fields=["name"],
        )
        act(referral_send, by=counselor, referral=referral)

    with tenant_context(district):
        events = {
            label: list(model.pgh_event_model.objects.values_list("pgh_label", "pgh_context"))
            for label, model in (
                ("consent", Consent),
                ("referral", Referral),
                ("disclosure", Disclosure),
            )
        }
    context = {"user": counselor.user_id, "membership": counselor.pk, "request_id": "req-1"}
    assert events["consent"] == [("insert", context)]
    assert events["referral"] == [("insert", context), ("update", context)]
    assert events["disclosure"] == [("insert", context)]
    assert consent.pk
