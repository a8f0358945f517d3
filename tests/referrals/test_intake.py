"""The partner's intake contact without an account (issue 14, part 2): an email with no
student details and a signed, expiring link; a page that identifies nobody until a one-time
code sent to the contact's own address; then exactly what the consent and the MOU allow,
and the loop's steps, each recorded with the contact. Nothing after expiry, withdrawal or
revocation, and never another partner's referral."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.core.signing import TimestampSigner
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partnerships.models import Contact
from referrals.models import (
    INTAKE_CODE_ATTEMPTS_MAX,
    INTAKE_CODE_SENDS_MAX,
    INTAKE_CODE_VALID_FOR,
    INTAKE_LINK_VALID_FOR,
    INTAKE_VERIFIED_FOR,
    IntakeCode,
    Referral,
    ReferralStep,
)
from referrals.services.consents import consent_revoke
from referrals.services.intake import (
    INTAKE_LINK,
    INTAKE_SALT,
    IntakeClaim,
    intake_claim,
    intake_notify,
    intake_token,
    intake_url,
)
from referrals.services.loop import Actor, referral_step
from referrals.services.referrals import referral_send
from schools.tenancy import tenant_context
from tests.factories import (
    ConsentFactory,
    ContactFactory,
    MOUFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
)
from tests.referrals.helpers import act

INTAKE = "intake@riverbend.example.org"
LINK_RE = re.compile(r"http://testserver(/r/intake/[^/\s\"]+/)")
CODE_RE = re.compile(r"\b(\d{6})\b")
DOB = datetime.date(2011, 4, 17)
GUARDIAN = "grace.okafor@example.org"
# What identifies the student, in any form a page could show it.
IDENTIFYING = (
    "Amara",
    "Okafor",
    GUARDIAN,
    "Grace",
    "555-0142",
    "2011-04-17",
    "April 17, 2011",
    "Apr. 17, 2011",
    "04/17/2011",
    "S-90210",
)
# Service details kept for after the code (the summary shows only the list).
SERVICE_DETAILS = ("After 3pm on weekdays", "Medicaid")


@pytest.fixture
def student(district, school):
    return StudentFactory(
        district=district,
        school=school,
        local_id="S-90210",
        first_name="Amara",
        last_name="Okafor",
        date_of_birth=DOB,
        grade="09",
        guardian_name="Grace Okafor",
        guardian_email=GUARDIAN,
        guardian_phone="555-0142",
    )


@pytest.fixture
def contact(district, partner):
    with tenant_context(district):
        return Contact.objects.get(partner=partner, email=INTAKE)


@pytest.fixture
def consent(district, student, partner):
    """The family consents to every identifiable field."""
    return ConsentFactory(district=district, student=student, partner=partner)


@pytest.fixture
def mou(district, partner):
    """The agreement lets the partner receive the name, the grade and the school only."""
    return MOUFactory(
        district=district,
        partner=partner,
        status="active",
        shared_fields=["name", "grade", "school"],
    )


@pytest.fixture
def mailed(django_capture_on_commit_callbacks):
    """Run a block and deliver the mail it queued (the outbox sends after commit)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def send(counselor, referral, mailed) -> Referral:
    mailed(act, referral_send, by=counselor, referral=referral)
    return reloaded(referral)


@pytest.fixture
def referral(district, student, partner, counselor, consent, mou, mailed):
    """Sent with the name, date of birth, grade and guardian's contact: the consent covers
    them all, the MOU only the name and the grade."""
    draft = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_by=counselor,
        shared_fields=["name", "date_of_birth", "grade", "guardian_contact"],
        concerns=["anxiety"],
        services=["therapy"],
        urgency="urgent",
        family_language="es",
        interpreter_needed=True,
        payment=["medicaid"],
        availability="After 3pm on weekdays",
    )
    return send(counselor, draft, mailed)


