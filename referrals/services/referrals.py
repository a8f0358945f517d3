"""Referrals: made by the school's care team, sent to a partner only on a lawful basis.

- `referral_create` records a draft. Submitting the same form twice (its submission key)
  makes one referral.
- `referral_send` sends a draft. A referral that carries identifiable student information
  (`shared_fields`) needs a signed consent that covers the partner and every field
  (34 CFR 99.30), or a health or safety emergency declared for this very referral
  (99.36); each such send writes exactly one Disclosure row (99.32). A de-identified
  consultation (no shared fields) needs neither and is not a disclosure.
- `emergency_override_declare` writes the threat down for one referral.

Refusals are ValidationErrors keyed by the form field they concern ("__all__" where none
does); acting without the capability, or on another district's row, is PermissionDenied.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.languages import is_known, normalize_code
from partnerships.models import Contact, ContactRole, Partner
from partnerships.selectors.categories import service_categories
from partnerships.services.unsubscribe import mailable
from referrals.models import (
    Disclosure,
    DisclosureBasis,
    EmergencyOverride,
    Referral,
    ReferralStatus,
    StepKind,
)
from referrals.rules import (
    IDENTIFIABLE_FIELD_CODES,
    PART2_FIELD_CODES,
    PAYMENT_CODES,
    THREAT_MIN_CHARS,
    Urgency,
)
from referrals.selectors import concern_categories, covering_consent
from referrals.services import intake, loop
from referrals.services.common import (
    in_my_schools,
    lock_student,
    require_my_school,
    takes_referrals,
)
from schools.capabilities import require
from schools.models import Membership, School, Student
from schools.tenancy import outside, require_same_district

# What referral_create takes besides the student, school, partner and submission key.
REFERRAL_FIELDS = (
    "concerns",
    "urgency",
    "services",
    "family_language",
    "interpreter_needed",
    "payment",
    "availability",
    "telehealth_ok",
    "shared_fields",
    "confidential_notes",
)


def _codes(values, known: set | frozenset) -> tuple[list[str], list[str]]:
    """(the codes in order without repeats, the ones not known)."""
    seen: list[str] = []
    for value in values or ():
        value = str(value)
        if value not in seen:
            seen.append(value)
    return seen, [value for value in seen if value not in known]


def _submission_key(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _partner_error(partner: Partner) -> str | None:
    if not takes_referrals(partner):
        return _("%(partner)s is not taking referrals now. Choose another partner.") % {
            "partner": partner.name
        }
    return None


def _clean_fields(by: Membership, fields: dict) -> tuple[dict, dict]:
    """The referral's details checked: (values, errors keyed by field)."""
    unknown = set(fields) - set(REFERRAL_FIELDS)
    if unknown:
        raise ValueError(f"not referral fields: {sorted(unknown)}")
    district = by.district
    errors: dict[str, list[str]] = {}
    values: dict = {}

    concerns, bad = _codes(fields.get("concerns"), {c for c, _l in concern_categories(district)})
    if bad:
        errors["concerns"] = [_("Choose concerns from the list.")]
    elif not concerns:
        errors["concerns"] = [_("Choose at least one concern.")]
    values["concerns"] = concerns

    urgency = fields.get("urgency", Urgency.ROUTINE)
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Choose routine, urgent or emergency.")]
    values["urgency"] = urgency

    services, bad = _codes(fields.get("services"), {c for c, _l in service_categories(district)})
    if bad:
        errors["services"] = [_("Choose services from the list.")]
    values["services"] = services

    payment, bad = _codes(fields.get("payment"), PAYMENT_CODES)
    if bad:
        errors["payment"] = [_("Choose how the family pays from the list.")]
    values["payment"] = payment

    language = normalize_code(str(fields.get("family_language") or ""))
    if language is None or (language and not is_known(language)):
        errors["family_language"] = [
            _("Give the language as an ISO 639 code, such as “es” for Spanish.")
        ]
    values["family_language"] = language or ""

    shared, bad = _codes(fields.get("shared_fields"), IDENTIFIABLE_FIELD_CODES)
    if bad:
        errors["shared_fields"] = [_("Choose the student information to share from the list.")]
    values["shared_fields"] = shared

    values["interpreter_needed"] = bool(fields.get("interpreter_needed", False))
    values["telehealth_ok"] = bool(fields.get("telehealth_ok", False))
    values["availability"] = str(fields.get("availability") or "").strip()
    values["confidential_notes"] = str(fields.get("confidential_notes") or "").strip()
    return values, errors


