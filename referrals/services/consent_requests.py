"""Electronic consent (34 CFR 99.30(d)): the guardian signs through a link and a one-time code.

- `consent_request_create`: the care team asks the guardian on the student's record, by
  email, to consent to what a referral would share. The address is the one on the record,
  copied to the request; the mail says only that the school asks for a consent, with the
  link (no student name, no partner, no health details).
- The link (CONSENT_REQUEST_LINK) names the request; the request row decides whether it
  still works (CONSENT_REQUEST_VALID_FOR), so a link is refused once the request is
  signed, replaced, locked or expired.
- `consent_request_send_code`: a six-digit code from `secrets`, to the same address and
  nowhere else, valid CONSENT_CODE_VALID_FOR; only its hash is kept. Asking again while
  a code is fresh sends nothing (a double click is one mail) unless the person asks for a
  new code; at most CONSENT_CODE_SENDS_MAX codes per request.
- `consent_request_sign`: the code (compared by the password hasher, in constant time),
  the signer's typed name and "I agree" make one Consent (method electronic, the verified
  address, IP address and browser) and mark the request signed, in one transaction on the
  locked row: two tabs never both sign, and a code is never used twice. Wrong codes are
  counted across every code of the request; at CONSENT_CODE_ATTEMPTS_MAX the request is
  locked, and even the right code is then refused.

There is no SMS gateway in Trellis: the code goes by email only.

Refusals are ValidationErrors keyed by the form field they concern; a request that can no
longer be signed raises ConsentRequestClosed with its state; acting without the capability,
or on another district's row, is PermissionDenied.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.codes import clean_code, code_hash, code_matches, new_code
from core.mail import absolute_url, language_code, recipient_language, send_templated
from core.signed import BadLink, SignedLink, payload_id
from partnerships.selectors.categories import service_labels
from referrals.models import (
    CONSENT_CODE_ATTEMPTS_MAX,
    CONSENT_CODE_SENDS_MAX,
    CONSENT_CODE_VALID_FOR,
    CONSENT_REQUEST_VALID_FOR,
    Consent,
    ConsentRequest,
    ConsentRequestState,
    ConsentRequestStatus,
    Referral,
    ReferralStatus,
)
from referrals.rules import (
    IDENTIFIABLE_FIELD_CODES,
    ConsenterKind,
    ConsentMethod,
    consent_rule,
)
from referrals.services.common import lock_student, require_my_school, takes_referrals
from schools.capabilities import require
from schools.models import Membership, Student
from schools.tenancy import require_same_district

CONSENT_REQUEST_SALT = "trellis.referrals.consent-request"

# No timestamp: the request row carries the expiry, and a signed or replaced request
# refuses its link whatever the link's age.
CONSENT_REQUEST_LINK = SignedLink(
    salt=CONSENT_REQUEST_SALT,
    fields={"d": payload_id, "r": payload_id},
    timestamped=False,
    url_name="econsent",
)

PURPOSE_MAX = 2000
USER_AGENT_MAX = 300


class ConsentRequestClosed(Exception):
    """The request can no longer be signed or sent a code: `state` says why
    (ConsentRequestState: signed, cancelled, expired or locked)."""

    def __init__(self, state: str):
        super().__init__(f"consent request {state}")
        self.state = state


# --- The link --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequestClaim:
    district_id: int
    request_id: int


def consent_request_token(consent_request: ConsentRequest) -> str:
    return CONSENT_REQUEST_LINK.make(d=consent_request.district_id, r=consent_request.pk)


def consent_request_url(consent_request: ConsentRequest) -> str:
    """The guardian's link, on SITE_URL, opening in the request's language."""
    link = CONSENT_REQUEST_LINK.url(d=consent_request.district_id, r=consent_request.pk)
    return f"{link}?lang={consent_request.language}"


def consent_request_claim(token: str) -> ConsentRequestClaim | None:
    """What a link names if its signature holds and its payload passes its checks; None for
    a tampered, cut or forged link."""
    try:
        data = CONSENT_REQUEST_LINK.read(token)
    except BadLink:
        return None
    return ConsentRequestClaim(data["d"], data["r"])


def consent_request_for_claim(claim: ConsentRequestClaim) -> ConsentRequest | None:
    """The request a verified claim names, with what its page shows; call inside
    work_in_district(claim.district_id)."""
    return (
        ConsentRequest.objects.for_district(claim.district_id)
        .select_related("district", "student__school", "partner")
        .filter(pk=claim.request_id)
        .first()
    )


# --- Asking ----------------------------------------------------------------------------------


def family_language(student: Student, referral: Referral | None = None) -> str:
    """Spanish when the family reads Spanish (the referral's or the student's record), else
    English: the languages the consent page and its mail are written in."""
    for value in (getattr(referral, "family_language", ""), student.family_language):
        if language_code(value or "") == "es":
            return "es"
    return "en"


def default_valid_until(today: datetime.date) -> datetime.date:
    """The end of the school year (30 June) at least a month away: this year's, or the next."""
    end = datetime.date(today.year, 6, 30)
    if end < today + datetime.timedelta(days=30):
        end = datetime.date(today.year + 1, 6, 30)
    return end