def reloaded(referral) -> Referral:
    with tenant_context(referral.district_id):
        return Referral.objects.select_related("district", "partner", "school").get(pk=referral.pk)


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def link_path(referral, contact) -> str:
    return reverse("intake", args=[intake_token(referral, contact)])


def claim_of(path: str) -> IntakeClaim:
    return intake_claim(path.split("/")[3])


def code_path(path: str) -> str:
    return f"{path}code/"


def step_path(path: str) -> str:
    return f"{path}step/"


def take(client, path, action, data=None):
    """Post one step of the loop from the link's page."""
    return client.post(step_path(path), {"step": action, **(data or {})})


def get_code(client, path, mailed, address=INTAKE) -> str:
    before = len(mails_to(address))
    response = mailed(client.post, code_path(path))
    assert response.status_code == 200
    sent = mails_to(address)
    assert len(sent) == before + 1
    return CODE_RE.search(sent[-1].body).group(1)


def verify(client, path, mailed):
    code = get_code(client, path, mailed)
    response = client.post(code_path(path), {"code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def html(response) -> str:
    return response.content.decode()


def assert_identifies_nobody(response):
    body = html(response)
    for secret in IDENTIFYING:
        assert secret not in body, secret


def steps_of(referral) -> list[ReferralStep]:
    with tenant_context(referral.district_id):
        return list(
            ReferralStep.objects.filter(referral_id=referral.pk)
            .select_related("by_contact")
            .order_by("at", "pk")
        )


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- The email -------------------------------------------------------------------------------


def test_sending_emails_the_intake_contact_a_link_with_no_student_details(
    client, referral, contact
):
    [message] = mails_to(INTAKE)

    assert referral.reference in message.subject and "North Valley Unified" in message.subject
    bodies = (message.subject, message.body, message.alternatives[0][0])
    for text in bodies:
        for secret in (*IDENTIFYING, "nxiety", "herapy", *SERVICE_DETAILS, "Spanish"):
            assert secret not in text, secret
    assert "North High School" in message.body and "Urgent" in message.body
    assert "/p/" in message.body  # the one-click unsubscribe, as every partner mail
    assert message.extra_headers.get("List-Unsubscribe") or message.extra_headers.get(
        "List-Unsubscribe-Post"
    )
    path = LINK_RE.search(message.body).group(1)
    assert claim_of(path) == IntakeClaim(referral.district_id, referral.pk, contact.pk)
    assert intake_url(referral, contact).startswith("http://testserver/r/intake/")

    opened = Client().get(path)
    assert opened.status_code == 200
    assert referral.reference in html(opened)


def test_only_mailable_intake_contacts_get_the_email_each_with_a_link_of_their_own(
    district, partner, contact, counselor, student, consent, mou, mailed
):
    second = ContactFactory(
        district=district, partner=partner, email="second@riverbend.example.org", roles=["intake"]
    )
    ContactFactory(district=district, partner=partner, email="lead@x.example.org")  # leadership
    gone = ContactFactory(district=district, partner=partner, roles=["intake"])
    with tenant_context(district):
        Contact.objects.filter(pk=gone.pk).update(unsubscribed_at=timezone.now())
    draft = ReferralFactory(
        district=district, student=student, partner=partner, referred_by=counselor
    )

    referral = send(counselor, draft, mailed)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([INTAKE, second.email])
    first_link = LINK_RE.search(mails_to(INTAKE)[0].body).group(1)
    second_link = LINK_RE.search(mails_to(second.email)[0].body).group(1)
    assert claim_of(first_link) == IntakeClaim(district.pk, referral.pk, contact.pk)
    assert claim_of(second_link) == IntakeClaim(district.pk, referral.pk, second.pk)


def test_a_partner_without_an_intake_contact_gets_no_email(district, counselor, student, mailed):
    partner = PartnerFactory(district=district, intake="accepting", email="front@desk.example.org")
    ContactFactory(district=district, partner=partner, roles=["billing"])
    draft = ReferralFactory(
        district=district, student=student, partner=partner, referred_by=counselor, shared_fields=[]
    )

    referral = send(counselor, draft, mailed)

    assert referral.status == "sent"
    assert mail.outbox == []
    with tenant_context(district):
        assert intake_notify(referral) == 0


# --- Before the code -------------------------------------------------------------------------


def test_before_the_code_the_page_shows_a_summary_that_identifies_nobody(client, referral, contact):
    response = client.get(link_path(referral, contact))

    assert response.status_code == 200
    assert_identifies_nobody(response)
    body = html(response)
    for shown in (referral.reference, "North High School", "Anxiety", "Therapy", "Urgent"):
        assert shown in body, shown
    for detail in SERVICE_DETAILS:
        assert detail not in body, detail
    assert "Accept" in body and "Decline" in body and "Email me a code" in body
    assert response.context["verified"] is False
    assert "disclosed" not in response.context
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_the_page_is_in_the_contacts_language(client, district, referral, contact):
    with tenant_context(district):
        Contact.objects.filter(pk=contact.pk).update(preferred_language="es")

    spanish = client.get(link_path(referral, contact))
    english = client.get(link_path(referral, contact), {"lang": "en"})

    assert spanish["Content-Language"] == "es"
    assert english["Content-Language"] == "en"


# --- The code --------------------------------------------------------------------------------


def test_after_the_code_the_page_shows_exactly_the_consented_and_agreed_fields(
    client, referral, contact, mailed
):
    path = link_path(referral, contact)
    code = get_code(client, path, mailed)
    [code_mail] = [m for m in mails_to(INTAKE) if code in m.body]
    for text in (code_mail.subject, code_mail.body, code_mail.alternatives[0][0]):
        for secret in IDENTIFYING:
            assert secret not in text

    verified = client.post(code_path(path), {"code": code})
    assert verified.status_code == 302
    page = client.get(path)

    assert page.status_code == 200
    assert page.context["verified"] is True
    # Consented: name, date of birth, grade, guardian contact; the MOU: name, grade, school.
    assert [str(item["label"]) for item in page.context["disclosed"]] == [
        "Student's name",
        "Grade",
    ]
    body = html(page)
    assert "Amara Okafor" in body
    for kept_back in ("2011-04-17", "April 17, 2011", "Apr. 17, 2011", GUARDIAN, "555-0142"):
        assert kept_back not in body
    for detail in SERVICE_DETAILS:
        assert detail in body


def test_reading_the_student_from_the_link_is_written_to_the_access_log(
    client, district, referral, contact, mailed
):
    from schools.models import AccessLog

    path = link_path(referral, contact)
    client.get(path)  # the summary identifies nobody: no row
    with tenant_context(district):
        assert not AccessLog.objects.filter(contact=contact).exists()
    client.post(code_path(path), {"code": get_code(client, path, mailed)})

    client.get(path)

    with tenant_context(district):
        [row] = AccessLog.objects.filter(contact=contact)
    assert (row.object_type, row.object_id) == ("referral", str(referral.pk))
    assert row.student_id == referral.student_id and row.membership_id is None


def test_the_code_goes_to_the_contacts_address_once_while_fresh(client, referral, contact, mailed):
    path = link_path(referral, contact)
    mail.outbox.clear()

    mailed(client.post, code_path(path))
    again = mailed(client.post, code_path(path))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [INTAKE]
    assert "already sent" in html(again)

    mailed(client.post, code_path(path), {"resend": "on"})
    assert len(mail.outbox) == 2 and mail.outbox[1].to == [INTAKE]
    with tenant_context(referral.district_id):
        row = IntakeCode.objects.get(referral=referral, contact=contact)
    assert row.code_sends == 2
    assert row.code_hash and CODE_RE.search(mail.outbox[1].body).group(1) not in row.code_hash


def test_codes_stop_at_the_most_sends(client, referral, contact, mailed):
    path = link_path(referral, contact)
    for _ in range(INTAKE_CODE_SENDS_MAX):
        mailed(client.post, code_path(path), {"resend": "on"})
    mail.outbox.clear()

    refused = mailed(client.post, code_path(path), {"resend": "on"})

    assert refused.status_code == 200
    assert "most codes" in html(refused)
    assert mail.outbox == []


def test_wrong_codes_are_counted_and_then_lock_the_code(client, referral, contact, mailed):
    path = link_path(referral, contact)
    code = get_code(client, path, mailed)

    for attempt in range(1, INTAKE_CODE_ATTEMPTS_MAX):
        response = client.post(code_path(path), {"code": wrong(code)})
        assert response.status_code == 200
        assert "not right" in html(response)
        with tenant_context(referral.district_id):
            row = IntakeCode.objects.get(referral=referral, contact=contact)
        assert row.code_attempts == attempt
    locked = client.post(code_path(path), {"code": wrong(code)})

    assert locked.status_code == 403
    assert "Too many wrong codes" in html(locked)
    # Even the right code is refused now, and no new code is sent.
    assert client.post(code_path(path), {"code": code}).status_code == 403
    mail.outbox.clear()
    assert mailed(client.post, code_path(path), {"resend": "on"}).status_code == 403
    assert mail.outbox == []
    page = client.get(path)
    assert page.context["verified"] is False and "Too many wrong codes" in html(page)
    assert_identifies_nobody(page)
    # Answering still works without the code.
    assert take(client, path, "accept").status_code == 302
    assert reloaded(referral).status == "accepted"


def test_an_expired_code_is_refused(client, referral, contact, mailed):
    path = link_path(referral, contact)
    code = get_code(client, path, mailed)

    with time_machine.travel(INTAKE_CODE_VALID_FOR + datetime.timedelta(minutes=1)):
        response = client.post(code_path(path), {"code": code})
        page = client.get(path)

    assert response.status_code == 200
    assert "expired" in html(response)
    assert page.context["verified"] is False
    assert_identifies_nobody(page)


def test_a_code_opens_this_browser_only_and_for_a_working_day(client, referral, contact, mailed):
    path = link_path(referral, contact)
    verify(client, path, mailed)

    other_browser = Client().get(path)
    assert other_browser.context["verified"] is False
    assert_identifies_nobody(other_browser)
    with time_machine.travel(INTAKE_VERIFIED_FOR - datetime.timedelta(minutes=5)):
        assert client.get(path).context["verified"] is True
    with time_machine.travel(INTAKE_VERIFIED_FOR + datetime.timedelta(minutes=1)):
        later = client.get(path)
    assert later.status_code == 200
    assert later.context["verified"] is False
    assert_identifies_nobody(later)


def test_a_code_is_used_once(client, referral, contact, mailed):
    path = link_path(referral, contact)
    code = get_code(client, path, mailed)
    client.post(code_path(path), {"code": code})

    another = Client()
    reused = another.post(code_path(path), {"code": code})

    assert reused.status_code == 200
    assert another.get(path).context["verified"] is False


# --- Links that do not work ------------------------------------------------------------------


def test_an_expired_link_says_so_and_shows_and_changes_nothing(client, referral, contact):
    path = link_path(referral, contact)

    with time_machine.travel(INTAKE_LINK_VALID_FOR + datetime.timedelta(minutes=1)):
        page = client.get(path)
        accept = take(client, path, "accept")

    assert page.status_code == 410 and accept.status_code == 410
    assert "expired" in html(page)
    assert referral.reference not in html(page) and "North High School" not in html(page)
    assert reloaded(referral).status == "sent"


def test_an_expired_link_mails_a_new_one_to_its_own_address_a_few_times_a_day(
    client, district, referral, contact, mailed
):
    from django.core.cache import cache

    cache.clear()
    mail.outbox.clear()
    path = link_path(referral, contact)
    later = INTAKE_LINK_VALID_FOR + datetime.timedelta(minutes=1)

    with time_machine.travel(later):
        asked = mailed(client.post, path, {"renew": "1"})
        [message] = mails_to(INTAKE)
        fresh = LINK_RE.search(message.body).group(1)
        assert fresh != path and Client().get(fresh).status_code == 200
        for _ in range(3):
            again = mailed(client.post, path, {"renew": "1"})

    assert asked.status_code == 410 and "a new link is on its way" in html(asked)
    assert again.status_code == 410 and "a new link is on its way" in html(again)
    assert len(mails_to(INTAKE)) == 3  # RENEWALS_PER_DAY
    assert referral.reference not in html(asked)


def test_an_expired_link_of_a_contact_no_longer_taking_intake_mails_nothing(
    client, district, referral, contact, mailed
):
    from django.core.cache import cache

    cache.clear()
    with tenant_context(district):
        Contact.objects.filter(pk=contact.pk).update(roles=["leadership"])
    mail.outbox.clear()
    path = link_path(referral, contact)

    with time_machine.travel(INTAKE_LINK_VALID_FOR + datetime.timedelta(minutes=1)):
        asked = mailed(client.post, path, {"renew": "1"})

    assert asked.status_code == 410 and "a new link is on its way" in html(asked)
    assert mail.outbox == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AB" if not token.endswith("AB") else "CD"),
        lambda token: token.rsplit(":", 1)[0],
        lambda token: "x" + token,
        lambda token: "garbage",
    ],
    ids=["signature changed", "signature cut", "payload changed", "garbage"],
)
def test_a_tampered_token_is_not_valid(client, referral, contact, tamper):
    token = tamper(intake_token(referral, contact))

    for response in (
        client.get(reverse("intake", args=[token])),
        client.post(reverse("intake_step", args=[token]), {"step": "accept"}),
        client.post(reverse("intake_code", args=[token])),
    ):
        assert response.status_code == 404
        assert "not valid" in html(response)
    assert reloaded(referral).status == "sent"


