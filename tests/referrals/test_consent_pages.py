"""The consent pages (upload, download, revoke, verbal agreement) and the student page's
referral, consent and disclosure sections (issue 13)."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from referrals.models import Consent, ConsentRevocation, Disclosure, VerbalAgreement
from referrals.rules import FORM_MAX_BYTES
from schools.models import AccessLog, MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import (
    PDF_BYTES,
    ConsentFactory,
    ConsentRevocationFactory,
    DisclosureFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def text(response) -> str:
    return response.content.decode()


def rows(model, district, **filters):
    with tenant_context(district):
        return list(model.objects.for_district(district).filter(**filters).order_by("pk"))


def new_url(student, query=""):
    return f"/{student.district.slug}/students/{student.pk}/consents/new/{query}"


def form_url(consent):
    return f"/{consent.district.slug}/consents/{consent.pk}/form/"


def revoke_url(consent):
    return f"/{consent.district.slug}/consents/{consent.pk}/revoke/"


def verbal_url(referral):
    return f"/{referral.district.slug}/referrals/{referral.pk}/verbal/"


def student_url(student):
    return f"/{student.district.slug}/students/{student.pk}/"


def limit_to(membership, school):
    with tenant_context(membership.district):
        MembershipSchool.objects.create(
            district=membership.district, membership=membership, school=school
        )


@pytest.fixture
def signed_in(client, member):
    def sign_in(role="counselor", **kwargs):
        membership = member(role, **kwargs)
        if role == "admin":
            enable_totp(membership.user)
        client.force_login(membership.user)
        return membership

    return sign_in


@pytest.fixture
def outsider(client, other_district, member):
    admin = member("admin", in_district=other_district)
    enable_totp(admin.user)
    client.force_login(admin.user)
    return admin


@pytest.fixture
def draft(district, student, partner):
    return ReferralFactory(
        district=district, student=student, partner=partner, shared_fields=["name", "grade"]
    )


def posted(chosen, **overrides):
    today = chosen.district.today()
    data = {
        "partner": chosen.pk,
        "fields": ["name", "grade"],
        "purpose": "Counseling at school",
        "consenter_kind": "guardian",
        "consenter_name": "Grace Okafor",
        "signed_on": (today - datetime.timedelta(days=1)).isoformat(),
        "valid_until": (today + datetime.timedelta(days=365)).isoformat(),
        "form": SimpleUploadedFile("signed.pdf", PDF_BYTES, content_type="application/pdf"),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Uploading a signed form -----------------------------------------------------------------


def test_the_form_is_prefilled_from_the_referral(client, signed_in, draft, student, partner):
    signed_in("counselor")

    page = text(client.get(new_url(student, f"?referral={draft.pk}")))

    assert f'<option value="{partner.pk}" selected>' in page
    assert 'value="name"' in page and 'value="grade"' in page
    assert page.count("checked") >= 3  # name, grade, and the guardian radio
    assert f"Referral {draft.reference}" in page


def test_an_uploaded_form_is_recorded_and_returns_to_the_referral(
    client, district, signed_in, draft, student, partner
):
    me = signed_in("counselor")

    response = client.post(new_url(student, f"?referral={draft.pk}"), posted(partner))

    assert response.status_code == 302
    assert response["Location"] == f"/{district.slug}/referrals/{draft.pk}/"
    [consent] = rows(Consent, district)
    assert (consent.student_id, consent.partner_id, consent.recorded_by_id) == (
        student.pk,
        partner.pk,
        me.pk,
    )
    assert consent.fields == ["name", "grade"]
    assert bytes(consent.form) == PDF_BYTES
    # The referral page now says it is covered.
    page = text(client.get(response["Location"]))
    assert f"Covered by consent {consent.reference}" in page


def test_without_a_referral_it_returns_to_the_student(
    client, district, signed_in, student, partner
):
    signed_in("counselor")

    response = client.post(new_url(student), posted(partner))

    assert response.status_code == 302
    assert response["Location"] == student_url(student) + "#consents"


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        (
            {"form": SimpleUploadedFile("x.pdf", b"not a pdf", content_type="application/pdf")},
            "form",
            "PDF, JPEG or PNG",
        ),
        ({"form": None}, "form", "Upload the signed consent form."),
        ({"fields": None}, "fields", "Choose the records"),
        ({"signed_on": "2999-01-01"}, "signed_on", "cannot be in the future"),
        ({"valid_until": "2000-01-01"}, "valid_until", "valid after today"),
        ({"signed_on": "yesterday"}, "signed_on", "valid date"),
        ({"consenter_kind": "student"}, "consenter_kind", "parent or guardian must sign"),
        ({"partner": "999999"}, "partner", "valid choice"),
    ],
)
def test_a_refused_form_says_why_next_to_the_field(
    client, district, signed_in, student, partner, overrides, field, message
):
    signed_in("counselor")

    response = client.post(new_url(student), posted(partner, **overrides))

    assert response.status_code == 200
    page = text(response)
    assert f'id="id_{field}_error"' in page
    assert message in page
    assert rows(Consent, district) == []


def test_another_districts_partner_cannot_be_named(
    client, district, other_district, signed_in, student
):
    theirs = PartnerFactory(district=other_district)
    signed_in("counselor")

    response = client.post(new_url(student), posted(theirs))

    assert response.status_code == 200 and 'id="id_partner_error"' in text(response)
    assert rows(Consent, district) == []


def test_a_file_past_the_cap_is_refused_before_it_is_read(
    client, district, signed_in, student, partner
):
    signed_in("counselor")
    big = SimpleUploadedFile("big.png", PNG_BYTES + b"\x00" * FORM_MAX_BYTES)

    response = client.post(new_url(student), posted(partner, form=big))

    assert response.status_code == 200
    assert "larger than 10 MB" in text(response)
    assert rows(Consent, district) == []


@pytest.mark.parametrize("referral", ["abc", "-1", "99999999", ""])
def test_a_garbage_referral_only_loses_the_prefill(client, signed_in, student, referral):
    signed_in("counselor")

    assert client.get(new_url(student, f"?referral={referral}")).status_code == 200


def test_another_students_referral_does_not_prefill(client, district, signed_in, student, draft):
    other = StudentFactory(district=district, school=student.school)
    signed_in("counselor")

    page = text(client.get(new_url(other, f"?referral={draft.pk}")))

    assert draft.reference not in page


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_a_weaker_role_may_not_upload(client, district, signed_in, student, partner, role):
    signed_in(role, partner=partner) if role == "partner" else signed_in(role)

    assert client.get(new_url(student)).status_code == 403
    assert client.post(new_url(student), posted(partner)).status_code == 403
    assert rows(Consent, district) == []


def test_another_district_gets_404_on_upload(client, district, outsider, student, partner):
    assert client.get(new_url(student)).status_code == 404
    assert client.post(new_url(student), posted(partner)).status_code == 404
    assert rows(Consent, district) == []


def test_another_schools_counselor_gets_404_on_upload(
    client, district, signed_in, student, partner
):
    me = signed_in("counselor")
    limit_to(me, SchoolFactory(district=district))

    assert client.get(new_url(student)).status_code == 404


# --- Downloading the form --------------------------------------------------------------------


def test_the_form_downloads_as_stored_and_is_logged(client, district, signed_in, student):
    consent = ConsentFactory(
        district=district, student=student, form=PNG_BYTES, form_content_type="image/png"
    )
    me = signed_in("counselor")

    response = client.get(form_url(consent))

    assert response.status_code == 200
    assert response.content == PNG_BYTES
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="consent-{consent.pk}.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    [logged] = rows(AccessLog, district, membership=me)
    assert (logged.object_type, logged.object_id, logged.student_id, logged.action) == (
        "consent",
        str(consent.pk),
        student.pk,
        "export",
    )


def test_the_form_is_refused_to_a_partner_and_404_elsewhere(
    client, district, other_district, member, signed_in, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    signed_in("partner", partner=partner)
    assert client.get(form_url(consent)).status_code == 403

    limited = signed_in("counselor")
    limit_to(limited, SchoolFactory(district=district))
    assert client.get(form_url(consent)).status_code == 404

    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)
    assert client.get(form_url(consent)).status_code == 404
    assert client.get(f"/{other_district.slug}/consents/{consent.pk}/form/").status_code == 404
    assert client.get(f"/{district.slug}/consents/99999999/form/").status_code == 404


# --- Revoking --------------------------------------------------------------------------------


def test_revoking_asks_then_records_and_shows_revoked_everywhere(
    client, district, signed_in, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    me = signed_in("counselor")

    confirm = client.get(revoke_url(consent))
    assert confirm.status_code == 200
    assert "Revoke the consent" in text(confirm) and "Riverbend Counseling" in text(confirm)
    assert rows(ConsentRevocation, district) == []

    response = client.post(
        revoke_url(consent), {"revoked_by_name": "Grace Okafor", "reason": "Moved away"}
    )

    assert response.status_code == 302
    [revocation] = rows(ConsentRevocation, district)
    assert (revocation.consent_id, revocation.recorded_by_id, revocation.revoked_by_name) == (
        consent.pk,
        me.pk,
        "Grace Okafor",
    )
    student_page = text(client.get(student_url(student)))
    assert "Revoked" in student_page
    assert f'href="{revoke_url(consent)}"' not in student_page
    again = text(client.get(revoke_url(consent)))
    assert "This consent was revoked by Grace Okafor" in again
    assert 'name="revoked_by_name"' not in again


def test_revoking_needs_a_name(client, district, signed_in, student):
    consent = ConsentFactory(district=district, student=student)
    signed_in("counselor")

    response = client.post(revoke_url(consent), {"revoked_by_name": "  "})

    assert response.status_code == 200
    assert 'id="id_revoked_by_name_error"' in text(response)
    assert rows(ConsentRevocation, district) == []


def test_revoking_twice_says_so(client, district, signed_in, student):
    consent = ConsentFactory(district=district, student=student)
    ConsentRevocationFactory(district=district, consent=consent)
    signed_in("counselor")

    response = client.post(revoke_url(consent), {"revoked_by_name": "Grace Okafor"})

    assert response.status_code == 200
    assert "already revoked" in text(response)
    assert len(rows(ConsentRevocation, district)) == 1


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_a_weaker_role_may_not_revoke(client, district, signed_in, student, partner, role):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    signed_in(role, partner=partner) if role == "partner" else signed_in(role)

    assert client.post(revoke_url(consent), {"revoked_by_name": "X"}).status_code == 403
    assert rows(ConsentRevocation, district) == []


def test_another_district_gets_404_on_revoke(client, district, outsider, student):
    consent = ConsentFactory(district=district, student=student)

    assert client.post(revoke_url(consent), {"revoked_by_name": "X"}).status_code == 404
    assert rows(ConsentRevocation, district) == []


# --- Verbal agreement ------------------------------------------------------------------------


def test_a_verbal_agreement_is_noted_and_does_not_allow_sending(client, district, signed_in, draft):
    me = signed_in("counselor")

    response = client.post(verbal_url(draft), {"note": "Mother agreed by phone on Monday."})
    sent = client.post(f"/{district.slug}/referrals/{draft.pk}/send/")

    assert response.status_code == 302
    [note] = rows(VerbalAgreement, district)
    assert (note.referral_id, note.partner_id, note.recorded_by_id) == (
        draft.pk,
        draft.partner_id,
        me.pk,
    )
    assert sent.status_code == 200 and "The referral was not sent" in text(sent)
    assert rows(Disclosure, district) == []


def test_a_verbal_agreement_needs_a_note(client, district, signed_in, draft):
    signed_in("counselor")

    response = client.post(verbal_url(draft), {"note": ""})

    assert response.status_code == 200 and 'id="id_note_error"' in text(response)
    assert rows(VerbalAgreement, district) == []


def test_verbal_agreement_trio(client, district, other_district, member, signed_in, draft, partner):
    signed_in("partner", partner=partner)
    assert client.post(verbal_url(draft), {"note": "x"}).status_code == 403
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)
    assert client.post(verbal_url(draft), {"note": "x"}).status_code == 404
    assert rows(VerbalAgreement, district) == []


# --- The student page's sections -------------------------------------------------------------


def test_the_student_page_lists_referrals_consents_and_disclosures(
    client, district, signed_in, student, partner, draft
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    disclosure = DisclosureFactory(
        district=district,
        consent=consent,
        referral=draft,
        fields=["name", "grade"],
        recipient="Riverbend Counseling <intake@riverbend.example.org>",
    )
    signed_in("counselor")

    page = text(client.get(student_url(student)))

    assert 'id="student-referrals-heading"' in page and draft.reference in page
    assert 'id="student-consents-heading"' in page and consent.reference in page
    assert f'href="{form_url(consent)}"' in page and f'href="{revoke_url(consent)}"' in page
    assert "In force" in page
    assert 'id="student-disclosures-heading"' in page
    assert "Riverbend Counseling &lt;intake@riverbend.example.org&gt;" in page
    assert f"Consent {consent.reference}" in page
    assert disclosure.disclosed_by.user.full_name in page
    # Printing is for administrators.
    assert "disclosures.pdf" not in page


def test_an_admin_sees_the_print_link(client, district, signed_in, student):
    signed_in("admin")

    page = text(client.get(student_url(student)))

    assert f'href="/{district.slug}/students/{student.pk}/disclosures.pdf"' in page


def test_an_emergency_disclosure_says_so_on_the_student_page(
    client, district, signed_in, student, partner
):
    from tests.factories import EmergencyOverrideFactory

    referral = ReferralFactory(district=district, student=student, partner=partner)
    override = EmergencyOverrideFactory(district=district, referral=referral)
    with tenant_context(district):
        Disclosure.objects.create(
            district=district,
            student=student,
            partner=partner,
            referral=referral,
            fields=["name"],
            disclosed_by=override.declared_by,
            basis="emergency",
            emergency=override,
            recipient=partner.name,
            purpose=override.threat,
        )
    signed_in("counselor")

    page = text(client.get(student_url(student)))

    assert "Health or safety emergency" in page


def test_the_student_page_costs_the_same_queries_with_many_rows(
    client, district, signed_in, student, partner, count_queries
):
    signed_in("admin")
    consent = ConsentFactory(district=district, student=student, partner=partner)
    referral = ReferralFactory(district=district, student=student, partner=partner)
    DisclosureFactory(district=district, consent=consent, referral=referral)
    client.get(student_url(student))

    one = count_queries(lambda: client.get(student_url(student)))
    for index in range(15):
        other_partner = PartnerFactory(district=district)
        more = ConsentFactory(district=district, student=student, partner=other_partner)
        if index % 2:
            ConsentRevocationFactory(district=district, consent=more)
        more_referral = ReferralFactory(
            district=district,
            student=student,
            partner=other_partner,
            status="sent",
            sent_at=timezone.now(),
        )
        DisclosureFactory(district=district, consent=more, referral=more_referral)
    many = count_queries(lambda: client.get(student_url(student)))

    assert one == many