@transaction.atomic
def referral_create(
    *,
    by: Membership,
    student: Student,
    school: School,
    partner: Partner | None = None,
    submission_key,
    **fields,
) -> Referral:
    """Record a draft referral of a student of the member's schools, dated the district's today.

    The student must be enrolled at the school, both of the member's district (and schools,
    for a school-limited member); the partner, if chosen, of the district and taking
    referrals; concerns, services, payment and shared fields from their lists; the family's
    language an ISO 639 code. The same submission key returns the referral it already made.
    """
    require(by, "referrals.create")
    key = _submission_key(submission_key)
    if key is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This form is out of date. Reload the page and try again.")]}
        )
    existing = _submitted(by, key)
    if existing is not None:
        return existing

    errors: dict[str, list[str]] = {}
    if student is None or outside(by.district_id, student):
        errors["student"] = [_("Choose a student of your district.")]
    if school is None or outside(by.district_id, school):
        errors["school"] = [_("Choose a school of your district.")]
    elif not in_my_schools(by, school.pk):
        errors["school"] = [_("You can refer students of your own schools only.")]
    elif "student" not in errors and student.school_id != school.pk:
        errors["school"] = [_("The student is not enrolled at this school.")]
    if "student" not in errors and not student.active:
        errors["student"] = [_("The student is no longer enrolled.")]
    if outside(by.district_id, partner):
        errors["partner"] = [_("Choose one of your district's partners.")]
    elif partner is not None and (problem := _partner_error(partner)):
        errors["partner"] = [problem]
    values, field_errors = _clean_fields(by, fields)
    errors.update(field_errors)
    if errors:
        raise ValidationError(errors)

    try:
        with transaction.atomic():
            return Referral.objects.create(
                district_id=by.district_id,
                student=student,
                school=school,
                partner=partner,
                referred_by=by,
                owner=by,
                referred_on=by.district.today(),
                submission_key=key,
                **values,
            )
    except IntegrityError:
        # The same form, submitted twice at once: the other submission made it.
        existing = _submitted(by, key)
        if existing is None:
            raise
        return existing


def _submitted(by: Membership, key: uuid.UUID) -> Referral | None:
    """The referral a submission key already made; refused if someone else made it."""
    existing = Referral.objects.for_district(by.district_id).filter(submission_key=key).first()
    if existing is not None and existing.referred_by_id != by.pk:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This form was already submitted. Start a new referral.")]}
        )
    return existing


def _locked(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("student", "partner", "school")
        .get(district_id=referral.district_id, pk=referral.pk)
    )


@transaction.atomic
def emergency_override_declare(
    *, by: Membership, referral: Referral, threat: str
) -> EmergencyOverride:
    """Declare a health or safety emergency (34 CFR 99.36) for one draft referral.

    The threat must be written down (at least THREAT_MIN_CHARS characters); it lets this
    referral, and no other, be sent without consent. Administrators see every override.
    """
    require(by, "emergency.declare")
    require_same_district(by, referral)
    require_my_school(by, referral.school_id)
    threat = (threat or "").strip()
    locked = _locked(referral)
    if len(threat) < THREAT_MIN_CHARS:
        raise ValidationError(
            {
                "threat": [
                    _(
                        "Describe the threat to the student's or others' health or safety "
                        "(at least %(count)s characters)."
                    )
                    % {"count": THREAT_MIN_CHARS}
                ]
            }
        )
    if not locked.is_draft:
        raise ValidationError(
            {"threat": [_("This referral was already sent: an emergency can no longer apply.")]}
        )
    if EmergencyOverride.objects.for_district(by.district_id).filter(referral=locked).exists():
        raise ValidationError(
            {"threat": [_("An emergency is already declared for this referral.")]}
        )
    return EmergencyOverride.objects.create(
        district_id=by.district_id, referral=locked, threat=threat, declared_by=by
    )


def _recipient(partner: Partner) -> str:
    """The partner's name and intake addresses, as the disclosure log keeps them."""
    contacts = mailable(
        Contact.objects.for_district(partner.district_id)
        .filter(partner_id=partner.pk, roles__contains=[ContactRole.INTAKE])
        .order_by("pk")
    )
    addresses = list(dict.fromkeys(c.email.lower() for c in contacts)) or (
        [partner.email.lower()] if partner.email else []
    )
    return f"{partner.name} <{', '.join(addresses)}>" if addresses else partner.name