def test_a_link_signed_for_another_purpose_is_not_valid(client, referral, contact):
    payload = {"d": referral.district_id, "r": referral.pk, "c": contact.pk}
    token = TimestampSigner(salt=INTAKE_SALT + ".other").sign_object(payload)

    assert client.get(reverse("intake", args=[token])).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"roles": ["leadership"]},
        {"roles": []},
        "another partner",
        "removed",
    ],
    ids=["no longer intake", "no role", "moved to another partner", "removed"],
)
def test_a_contact_who_no_longer_takes_intake_for_the_partner_gets_nothing(
    client, district, referral, contact, mailed, change
):
    path = link_path(referral, contact)
    verify(client, path, mailed)
    with tenant_context(district):
        contacts = Contact.objects.filter(pk=contact.pk)
        if change == "another partner":
            contacts.update(partner=PartnerFactory(district=district))
        elif change == "removed":
            IntakeCode.objects.filter(contact=contact).delete()
            contacts.delete()
        else:
            contacts.update(**change)

    page = client.get(path)
    step = take(client, path, "accept")

    assert page.status_code == 404 and step.status_code == 404
    assert "not valid" in html(page)
    assert_identifies_nobody(page)
    assert referral.reference not in html(page)
    assert reloaded(referral).status == "sent"


