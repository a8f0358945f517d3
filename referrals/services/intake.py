"""The partner's side of a referral without an account: the intake contact's email with a
signed, expiring link, and the one-time code that shows the student information the
consent and the MOU allow. (Issue 14, part 2.)

- `intake_notify` (called by referral_send): each intake contact of the receiving partner
  (with an address, not unsubscribed) gets one email in their language: the referral's
  reference, the district and school, the urgency, and a link of their own
  (INTAKE_LINK, valid INTAKE_LINK_VALID_FOR). Never the student's name or anything about
  their health. A partner with no intake contact gets no mail (the link names a contact).
- The link names the district, the referral and the contact. It works only while its
  signature and age hold, the contact still exists, still has the intake role and still
  belongs to the referral's partner (a referral sent again, or to another partner, leaves
  the old partner's links dead), and the referral is neither a draft nor withdrawn
  (`intake_access`).
- The one-time code (`intake_send_code`, `intake_check_code`): six digits from `secrets`,
  emailed to the contact's own address and nowhere else, valid INTAKE_CODE_VALID_FOR;
  only its hash is kept (one IntakeCode row per referral and contact, locked while it is
  used). Asking again while a code is fresh sends nothing unless the person asks for a
  new one; at most INTAKE_CODE_SENDS_MAX codes; INTAKE_CODE_ATTEMPTS_MAX wrong codes lock
  the code for good (IntakeLocked). The view remembers a right code in the browser's
  session for INTAKE_VERIFIED_FOR.

Steps from the link go through referrals.services.loop.referral_step with
Actor(contact=...), which records them with `by_contact`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.codes import clean_code, code_hash, code_matches, new_code
from core.mail import language_code, recipient_language, send_templated
from core.signed import SignedLink, payload_id
from partnerships.models import Contact, ContactRole
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from referrals.models import (
    INTAKE_CODE_ATTEMPTS_MAX,
    INTAKE_CODE_SENDS_MAX,
    INTAKE_CODE_VALID_FOR,
    INTAKE_LINK_VALID_FOR,
    Disclosure,
    IntakeCode,
    Referral,
    ReferralStatus,
)
from referrals.rules import Urgency

INTAKE_SALT = "trellis.referrals.intake"

# Names the referral and the contact it was mailed to; expires after INTAKE_LINK_VALID_FOR.
INTAKE_LINK = SignedLink(
    salt=INTAKE_SALT,
    fields={"d": payload_id, "r": payload_id, "c": payload_id},
    max_age=INTAKE_LINK_VALID_FOR,
    url_name="intake",
)

# A link never opens a draft (not sent yet) or a withdrawn referral.
CLOSED_TO_LINKS = (ReferralStatus.DRAFT, ReferralStatus.WITHDRAWN)


class IntakeLocked(Exception):
    """Too many wrong codes for this referral and contact: no code is sent or taken any
    more (accepting or declining from the link still works)."""


# --- The link --------------------------------------------------------------------------------


def intake_token(referral: Referral, contact: Contact) -> str:
    return INTAKE_LINK.make(d=referral.district_id, r=referral.pk, c=contact.pk)


def intake_url(referral: Referral, contact: Contact) -> str:
    """The contact's signed link to the referral's intake page, on SITE_URL."""
    return INTAKE_LINK.url(d=referral.district_id, r=referral.pk, c=contact.pk)


@dataclass(frozen=True)
class IntakeClaim:
    district_id: int
    referral_id: int
    contact_id: int

    @property
    def session_key(self) -> str:
        """Where a browser's verification for this referral and contact is kept."""
        return f"trellis.intake.{self.district_id}.{self.referral_id}.{self.contact_id}"


def intake_claim(token: str) -> IntakeClaim:
    """What a link names. Raises core.signed.BadLink for a tampered, cut or forged link, and
    core.signed.ExpiredLink (a BadLink) for one older than INTAKE_LINK_VALID_FOR."""
    data = INTAKE_LINK.read(token)
    return IntakeClaim(data["d"], data["r"], data["c"])


@dataclass(frozen=True)
class IntakeAccess:
    referral: Referral
    contact: Contact

    @property
    def district(self):
        return self.referral.district


def intake_access(claim: IntakeClaim) -> IntakeAccess | None:
    """The referral and contact a verified claim names, if the link still works for them;
    None otherwise. Call inside work_in_district(claim.district_id); two queries.

    The referral must be sent (not a draft, not withdrawn); the contact must exist, have the
    intake role, and belong to the partner the referral is with now.
    """
    referral = (
        Referral.objects.for_district(claim.district_id)
        .select_related("district", "school", "partner")
        .filter(pk=claim.referral_id)
        .first()
    )
    if referral is None or referral.status in CLOSED_TO_LINKS or referral.partner_id is None:
        return None
    contact = (
        Contact.objects.for_district(claim.district_id)
        .filter(pk=claim.contact_id, partner_id=referral.partner_id)
        .first()
    )
    if contact is None or ContactRole.INTAKE not in (contact.roles or []):
        return None
    return IntakeAccess(referral, contact)