def consent_request_initial(referral: Referral) -> dict:
    """What the request form starts from: the referral's fields, a purpose naming the
    referral, its partner and services, and the end of the school year."""
    district = referral.district
    labels = service_labels(district)
    services = ", ".join(labels.get(code, code) for code in referral.services or ())
    partner = referral.partner.name if referral.partner_id else _("the partner")
    if services:
        purpose = _("Referral %(reference)s to %(partner)s for %(services)s.") % {
            "reference": referral.reference,
            "partner": partner,
            "services": services,
        }
    else:
        purpose = _("Referral %(reference)s to %(partner)s.") % {
            "reference": referral.reference,
            "partner": partner,
        }
    return {
        "fields": [code for code in referral.shared_fields if code in IDENTIFIABLE_FIELD_CODES],
        "purpose": purpose,
        "valid_until": default_valid_until(district.today()),
    }


@transaction.atomic
def consent_request_create(
    *,
    by: Membership,
    referral: Referral,
    fields,
    purpose: str,
    valid_until: datetime.date,
) -> ConsentRequest:
    """Email the guardian on the student's record a link to consent electronically to what
    the referral would share with its partner.

    The referral must be of the member's district (and schools, for a school-limited
    member) and not withdrawn; its partner chosen and taking referrals; the records named
    from the list; a purpose written; valid_until today or later; a guardian email on the
    student's record. Earlier pending requests for the same student and partner are
    replaced (their links stop working), so only the newest link can be signed.
    """
    require(by, "consent.record")
    require_same_district(by, referral)
    require_my_school(by, referral.school_id)
    district = by.district
    today = district.today()
    lock_student(referral.student_id, referral.district_id)
    student = (
        Student.objects.for_district(by.district_id)
        .select_related("school")
        .get(pk=referral.student_id)
    )
    partner = referral.partner
    errors: dict[str, list[str]] = {}

    if referral.status == ReferralStatus.WITHDRAWN:
        errors[NON_FIELD_ERRORS] = [
            _("This referral was withdrawn: there is nothing to consent to.")
        ]
    if partner is None:
        errors["partner"] = [_("Choose the partner on the referral first.")]
    elif not takes_referrals(partner):
        errors["partner"] = [
            _("%(partner)s is not taking referrals now. Choose another partner.")
            % {"partner": partner.name}
        ]
    chosen = list(dict.fromkeys(str(code) for code in fields or ()))
    if not chosen:
        errors["fields"] = [_("Choose the records the family is asked to share.")]
    elif any(code not in IDENTIFIABLE_FIELD_CODES for code in chosen):
        errors["fields"] = [_("Choose the records from the list.")]
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = [_("Say what the records are shared for.")]
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = [
            _("Keep the purpose under %(count)s characters.") % {"count": PURPOSE_MAX}
        ]
    if isinstance(valid_until, datetime.datetime):
        valid_until = valid_until.date()
    if not isinstance(valid_until, datetime.date):
        errors["valid_until"] = [_("Give the last day the consent would be valid.")]
    elif valid_until < today:
        errors["valid_until"] = [_("The last day cannot be in the past.")]
    address = (student.guardian_email or "").strip()
    if not address:
        errors["guardian_email"] = [
            _(
                "The student's record has no guardian email, so the request cannot be sent. "
                "Record a signed consent form instead."
            )
        ]
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    ConsentRequest.objects.for_district(by.district_id).filter(
        student_id=student.pk, partner_id=partner.pk, status=ConsentRequestStatus.PENDING
    ).update(status=ConsentRequestStatus.CANCELLED, code_hash="", updated_at=now)
    consent_request = ConsentRequest.objects.create(
        district_id=by.district_id,
        student=student,
        partner=partner,
        referral=referral,
        fields=chosen,
        purpose=purpose,
        valid_until=valid_until,
        consenter_kind=ConsenterKind.GUARDIAN,
        sent_to=address,
        language=family_language(student, referral),
        requested_by=by,
        expires_at=now + CONSENT_REQUEST_VALID_FOR,
    )
    send_templated(
        "referrals/email/consent_request",
        to=address,
        context={
            "school_name": student.school.name,
            "district_name": district.name,
            "link": consent_request_url(consent_request),
            "expires_at": consent_request.expires_at,
        },
        language=consent_request.language,
        district=district,
    )
    return consent_request