def test_another_partners_link_never_shows_this_referral(
    client, district, other_district, referral, contact, counselor, student
):
    other_partner = PartnerFactory(district=district, intake="accepting")
    other_contact = ContactFactory(district=district, partner=other_partner, roles=["intake"])
    theirs = ReferralFactory(
        district=district,
        student=student,
        partner=other_partner,
        referred_by=counselor,
        status="sent",
        sent_at=timezone.now(),
    )

    tokens = [
        intake_token(referral, other_contact),  # their contact, our referral
        intake_token(theirs, contact),  # our contact, their referral
        # Our ids under another district.
        INTAKE_LINK.make(d=other_district.pk, r=referral.pk, c=contact.pk),
    ]
    for token in tokens:
        response = client.get(reverse("intake", args=[token]))
        assert response.status_code == 404
        assert referral.reference not in html(response)
        assert_identifies_nobody(response)
    # Their own link works for their own referral only.
    assert (
        client.get(reverse("intake", args=[intake_token(theirs, other_contact)])).status_code == 200
    )


def test_a_referral_sent_to_another_partner_leaves_the_old_partners_link_dead(
    client, district, referral, contact
):
    path = link_path(referral, contact)
    with tenant_context(district):
        Referral.objects.filter(pk=referral.pk).update(
            partner=PartnerFactory(district=district, intake="accepting")
        )

    assert client.get(path).status_code == 404


