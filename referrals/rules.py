"""The referral's vocabularies and the consent rules: what models, services and pages agree on.

Pure: no queries and no service here, so selectors, services and forms all import it.

- Concerns: the shipped taxonomy (CONCERN_TAXONOMY); a district adds its own as
  ConcernCategory rows (referrals.selectors.concern_categories gives both).
- Urgency, and how the family pays (the directory's payment codes plus "uninsured" and
  "unknown").
- The identifiable fields a referral may carry to a partner: the MOU's shared-field codes
  (partnerships.mou_rules.SHARED_FIELDS), so a consent, an MOU and a referral name the
  same records.
- Who may consent to a disclosure (RULES.md, "Consent to disclose"): a parent or guardian
  always; the student from 18 ("adult"), or from the district's self-consent age
  ("self_consent"). The rule and the age applied are stored with the consent.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from partnerships.models import Payment
from partnerships.mou_rules import SHARED_FIELD_LABELS, SHARED_FIELDS

# --- Concerns -------------------------------------------------------------------------------

CONCERN_TAXONOMY: list[tuple[str, str]] = [
    ("anxiety", _("Anxiety")),
    ("depression", _("Depression")),
    ("self_harm", _("Suicidal thoughts or self-harm")),
    ("trauma", _("Trauma")),
    ("grief", _("Grief")),
    ("behavior", _("Behavior")),
    ("attendance", _("Attendance")),
    ("substance_use", _("Substance use")),
    ("family_conflict", _("Family conflict")),
    ("bullying", _("Bullying")),
    ("basic_needs_food", _("Basic needs: food")),
    ("basic_needs_housing", _("Basic needs: housing")),
    ("basic_needs_clothing", _("Basic needs: clothing")),
    ("basic_needs_medical", _("Basic needs: medical care")),
    ("other", _("Other")),
]
CONCERN_CODES = frozenset(code for code, _label in CONCERN_TAXONOMY)


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


# --- How the family pays --------------------------------------------------------------------

PAYMENT_CHOICES: list[tuple[str, str]] = [
    *Payment.choices,
    ("uninsured", _("Uninsured")),
    ("unknown", _("Not known")),
]
PAYMENT_CODES = frozenset(code for code, _label in PAYMENT_CHOICES)

# --- Identifiable fields --------------------------------------------------------------------

# The student record fields a referral may carry to a partner; a consent names some of them.
IDENTIFIABLE_FIELDS = SHARED_FIELDS
IDENTIFIABLE_FIELD_CODES = frozenset(code for code, _label in SHARED_FIELDS)
IDENTIFIABLE_FIELD_LABELS = SHARED_FIELD_LABELS

# Records that come from a partner's substance use treatment program (42 CFR Part 2) are
# never disclosed onward. None of the fields above comes from a partner: they are the
# school's own records. The outcomes partners report (the referral loop, a later issue)
# will be the first such records; they must be added here, and referral_send refuses them.
PART2_FIELD_CODES: frozenset[str] = frozenset()

# --- The family's language ------------------------------------------------------------------

# An ISO 639 code ("es", "hmn", "es-mx"): read and checked by core.languages, the one way
# Trellis reads a language (normalize_code, is_known, CODE_MAX).


# --- Consent --------------------------------------------------------------------------------


class ConsenterKind(models.TextChoices):
    GUARDIAN = "guardian", _("Parent or guardian")
    STUDENT = "student", _("Student")


class ConsentRule(models.TextChoices):
    """Under which rule the person who signed may consent."""

    GUARDIAN = "guardian", _("Parent or guardian")
    ADULT = "adult", _("Student aged 18 or older")
    SELF_CONSENT = "self_consent", _("Student at or above the district's self-consent age")


class ConsentMethod(models.TextChoices):
    SIGNED_FORM = "signed_form", _("Signed form, uploaded")
    ELECTRONIC = "electronic", _("Signed electronically")


# FERPA rights pass to the student at 18 (34 CFR 99.5).
AGE_OF_MAJORITY = 18


def age_on(date_of_birth: datetime.date, on: datetime.date) -> int:
    """Whole years between the date of birth and `on` (29 February birthdays on 1 March)."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


@dataclass(frozen=True)
class AppliedRule:
    rule: str
    # The age threshold applied: 18 for "adult", the district's for "self_consent", None for
    # a guardian (who may always consent).
    age: int | None


def consent_rule(
    consenter_kind: str,
    *,
    date_of_birth: datetime.date | None,
    self_consent_age: int,
    on: datetime.date,
) -> AppliedRule | None:
    """The rule under which the consenter may consent on `on`, or None when none allows it.

    A guardian always may. The student may from 18 ("adult"), or from the district's
    self-consent age when that is lower ("self_consent"); never without a known date of
    birth.
    """
    if consenter_kind == ConsenterKind.GUARDIAN:
        return AppliedRule(ConsentRule.GUARDIAN, None)
    if consenter_kind != ConsenterKind.STUDENT or date_of_birth is None:
        return None
    age = age_on(date_of_birth, on)
    if age >= AGE_OF_MAJORITY:
        return AppliedRule(ConsentRule.ADULT, AGE_OF_MAJORITY)
    if self_consent_age < AGE_OF_MAJORITY and age >= self_consent_age:
        return AppliedRule(ConsentRule.SELF_CONSENT, self_consent_age)
    return None


# --- Uploaded consent forms -----------------------------------------------------------------

FORM_MAX_BYTES = 10 * 1024 * 1024

# What a form's first bytes must be; the content type stored is the one the content shows,
# never the one the browser claimed.
FORM_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]


def form_content_type(data: bytes) -> str | None:
    """The content type of a PDF, JPEG or PNG file by its content; None for anything else."""
    for signature, content_type, _extension in FORM_SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


# An emergency override needs the threat in words: at least this many characters.
THREAT_MIN_CHARS = 20
