"""The demo's referrals: one at every step, with signed, pending and revoked consents.

Made through the services, as a counselor would make them, so the demo shows what the
rules allow and records what they record (disclosures, the emergency override, the
revocation mail). Idempotent: each referral has a fixed submission key, so a rerun finds
it, and a step already taken is not taken again.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from partnerships.models import Partner
from referrals.models import (
    Consent,
    ConsentRequest,
    ConsentRevocation,
    EmergencyOverride,
    VerbalAgreement,
)
from referrals.services.consent_requests import consent_request_create
from referrals.services.consents import (
    consent_record_form,
    consent_revoke,
    verbal_agreement_record,
)
from referrals.services.referrals import (
    emergency_override_declare,
    referral_create,
    referral_send,
)
from schools.models import Membership, Role, Student

_NAMESPACE = uuid.UUID("5d1c1f62-3f0e-4a53-9d8c-0e2f6b7c9a10")

# (key, student local id, partner, what, details). `what` says how far the referral goes:
# "draft" (a consultation being prepared), "needs_consent" (identifiable, no consent yet:
# a consent request waits for the family), "consented" (a signed form, sent), "emergency"
# (sent under a 99.36 override), "revoked" (sent, then the family revoked the consent),
# "consultation" (de-identified, sent), "verbal" (a verbal agreement noted; not sent).
DEMO_REFERRALS = [
    (
        "okafor-harbor",
        "D1002",
        "Harbor Family Services",
        "consented",
        {
            "concerns": ["anxiety", "attendance"],
            "urgency": "routine",
            "services": ["counselling_individual"],
            "family_language": "en",
            "payment": ["medicaid"],
            "availability": "After 3:30 pm on weekdays",
            "telehealth_ok": True,
            "shared_fields": ["name", "grade", "guardian_contact", "referral_reason"],
            "confidential_notes": "Missed 9 days this quarter; says mornings are hardest.",
        },
    ),
    (
        "morales-harbor",
        "D1001",
        "Harbor Family Services",
        "needs_consent",
        {
            "concerns": ["depression", "family_conflict"],
            "urgency": "urgent",
            "services": ["counselling_individual", "family_support"],
            "family_language": "es",
            "interpreter_needed": True,
            "payment": ["medicaid"],
            "availability": "Tuesdays or Thursdays after school",
            "telehealth_ok": False,
            "shared_fields": ["name", "date_of_birth", "guardian_contact"],
        },
    ),
    (
        "nguyen-harbor",
        "D1003",
        "Harbor Family Services",
        "emergency",
        {
            "concerns": ["self_harm"],
            "urgency": "emergency",
            "services": ["counselling_individual"],
            "family_language": "vi",
            "interpreter_needed": True,
            "payment": ["unknown"],
            "shared_fields": ["name", "date_of_birth", "school", "guardian_contact"],
            "confidential_notes": "Crisis team met with the student on the day; 988 called.",
        },
    ),
    (
        "johnson-harbor",
        "D1005",
        "Harbor Family Services",
        "revoked",
        {
            "concerns": ["grief"],
            "urgency": "routine",
            "services": ["family_support"],
            "family_language": "en",
            "payment": ["private"],
            "shared_fields": ["name", "guardian_contact"],
        },
    ),
    (
        "lopez-food",
        "D2001",
        "Valley Food Network",
        "consultation",
        {
            "concerns": ["basic_needs_food"],
            "urgency": "routine",
            "services": ["food_assistance"],
            "family_language": "es",
            "payment": ["uninsured"],
            "availability": "Friday pickup",
        },
    ),
    (
        "garcia-harbor",
        "D2003",
        "Harbor Family Services",
        "verbal",
        {
            "concerns": ["trauma", "behavior"],
            "urgency": "routine",
            "services": ["counselling_individual"],
            "family_language": "es",
            "payment": ["medicaid"],
            "shared_fields": ["name", "guardian_contact"],
        },
    ),
    (
        "williams-food",
        "D2004",
        "Valley Food Network",
        "draft",
        {
            "concerns": ["basic_needs_food", "basic_needs_clothing"],
            "urgency": "routine",
            "services": ["food_assistance"],
            "family_language": "en",
            "payment": ["unknown"],
        },
    ),
]


def _form_pdf(guardian: str, partner: str, signed_on: datetime.date) -> SimpleUploadedFile:
    """A made-up scanned consent form (a small PDF), standing in for the family's paper."""
    from core.pdf import html_to_pdf

    html = (
        "<h1>Consent to disclose student records</h1>"
        f"<p>I, {guardian}, consent to the school sharing the records listed with "
        f"{partner} for the purpose of a referral for services.</p>"
        f"<p>Signed: {guardian} &nbsp; Date: {signed_on.isoformat()}</p>"
    )
    return SimpleUploadedFile("signed-consent.pdf", html_to_pdf(html), "application/pdf")