# --- Withdrawn or revoked after the page was opened ------------------------------------------


def test_a_page_opened_before_the_school_withdrew_shows_and_accepts_nothing(
    client, district, referral, contact, counselor, mailed
):
    path = link_path(referral, contact)
    verify(client, path, mailed)
    assert "Amara Okafor" in html(client.get(path))
    with tenant_context(district):
        referral_step(actor=Actor(membership=counselor), referral=referral, action="withdraw")

    page = client.get(path)
    accept = take(client, path, "accept")
    code = mailed(client.post, code_path(path))

    for response in (page, accept, code):
        assert response.status_code == 404
        assert_identifies_nobody(response)
    assert reloaded(referral).status == "withdrawn"
    assert [s.kind for s in steps_of(referral)] == ["sent", "withdrawn"]


def test_a_page_opened_before_the_consent_was_revoked_shows_and_accepts_nothing(
    client, district, referral, contact, counselor, consent, mailed
):
    path = link_path(referral, contact)
    verify(client, path, mailed)
    take(client, path, "accept")
    assert "Amara Okafor" in html(client.get(path))

    mailed(act, consent_revoke, by=counselor, consent=consent, revoked_by_name="Grace Okafor")
    page = client.get(path)
    schedule = take(
        client,
        path,
        "schedule",
        {"schedule-appointment_on": (district.today() + datetime.timedelta(days=3)).isoformat()},
    )
    code = client.post(code_path(path))

    assert page.status_code == 200
    assert "withdrew the consent" in html(page)
    assert schedule.status_code == 403 and code.status_code == 403
    for response in (page, schedule, code):
        assert_identifies_nobody(response)
    assert reloaded(referral).status == "accepted"
    assert [s.kind for s in steps_of(referral)] == ["sent", "accepted"]