@transaction.atomic
def referral_send(*, by: Membership, referral: Referral) -> Referral:
    """Send a draft referral to its partner.

    The partner must be chosen and taking referrals. Identifiable fields go only under a
    consent that covers this student, partner and every field on the district's today and
    is not revoked, or under an emergency declared for this referral; never records under
    42 CFR Part 2. Writes exactly one Disclosure row with its basis; a de-identified
    consultation writes none.
    """
    require(by, "referrals.send")
    require_same_district(by, referral)
    require_my_school(by, referral.school_id)
    lock_student(referral.student_id, referral.district_id)  # see consent_revoke
    locked = _locked(referral)
    if not locked.is_draft:
        raise ValidationError({NON_FIELD_ERRORS: [_("This referral was already sent.")]})
    partner = locked.partner
    if partner is None:
        raise ValidationError({"partner": [_("Choose the partner to send the referral to.")]})
    if problem := _partner_error(partner):
        raise ValidationError({"partner": [problem]})

    disclosure = None
    if locked.shared_fields:
        if set(locked.shared_fields) & PART2_FIELD_CODES:
            raise ValidationError(
                {
                    "shared_fields": [
                        _(
                            "Records from a partner's substance use treatment program "
                            "(42 CFR Part 2) can never be passed on."
                        )
                    ]
                }
            )
        today = by.district.today()
        consent = covering_consent(
            student=locked.student, partner=partner, fields=locked.shared_fields, on=today
        )
        emergency = (
            None
            if consent is not None
            else EmergencyOverride.objects.for_district(by.district_id)
            .filter(referral=locked)
            .first()
        )
        if consent is None and emergency is None:
            raise ValidationError(
                {
                    "shared_fields": [
                        _(
                            "No signed consent on file covers %(partner)s and all of this "
                            "student information today. Record the family's consent, share "
                            "less, or send it as a de-identified consultation."
                        )
                        % {"partner": partner.name}
                    ]
                }
            )
        disclosure = Disclosure(
            district_id=by.district_id,
            student_id=locked.student_id,
            partner=partner,
            referral=locked,
            fields=list(locked.shared_fields),
            disclosed_by=by,
            recipient=_recipient(partner),
            part2=False,
        )
        if consent is not None:
            disclosure.basis = DisclosureBasis.CONSENT
            disclosure.consent = consent
            disclosure.purpose = consent.purpose
        else:
            disclosure.basis = DisclosureBasis.EMERGENCY
            disclosure.emergency = emergency
            disclosure.purpose = emergency.threat

    now = timezone.now()
    locked.status = ReferralStatus.SENT
    locked.sent_at = now
    locked.response_due_on = loop.response_due_on(locked, by.district.today())
    locked.save(update_fields=["status", "sent_at", "response_due_on", "updated_at"])
    if disclosure is not None:
        disclosure.disclosed_at = now
        disclosure.save()
    loop.record_step(
        locked,
        kind=StepKind.SENT,
        actor=loop.Actor(membership=by),
        from_status=ReferralStatus.DRAFT,
        to_status=ReferralStatus.SENT,
        detail={"due_on": locked.response_due_on.isoformat()},
        at=now,
    )
    # The partner's intake contacts hear of it: no student details, a signed link.
    intake.intake_notify(locked)
    return locked


@transaction.atomic
def referral_resend(*, by: Membership, referral: Referral, partner: Partner) -> Referral:
    """Send a declined referral again, to another partner, in one step.

    A new referral with the same details (and `resent_from` pointing at the declined one)
    is made for the partner. When a consent on file covers the new partner and every field
    shared (or nothing identifying is shared), it is sent at once; otherwise it stays a
    draft and the family is asked for consent by email (referrals.services.
    consent_requests); the counselor, told when they sign, sends it. Refused as a whole
    (nothing made) when neither works, such as no guardian email on the record.
    """
    require(by, "referrals.send")
    require_same_district(by, referral)
    require_my_school(by, referral.school_id)
    declined = _locked(referral)
    if declined.status != ReferralStatus.DECLINED:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Only a declined referral can be sent to another partner.")]}
        )
    if Referral.objects.for_district(by.district_id).filter(resent_from=declined).exists():
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This referral was already sent to another partner.")]}
        )
    if partner is None or outside(by.district_id, partner):
        raise ValidationError({"partner": [_("Choose one of your district's partners.")]})
    if partner.pk == declined.partner_id:
        raise ValidationError(
            {"partner": [_("Choose another partner than the one that declined.")]}
        )
    if problem := _partner_error(partner):
        raise ValidationError({"partner": [problem]})
    new = Referral.objects.create(
        district_id=by.district_id,
        student_id=declined.student_id,
        school_id=declined.school_id,
        partner=partner,
        referred_by=by,
        owner_id=declined.owner_id,
        referred_on=by.district.today(),
        submission_key=uuid.uuid4(),
        resent_from=declined,
        **{name: getattr(declined, name) for name in REFERRAL_FIELDS},
    )
    covered = new.is_consultation or (
        covering_consent(
            student=declined.student,
            partner=partner,
            fields=new.shared_fields,
            on=by.district.today(),
        )
        is not None
    )
    if covered:
        new = referral_send(by=by, referral=new)
    else:
        from referrals.services import consent_requests

        initial = consent_requests.consent_request_initial(new)
        consent_requests.consent_request_create(
            by=by,
            referral=new,
            fields=new.shared_fields,
            purpose=initial["purpose"],
            valid_until=initial["valid_until"],
        )
    loop.record_step(
        declined,
        kind=StepKind.RESENT,
        actor=loop.Actor(membership=by),
        from_status=declined.status,
        to_status=declined.status,
        detail={"referral": new.pk, "partner": partner.pk, "sent": covered},
    )
    return new
