"""Stored languages are one ISO code; every page names them in the reader's language, as a
label ("Vietnamita") or inside a sentence ("Prefiere vietnamita"), never the code and never
the English name to a Spanish reader."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from core.languages import language_name
from referrals.services.help_requests import help_request_submit
from schools.models import Role
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    """The words of the page's main content, tags dropped and spaces folded."""
    assert response.status_code == 200
    html = response.content.decode()
    main = re.search(r"<main\b.*?</main>", html, re.S)
    text = re.sub(r"<[^>]+>", " ", main.group(0) if main else html)
    return " ".join(text.split())


@pytest.fixture
def read(client):
    """Open a page as `membership` in `language` (the language cookie, as the switcher sets)."""

    def open_page(membership, url, language):
        if membership.role == Role.ADMIN:
            enable_totp(membership.user)
        client.force_login(membership.user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return page_text(client.get(url))

    return open_page


@pytest.mark.parametrize(
    ("code", "reader", "label", "in_text"),
    [
        ("es", "es", "Español", "español"),
        ("vi", "es", "Vietnamita", "vietnamita"),
        ("es-mx", "es", "Español (México)", "español (México)"),
        ("vi", "en", "Vietnamese", "Vietnamese"),
        ("prs", "es", "Dari", "Dari"),
        ("xx", "es", "xx", "xx"),  # unknown: the code, not a guess
    ],
)
def test_a_name_is_a_label_or_part_of_a_sentence(code, reader, label, in_text):
    assert language_name(code, reader) == label
    assert language_name(code, reader, in_text=True) == in_text
    with translation.override(reader):
        assert language_name(code) == label


def test_the_student_page_names_the_family_language_for_each_reader(district, read):
    school = SchoolFactory(district=district)
    student = StudentFactory(district=district, school=school, family_language="vi")
    counselor = MembershipFactory(district=district, role=Role.COUNSELOR)
    url = f"/{district.slug}/students/{student.pk}/"

    spanish = read(counselor, url, "es")
    english = read(counselor, url, "en")

    assert "Vietnamita" in spanish and "Vietnamese" not in spanish
    assert "Vietnamese" in english and "Vietnamita" not in english
    assert not re.search(r"\bvi\b", spanish + english)


def test_the_partner_page_names_its_languages_and_its_contacts_preference(district, read):
    partner = PartnerFactory(district=district, languages=["es", "vi"])
    ContactFactory(district=district, partner=partner, preferred_language="vi")
    counselor = MembershipFactory(district=district, role=Role.COUNSELOR)
    url = f"/{district.slug}/partners/{partner.pk}/"

    spanish = read(counselor, url, "es")
    english = read(counselor, url, "en")

    assert "Español, Vietnamita" in spanish and "Prefiere vietnamita" in spanish
    assert "Spanish, Vietnamese" in english and "Prefers Vietnamese" in english
    assert "Vietnamese" not in spanish and "Spanish" not in spanish


def test_the_referral_page_names_the_familys_language(district, read):
    counselor = MembershipFactory(district=district, role=Role.COUNSELOR)
    referral = ReferralFactory(
        district=district, referred_by=counselor, owner=counselor, family_language="es"
    )
    url = f"/{district.slug}/referrals/{referral.pk}/"

    assert "Español" in read(counselor, url, "es")
    english = read(counselor, url, "en")
    assert "Spanish" in english and "Español" not in english


def test_the_help_request_page_names_the_language_of_the_form(district, read):
    school = SchoolFactory(district=district)
    with tenant_context(district):
        help_request = help_request_submit(
            school=school,
            address="203.0.113.9",
            asker_kind="parent",
            student_name="Maya Reyes",
            message="Maya has stopped eating lunch and cries in class most mornings.",
            asker_name="Lucía Reyes",
            asker_email="lucia.reyes@example.org",
            asker_phone="(555) 201-3344",
            language="es",
        )
    counselor = MembershipFactory(district=district, role=Role.COUNSELOR)
    url = f"/{district.slug}/help-requests/{help_request.pk}/"

    spanish = read(counselor, url, "es")
    english = read(counselor, url, "en")

    assert "Español" in spanish and "Spanish" not in spanish
    assert "Spanish" in english and "Español" not in english
