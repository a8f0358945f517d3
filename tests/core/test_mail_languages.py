"""Mail to partner contacts is written in the contact's preferred language when Trellis
speaks it, else in the district's default: checked through every sender that mails a contact.

The district here writes Spanish by default, so each sender is seen to choose: the contact
who prefers English gets English, the one who prefers Spanish Spanish, and the one who
prefers Vietnamese (which Trellis does not speak) the district's Spanish.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from core.mail import mail_language, recipient_language, send_templated
from partnerships.models import MOUStatus
from partnerships.services.directory import listing_verification_send
from partnerships.services.renewals import mou_renewal_sweep_district
from referrals.models import ReferralStatus
from referrals.services import overdue
from referrals.services.intake import intake_send_code
from referrals.services.loop import Actor, referral_step
from referrals.services.referrals import referral_send
from schools.models import OutgoingEmail, Role
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    DistrictFactory,
    MembershipFactory,
    MOUFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db

# Each contact's stored preference -> the language their mail must be in.
PREFERENCES = {"es": "es", "en": "en", "vi": "es"}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://trellis.example.org"


@pytest.fixture
def spanish_district(district):
    district.default_language = "es"
    district.save(update_fields=["default_language"])
    return district


@pytest.fixture
def partner(spanish_district):
    return PartnerFactory(district=spanish_district, name="Riverbend Counseling")


@pytest.fixture
def contacts(spanish_district, partner):
    """One contact per preference, each with every role a sender looks for."""
    return {
        preference: ContactFactory(
            district=spanish_district,
            partner=partner,
            email=f"{preference}@riverbend.example.org",
            roles=["intake", "leadership"],
            preferred_language=preference,
        )
        for preference in PREFERENCES
    }


def catalogue(language: str, msgid: str, **params) -> str:
    """`msgid` in `language` as the catalogue has it (Spanish must be translated)."""
    with translation.override(language):
        text = gettext(msgid)
    assert language == "en" or text != msgid, f"no Spanish translation of {msgid!r}"
    return text % params


def mail_to(address: str) -> OutgoingEmail:
    [email] = OutgoingEmail.objects.filter(to=[address])
    return email


def assert_each_in_its_language(subject_for) -> None:
    """Every contact got one email, in the language PREFERENCES gives for them: the
    subject as the catalogue writes it, and the body's `lang`."""
    for preference, language in PREFERENCES.items():
        email = mail_to(f"{preference}@riverbend.example.org")
        assert email.subject == subject_for(language), (preference, email.subject)
        assert f'<html lang="{language}">' in email.body_html, preference
        assert "List-Unsubscribe" in email.headers, preference  # a contact can stop it


def referral(district, partner, **extra):
    counselor = MembershipFactory(district=district, role=Role.COUNSELOR)
    student = StudentFactory(district=district)
    return ReferralFactory(
        district=district,
        student=student,
        referred_by=counselor,
        owner=counselor,
        partner=partner,
        shared_fields=[],
        **extra,
    )


# --- The rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "default", "expected"),
    [
        ("es", "en", "es"),
        ("es-MX", "en", "es"),
        ("Spanish", "en", "es"),
        ("en", "es", "en"),
        ("vi", "es", "es"),
        ("vi", "en", "en"),
        ("", "es", "es"),
        ("Klingon", "es", "es"),
    ],
)
def test_one_rule_gives_the_language_of_a_letter(db, stored, default, expected):
    district = DistrictFactory(default_language=default)
    assert mail_language(stored, district) == expected
    contact = ContactFactory(district=district, preferred_language="")
    contact.preferred_language = stored  # as older rows may hold it
    assert recipient_language(contact, district) == expected


def test_a_language_trellis_does_not_speak_is_never_written_as_the_letters_language(
    spanish_district,
):
    email = send_templated(
        "schools/email/sign-in-throttled",
        to="someone@example.org",
        context={},
        language="vi",
        district=spanish_district,
    )

    assert '<html lang="es">' in email.body_html
    assert email.subject == catalogue("es", "Someone tried to sign in to your Trellis account")


# --- Every sender that mails a contact -------------------------------------------------------