# --- The loop from the link ------------------------------------------------------------------


def test_the_contact_accepts_schedules_records_the_visit_and_closes_from_the_link(
    client, district, referral, contact, mailed
):
    path = link_path(referral, contact)
    today = district.today()

    accepted = take(client, path, "accept", {"accept-note": "We will call the family."})
    assert accepted.status_code == 302
    assert reloaded(referral).status == "accepted"
    verify(client, path, mailed)
    scheduled = take(
        client,
        path,
        "schedule",
        {"schedule-appointment_on": (today + datetime.timedelta(days=2)).isoformat()},
    )
    assert scheduled.status_code == 302
    kept = take(client, path, "kept", {"kept-kept_on": today.isoformat()})
    assert kept.status_code == 302
    closed = take(
        client, path, "close", {"close-outcome": "completed", "close-note": "Six sessions."}
    )
    assert closed.status_code == 302

    final = reloaded(referral)
    assert (final.status, final.outcome, final.first_appointment_on) == (
        "closed",
        "completed",
        today,
    )
    steps = steps_of(referral)
    assert [s.kind for s in steps] == ["sent", "accepted", "scheduled", "kept", "closed"]
    for step in steps[1:]:
        assert step.by_contact_id == contact.pk and step.by_id is None
    assert steps[1].note == "We will call the family."
    page = client.get(path)
    timeline = page.context["timeline"]
    assert all(contact.name in row["who"] for row in timeline[1:]) and len(timeline) == 5
    assert "Six sessions." in html(page)
    assert page.context["steps"] == []  # closed: nothing more to do


