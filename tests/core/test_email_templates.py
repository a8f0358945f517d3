"""Every email Trellis writes, in English and in Spanish: each template under
templates/**/email/ renders in both through core.mail, says its language in `lang`, and a
Spanish reader gets a Spanish subject wherever the catalogue translates it.

The senders themselves (which language each recipient gets) are tested beside them and in
tests/core/test_mail_languages.py; this walk catches the email nobody thought to test: a
new template is picked up by itself.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.mail import render_templated

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = "https://trellis.example.org/p/unsubscribe/token/"


def email_prefixes() -> list[str]:
    """Every `<app>/email/<name>` with its three files, from the template directories."""
    prefixes = set()
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for subject in Path(directory).glob("**/email/*-subject.txt"):
            relative = subject.relative_to(directory).as_posix()
            prefixes.add(relative.removesuffix("-subject.txt"))
    return sorted(prefixes)


PREFIXES = email_prefixes()


def context() -> dict:
    """Values for every variable an email uses (a missing one would render as nothing)."""
    now = timezone.now()
    return {
        "reference": "R-2026-0042",
        "district_name": "North Valley Schools",
        "school_name": "North High School",
        "partner_name": "Riverbend Counseling",
        "contact_name": "Ivy Intake",
        "sender_name": "Ana Coordinator",
        "title": "Counseling services 2026-27",
        "mou_title": "Counseling services 2026-27",
        "label": "Service completed",
        "note": "The family moved away.",
        "urgency": "Urgent",
        "urgent": True,
        "link": "https://trellis.example.org/north/link/",
        "pdf_link": "https://trellis.example.org/north/link.pdf",
        "expires_at": now + datetime.timedelta(days=30),
        "revoked_at": now,
        "end_date": datetime.date(2026, 6, 30),
        "start_date": datetime.date(2025, 7, 1),
        "days_left": 30,
        "days": 30,
        "business_days": 3,
        "code": "123456",
        "minutes": 15,
        "code_minutes": 15,
        "audience": "partner",
        "kind": "review",
        "student_initials": "A. O.",
        "due_on": datetime.date(2026, 1, 16),
        # Every number a plural counts ({% blocktranslate count n=x %}): 3, whatever x is.
        **dict.fromkeys(counted_variables(), 3),
    }


def counted_variables() -> set[str]:
    names = set()
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).glob("**/email/*"):
            names.update(re.findall(r"\bcount \w+=(\w+)", path.read_text()))
    return names


def subject_msgids(prefix: str) -> list[str]:
    """The msgids of the subject template, as makemessages writes them."""
    for directory in settings.TEMPLATES[0]["DIRS"]:
        path = Path(directory) / f"{prefix}-subject.txt"
        if path.exists():
            text = path.read_text()
            break
    msgids = re.findall(r"""{% translate "([^"]+)" %}""", text)
    for options, body in re.findall(
        r"{% blocktranslate([^%]*)%}(.*?){% (?:plural|endblocktranslate) %}", text, re.S
    ):
        body = re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", body)
        if "trimmed" in options:
            body = " ".join(body.split())
        msgids.append(body)
    assert msgids, f"{prefix}-subject.txt has no translated text"
    return msgids


def translated(msgid: str) -> bool:
    with translation.override("es"):
        return gettext(msgid) != msgid


def test_every_email_is_found():
    # The walk would pass by finding nothing: the emails named in the docs are there.
    for known in (
        "partnerships/email/listing-verify",
        "referrals/email/intake_referral",
        "schools/email/invitation",
    ):
        assert known in PREFIXES
    assert len(PREFIXES) >= 15


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_email_renders_in_english_and_spanish(district, prefix):
    rendered = {
        language: render_templated(
            prefix,
            {**context(), "unsubscribe_url": UNSUBSCRIBE},
            language=language,
            district=district,
        )
        for language in ("en", "es")
    }

    for language, (subject, body_text, body_html) in rendered.items():
        assert subject.strip() and "\n" not in subject.strip(), (language, subject)
        assert "{{" not in subject + body_text + body_html and "{%" not in subject + body_text
        assert f'<html lang="{language}">' in body_html, (prefix, language)
        assert body_text.strip()
    english, spanish = rendered["en"], rendered["es"]
    if all(translated(msgid) for msgid in subject_msgids(prefix)):
        assert spanish[0] != english[0], f"{prefix}: the Spanish subject is the English one"
        assert spanish[1] != english[1], f"{prefix}: the Spanish body is the English one"
    # The shared footer is in the reader's language too.
    with translation.override("es"):
        footer = gettext("Unsubscribe: stop all email from Trellis to this address")
    assert footer in spanish[2]