def test_a_sent_referral_reaches_each_intake_contact_in_their_language(
    spanish_district, partner, contacts
):
    sent = referral(spanish_district, partner)

    with tenant_context(spanish_district):
        referral_send(by=sent.referred_by, referral=sent)

    assert_each_in_its_language(
        lambda language: catalogue(
            language,
            "New referral %(reference)s from %(district_name)s",
            reference=sent.reference,
            district_name=spanish_district.name,
        )
    )


def test_a_withdrawal_reaches_each_intake_contact_in_their_language(
    spanish_district, partner, contacts
):
    sent = referral(spanish_district, partner)
    with tenant_context(spanish_district):
        referral_send(by=sent.referred_by, referral=sent)
    OutgoingEmail.objects.all().delete()

    with tenant_context(spanish_district):
        referral_step(
            actor=Actor(membership=sent.referred_by, contact=None),
            referral=sent,
            action="withdraw",
            note="The family moved away.",
        )

    assert_each_in_its_language(
        lambda language: catalogue(
            language,
            "Referral %(reference)s withdrawn by %(school_name)s",
            reference=sent.reference,
            school_name=sent.school.name,
        )
    )


def test_the_intake_code_is_in_the_contacts_language_unless_the_page_chose_one(
    spanish_district, partner, contacts
):
    sent = referral(spanish_district, partner)
    with tenant_context(spanish_district):
        referral_send(by=sent.referred_by, referral=sent)
    OutgoingEmail.objects.all().delete()

    with tenant_context(spanish_district):
        for contact in contacts.values():
            intake_send_code(referral=sent, contact=contact, language="")

    assert_each_in_its_language(
        lambda language: catalogue(
            language, "Your code for referral %(reference)s", reference=sent.reference
        )
    )

    # The page's language, when the contact switched it there, wins.
    with tenant_context(spanish_district):
        intake_send_code(referral=sent, contact=contacts["es"], language="en", resend=True)
    latest = OutgoingEmail.objects.filter(to=["es@riverbend.example.org"]).latest("pk")
    assert latest.subject == f"Your code for referral {sent.reference}"


def test_the_listing_check_reaches_each_contact_in_their_language(
    spanish_district, partner, contacts
):
    coordinator = MembershipFactory(district=spanish_district, role=Role.COORDINATOR)

    with tenant_context(spanish_district):
        for contact in contacts.values():
            listing_verification_send(by=coordinator, partner=partner, contact=contact)

    assert_each_in_its_language(
        lambda language: catalogue(
            language,
            "Please confirm your listing with %(district_name)s",
            district_name=spanish_district.name,
        )
    )


def test_renewal_notices_reach_each_leadership_contact_in_their_language(
    spanish_district, partner, contacts
):
    end = datetime.date(2026, 6, 30)
    MOUFactory(
        district=spanish_district,
        partner=partner,
        status=MOUStatus.ACTIVE,
        start_date=datetime.date(2025, 7, 1),
        end_date=end,
    )

    mou_renewal_sweep_district(district=spanish_district, today=end - datetime.timedelta(days=60))

    def subject(language):
        with translation.override(language):
            text = ngettext(
                "MOU with %(partner_name)s ends in %(days)s day",
                "MOU with %(partner_name)s ends in %(days)s days",
                60,
            )
        return text % {"partner_name": partner.name, "days": 60}

    assert subject("es") != subject("en")
    assert_each_in_its_language(subject)


def test_an_overdue_reminder_reaches_each_intake_contact_in_their_language(
    spanish_district, partner, contacts
):
    friday = datetime.date(2026, 1, 16)
    late = referral(
        spanish_district,
        partner,
        status=ReferralStatus.SENT,
        sent_at=timezone.now(),
        response_due_on=friday,
    )

    overdue.overdue_sweep_district(
        district=spanish_district, today=friday + datetime.timedelta(days=5)
    )

    assert_each_in_its_language(
        lambda language: catalogue(
            language,
            "Referral %(reference)s is waiting for your answer",
            reference=late.reference,
        )
    )


def test_an_unknown_preference_in_an_english_district_is_english(district):
    """The other default: a district that writes English writes English to the contact whose
    language Trellis does not speak."""
    coordinator = MembershipFactory(district=district, role=Role.COORDINATOR)
    contact = ContactFactory(district=district, email="vi@p.example.org", preferred_language="vi")

    with tenant_context(district):
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)

    email = mail_to("vi@p.example.org")
    assert email.subject == f"Please confirm your listing with {district.name}"
    assert re.search(r'<html lang="en">', email.body_html)