def seed_referrals(district) -> None:
    counselor = (
        Membership.objects.filter(district=district, role=Role.COUNSELOR, active=True)
        .select_related("district", "user")
        .order_by("pk")
        .first()
    )
    if counselor is None:
        return
    students = {s.local_id: s for s in Student.objects.for_district(district)}
    partners = {p.name: p for p in Partner.objects.for_district(district)}
    today = district.today()
    for key, local_id, partner_name, what, details in DEMO_REFERRALS:
        student, partner = students.get(local_id), partners.get(partner_name)
        if student is None or partner is None:
            continue
        referral = referral_create(
            by=counselor,
            student=student,
            school=student.school,
            partner=partner,
            submission_key=uuid.uuid5(_NAMESPACE, key),
            **details,
        )
        if not referral.is_draft:
            continue
        consent = None
        if what in ("consented", "revoked"):
            consent = (
                Consent.objects.for_district(district)
                .filter(student=student, partner=partner)
                .defer("form")
                .first()
            )
            if consent is None:
                signed_on = today - datetime.timedelta(days=12)
                consent = consent_record_form(
                    by=counselor,
                    student=student,
                    partner=partner,
                    fields=details["shared_fields"],
                    purpose=f"Referral to {partner.name} for counseling and family support",
                    consenter_kind="guardian",
                    consenter_name=student.guardian_name,
                    signed_on=signed_on,
                    valid_until=today + datetime.timedelta(days=200),
                    form=_form_pdf(student.guardian_name, partner.name, signed_on),
                )
        if what == "needs_consent":
            if not ConsentRequest.objects.for_district(district).filter(referral=referral):
                consent_request_create(
                    by=counselor,
                    referral=referral,
                    fields=details["shared_fields"],
                    purpose=f"Referral {referral.reference} to {partner.name} for counseling "
                    "and family support",
                    valid_until=today + datetime.timedelta(days=200),
                )
            continue
        if what == "emergency" and not EmergencyOverride.objects.filter(referral=referral):
            emergency_override_declare(
                by=counselor,
                referral=referral,
                threat=(
                    "Student disclosed a plan to harm herself today; the family could not be "
                    "reached and the partner's crisis clinician must call back this afternoon."
                ),
            )
        if what == "verbal":
            if not VerbalAgreement.objects.for_district(district).filter(referral=referral):
                verbal_agreement_record(
                    by=counselor,
                    student=student,
                    partner=partner,
                    referral=referral,
                    note=(
                        "Spoke with Ms. García by phone; she agrees to the referral and will "
                        "sign the consent form at pickup on Friday."
                    ),
                )
            continue
        if what in ("consented", "emergency", "revoked", "consultation"):
            referral_send(by=counselor, referral=referral)
        if (
            what == "revoked"
            and consent is not None
            and not ConsentRevocation.objects.for_district(district).filter(consent=consent)
        ):
            consent_revoke(
                by=counselor,
                consent=consent,
                revoked_by_name=student.guardian_name,
                reason="The family chose a grief group at their church instead.",
            )
