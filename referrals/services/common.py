"""What the referral services share: a partner that takes referrals, the school limit, the
student lock."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from partnerships.models import Intake, Partner
from schools.models import Membership, Student
from schools.selectors import limited_school_ids

# A partner on a waitlist still takes referrals (the student waits); a closed one does not.
TAKING_REFERRALS = frozenset({Intake.ACCEPTING, Intake.WAITLIST})


def takes_referrals(partner: Partner) -> bool:
    return partner.active and partner.intake in TAKING_REFERRALS


def in_my_schools(membership: Membership, school_id: int) -> bool:
    """The membership works with this school's students (every school when not limited)."""
    allowed = limited_school_ids(membership)
    return allowed is None or school_id in allowed


def require_my_school(membership: Membership, school_id: int) -> None:
    """For a row acted on: a school-limited member acts only on their schools' students."""
    if not in_my_schools(membership, school_id):
        raise PermissionDenied


def lock_student(student_id: int, district_id: int) -> None:
    """Lock the student's row: a send under a consent (referral_send) and the consent's
    revocation (consent_revoke) both take it first, so they never cross."""
    Student.objects.select_for_update(no_key=True).filter(
        district_id=district_id, pk=student_id
    ).first()
