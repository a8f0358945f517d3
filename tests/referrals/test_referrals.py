"""Referrals: made once, sent only on a lawful basis, every disclosure logged (issue 13)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from referrals.models import Disclosure, EmergencyOverride, Referral
from referrals.selectors import emergency_overrides, student_disclosures
from referrals.services.consents import consent_revoke, verbal_agreement_record
from referrals.services.referrals import (
    emergency_override_declare,
    referral_create,
    referral_send,
)
from schools.models import MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import (
    ConcernCategoryFactory,
    ConsentFactory,
    EmergencyOverrideFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
)
from tests.referrals.helpers import act, new_key

THREAT = "The student told me of a plan to harm themselves after school today."


def create(by, student, partner=None, **fields):
    fields.setdefault("submission_key", new_key())
    fields.setdefault("concerns", ["anxiety"])
    return act(
        referral_create, by=by, student=student, school=student.school, partner=partner, **fields
    )


def errors_of(raised) -> dict:
    return raised.value.message_dict


def disclosures(district):
    with tenant_context(district):
        return list(Disclosure.objects.for_district(district).order_by("pk"))


# --- Making a referral ---------------------------------------------------------------------


def test_a_counselor_refers_a_student_dated_the_districts_today(counselor, student, partner):
    referral = create(
        counselor,
        student,
        partner,
        concerns=["self_harm", "basic_needs_food", "self_harm"],
        urgency="urgent",
        services=["therapy"],
        family_language="es-MX",
        interpreter_needed=True,
        payment=["medicaid", "uninsured"],
        availability="Weekday afternoons",
        telehealth_ok=True,
        shared_fields=["name", "grade"],
        confidential_notes="Disclosed a conflict at home.",
    )

    assert referral.status == "draft" and referral.sent_at is None
    assert referral.referred_on == student.district.today()
    assert referral.referred_by == counselor
    assert referral.concerns == ["self_harm", "basic_needs_food"]
    assert referral.family_language == "es-mx"
    assert referral.payment == ["medicaid", "uninsured"]


def test_a_double_submitted_form_makes_one_referral(district, counselor, student, partner):
    key = new_key()
    first = create(counselor, student, partner, submission_key=key)
    second = create(counselor, student, partner, submission_key=str(key))

    assert first.pk == second.pk
    with tenant_context(district):
        assert Referral.objects.for_district(district).count() == 1


def test_someone_elses_submission_key_is_refused(district, member, counselor, student, partner):
    key = new_key()
    create(counselor, student, partner, submission_key=key)

    with pytest.raises(ValidationError) as raised:
        create(member("coordinator"), student, partner, submission_key=key)
    assert "__all__" in errors_of(raised)


def test_a_student_of_another_school_is_refused(district, counselor, student, partner):
    elsewhere = SchoolFactory(district=district, name="South Middle School")

    with pytest.raises(ValidationError) as raised:
        act(
            referral_create,
            by=counselor,
            student=student,
            school=elsewhere,
            partner=partner,
            submission_key=new_key(),
            concerns=["anxiety"],
        )
    assert errors_of(raised) == {"school": ["The student is not enrolled at this school."]}


def test_a_student_of_another_district_is_refused(counselor, other_district, partner):
    theirs = StudentFactory(district=other_district)

    with pytest.raises(ValidationError) as raised:
        create(counselor, theirs, partner)
    assert set(errors_of(raised)) == {"student", "school"}


def test_a_school_limited_counselor_refers_only_their_schools_students(
    district, member, student, partner
):
    limited = member("counselor")
    other_school = SchoolFactory(district=district, name="West Elementary")
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=limited, school=other_school)

    with pytest.raises(ValidationError) as raised:
        create(limited, student, partner)
    assert errors_of(raised) == {"school": ["You can refer students of your own schools only."]}


@pytest.mark.parametrize("intake", ["closed"])
def test_a_partner_not_taking_referrals_is_refused(district, counselor, student, intake):
    closed = PartnerFactory(district=district, name="Closed Clinic", intake=intake)

    with pytest.raises(ValidationError) as raised:
        create(counselor, student, closed)
    assert errors_of(raised) == {
        "partner": ["Closed Clinic is not taking referrals now. Choose another partner."]
    }


def test_an_inactive_partner_is_refused(district, counselor, student):
    gone = PartnerFactory(district=district, active=False)
    with pytest.raises(ValidationError) as raised:
        create(counselor, student, gone)
    assert "partner" in errors_of(raised)


def test_another_districts_partner_is_refused(counselor, student, other_district):
    with pytest.raises(ValidationError) as raised:
        create(counselor, student, PartnerFactory(district=other_district))
    assert errors_of(raised) == {"partner": ["Choose one of your district's partners."]}


def test_codes_outside_the_lists_are_refused_field_by_field(counselor, student, partner):
    with pytest.raises(ValidationError) as raised:
        create(
            counselor,
            student,
            partner,
            concerns=["anxiety", "made_up"],
            urgency="whenever",
            services=["astrology"],
            payment=["cash_in_hand"],
            family_language="Spanish",
            shared_fields=["social_security_number"],
        )
    assert set(errors_of(raised)) == {
        "concerns",
        "urgency",
        "services",
        "payment",
        "family_language",
        "shared_fields",
    }


def test_the_districts_own_concerns_and_services_are_known(district, counselor, student, partner):
    ConcernCategoryFactory(district=district, code="immigration_stress", name="Immigration stress")

    referral = create(counselor, student, partner, concerns=["immigration_stress"])
    assert referral.concerns == ["immigration_stress"]


def test_a_referral_needs_a_concern(counselor, student, partner):
    with pytest.raises(ValidationError) as raised:
        create(counselor, student, partner, concerns=[])
    assert errors_of(raised) == {"concerns": ["Choose at least one concern."]}


def test_a_viewer_and_a_partner_cannot_refer(member, student, partner):
    for role in ("viewer", "partner"):
        with pytest.raises(PermissionDenied):
            create(member(role), student, partner)


# --- Sending: no identifiable information without a covering consent ----------------------


@pytest.fixture
def referral(district, counselor, student, partner):
    """A draft carrying the student's name and grade to the partner."""
    return create(counselor, student, partner, shared_fields=["name", "grade"])