def intake_consent_revoked(referral: Referral) -> bool:
    """A consent the referral's disclosure to its partner relied on was revoked: the link
    then shows nothing of the student and takes no step (the school decides what follows).
    One query."""
    return (
        Disclosure.objects.for_district(referral.district_id)
        .filter(
            referral_id=referral.pk,
            partner_id=referral.partner_id,
            consent__revocation__isnull=False,
        )
        .exists()
    )


# --- The email -------------------------------------------------------------------------------


def intake_contacts(referral: Referral) -> list[Contact]:
    """The partner's intake contacts who receive mail, one per address, oldest first."""
    contacts = mailable(
        Contact.objects.for_district(referral.district_id).filter(
            partner_id=referral.partner_id, roles__contains=[ContactRole.INTAKE]
        )
    ).order_by("pk")
    chosen: dict[str, Contact] = {}
    for contact in contacts:
        chosen.setdefault(contact.email.strip().lower(), contact)
    return list(chosen.values())


def intake_notify(referral: Referral, *, contacts: list[Contact] | None = None) -> int:
    """Email each intake contact of the referral's partner that a referral arrived (no
    student details, a signed link). Returns how many were queued.

    Each contact gets a link of their own, in their language, with the one-click
    unsubscribe. A partner without an intake contact who receives mail gets none: the link
    must name the contact the code will go to (the partner's general address is no one's).
    """
    if referral.partner_id is None or referral.status in CLOSED_TO_LINKS:
        return 0
    district = referral.district
    expires_at = timezone.now() + INTAKE_LINK_VALID_FOR
    queued = 0
    for contact in intake_contacts(referral) if contacts is None else contacts:
        send_templated(
            "referrals/email/intake_referral",
            to=contact.email,
            context={
                "reference": referral.reference,
                "district_name": district.name,
                "school_name": referral.school.name,
                "partner_name": referral.partner.name,
                # Lazy: rendered in the contact's language.
                "urgency": Urgency(referral.urgency).label,
                "urgent": referral.urgency != Urgency.ROUTINE,
                "link": intake_url(referral, contact),
                "expires_at": expires_at,
                "code_minutes": _minutes(INTAKE_CODE_VALID_FOR),
            },
            language=recipient_language(contact, district),
            district=district,
            unsubscribe_url=unsubscribe_url(contact),
        )
        queued += 1
    return queued