def test_the_contact_declines_with_a_reason_before_the_code(client, referral, contact):
    path = link_path(referral, contact)

    declined = take(
        client,
        path,
        "decline",
        {"decline-reason": "no_capacity", "decline-note": "Full until March."},
    )

    assert declined.status_code == 302
    final = reloaded(referral)
    assert (final.status, final.decline_reason) == ("declined", "no_capacity")
    [_sent, step] = steps_of(referral)
    assert (step.kind, step.by_contact_id, step.note) == (
        "declined",
        contact.pk,
        "Full until March.",
    )
    page = client.get(path)
    assert "declined this referral" in html(page)
    assert "show_code" not in page.context  # declined: no student information to unlock
    assert client.post(code_path(path)).status_code == 403


def test_steps_after_the_answer_need_the_code(client, district, referral, contact):
    path = link_path(referral, contact)
    take(client, path, "accept")

    refused = take(
        client,
        path,
        "schedule",
        {"schedule-appointment_on": (district.today() + datetime.timedelta(days=2)).isoformat()},
    )

    assert refused.status_code == 403
    assert "code from your email first" in html(refused)
    assert_identifies_nobody(refused)
    assert reloaded(referral).status == "accepted"


def test_refused_steps_are_shown_on_the_form(client, district, referral, contact, mailed):
    path = link_path(referral, contact)
    no_reason = take(client, path, "decline", {"decline-note": "Full."})
    assert no_reason.status_code == 200
    assert "Choose why you decline" in html(no_reason)
    other_no_note = take(client, path, "decline", {"decline-reason": "other"})
    assert other_no_note.status_code == 200
    assert "Say why in a note" in html(other_no_note)
    take(client, path, "accept")
    verify(client, path, mailed)

    past = take(
        client,
        path,
        "schedule",
        {"schedule-appointment_on": (district.today() - datetime.timedelta(days=1)).isoformat()},
    )
    out_of_order = take(client, path, "accept")
    garbage_date = take(client, path, "schedule", {"schedule-appointment_on": "soon"})

    assert past.status_code == 200 and "cannot be in the past" in html(past)
    assert out_of_order.status_code == 200 and "not possible now" in html(out_of_order)
    assert garbage_date.status_code == 200 and "month, day and year" in html(garbage_date)
    assert reloaded(referral).status == "accepted"


@pytest.mark.parametrize("action", ["withdraw", "resend", "nothing"])
def test_a_step_the_partner_never_takes_is_not_a_page(client, referral, contact, action):
    path = link_path(referral, contact)

    assert take(client, path, action).status_code == 400
    assert reloaded(referral).status == "sent"


def test_a_note_on_the_timeline_is_shown_as_text(client, referral, contact, mailed):
    path = link_path(referral, contact)
    take(client, path, "accept", {"accept-note": "<b>bold</b> & <script>x</script>"})
    verify(client, path, mailed)

    body = html(client.get(path))

    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in body
    assert "<script>x</script>" not in body


def test_the_verified_page_costs_the_same_queries_however_long_the_timeline(
    client, district, referral, contact, mailed
):
    path = link_path(referral, contact)
    take(client, path, "accept")
    verify(client, path, mailed)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few = queries()
    with tenant_context(district):
        for number in range(8):
            referral_step(
                actor=Actor(contact=contact), referral=referral, action="update", note=f"n{number}"
            )
    assert queries() == few
