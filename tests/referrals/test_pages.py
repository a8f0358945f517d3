"""The referral pages: the list, a referral (consent panel, sending), emergencies (issue 13)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from referrals.models import Disclosure, EmergencyOverride, Referral
from schools.models import AccessLog, MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    EmergencyOverrideFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    VerbalAgreementFactory,
    enable_totp,
)
from tests.referrals.helpers import act

THREAT = "The student told me of a plan to harm themselves after school today."
NOTES = "Mother mentioned a custody dispute; do not call the father."


def list_url(district, query=""):
    return f"/{district.slug}/referrals/{query}"


def detail_url(referral):
    return f"/{referral.district.slug}/referrals/{referral.pk}/"


def send_url(referral):
    return detail_url(referral) + "send/"


def emergency_url(referral):
    return detail_url(referral) + "emergency/"


def text(response) -> str:
    return response.content.decode()


def rows(model, district, **filters):
    with tenant_context(district):
        return list(model.objects.for_district(district).filter(**filters).order_by("pk"))


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
def draft(district, student, partner):
    return ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        shared_fields=["name", "grade"],
        confidential_notes=NOTES,
    )


def sent_to(partner, student, **kwargs):
    return ReferralFactory(
        district=partner.district,
        student=student,
        partner=partner,
        status="sent",
        sent_at=timezone.now(),
        **kwargs,
    )


# --- The list --------------------------------------------------------------------------------


def test_a_counselor_lists_referrals_newest_first_with_the_student(
    client, district, signed_in, student, partner
):
    older = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_on=district.today() - datetime.timedelta(days=3),
    )
    newer = ReferralFactory(district=district, student=student, partner=partner, urgency="urgent")
    signed_in("counselor")

    response = client.get(list_url(district))

    assert response.status_code == 200
    page = text(response)
    assert page.index(newer.reference) < page.index(older.reference)
    assert "Amara Okafor" in page
    assert "Riverbend Counseling" in page
    assert "Urgent" in page and "Anxiety" in page
    assert "2 referrals" in page


def test_a_viewer_may_not_list_referrals(client, district, signed_in):
    signed_in("viewer")

    assert client.get(list_url(district)).status_code == 403


def test_another_districts_member_gets_404_on_the_list(client, district, other_district, member):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(list_url(district)).status_code == 404


def test_a_partner_lists_only_what_was_sent_to_it_without_the_students_name(
    client, district, signed_in, student, partner
):
    mine = sent_to(partner, student, shared_fields=[])
    ReferralFactory(district=district, student=student, partner=partner)  # a draft
    sent_to(PartnerFactory(district=district, intake="accepting"), student)  # someone else's
    signed_in("partner", partner=partner)

    page = text(client.get(list_url(district)))

    assert mine.reference in page
    assert "1 referral" in page
    assert "Okafor" not in page
    # A de-identified consultation does not even name the school.
    assert "North High School" not in page
    assert "Not shared" in page


def test_a_partner_sees_the_school_once_it_was_disclosed(
    client, district, signed_in, counselor, student, partner
):
    from referrals.services.referrals import referral_send

    ConsentFactory(district=district, student=student, partner=partner)
    draft = ReferralFactory(
        district=district, student=student, partner=partner, shared_fields=["school"]
    )
    act(referral_send, by=counselor, referral=draft)
    signed_in("partner", partner=partner)

    page = text(client.get(list_url(district)))

    assert "North High School" in page
    assert "Okafor" not in page


def test_the_list_filters_by_status_school_and_partner(
    client, district, signed_in, student, partner
):
    other_school = SchoolFactory(district=district, name="South Middle School")
    other_partner = PartnerFactory(district=district, name="Harbor Family Services")
    draft = ReferralFactory(district=district, student=student, partner=partner)
    sent = sent_to(partner, student)
    elsewhere = ReferralFactory(
        district=district,
        student=StudentFactory(district=district, school=other_school),
        partner=other_partner,
    )
    signed_in("coordinator")

    by_status = text(client.get(list_url(district, "?status=sent")))
    by_school = text(client.get(list_url(district, f"?school={other_school.pk}")))
    by_partner = text(client.get(list_url(district, f"?partner={partner.pk}")))

    assert sent.reference in by_status and draft.reference not in by_status
    assert elsewhere.reference in by_school and draft.reference not in by_school
    assert draft.reference in by_partner and elsewhere.reference not in by_partner


@pytest.mark.parametrize(
    "query", ["?status=nonsense", "?school=abc", "?partner=-1", "?page=999", "?school=99999999"]
)
def test_garbage_filters_are_not_a_500(client, district, signed_in, draft, query):
    signed_in("counselor")

    assert client.get(list_url(district, query)).status_code == 200


def test_the_empty_list_says_how_to_log_a_referral(client, district, signed_in):
    signed_in("counselor")

    page = text(client.get(list_url(district)))

    assert "No referrals yet" in page
    assert f'href="/{district.slug}/referrals/new/"' in page


def test_the_empty_list_tells_a_partner_what_will_appear(client, district, signed_in, partner):
    signed_in("partner", partner=partner)

    page = text(client.get(list_url(district)))

    assert "No referrals yet" in page
    assert "Log a referral" not in page


@pytest.mark.parametrize("role", ["counselor", "partner"])
def test_the_list_costs_the_same_queries_for_one_or_forty_referrals(
    client, district, member, student, partner, count_queries, role
):
    viewer = member(role, partner=partner) if role == "partner" else member(role)
    if role == "counselor":
        limit_to(viewer, student.school)  # the school limit is part of the query too
    client.force_login(viewer.user)
    sent_to(partner, student, shared_fields=["school"])
    client.get(list_url(district))  # warm the session

    one = count_queries(lambda: client.get(list_url(district)))
    for _ in range(39):
        other = StudentFactory(district=district, school=student.school)
        sent_to(partner, other, concerns=["anxiety", "grief"], urgency="urgent")
    forty = count_queries(lambda: client.get(list_url(district)))

    assert one == forty


# --- A referral ------------------------------------------------------------------------------


def test_a_counselor_reads_a_referral_and_the_visit_is_logged(client, district, signed_in, draft):
    me = signed_in("counselor")

    response = client.get(detail_url(draft))

    assert response.status_code == 200
    page = text(response)
    assert "Amara Okafor" in page
    assert f'href="/{district.slug}/students/{draft.student_id}/"' in page
    assert "Riverbend Counseling" in page
    assert "Student&#x27;s name" in page and "Grade" in page
    assert NOTES in page
    logged = rows(AccessLog, district, membership=me)
    assert [(r.object_type, r.object_id, r.student_id, r.action) for r in logged] == [
        ("referral", str(draft.pk), draft.student_id, "view")
    ]


def test_a_viewer_may_not_read_a_referral(client, signed_in, draft):
    signed_in("viewer")

    assert client.get(detail_url(draft)).status_code == 403


def test_another_districts_admin_gets_404_for_a_referral(client, other_district, member, draft):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(detail_url(draft)).status_code == 404
    assert client.get(f"/{other_district.slug}/referrals/{draft.pk}/").status_code == 404


@pytest.mark.parametrize("bad", ["999999999", "0"])
def test_an_unknown_referral_is_404_and_not_logged(client, district, signed_in, bad):
    me = signed_in("counselor")

    assert client.get(f"/{district.slug}/referrals/{bad}/").status_code == 404
    assert rows(AccessLog, district, membership=me) == []


def test_another_schools_counselor_never_sees_the_referral_or_its_notes(
    client, district, signed_in, draft
):
    elsewhere = SchoolFactory(district=district, name="Lakeside Elementary")
    me = signed_in("counselor")
    limit_to(me, elsewhere)

    response = client.get(detail_url(draft))

    assert response.status_code == 404
    assert NOTES not in text(response)
    assert NOTES not in text(client.get(list_url(district)))


def test_the_partner_reads_only_the_values_disclosed_to_it(
    client, district, signed_in, counselor, student, partner
):
    from referrals.services.referrals import referral_send

    with tenant_context(district):
        student.guardian_email = "parent@example.org"
        student.save(update_fields=["guardian_email"])
    ConsentFactory(district=district, student=student, partner=partner, fields=["name"])
    draft = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        shared_fields=["name"],
        confidential_notes=NOTES,
        availability="Tuesday afternoons",
    )
    act(referral_send, by=counselor, referral=draft)
    me = signed_in("partner", partner=partner)

    response = client.get(detail_url(draft))

    assert response.status_code == 200
    page = text(response)
    assert "Amara Okafor" in page  # disclosed
    assert "Tuesday afternoons" in page  # the service details
    assert NOTES not in page
    assert "parent@example.org" not in page  # not disclosed
    assert "North High School" not in page  # not disclosed
    assert "Grade" not in page
    assert rows(AccessLog, district, membership=me)[0].object_type == "referral"


def test_a_partner_never_sees_a_draft_or_another_partners_referral(
    client, district, signed_in, draft, student, partner
):
    theirs = sent_to(PartnerFactory(district=district, intake="accepting"), student)
    signed_in("partner", partner=partner)

    assert client.get(detail_url(draft)).status_code == 404
    assert client.get(detail_url(theirs)).status_code == 404


def test_a_draft_covered_by_a_consent_says_so(client, district, signed_in, draft, student, partner):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    signed_in("counselor")

    page = text(client.get(detail_url(draft)))

    assert f"Covered by consent {consent.reference}, valid until" in page


def test_an_uncovered_draft_offers_the_ways_to_get_consent(client, district, signed_in, draft):
    signed_in("counselor")

    page = text(client.get(detail_url(draft)))

    assert "No consent covers this yet." in page
    assert f"/students/{draft.student_id}/consents/new/?referral={draft.pk}" in page
    assert f"/referrals/{draft.pk}/verbal/" in page
    assert f"/referrals/{draft.pk}/emergency/" in page
    assert "A verbal agreement never allows sending" in page


def test_a_de_identified_consultation_needs_no_consent(
    client, district, signed_in, student, partner
):
    consultation = ReferralFactory(
        district=district, student=student, partner=partner, shared_fields=[]
    )
    signed_in("counselor")

    page = text(client.get(detail_url(consultation)))

    assert "De-identified consultation" in page
    assert "No consent covers this yet." not in page


# --- Sending ---------------------------------------------------------------------------------


def _refused(client, referral, district):
    response = client.post(send_url(referral))
    assert response.status_code == 200
    assert "The referral was not sent" in text(response)
    assert rows(Disclosure, district) == []
    with tenant_context(district):
        assert Referral.objects.get(pk=referral.pk).status == "draft"
    return text(response)


def test_a_consent_for_another_partner_does_not_allow_sending(
    client, district, signed_in, draft, student
):
    ConsentFactory(district=district, student=student, partner=PartnerFactory(district=district))
    signed_in("counselor")

    page = _refused(client, draft, district)

    assert "No signed consent on file covers Riverbend Counseling" in page


def test_a_consent_missing_a_field_does_not_allow_sending(
    client, district, signed_in, draft, student, partner
):
    ConsentFactory(district=district, student=student, partner=partner, fields=["name"])
    signed_in("counselor")

    assert "No signed consent on file covers" in _refused(client, draft, district)


def test_a_consent_that_expired_yesterday_does_not_allow_sending(
    client, district, signed_in, draft, student, partner
):
    ConsentFactory(
        district=district,
        student=student,
        partner=partner,
        signed_at=timezone.now() - datetime.timedelta(days=60),
        valid_until=district.today() - datetime.timedelta(days=1),
    )
    signed_in("counselor")

    assert "No signed consent on file covers" in _refused(client, draft, district)


def test_a_revoked_consent_does_not_allow_sending(
    client, district, signed_in, draft, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    ConsentRevocationFactory(district=district, consent=consent)
    signed_in("counselor")

    assert "No signed consent on file covers" in _refused(client, draft, district)


def test_a_verbal_agreement_alone_does_not_allow_sending(
    client, district, signed_in, draft, student, partner
):
    VerbalAgreementFactory(district=district, student=student, partner=partner, referral=draft)
    signed_in("counselor")

    assert "No signed consent on file covers" in _refused(client, draft, district)


def test_a_covered_send_writes_exactly_one_disclosure(
    client, district, signed_in, draft, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    me = signed_in("counselor")

    response = client.post(send_url(draft), follow=True)

    assert response.status_code == 200
    page = text(response)
    assert f"Referral {draft.reference} sent to Riverbend Counseling." in page
    assert "Sent to Riverbend Counseling on" in page
    [disclosure] = rows(Disclosure, district)
    assert (disclosure.referral_id, disclosure.consent_id, disclosure.disclosed_by_id) == (
        draft.pk,
        consent.pk,
        me.pk,
    )
    assert disclosure.fields == ["name", "grade"]
    # Sending again changes nothing and says why.
    again = client.post(send_url(draft))
    assert again.status_code == 200 and "already sent" in text(again)
    assert len(rows(Disclosure, district)) == 1


def test_revoking_the_consent_on_its_page_blocks_the_next_send(
    client, district, signed_in, draft, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    signed_in("counselor")

    revoked = client.post(
        f"/{district.slug}/consents/{consent.pk}/revoke/",
        {"revoked_by_name": "Grace Okafor", "reason": "Changed her mind"},
    )

    assert revoked.status_code == 302
    assert "No signed consent on file covers" in _refused(client, draft, district)


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_a_weaker_role_may_not_send(client, signed_in, draft, partner, role):
    signed_in(role, partner=partner) if role == "partner" else signed_in(role)

    assert client.post(send_url(draft)).status_code == 403
    assert rows(Disclosure, draft.district) == []


def test_another_districts_admin_may_not_send(client, other_district, member, draft, student):
    ConsentFactory(district=draft.district, student=student, partner=draft.partner)
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.post(send_url(draft)).status_code == 404
    assert rows(Disclosure, draft.district) == []


def test_get_on_send_goes_back_to_the_referral(client, signed_in, draft):
    signed_in("counselor")

    response = client.get(send_url(draft))

    assert response.status_code == 302 and response["Location"] == detail_url(draft)


# --- Emergencies -----------------------------------------------------------------------------


def test_the_emergency_page_shows_the_crisis_protocol_and_988(client, district, signed_in, draft):
    with tenant_context(district):
        district.crisis_protocol = "Call the district crisis team at 555-0100."
        district.save(update_fields=["crisis_protocol"])
    signed_in("counselor")

    page = text(client.get(emergency_url(draft)))

    assert "Call the district crisis team at 555-0100." in page
    assert "Lifeline answers calls and texts at <strong>988</strong>" in page
    assert "Describe the threat to the student" in page


@pytest.mark.parametrize("threat", ["", "   ", "Too short."])
def test_an_emergency_needs_the_threat_written_down(client, district, signed_in, draft, threat):
    signed_in("counselor")

    response = client.post(emergency_url(draft), {"threat": threat})

    assert response.status_code == 200
    assert 'id="id_threat_error"' in text(response)
    assert rows(EmergencyOverride, district) == []


def test_a_declared_emergency_allows_the_send_and_is_listed_for_admins_only(
    client, district, member, signed_in, draft
):
    counselor = signed_in("counselor")

    declared = client.post(emergency_url(draft), {"threat": THREAT})
    sent = client.post(send_url(draft))

    assert declared.status_code == 302 and sent.status_code == 302
    [override] = rows(EmergencyOverride, district)
    assert (override.referral_id, override.declared_by_id) == (draft.pk, counselor.pk)
    [disclosure] = rows(Disclosure, district)
    assert (disclosure.basis, disclosure.emergency_id) == ("emergency", override.pk)

    assert client.get(f"/{district.slug}/referrals/emergencies/").status_code == 403
    signed_in("coordinator")
    assert client.get(f"/{district.slug}/referrals/emergencies/").status_code == 403
    signed_in("admin")
    listing = client.get(f"/{district.slug}/referrals/emergencies/")
    assert listing.status_code == 200
    assert THREAT in text(listing) and draft.reference in text(listing)
    assert "Amara Okafor" in text(listing)


def test_the_emergency_page_is_refused_to_a_partner_and_404_to_another_district(
    client, other_district, member, signed_in, draft, partner
):
    signed_in("partner", partner=partner)
    assert client.get(emergency_url(draft)).status_code == 403

    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)
    assert client.post(emergency_url(draft), {"threat": THREAT}).status_code == 404
    assert rows(EmergencyOverride, draft.district) == []


def test_the_overrides_list_costs_the_same_queries_for_one_or_thirty(
    client, district, signed_in, student, partner, count_queries
):
    signed_in("admin")
    EmergencyOverrideFactory(
        district=district, referral=ReferralFactory(district=district, student=student)
    )
    url = f"/{district.slug}/referrals/emergencies/"
    client.get(url)

    one = count_queries(lambda: client.get(url))
    for _ in range(29):
        EmergencyOverrideFactory(district=district)
    thirty = count_queries(lambda: client.get(url))

    assert one == thirty


def test_the_overrides_list_is_404_to_another_district(client, district, other_district, member):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(f"/{district.slug}/referrals/emergencies/").status_code == 404


# --- E-consent requests and verbal agreements on a referral (engineer "pages2") ----------------

GUARDIAN = "grace.okafor@example.org"


def student_url(student):
    return f"/{student.district.slug}/students/{student.pk}/"


@pytest.fixture
def asked(district, student, draft, counselor):
    """A pending e-consent request for the draft, sent to the guardian on the record."""
    from referrals.services.consent_requests import consent_request_create

    with tenant_context(district):
        student.guardian_email = GUARDIAN
        student.save(update_fields=["guardian_email"])
    return act(
        consent_request_create,
        by=counselor,
        referral=draft,
        fields=["name", "grade"],
        purpose="Referral to Riverbend Counseling for therapy.",
        valid_until=district.today() + datetime.timedelta(days=120),
    )


def test_a_pending_consent_request_is_listed_on_the_draft(client, signed_in, draft, asked):
    signed_in("counselor")

    page = text(client.get(detail_url(draft)))

    assert "Consent requests by email" in page
    assert asked.reference in page
    assert GUARDIAN in page
    assert "Waiting for the family" in page
    assert "None yet" in page  # no consent made yet


def test_a_draft_without_requests_lists_none(client, signed_in, draft):
    signed_in("counselor")

    assert "Consent requests by email" not in text(client.get(detail_url(draft)))


def test_a_signed_request_shows_the_consent_it_made_and_an_expired_one_says_so(
    client, district, signed_in, draft, asked, student, partner
):
    from referrals.models import ConsentRequest

    consent = ConsentFactory(
        district=district,
        student=student,
        partner=partner,
        method="electronic",
        form=None,
        recorded_by=None,
        verified_address=GUARDIAN,
        consenter_name="Grace Okafor",
    )
    with tenant_context(district):
        ConsentRequest.objects.filter(pk=asked.pk).update(
            status="signed", consent=consent, signed_at=timezone.now()
        )
    signed_in("counselor")

    page = text(client.get(detail_url(draft)))

    assert "Waiting for the family" not in page
    assert ">Signed<" in page
    assert f"{consent.reference}, valid until" in page
    assert "Signed by Grace Okafor" in page

    with tenant_context(district):
        ConsentRequest.objects.filter(pk=asked.pk).update(
            status="pending", consent=None, signed_at=None, expires_at=timezone.now()
        )

    assert ">Expired<" in text(client.get(detail_url(draft)))


def test_a_partner_member_never_sees_the_consent_requests(
    client, district, signed_in, counselor, draft, asked, student, partner
):
    from referrals.services.referrals import referral_send

    ConsentFactory(district=district, student=student, partner=partner)
    act(referral_send, by=counselor, referral=draft)
    signed_in("counselor")
    assert asked.reference in text(client.get(detail_url(draft)))  # the care team does

    signed_in("partner", partner=partner)
    response = client.get(detail_url(draft))

    assert response.status_code == 200
    page = text(response)
    assert asked.reference not in page
    assert GUARDIAN not in page
    assert "Consent requests by email" not in page


def test_a_verbal_agreement_note_shows_on_the_referral_and_the_student_page(
    client, district, signed_in, counselor, draft, student, partner
):
    from referrals.services.consents import verbal_agreement_record

    note = "Mother agreed by phone on Monday to a referral to Riverbend."
    act(
        verbal_agreement_record,
        by=counselor,
        student=student,
        note=note,
        partner=partner,
        referral=draft,
    )
    signed_in("counselor")

    referral_page = text(client.get(detail_url(draft)))
    student_page = text(client.get(student_url(student)))

    assert "Verbal agreements" in referral_page and note in referral_page
    assert "never allow sharing" in referral_page
    assert note in student_page
    assert "about Riverbend Counseling" in student_page


def test_a_partner_never_sees_a_verbal_agreement(
    client, district, signed_in, counselor, draft, student, partner
):
    from referrals.services.referrals import referral_send

    note = "Father agreed in person at pickup."
    VerbalAgreementFactory(
        district=district, student=student, partner=partner, referral=draft, note=note
    )
    ConsentFactory(district=district, student=student, partner=partner)
    act(referral_send, by=counselor, referral=draft)
    signed_in("partner", partner=partner)

    response = client.get(detail_url(draft))

    assert response.status_code == 200
    assert note not in text(response)


def test_a_revocation_shows_who_revoked_and_why_on_the_student_page(
    client, district, signed_in, student, partner
):
    consent = ConsentFactory(district=district, student=student, partner=partner)
    ConsentRevocationFactory(
        district=district,
        consent=consent,
        revoked_by_name="Grace Okafor",
        reason="The family chose a clinic closer to home.",
    )
    signed_in("counselor")

    page = text(client.get(student_url(student)))

    assert "By Grace Okafor" in page
    assert "Reason: The family chose a clinic closer to home." in page


def test_the_referral_page_costs_the_same_queries_with_many_requests_and_notes(
    client, district, signed_in, counselor, draft, asked, student, partner, count_queries
):
    from referrals.services.consent_requests import consent_request_create

    VerbalAgreementFactory(district=district, student=student, partner=partner, referral=draft)
    signed_in("counselor")
    client.get(detail_url(draft))  # warm the session

    one = count_queries(lambda: client.get(detail_url(draft)))
    for _ in range(11):  # each replaces the last: cancelled ones stay listed
        act(
            consent_request_create,
            by=counselor,
            referral=draft,
            fields=["name"],
            purpose="Therapy at Riverbend.",
            valid_until=district.today() + datetime.timedelta(days=90),
        )
        VerbalAgreementFactory(district=district, student=student, partner=partner, referral=draft)
    many_page = text(client.get(detail_url(draft)))
    many = count_queries(lambda: client.get(detail_url(draft)))

    assert many_page.count("Withdrawn or replaced") == 11
    assert one == many