def _minutes(delta) -> int:
    return int(delta.total_seconds() // 60)


# --- The one-time code -----------------------------------------------------------------------


def _locked_code(referral: Referral, contact: Contact) -> IntakeCode:
    """The referral and contact's code row (made the first time), locked until the
    transaction ends: two tabs asking or entering a code wait for each other."""
    IntakeCode.objects.get_or_create(
        district_id=referral.district_id, referral_id=referral.pk, contact_id=contact.pk
    )
    return IntakeCode.objects.select_for_update().get(
        district_id=referral.district_id, referral_id=referral.pk, contact_id=contact.pk
    )


def intake_code_state(referral: Referral, contact: Contact) -> IntakeCode | None:
    """The code row as it is now (unlocked, for the page), or None before any code."""
    return (
        IntakeCode.objects.for_district(referral.district_id)
        .filter(referral_id=referral.pk, contact_id=contact.pk)
        .first()
    )


def code_is_locked(row: IntakeCode | None) -> bool:
    return row is not None and row.code_attempts >= INTAKE_CODE_ATTEMPTS_MAX


def code_is_fresh(row: IntakeCode | None, now=None) -> bool:
    return (
        row is not None
        and bool(row.code_hash)
        and row.code_sent_at is not None
        and (now or timezone.now()) < row.code_sent_at + INTAKE_CODE_VALID_FOR
    )


def _bound_to(row: IntakeCode) -> str:
    # The referral and the contact: a hash copied to another row proves nothing.
    return f"{row.referral_id}:{row.contact_id}"


@transaction.atomic
def intake_send_code(
    *, referral: Referral, contact: Contact, language: str, resend: bool = False
) -> bool:
    """Email a one-time code to the contact's own address (and no other), in `language`.

    True when a code was sent. While the last code is fresh, asking again sends nothing
    unless `resend` (the "send a new code" button). Refused (ValidationError on "code")
    when the contact has no address or unsubscribed, or INTAKE_CODE_SENDS_MAX codes were
    sent; IntakeLocked after too many wrong codes.
    """
    row = _locked_code(referral, contact)
    if code_is_locked(row):
        raise IntakeLocked
    now = timezone.now()
    if code_is_fresh(row, now) and not resend:
        return False
    district = referral.district
    if not (contact.email or "").strip() or contact.unsubscribed_at is not None:
        raise ValidationError(
            {
                "code": [
                    _(
                        "We cannot email you a code: %(district)s has no address for you that "
                        "receives mail from Trellis. Ask %(district)s to update your contact "
                        "details."
                    )
                    % {"district": district.name}
                ]
            }
        )
    if row.code_sends >= INTAKE_CODE_SENDS_MAX:
        raise ValidationError(
            {
                "code": [
                    _(
                        "We have sent the most codes we can for this referral. Contact "
                        "%(district)s, or sign in to Trellis if your organization has an "
                        "account."
                    )
                    % {"district": district.name}
                ]
            }
        )
    code = new_code()
    row.code_hash = code_hash(_bound_to(row), code)
    row.code_sent_at = now
    row.code_sends += 1
    row.save(update_fields=["code_hash", "code_sent_at", "code_sends", "updated_at"])
    send_templated(
        "referrals/email/intake_code",
        to=contact.email,
        context={
            "code": code,
            "reference": referral.reference,
            "district_name": district.name,
            "minutes": _minutes(INTAKE_CODE_VALID_FOR),
        },
        # The page's language (the contact chose it there), else the contact's own.
        language=language_code(language) or recipient_language(contact, district),
        district=district,
        unsubscribe_url=unsubscribe_url(contact),
    )
    return True


def intake_check_code(*, referral: Referral, contact: Contact, code) -> None:
    """Take the code the contact typed: returns when it is right (and spends it).

    A wrong code is counted (and stays counted although the check is refused); at
    INTAKE_CODE_ATTEMPTS_MAX the code is locked for good (IntakeLocked), and even the right
    code is then refused. Other refusals are ValidationErrors on "code": no code asked
    for yet, not six digits, expired.
    """
    errors: dict[str, list[str]] = {}
    now_locked = False
    with transaction.atomic():
        row = _locked_code(referral, contact)
        if code_is_locked(row):
            raise IntakeLocked
        now = timezone.now()
        digits = clean_code(code)
        if not row.code_hash or row.code_sent_at is None:
            errors["code"] = [_("First ask for a code: we will email it to you.")]
        elif digits is None:
            errors["code"] = [_("Enter the 6-digit code from the email.")]
        elif not code_is_fresh(row, now):
            errors["code"] = [_("This code has expired. Ask for a new code.")]
        elif not code_matches(_bound_to(row), digits, row.code_hash):
            row.code_attempts += 1
            row.save(update_fields=["code_attempts", "updated_at"])
            left = INTAKE_CODE_ATTEMPTS_MAX - row.code_attempts
            if left <= 0:
                now_locked = True
            else:
                errors["code"] = [
                    ngettext(
                        "That code is not right. You can try %(count)s more time.",
                        "That code is not right. You can try %(count)s more times.",
                        left,
                    )
                    % {"count": left}
                ]
        if not errors and not now_locked:
            row.code_hash = ""  # spent: a code opens one browser
            row.save(update_fields=["code_hash", "updated_at"])
            return
    # Outside the block: the wrong code counted above stays counted.
    if now_locked:
        raise IntakeLocked
    raise ValidationError(errors)


# A contact whose link expired asks for a new one at most this many times a day (per
# referral): the mail goes only to their own address, but a script must not flood it.
RENEWALS_PER_DAY = 3


def intake_renew(claim: IntakeClaim) -> bool:
    """Email a fresh link to the contact an expired link named, if that link would still
    work for them (intake_access) and the referral is still with the partner. Call inside
    work_in_district(claim.district_id). False when refused (or over RENEWALS_PER_DAY);
    the page says the same either way, so it tells a stranger nothing."""
    from django.core.cache import cache

    from referrals.models import WITH_PARTNER_STATUSES

    access = intake_access(claim)
    if access is None or access.referral.status not in WITH_PARTNER_STATUSES:
        return False
    if not mailable(Contact.objects.filter(pk=access.contact.pk)).exists():
        return False
    key = f"intake-renew:{claim.district_id}:{claim.referral_id}:{claim.contact_id}"
    cache.add(key, 0, timeout=24 * 3600)
    if cache.incr(key) > RENEWALS_PER_DAY:
        return False
    return intake_notify(access.referral, contacts=[access.contact]) == 1