def send(by, referral):
    return act(referral_send, by=by, referral=referral)


def refused_send(by, referral) -> dict:
    with pytest.raises(ValidationError) as raised:
        send(by, referral)
    with tenant_context(referral.district):
        assert Referral.objects.get(pk=referral.pk).status == "draft"
    return errors_of(raised)


def test_no_consent_no_send(district, counselor, referral):
    assert "shared_fields" in refused_send(counselor, referral)
    assert disclosures(district) == []


def test_a_consent_for_another_partner_does_not_cover(district, counselor, referral, student):
    ConsentFactory(district=district, student=student, partner=PartnerFactory(district=district))

    assert "shared_fields" in refused_send(counselor, referral)


def test_a_consent_that_misses_a_field_does_not_cover(district, counselor, referral, student):
    ConsentFactory(district=district, student=student, partner=referral.partner, fields=["name"])

    assert "shared_fields" in refused_send(counselor, referral)


def test_a_consent_that_expired_yesterday_does_not_cover(district, counselor, referral, student):
    ConsentFactory(
        district=district,
        student=student,
        partner=referral.partner,
        valid_until=district.today() - datetime.timedelta(days=1),
    )

    assert "shared_fields" in refused_send(counselor, referral)


def test_a_consent_valid_until_today_still_covers(district, counselor, referral, student):
    ConsentFactory(
        district=district, student=student, partner=referral.partner, valid_until=district.today()
    )

    assert send(counselor, referral).status == "sent"


def test_a_consent_for_another_student_does_not_cover(district, counselor, referral):
    ConsentFactory(district=district, partner=referral.partner)

    assert "shared_fields" in refused_send(counselor, referral)