# --- The one-time code -----------------------------------------------------------------------


def _locked(consent_request: ConsentRequest) -> ConsentRequest:
    """The request's row, locked until the transaction ends (two tabs wait for each other)."""
    return (
        ConsentRequest.objects.select_for_update(of=("self",))
        .select_related("district", "student__school", "partner", "requested_by__user")
        .get(district_id=consent_request.district_id, pk=consent_request.pk)
    )


@transaction.atomic
def consent_request_send_code(
    *, consent_request: ConsentRequest, language: str, resend: bool = False
) -> bool:
    """Email a one-time code to the request's address (and no other), in `language`.

    True when a code was sent. While the last code is fresh, asking again sends nothing
    unless `resend` (the "send a new code" button). Refused when the request is closed
    (ConsentRequestClosed) or CONSENT_CODE_SENDS_MAX codes were sent (ValidationError).
    """
    locked = _locked(consent_request)
    state = locked.state()
    if state != ConsentRequestState.PENDING:
        raise ConsentRequestClosed(state)
    now = timezone.now()
    if locked.code_is_fresh(now) and not resend:
        return False
    if locked.code_sends >= CONSENT_CODE_SENDS_MAX:
        raise ValidationError(
            {
                "code": [
                    _(
                        "We have sent the most codes we can for this request. Ask "
                        "%(school)s to send you a new request."
                    )
                    % {"school": locked.student.school.name}
                ]
            }
        )
    code = new_code()
    locked.code_hash = code_hash(str(locked.pk), code)
    locked.code_sent_at = now
    locked.code_sends += 1
    locked.save(update_fields=["code_hash", "code_sent_at", "code_sends", "updated_at"])
    send_templated(
        "referrals/email/consent_code",
        to=locked.sent_to,
        context={
            "code": code,
            "school_name": locked.student.school.name,
            "minutes": int(CONSENT_CODE_VALID_FOR.total_seconds() // 60),
        },
        # The page's language when Trellis speaks it (the guardian is reading it), else
        # the request's.
        language=language_code(language) or locked.language,
        district=locked.district,
    )
    consent_request.code_sent_at, consent_request.code_sends = now, locked.code_sends
    consent_request.code_hash = locked.code_hash
    return True


# --- Signing ---------------------------------------------------------------------------------


def _ip(value) -> str | None:
    """An address the column takes, or None (a malformed header is not an address)."""
    try:
        return str(ipaddress.ip_address(str(value or "").strip()))
    except ValueError:
        return None


def consent_request_sign(
    *,
    consent_request: ConsentRequest,
    code,
    signer_name: str,
    agree: bool,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Consent:
    """The guardian signs: one Consent, and the request marked signed, or nothing.

    Needs the fresh code sent to the request's address, the signer's typed name and their
    agreement. A wrong code is counted (kept even though the signing is refused); at
    CONSENT_CODE_ATTEMPTS_MAX the request is locked (ConsentRequestClosed "locked"). A
    request already signed, replaced, expired or locked raises ConsentRequestClosed; it
    never makes a second Consent.
    """
    errors: dict[str, list[str]] = {}
    now_locked = False
    with transaction.atomic():
        locked = _locked(consent_request)
        state = locked.state()
        if state != ConsentRequestState.PENDING:
            raise ConsentRequestClosed(state)
        now = timezone.now()
        name = (signer_name or "").strip()
        if not name:
            errors["name"] = [_("Type your full name.")]
        elif len(name) > 200:
            errors["name"] = [_("Type your name in at most 200 characters.")]
        if not agree:
            errors["agree"] = [_("Tick the box to say that you agree.")]
        digits = clean_code(code)
        if not locked.code_hash or locked.code_sent_at is None:
            errors["code"] = [_("First ask for a code: we will email it to you.")]
        elif digits is None:
            errors["code"] = [_("Enter the 6-digit code from the email.")]
        elif not locked.code_is_fresh(now):
            errors["code"] = [_("This code has expired. Ask for a new code.")]
        elif not code_matches(str(locked.pk), digits, locked.code_hash):
            locked.code_attempts += 1
            locked.save(update_fields=["code_attempts", "updated_at"])
            left = CONSENT_CODE_ATTEMPTS_MAX - locked.code_attempts
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
            return _sign(locked, name=name, now=now, ip_address=ip_address, user_agent=user_agent)
    # Outside the block: the wrong code counted above stays counted.
    if now_locked:
        raise ConsentRequestClosed(ConsentRequestState.LOCKED)
    raise ValidationError(errors)


def _sign(locked: ConsentRequest, *, name, now, ip_address, user_agent) -> Consent:
    district = locked.district
    student = locked.student
    applied = consent_rule(
        locked.consenter_kind,
        date_of_birth=student.date_of_birth,
        self_consent_age=district.student_self_consent_age,
        on=district.today(),
    )
    consent = Consent.objects.create(
        district_id=locked.district_id,
        student=student,
        partner=locked.partner,
        fields=list(locked.fields),
        purpose=locked.purpose,
        consenter_kind=locked.consenter_kind,
        consenter_name=name[:200],
        rule=applied.rule,
        rule_age=applied.age,
        method=ConsentMethod.ELECTRONIC,
        signed_at=now,
        valid_until=locked.valid_until,
        recorded_by=None,
        verified_address=locked.sent_to,
        ip_address=_ip(ip_address),
        user_agent=str(user_agent or "")[:USER_AGENT_MAX],
    )
    locked.status = ConsentRequestStatus.SIGNED
    locked.consent = consent
    locked.signed_at = now
    locked.code_hash = ""  # spent
    locked.save(update_fields=["status", "consent", "signed_at", "code_hash", "updated_at"])
    _tell_requester(locked, consent)
    return consent


def _tell_requester(locked: ConsentRequest, consent: Consent) -> None:
    """Mail the member who asked (if still active): the referral's reference and the
    partner, never the student's name."""
    member = locked.requested_by
    if not member.active or not member.user.email:
        return
    district = locked.district
    link = ""
    if locked.referral_id:
        link = absolute_url(reverse("referral_detail", args=[district.slug, locked.referral_id]))
    send_templated(
        "referrals/email/consent_signed",
        to=member.user.email,
        context={
            "reference": f"R-{locked.referral_id}" if locked.referral_id else consent.reference,
            "consent_reference": consent.reference,
            "partner_name": locked.partner.name,
            "school_name": locked.student.school.name,
            "link": link,
        },
        language=recipient_language(member, district),
        district=district,
    )
