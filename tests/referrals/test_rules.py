"""The referral vocabularies and consent rules (referrals/rules.py)."""

from __future__ import annotations

import datetime

import pytest

from partnerships.models import Payment
from partnerships.mou_rules import SHARED_FIELDS
from referrals.rules import (
    CONCERN_CODES,
    IDENTIFIABLE_FIELD_CODES,
    PAYMENT_CODES,
    age_on,
    consent_rule,
    form_content_type,
)

ON = datetime.date(2026, 3, 10)


def born(years: int, *, days_later: int = 0) -> datetime.date:
    """A date of birth `years` before ON (then `days_later` days after that)."""
    return ON.replace(year=ON.year - years) + datetime.timedelta(days=days_later)


def test_the_taxonomy_splits_basic_needs_and_names_self_harm():
    assert {"self_harm", "basic_needs_food", "basic_needs_housing"} <= CONCERN_CODES
    assert {"basic_needs_clothing", "basic_needs_medical", "other"} <= CONCERN_CODES
    assert "basic_needs" not in CONCERN_CODES


def test_payment_codes_are_the_directorys_plus_uninsured_and_unknown():
    assert set(Payment.values) | {"uninsured", "unknown"} == PAYMENT_CODES


def test_identifiable_fields_are_the_mous_shared_fields():
    assert {code for code, _label in SHARED_FIELDS} == IDENTIFIABLE_FIELD_CODES


def test_a_guardian_may_always_consent():
    applied = consent_rule("guardian", date_of_birth=born(8), self_consent_age=13, on=ON)
    assert (applied.rule, applied.age) == ("guardian", None)


@pytest.mark.parametrize(
    ("date_of_birth", "expected"),
    [
        (born(13, days_later=1), None),  # 12, a day before the 13th birthday: below
        (born(13), ("self_consent", 13)),  # the 13th birthday: at
        (born(15), ("self_consent", 13)),  # above
        (born(17, days_later=1), ("self_consent", 13)),
        (born(18), ("adult", 18)),  # 18: the student's own rights
        (None, None),  # no date of birth on file: nothing to check the age against
    ],
)
def test_a_student_consents_from_the_districts_age_or_at_18(date_of_birth, expected):
    applied = consent_rule("student", date_of_birth=date_of_birth, self_consent_age=13, on=ON)
    assert (applied and (applied.rule, applied.age)) == expected


def test_where_the_district_age_is_18_no_minor_consents_alone():
    assert consent_rule("student", date_of_birth=born(17), self_consent_age=18, on=ON) is None
    assert consent_rule("student", date_of_birth=born(18), self_consent_age=18, on=ON).rule == (
        "adult"
    )


def test_a_29_february_birthday_counts_on_1_march():
    leap = datetime.date(2008, 2, 29)
    assert age_on(leap, datetime.date(2026, 2, 28)) == 17
    assert age_on(leap, datetime.date(2026, 3, 1)) == 18


# The shape of language codes: tests/core/test_languages.py (core.languages).


def test_a_form_is_known_by_its_content_not_its_name():
    assert form_content_type(b"%PDF-1.7 ...") == "application/pdf"
    assert form_content_type(b"\xff\xd8\xff\xe0 JFIF") == "image/jpeg"
    assert form_content_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert form_content_type(b"MZ\x90\x00 a program called consent.pdf") is None