def test_a_revoked_consent_does_not_cover(district, counselor, referral, student):
    consent = ConsentFactory(district=district, student=student, partner=referral.partner)
    act(consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")

    assert "shared_fields" in refused_send(counselor, referral)


def test_a_verbal_agreement_alone_never_allows_a_send(district, counselor, referral, student):
    act(
        verbal_agreement_record,
        by=counselor,
        student=student,
        partner=referral.partner,
        referral=referral,
        note="Mother agreed on the phone to share name and grade with Riverbend.",
    )

    assert "shared_fields" in refused_send(counselor, referral)
    assert disclosures(district) == []


def test_a_covered_send_writes_exactly_one_disclosure(district, counselor, referral, student):
    consent = ConsentFactory(district=district, student=student, partner=referral.partner)

    sent = send(counselor, referral)

    assert sent.status == "sent" and sent.sent_at is not None
    [disclosure] = disclosures(district)
    assert (disclosure.basis, disclosure.consent_id, disclosure.emergency_id) == (
        "consent",
        consent.pk,
        None,
    )
    assert disclosure.student_id == student.pk and disclosure.partner_id == referral.partner_id
    assert disclosure.referral_id == referral.pk and disclosure.disclosed_by_id == counselor.pk
    assert disclosure.fields == ["name", "grade"]
    assert disclosure.disclosed_at == sent.sent_at
    assert disclosure.purpose == consent.purpose
    assert disclosure.recipient == "Riverbend Counseling <intake@riverbend.example.org>"
    assert disclosure.part2 is False


def test_a_referral_is_sent_once(district, counselor, referral, student):
    ConsentFactory(district=district, student=student, partner=referral.partner)
    send(counselor, referral)

    with pytest.raises(ValidationError):
        send(counselor, referral)
    assert len(disclosures(district)) == 1


def test_revocation_blocks_the_next_disclosure(district, counselor, student, partner):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    first = create(counselor, student, partner, shared_fields=["name"])
    send(counselor, first)

    act(consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")
    second = create(counselor, student, partner, shared_fields=["name"])

    assert "shared_fields" in refused_send(counselor, second)
    assert [d.referral_id for d in disclosures(district)] == [first.pk]


def test_a_de_identified_consultation_sends_without_a_disclosure(
    district, counselor, student, partner
):
    consultation = create(counselor, student, partner, shared_fields=[])

    assert send(counselor, consultation).status == "sent"
    assert disclosures(district) == []


def test_a_draft_without_a_partner_is_not_sent(counselor, student):
    draft = create(counselor, student, None, shared_fields=[])

    assert "partner" in refused_send(counselor, draft)


def test_a_partner_that_closed_its_intake_since_is_not_sent_to(district, counselor, referral):
    with tenant_context(district):
        referral.partner.intake = "closed"
        referral.partner.save(update_fields=["intake"])

    assert "partner" in refused_send(counselor, referral)


def test_sending_needs_the_capability_and_the_district(member, referral, other_district):
    ConsentFactory(district=referral.district, student=referral.student, partner=referral.partner)
    for role in ("viewer", "partner"):
        with pytest.raises(PermissionDenied):
            send(member(role), referral)
    outsider = member("admin", in_district=other_district)
    with pytest.raises(PermissionDenied):
        send(outsider, referral)


# --- The health-or-safety emergency (99.36) -------------------------------------------------


def test_an_emergency_lets_this_referral_go_without_consent(district, counselor, referral):
    override = act(emergency_override_declare, by=counselor, referral=referral, threat=THREAT)

    send(counselor, referral)

    [disclosure] = disclosures(district)
    assert (disclosure.basis, disclosure.emergency_id, disclosure.consent_id) == (
        "emergency",
        override.pk,
        None,
    )
    assert disclosure.purpose == THREAT


def test_an_emergency_covers_only_its_own_referral(district, counselor, referral, student):
    act(emergency_override_declare, by=counselor, referral=referral, threat=THREAT)
    another = create(counselor, student, referral.partner, shared_fields=["name"])

    assert "shared_fields" in refused_send(counselor, another)


@pytest.mark.parametrize("threat", ["", "   ", "Risk.", "x" * 19 + "   "])
def test_an_emergency_needs_the_threat_written_down(district, counselor, referral, threat):
    with pytest.raises(ValidationError) as raised:
        act(emergency_override_declare, by=counselor, referral=referral, threat=threat)

    assert list(errors_of(raised)) == ["threat"]
    with tenant_context(district):
        assert not EmergencyOverride.objects.exists()


def test_an_emergency_is_declared_once_and_only_on_a_draft(district, counselor, referral):
    act(emergency_override_declare, by=counselor, referral=referral, threat=THREAT)
    with pytest.raises(ValidationError):
        act(emergency_override_declare, by=counselor, referral=referral, threat=THREAT)

    sent = create(counselor, referral.student, referral.partner, shared_fields=[])
    send(counselor, sent)
    with pytest.raises(ValidationError):
        act(emergency_override_declare, by=counselor, referral=sent, threat=THREAT)


def test_administrators_see_every_override_listed(district, member, counselor, referral):
    override = act(emergency_override_declare, by=counselor, referral=referral, threat=THREAT)
    admin = member("admin")

    with tenant_context(district):
        listed = emergency_overrides(admin)
    assert [(o.pk, o.threat, o.declared_by_id) for o in listed] == [
        (override.pk, THREAT, counselor.pk)
    ]
    assert listed[0].referral.student_id == referral.student_id

    for role in ("coordinator", "counselor", "viewer", "partner"):
        with pytest.raises(PermissionDenied), tenant_context(district):
            emergency_overrides(member(role))


def test_the_override_list_costs_one_query(district, member, count_queries):
    for _ in range(5):
        EmergencyOverrideFactory(district=district)
    admin = member("admin")

    def read():
        with tenant_context(district):
            return [
                (row.referral.student.last_name, row.referral.partner.name, row.declared_by.user)
                for row in emergency_overrides(admin)
            ]

    assert count_queries(read) <= 3  # the context's SET and reset, and one SELECT
    assert len(read()) == 5


# --- The disclosure log ---------------------------------------------------------------------


def test_the_students_disclosure_log_lists_every_send(district, member, counselor, student):
    partner_a = PartnerFactory(district=district, name="Partner A")
    partner_b = PartnerFactory(district=district, name="Partner B")
    for partner in (partner_a, partner_b):
        ConsentFactory(district=district, student=student, partner=partner)
        send(counselor, create(counselor, student, partner, shared_fields=["name"]))
    ReferralFactory(district=district)  # another student's referral

    with tenant_context(district):
        log = student_disclosures(member("coordinator"), student)
    assert sorted(d.partner.name for d in log) == ["Partner A", "Partner B"]
    with pytest.raises(PermissionDenied), tenant_context(district):
        student_disclosures(member("viewer"), student)


def test_the_disclosure_log_costs_one_query(district, counselor, student, count_queries):
    for _ in range(6):
        partner = PartnerFactory(district=district)
        ConsentFactory(district=district, student=student, partner=partner)
        send(counselor, create(counselor, student, partner, shared_fields=["name"]))

    def read():
        with tenant_context(district):
            return [
                (row.partner.name, row.disclosed_by.user.email, row.consent.purpose)
                for row in student_disclosures(counselor, student)
            ]

    assert count_queries(read) <= 3
    assert len(read()) == 6
