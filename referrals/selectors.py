"""Reads of the referrals app: concerns, consents, the disclosure log, emergency overrides.

Each takes the viewer (or the district) and owns its joins, so a list costs the same few
queries at any length. A consent's uploaded form is never loaded by a list (`defer`).
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404

from referrals.models import (
    ConcernCategory,
    Consent,
    ConsentRevocation,
    Disclosure,
    EmergencyOverride,
    Referral,
    ReferralStatus,
)
from referrals.rules import CONCERN_TAXONOMY
from schools.capabilities import can, require
from schools.models import Membership, Role
from schools.selectors import in_membership_schools, limited_school_ids

# --- Concerns -------------------------------------------------------------------------------


def concern_categories(district) -> list[tuple[str, str]]:
    """(code, label) of every concern: the shipped taxonomy, then the district's own."""
    shipped = [(code, str(label)) for code, label in CONCERN_TAXONOMY]
    known = {code for code, _label in shipped}
    own = [
        (category.code, category.name)
        for category in ConcernCategory.objects.for_district(district).order_by("name")
        if category.code not in known
    ]
    return shipped + own


def concern_labels(district) -> dict[str, str]:
    return dict(concern_categories(district))


# --- Referrals ------------------------------------------------------------------------------


def referrals_visible_to(membership: Membership):
    """The referrals the membership may see: a partner only those sent to its organisation;
    staff those of their schools (every school when not limited). One query, no joins."""
    referrals = Referral.objects.for_district(membership.district_id)
    if not can(membership, "referrals.view"):
        return referrals.none()
    if membership.role == Role.PARTNER:
        return referrals.filter(partner_id=membership.partner_id, status=ReferralStatus.SENT)
    return referrals.filter(in_membership_schools(membership))


def access_referral(membership: Membership, pk: int) -> Referral:
    """A referral the membership may see, with its student, school and partner, or 404."""
    return get_object_or_404(
        referrals_visible_to(membership).select_related(
            "student", "school", "partner", "referred_by__user"
        ),
        pk=pk,
    )


def may_read_confidential_notes(membership: Membership, referral: Referral) -> bool:
    """Only the referring school's care team reads a referral's confidential notes: staff
    who work with students, in that school (or every school). Never a partner."""
    if membership is None or membership.district_id != referral.district_id:
        return False
    if not can(membership, "referrals.create") or membership.role == Role.PARTNER:
        return False
    allowed = limited_school_ids(membership)
    return allowed is None or referral.school_id in allowed


# --- Consents -------------------------------------------------------------------------------


def _day_after(on: datetime.date, district) -> datetime.datetime:
    """The first moment of the day after `on`, on the district's clock."""
    return datetime.datetime.combine(
        on + datetime.timedelta(days=1), datetime.time(0), tzinfo=district.time_zone
    )


def covering_consent(*, student, partner, fields, on: datetime.date) -> Consent | None:
    """The consent that allows disclosing `fields` of the student to the partner on `on`
    (the district's date), or None.

    It must name this student and this partner, be signed on or before `on`, still be valid
    on `on` (valid_until is the last day), name every field, and not be revoked. Verbal
    agreements are notes and never count. The latest signed qualifying consent wins.
    """
    fields = sorted(set(fields))
    if not fields or partner is None:
        return None
    return (
        Consent.objects.for_district(student.district_id)
        .filter(
            student_id=student.pk,
            partner_id=partner.pk,
            fields__contains=fields,
            signed_at__lt=_day_after(on, student.district),
            valid_until__gte=on,
        )
        .exclude(
            Exists(
                ConsentRevocation.objects.for_district(student.district_id).filter(
                    consent_id=OuterRef("pk")
                )
            )
        )
        .defer("form")
        .order_by("-signed_at", "-pk")
        .first()
    )


def consents_of(membership: Membership, student) -> list[Consent]:
    """The student's consents, newest first, with partner, revocation and who recorded them
    (without the forms). Two queries at most however many there are."""
    require(membership, "consent.record")
    return list(
        Consent.objects.for_district(membership.district_id)
        .filter(student_id=student.pk)
        .select_related("partner", "recorded_by__user", "revocation__recorded_by__user")
        .defer("form")
        .order_by("-signed_at", "-pk")
    )


def access_consent(membership: Membership, pk: int) -> Consent:
    """One consent of the district, with its form, for the care team; or 404."""
    require(membership, "consent.record")
    return get_object_or_404(
        Consent.objects.for_district(membership.district_id).select_related("student", "partner"),
        pk=pk,
    )


# --- The disclosure log and overrides -------------------------------------------------------


def student_disclosures(membership: Membership, student) -> list[Disclosure]:
    """Every disclosure of the student's records (FERPA 99.32), newest first: who received
    what, when, by whom, and the consent or emergency relied on. One query."""
    require(membership, "disclosures.view")
    return list(
        Disclosure.objects.for_district(membership.district_id)
        .filter(student_id=student.pk)
        .select_related(
            "partner", "disclosed_by__user", "referral", "emergency", "consent__revocation"
        )
        .defer("consent__form")
        .order_by("-disclosed_at", "-pk")
    )


def emergency_overrides(membership: Membership) -> list[EmergencyOverride]:
    """Every emergency override of the district, newest first, for administrators: the
    threat, who declared it, the referral, its student and partner. One query."""
    require(membership, "overrides.view")
    return list(
        EmergencyOverride.objects.for_district(membership.district_id)
        .select_related(
            "declared_by__user",
            "referral__student",
            "referral__school",
            "referral__partner",
        )
        .order_by("-declared_at", "-pk")
    )
