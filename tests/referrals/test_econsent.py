"""Electronic consent: the guardian on the student's record signs through an emailed link and a
one-time code sent to the same address; the signing makes one Consent, never two."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from referrals.models import (
    CONSENT_REQUEST_VALID_FOR,
    Consent,
    ConsentRequest,
    Disclosure,
)
from referrals.selectors import consent_requests_for
from referrals.services.consent_requests import (
    consent_request_create,
    consent_request_send_code,
    consent_request_sign,
    consent_request_token,
)
from referrals.services.referrals import referral_send
from schools.models import MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import PartnerFactory, ReferralFactory, SchoolFactory, StudentFactory
from tests.referrals.helpers import act

GUARDIAN = "grace.okafor@example.org"
CODE_RE = re.compile(r"\b(\d{6})\b")
LINK_RE = re.compile(r"http://testserver(/r/consent/[^/\s]+/)")


@pytest.fixture
def student(district, school):
    return StudentFactory(
        district=district,
        school=school,
        first_name="Amara",
        last_name="Okafor",
        guardian_email=GUARDIAN,
        family_language="",
    )


@pytest.fixture
def referral(district, student, partner, counselor):
    return ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_by=counselor,
        shared_fields=["name", "grade"],
        services=["therapy"],
        concerns=["anxiety"],
    )


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run a block and deliver the mail it queued (the outbox sends after commit)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def ask(by, referral, **overrides):
    today = by.district.today()
    arguments = {
        "fields": ["name", "grade"],
        "purpose": "Referral to Riverbend Counseling for therapy.",
        "valid_until": today + datetime.timedelta(days=200),
        **overrides,
    }
    return act(consent_request_create, by=by, referral=referral, **arguments)


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def page_path(consent_request) -> str:
    return reverse("econsent", args=[consent_request_token(consent_request)])


def code_path(consent_request) -> str:
    return reverse("econsent_code", args=[consent_request_token(consent_request)])


def sign_path(consent_request) -> str:
    return reverse("econsent_sign", args=[consent_request_token(consent_request)])


def get_code(client, consent_request, mailed) -> str:
    """Ask for a code on the page, as the guardian does; the code from the mail."""
    before = len(mails_to(consent_request.sent_to))
    response = mailed(client.post, code_path(consent_request))
    assert response.status_code == 200
    sent = mails_to(consent_request.sent_to)
    assert len(sent) == before + 1
    return CODE_RE.search(sent[-1].body).group(1)


def sign(client, consent_request, code, mailed, headers=None, **overrides):
    data = {"code": code, "name": "Grace Okafor", "agree": "on", **overrides}
    return mailed(client.post, sign_path(consent_request), data, headers=headers or {})


def reloaded(consent_request) -> ConsentRequest:
    with tenant_context(consent_request.district_id):
        return ConsentRequest.objects.select_related("consent", "student", "district").get(
            pk=consent_request.pk
        )


def consents_of(student) -> list[Consent]:
    with tenant_context(student.district_id):
        return list(Consent.objects.filter(student=student))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- The care team asks ----------------------------------------------------------------------


def test_a_counselor_asks_and_the_guardian_gets_a_link_that_works(
    client, district, counselor, referral, student, mailed
):
    client.force_login(counselor.user)
    url = reverse("consent_request_new", args=[district.slug, referral.pk])

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert GUARDIAN in html  # staff see where it goes
    response = mailed(
        client.post,
        url,
        {
            "fields": ["name", "grade"],
            "purpose": "Referral to Riverbend Counseling for therapy.",
            "valid_until": (district.today() + datetime.timedelta(days=90)).isoformat(),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referral_detail", args=[district.slug, referral.pk])
    with tenant_context(district):
        [request] = ConsentRequest.objects.filter(referral=referral)
    assert (request.sent_to, request.status, request.requested_by_id) == (
        GUARDIAN,
        "pending",
        counselor.pk,
    )
    assert request.fields == ["name", "grade"]
    [message] = mail.outbox
    assert message.to == [GUARDIAN]
    assert "North High School" in message.subject
    # Nothing identifiable or about health in the mail: no name, no partner, no concern.
    for text in (message.subject, message.body, message.alternatives[0][0]):
        for secret in ("Amara", "Okafor", "Riverbend", "therapy", "nxiety"):
            assert secret not in text
    link = LINK_RE.search(message.body).group(1)
    assert link == page_path(request)
    guardian = client.__class__()
    opened = guardian.get(link)
    assert opened.status_code == 200
    body = opened.content.decode()
    assert "Riverbend Counseling" in body and "North High School" in body
    assert "North Valley Unified" in body
    assert "Amara O." in body and "Okafor" not in body  # the child, not the full name
    assert "Student&#x27;s name" in body and "Grade" in body
    assert "revoke" in body


def test_the_form_starts_from_the_referral(client, district, counselor, referral):
    client.force_login(counselor.user)
    page = client.get(reverse("consent_request_new", args=[district.slug, referral.pk]))
    form = page.context["form"]

    assert form.initial["fields"] == ["name", "grade"]
    assert f"R-{referral.pk}" in form.initial["purpose"]
    assert (
        "Riverbend Counseling" in form.initial["purpose"] and "Therapy" in form.initial["purpose"]
    )
    assert form.initial["valid_until"] >= district.today() + datetime.timedelta(days=30)
    assert (form.initial["valid_until"].month, form.initial["valid_until"].day) == (6, 30)


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_a_weaker_role_of_the_district_is_refused(client, member, referral, district, role):
    client.force_login(member(role).user)
    url = reverse("consent_request_new", args=[district.slug, referral.pk])

    assert client.get(url).status_code == 403
    assert client.post(url, {"fields": ["name"]}).status_code == 403
    with tenant_context(district):
        assert not ConsentRequest.objects.exists()


def test_another_districts_referral_is_not_found(
    client, member, other_district, referral, district
):
    outsider = member("counselor", in_district=other_district)
    client.force_login(outsider.user)

    # Their own district's address with our referral's id, and our district's address.
    for slug in (other_district.slug, district.slug):
        url = reverse("consent_request_new", args=[slug, referral.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"fields": ["name"]}).status_code == 404
    with tenant_context(district):
        assert not ConsentRequest.objects.exists()


def test_a_school_limited_counselor_cannot_ask_for_another_schools_student(
    client, district, member, referral
):
    limited = member("counselor")
    elsewhere = SchoolFactory(district=district)
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=limited, school=elsewhere)
    client.force_login(limited.user)

    url = reverse("consent_request_new", args=[district.slug, referral.pk])
    assert client.get(url).status_code == 404
    with pytest.raises(PermissionDenied):
        ask(limited, referral)


def test_without_a_guardian_email_the_page_sends_to_the_paper_form(
    client, district, counselor, referral, student, mailed
):
    with tenant_context(district):
        type(student).objects.filter(pk=student.pk).update(guardian_email="")
    client.force_login(counselor.user)
    url = reverse("consent_request_new", args=[district.slug, referral.pk])

    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "no guardian email" in html
    assert reverse("consent_new", args=[district.slug, student.pk]) in html
    assert 'type="submit"' not in html.split("<main", 1)[1].split("</main>")[0]
    response = mailed(
        client.post,
        url,
        {"fields": ["name"], "purpose": "x", "valid_until": district.today().isoformat()},
    )
    assert response.status_code == 200
    assert "no guardian email" in response.content.decode()
    assert mail.outbox == []
    with tenant_context(district):
        assert not ConsentRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fields": []}, "fields"),
        ({"fields": ["name", "shoe_size"]}, "fields"),
        ({"purpose": "   "}, "purpose"),
        ({"valid_until": "soon"}, "valid_until"),
        ({"valid_until": datetime.date(2000, 1, 1)}, "valid_until"),
    ],
)
def test_the_service_refuses_what_is_not_a_request(counselor, referral, overrides, field):
    with pytest.raises(ValidationError) as raised:
        ask(counselor, referral, **overrides)

    assert field in raised.value.message_dict


def test_a_partner_that_takes_no_referrals_is_refused(district, counselor, referral):
    with tenant_context(district):
        type(referral.partner).objects.filter(pk=referral.partner_id).update(intake="closed")
        referral.partner.refresh_from_db()

    with pytest.raises(ValidationError) as raised:
        ask(counselor, referral)
    assert "partner" in raised.value.message_dict


def test_the_form_shows_a_refusal_next_to_its_field(client, district, counselor, referral):
    client.force_login(counselor.user)
    url = reverse("consent_request_new", args=[district.slug, referral.pk])

    response = client.post(
        url, {"fields": ["name"], "purpose": "Therapy", "valid_until": "2001-01-01"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["valid_until"] == ["The last day cannot be in the past."]


def test_a_new_request_replaces_the_earlier_one(client, counselor, referral, mailed):
    first = mailed(ask, counselor, referral)
    second = mailed(ask, counselor, referral)

    assert reloaded(first).status == "cancelled"
    response = client.get(page_path(first))
    assert response.status_code == 410
    assert "replaced or withdrew this request" in response.content.decode()
    assert client.get(page_path(second)).status_code == 200


def test_a_request_stops_working_when_the_guardian_email_on_record_changes(
    client, district, counselor, referral, student, mailed
):
    """The old address must not sign once the school has corrected it."""
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)
    with tenant_context(district):
        type(student).objects.filter(pk=student.pk).update(guardian_email="new@example.org")

    for response in (
        client.get(page_path(request)),
        mailed(client.post, code_path(request), {"resend": "on"}),
        sign(client, request, code, mailed),
    ):
        assert response.status_code == 410
        assert "withdrew this request" in response.content.decode()
    assert consents_of(student) == []
    assert reloaded(request).code_sends == 1
    assert mails_to("new@example.org") == []


# --- The code --------------------------------------------------------------------------------


def test_the_code_goes_to_the_address_on_record_and_says_nothing_of_the_student(
    client, counselor, referral, mailed
):
    request = mailed(ask, counselor, referral)
    mail.outbox.clear()

    code = get_code(client, request, mailed)

    [message] = mail.outbox
    assert message.to == [GUARDIAN] and message.cc == [] and message.bcc == []
    assert code in message.body
    for text in (message.subject, message.body, message.alternatives[0][0]):
        for secret in ("Amara", "Okafor", "Riverbend", "therapy", "Grade"):
            assert secret not in text
    stored = reloaded(request)
    assert code not in stored.code_hash and stored.code_hash  # only a hash is kept
    assert stored.code_sends == 1


def test_asking_again_while_the_code_is_fresh_sends_nothing_unless_asked_anew(
    client, counselor, referral, mailed
):
    request = mailed(ask, counselor, referral)
    get_code(client, request, mailed)

    again = mailed(client.post, code_path(request))
    assert again.status_code == 200 and "already sent" in again.content.decode()
    assert len(mails_to(GUARDIAN)) == 2  # the request and one code

    first = CODE_RE.search(mails_to(GUARDIAN)[-1].body).group(1)
    mailed(client.post, code_path(request), {"resend": "on"})
    assert len(mails_to(GUARDIAN)) == 3
    assert reloaded(request).code_sends == 2
    # The new code replaces the old one.
    second = CODE_RE.search(mails_to(GUARDIAN)[-1].body).group(1)
    if first != second:
        response = sign(client, request, first, mailed)
        assert response.status_code == 400
        assert reloaded(request).status == "pending"


def test_no_more_than_five_codes_are_sent(client, counselor, referral, mailed):
    request = mailed(ask, counselor, referral)
    for _ in range(5):
        mailed(client.post, code_path(request), {"resend": "on"})

    response = mailed(client.post, code_path(request), {"resend": "on"})

    assert response.status_code == 400
    assert "most codes" in response.content.decode()
    assert reloaded(request).code_sends == 5
    assert len(mails_to(GUARDIAN)) == 1 + 5


def test_a_wrong_code_is_refused_next_to_the_field_and_counted(
    client, counselor, referral, student, mailed
):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    response = sign(client, request, wrong(code), mailed)

    assert response.status_code == 400
    assert response.context["sign_form"].errors["code"] == [
        "That code is not right. You can try 4 more times."
    ]
    assert reloaded(request).code_attempts == 1
    assert consents_of(student) == []
    # What the guardian typed is kept.
    assert 'value="Grace Okafor"' in response.content.decode()


def test_five_wrong_codes_lock_the_request_even_against_the_right_code(
    client, counselor, referral, student, mailed
):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    for _ in range(4):
        assert sign(client, request, wrong(code), mailed).status_code == 400
    fifth = sign(client, request, wrong(code), mailed)

    message = "Too many wrong codes. Ask North High School to send a new request."
    assert fifth.status_code == 403 and message in fifth.content.decode()
    right = sign(client, request, code, mailed)
    assert right.status_code == 403 and message in right.content.decode()
    assert client.get(page_path(request)).status_code == 403
    assert mailed(client.post, code_path(request), {"resend": "on"}).status_code == 403
    stored = reloaded(request)
    assert (stored.code_attempts, stored.status, stored.state()) == (5, "pending", "locked")
    assert consents_of(student) == []


def test_an_expired_code_is_refused_and_not_counted(client, counselor, referral, mailed):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        response = sign(client, request, code, mailed)

    assert response.status_code == 400
    assert response.context["sign_form"].errors["code"] == [
        "This code has expired. Ask for a new code."
    ]
    assert reloaded(request).code_attempts == 0


def test_name_and_agreement_are_required_and_the_code_is_not_spent(
    client, counselor, referral, student, mailed
):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    response = sign(client, request, code, mailed, name="  ", agree="")

    errors = response.context["sign_form"].errors
    assert set(errors) == {"name", "agree"}
    assert consents_of(student) == []
    assert sign(client, request, code, mailed).status_code == 200


# --- Signing ---------------------------------------------------------------------------------


def test_the_right_code_signs_one_consent_and_a_replay_makes_no_second(
    client, district, counselor, referral, student, mailed
):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    response = sign(
        client,
        request,
        f"{code[:3]} {code[3:]}",  # as people type it
        mailed,
        name=" Grace Okafor ",
        headers={"user-agent": "Mobile Safari " + "x" * 400},
    )

    assert response.status_code == 200 and "Thank you" in response.content.decode()
    [consent] = consents_of(student)
    assert (consent.method, consent.consenter_kind, consent.rule, consent.rule_age) == (
        "electronic",
        "guardian",
        "guardian",
        None,
    )
    assert (consent.consenter_name, consent.verified_address) == ("Grace Okafor", GUARDIAN)
    assert consent.recorded_by is None and consent.form is None
    assert consent.ip_address == "127.0.0.1"
    assert consent.user_agent.startswith("Mobile Safari") and len(consent.user_agent) == 300
    assert (consent.partner_id, consent.fields, consent.valid_until) == (
        referral.partner_id,
        ["name", "grade"],
        request.valid_until,
    )
    stored = reloaded(request)
    assert (stored.status, stored.consent_id, stored.code_hash) == ("signed", consent.pk, "")
    # The counselor who asked hears of it, without the student's name.
    [notice] = mails_to(counselor.user.email)
    assert f"R-{referral.pk}" in notice.subject and "Amara" not in notice.body

    replay = sign(client, request, code, mailed)
    assert replay.status_code == 200 and "Already signed" in replay.content.decode()
    assert client.get(page_path(request)).status_code == 200
    assert len(consents_of(student)) == 1


def test_the_signed_consent_covers_the_referral_when_it_is_sent(
    client, district, counselor, referral, mailed
):
    request = mailed(ask, counselor, referral)
    sign(client, request, get_code(client, request, mailed), mailed)
    consent = reloaded(request).consent

    sent = act(referral_send, by=counselor, referral=referral)

    assert sent.status == "sent"
    with tenant_context(district):
        [disclosure] = Disclosure.objects.filter(referral=referral)
    assert (disclosure.basis, disclosure.consent_id) == ("consent", consent.pk)
    assert disclosure.purpose == consent.purpose


@pytest.mark.django_db(transaction=True)
def test_two_tabs_signing_at_once_make_one_consent(monkeypatch, counselor, referral, student):
    """The row lock: the first signing holds it until the other tab has tried; the other
    then finds the request signed."""
    from referrals.services import consent_requests
    from referrals.services.consent_requests import ConsentRequestClosed
    from tests.security.test_exactly_once import Race

    request = ask(counselor, referral)
    with tenant_context(request.district_id):
        consent_request_send_code(consent_request=request, language="en")
    code = CODE_RE.search(mails_to(GUARDIAN)[-1].body).group(1)

    def signing():
        with tenant_context(request.district_id):
            try:
                return consent_request_sign(
                    consent_request=request, code=code, signer_name="Grace Okafor", agree=True
                ).pk
            except ConsentRequestClosed as closed:
                return closed.state

    race = Race(signing)
    overlapped = []
    real_tell = consent_requests._tell_requester

    def tell_while_the_other_tries(locked, consent):
        overlapped.append(race.other_has_tried())
        return real_tell(locked, consent)

    monkeypatch.setattr(consent_requests, "_tell_requester", tell_while_the_other_tries)

    results = race.run()

    assert overlapped == [True], "the second tab did not try while the first was signing"
    assert "signed" in results and len(consents_of(student)) == 1
    [consent] = consents_of(student)
    assert sorted(map(str, results)) == sorted([str(consent.pk), "signed"])


# --- The link --------------------------------------------------------------------------------


def test_an_expired_link_is_refused_and_says_whom_to_ask(client, counselor, referral, mailed):
    request = mailed(ask, counselor, referral)
    code = get_code(client, request, mailed)

    later = timezone.now() + CONSENT_REQUEST_VALID_FOR + datetime.timedelta(minutes=1)
    with time_machine.travel(later):
        page = client.get(page_path(request))
        signing = sign(client, request, code, mailed)
        asking = mailed(client.post, code_path(request), {"resend": "on"})

    for response in (page, signing, asking):
        assert response.status_code == 410
        body = response.content.decode()
        assert "expired" in body and "North High School" in body
    assert reloaded(request).code_sends == 1
    assert consents_of(referral.student) == []


@pytest.mark.parametrize("kind", ["changed", "cut", "garbage", "other district"])
def test_a_tampered_link_is_the_not_valid_page_in_both_languages(
    client, counselor, referral, other_district, mailed, kind
):
    request = mailed(ask, counselor, referral)
    token = consent_request_token(request)
    payload, signature = token.rsplit(":", 1)
    tokens = {
        "changed": f"{payload}:{signature[:-2]}{'AB' if not signature.endswith('AB') else 'CD'}",
        "cut": payload,
        "garbage": "not-a-token",
        # A genuine signature over another district's id (the request is not there).
        "other district": _token_for(other_district.pk, request.pk),
    }
    token = tokens[kind]

    for response in (
        client.get(reverse("econsent", args=[token])),
        client.post(reverse("econsent_code", args=[token])),
        client.post(reverse("econsent_sign", args=[token]), {"code": "123456"}),
    ):
        assert response.status_code == 404
        body = response.content.decode()
        assert "This link is not valid" in body
        assert 'lang="es"' in body
    assert reloaded(request).code_sends == 0


def _token_for(district_id, request_id):
    from referrals.services.consent_requests import CONSENT_REQUEST_LINK

    return CONSENT_REQUEST_LINK.make(d=district_id, r=request_id)


# --- Languages -------------------------------------------------------------------------------


def test_a_spanish_speaking_family_gets_the_page_in_spanish(
    client, district, counselor, referral, student, mailed
):
    with tenant_context(district):
        type(student).objects.filter(pk=student.pk).update(family_language="Spanish")
    request = mailed(ask, counselor, referral)

    assert request.language == "es"
    page = client.get(page_path(request))
    assert page.status_code == 200
    assert '<html lang="es">' in page.content.decode()
    assert page["Content-Language"] == "es"
    assert LINK_RE.search(mail.outbox[0].body).group(0).endswith("/") and "?lang=es" in (
        mail.outbox[0].body
    )
    # The toggle: the same request in English.
    english = client.get(page_path(request) + "?lang=en")
    assert '<html lang="en">' in english.content.decode()
    assert f'href="{page_path(request)}?lang=es"' in english.content.decode()


def test_the_page_language_can_be_chosen_and_the_code_mail_follows_it(
    client, counselor, referral, mailed
):
    request = mailed(ask, counselor, referral)
    assert request.language == "en"

    page = client.get(page_path(request) + "?lang=es")
    assert '<html lang="es">' in page.content.decode()
    assert f"{code_path(request)}?lang=es" in page.content.decode()

    mail.outbox.clear()
    response = mailed(client.post, code_path(request) + "?lang=es")
    assert '<html lang="es">' in response.content.decode()
    [message] = mail.outbox
    assert '<html lang="es">' in message.alternatives[0][0]


def test_errors_are_in_the_pages_language(client, counselor, referral, mailed):
    request = mailed(ask, counselor, referral)
    get_code(client, request, mailed)

    response = mailed(client.post, sign_path(request) + "?lang=es", {"code": "12"})

    assert response.status_code == 400
    assert '<html lang="es">' in response.content.decode()
    assert response["Content-Language"] == "es"


# --- What the referral page shows ------------------------------------------------------------


def test_the_referral_lists_its_requests_newest_first_in_fixed_queries(
    district, counselor, member, referral, mailed, django_assert_max_num_queries
):
    requests = [mailed(ask, counselor, referral) for _ in range(12)]
    other = ReferralFactory(district=district, partner=PartnerFactory(district=district))
    mailed(ask, counselor, other)

    with tenant_context(district), django_assert_max_num_queries(1):
        listed = consent_requests_for(counselor, referral)
        states = [r.state() for r in listed]
        names = [r.requested_by.user.email for r in listed]

    assert [r.pk for r in listed] == [r.pk for r in reversed(requests)]
    assert states == ["pending"] + ["cancelled"] * 11
    assert set(names) == {counselor.user.email}
    with tenant_context(district):
        assert consent_requests_for(member("partner"), referral) == []
        assert consent_requests_for(member("viewer"), referral) == []


def test_the_request_page_lists_earlier_requests_in_fixed_queries(
    client, district, counselor, referral, mailed, count_queries
):
    client.force_login(counselor.user)
    url = reverse("consent_request_new", args=[district.slug, referral.pk])
    first = mailed(ask, counselor, referral, purpose="First purpose")
    client.get(url)  # the session's first district page writes more (the district chosen)
    one = count_queries(lambda: client.get(url))
    for number in range(8):
        mailed(ask, counselor, referral, purpose=f"Purpose {number}")

    many = count_queries(lambda: client.get(url))
    page = client.get(url).content.decode()

    assert many == one
    assert "First purpose" in page and "Purpose 7" in page
    assert page.count("Withdrawn or replaced") == 8 and page.count("Waiting for the family") == 1
    assert page.index("Purpose 7") < page.index("First purpose")  # newest first
    assert reloaded(first).status == "cancelled"


# --- On a phone ------------------------------------------------------------------------------


def _fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.browser
def test_a_guardian_signs_on_a_phone(browser, live_server, counselor, referral, student):
    """375 px wide: nothing scrolls sideways, axe finds nothing serious, in both languages."""
    from playwright.sync_api import expect

    from tests.e2e.axe import assert_accessible
    from tests.e2e.helpers import shot

    request = ask(counselor, referral)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()

    page.goto(page_path(request))
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent to share school records")
    assert _fits(page, 375)
    assert_accessible(page)
    shot(page, "econsent-request-phone")
    page.get_by_role("link", name="Español").click()
    # Wait for the Spanish page itself: reading the document while the click's
    # navigation is under way finds no document element.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert _fits(page, 375)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Email me a code").click()
    code = CODE_RE.search(mails_to(GUARDIAN)[-1].body).group(1)
    page.get_by_label("The 6-digit code from the email").fill(wrong(code))
    page.get_by_label("Your full name").fill("Grace Okafor")
    page.get_by_label("I am the parent or guardian").check()
    page.get_by_role("button", name="Sign and give consent").click()
    expect(page.get_by_text("That code is not right").first).to_be_visible()
    assert _fits(page, 375)
    assert_accessible(page)
    shot(page, "econsent-wrong-code-phone")

    page.get_by_label("The 6-digit code from the email").fill(code)
    page.get_by_label("I am the parent or guardian").check()
    page.get_by_role("button", name="Sign and give consent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert _fits(page, 375)
    assert_accessible(page)
    shot(page, "econsent-signed-phone")
    assert len(consents_of(student)) == 1
    context.close()
