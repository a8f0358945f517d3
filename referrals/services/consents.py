"""Consent to disclose (34 CFR 99.30): recorded, revoked, and what never counts as one.

- `consent_record_form` records a signed consent form the school uploads: who consented
  and under which rule (a guardian always; the student from 18, or from the district's
  self-consent age, on the date signed), which records, for which partner and purpose,
  until when. The form is kept in the database, checked by content and size.
- `consent_revoke` ends a consent with a revocation row (consents are append-only) and
  tells the partner by mail, without the student's name.
- `verbal_agreement_record` writes a spoken agreement down as a note; it never allows a
  disclosure.

Refusals are ValidationErrors keyed by the form field they concern; acting without the
capability, or on another district's row, is PermissionDenied.
"""

from __future__ import annotations

import datetime
import os

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.mail import recipient_language, send_templated
from partnerships.models import Contact, ContactRole, Partner
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from referrals.models import (
    Consent,
    ConsentRevocation,
    Referral,
    VerbalAgreement,
)
from referrals.rules import (
    FORM_MAX_BYTES,
    IDENTIFIABLE_FIELD_CODES,
    ConsenterKind,
    ConsentMethod,
    consent_rule,
    form_content_type,
)
from referrals.selectors import covering_consent  # noqa: F401  (re-exported for callers)
from referrals.services.common import lock_student, require_my_school
from schools.capabilities import require
from schools.models import Membership, Student
from schools.tenancy import outside, require_same_district


def _read_form(form) -> tuple[bytes, str, str] | str:
    """(content, file name, content type) of an uploaded form, or the problem in words."""
    if form is None:
        return _("Upload the signed consent form.")
    size = getattr(form, "size", None)
    if size is not None and size > FORM_MAX_BYTES:
        return _too_large()
    if hasattr(form, "seek"):
        form.seek(0)
    data = form.read(FORM_MAX_BYTES + 1)
    if len(data) > FORM_MAX_BYTES:
        return _too_large()
    if not data:
        return _("The file is empty. Upload the signed consent form.")
    content_type = form_content_type(data)
    if content_type is None:
        return _("Upload the signed form as a PDF, JPEG or PNG file.")
    name = os.path.basename(str(getattr(form, "name", "") or "").replace("\\", "/"))
    return data, (name or "consent")[:255], content_type


def _too_large() -> str:
    return _("The file is larger than %(size)s MB. Scan the form at a lower resolution.") % {
        "size": FORM_MAX_BYTES // (1024 * 1024)
    }


@transaction.atomic
def consent_record_form(
    *,
    by: Membership,
    student: Student,
    partner: Partner,
    fields,
    purpose: str,
    consenter_kind: str,
    consenter_name: str,
    signed_on: datetime.date,
    valid_until: datetime.date,
    form,
) -> Consent:
    """Record a signed consent form for one student, partner and purpose.

    The signer may consent under a rule on the date signed (a guardian; the student from
    18, or from the district's self-consent age, by the student's date of birth); the date
    signed is not in the future; valid_until is after today; the records are named from the
    list; the form is a PDF, JPEG or PNG of at most 10 MB.
    """
    require(by, "consent.record")
    require_same_district(by, student)
    require_my_school(by, student.school_id)
    district = by.district
    today = district.today()
    errors: dict[str, list[str]] = {}

    if partner is None or outside(district, partner):
        errors["partner"] = [_("Choose one of your district's partners.")]
    chosen = list(dict.fromkeys(str(code) for code in fields or ()))
    if not chosen:
        errors["fields"] = [_("Choose the records the family agreed to share.")]
    elif any(code not in IDENTIFIABLE_FIELD_CODES for code in chosen):
        errors["fields"] = [_("Choose the records from the list.")]
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = [_("Say what the records are shared for.")]
    consenter_name = (consenter_name or "").strip()
    if not consenter_name:
        errors["consenter_name"] = [_("Give the name of the person who signed.")]
    if consenter_kind not in ConsenterKind.values:
        errors["consenter_kind"] = [_("Say whether a parent or guardian or the student signed.")]

    # A datetime is a date too, and cannot be compared with one: keep its date.
    if isinstance(signed_on, datetime.datetime):
        signed_on = signed_on.date()
    if isinstance(valid_until, datetime.datetime):
        valid_until = valid_until.date()
    if not isinstance(signed_on, datetime.date):
        errors["signed_on"] = [_("Give the date the form was signed.")]
    elif signed_on > today:
        errors["signed_on"] = [_("The date signed cannot be in the future.")]
    if not isinstance(valid_until, datetime.date):
        errors["valid_until"] = [_("Give the last day the consent is valid.")]
    elif valid_until <= today:
        errors["valid_until"] = [_("The consent must be valid after today.")]

    applied = None
    if "consenter_kind" not in errors and "signed_on" not in errors:
        applied = consent_rule(
            consenter_kind,
            date_of_birth=student.date_of_birth,
            self_consent_age=district.student_self_consent_age,
            on=signed_on,
        )
        if applied is None:
            if student.date_of_birth is None:
                message = _(
                    "The student's date of birth is not on file, so their own consent cannot "
                    "be checked. A parent or guardian must sign."
                )
            else:
                message = _(
                    "The student was under %(age)s on the date signed: a parent or guardian "
                    "must sign."
                ) % {"age": min(district.student_self_consent_age, 18)}
            errors["consenter_kind"] = [message]

    read = _read_form(form)
    if isinstance(read, str):
        errors["form"] = [read]
    if errors:
        raise ValidationError(errors)
    data, name, content_type = read

    noon = datetime.time(12, tzinfo=district.time_zone)
    return Consent.objects.create(
        district_id=by.district_id,
        student=student,
        partner=partner,
        fields=chosen,
        purpose=purpose,
        consenter_kind=consenter_kind,
        consenter_name=consenter_name[:200],
        rule=applied.rule,
        rule_age=applied.age,
        method=ConsentMethod.SIGNED_FORM,
        signed_at=datetime.datetime.combine(signed_on, noon),
        valid_until=valid_until,
        recorded_by=by,
        form=data,
        form_name=name,
        form_content_type=content_type,
    )


def _partner_addresses(partner: Partner) -> list[tuple[str, Contact]]:
    """Who at the partner hears of a revocation: its intake contacts (every contact when it
    names none), with an address and not unsubscribed."""
    contacts = mailable(
        Contact.objects.for_district(partner.district_id).filter(partner_id=partner.pk)
    ).order_by("pk")
    intake = [c for c in contacts if ContactRole.INTAKE in (c.roles or [])]
    chosen: dict[str, Contact] = {}
    for contact in intake or list(contacts):
        chosen.setdefault(contact.email.lower(), contact)
    return list(chosen.items())


@transaction.atomic
def consent_revoke(
    *, by: Membership, consent: Consent, reason: str = "", revoked_by_name: str
) -> ConsentRevocation:
    """Record that a consent was revoked: no disclosure relies on it from now on.

    Tells the partner's intake contacts by mail, each in their language: the consent's
    reference and the school, never the student's name. A consent is revoked once.
    """
    require(by, "consent.record")
    require_same_district(by, consent)
    student = Student.objects.select_related("school").get(
        district_id=consent.district_id, pk=consent.student_id
    )
    require_my_school(by, student.school_id)
    revoked_by_name = (revoked_by_name or "").strip()
    if not revoked_by_name:
        raise ValidationError(
            {"revoked_by_name": [_("Give the name of the person who revoked it.")]}
        )
    lock_student(student.pk, student.district_id)
    if ConsentRevocation.objects.for_district(by.district_id).filter(consent=consent).exists():
        raise ValidationError({NON_FIELD_ERRORS: [_("This consent was already revoked.")]})

    partner = Partner.objects.for_district(by.district_id).get(pk=consent.partner_id)
    recipients = _partner_addresses(partner)
    revocation = ConsentRevocation.objects.create(
        district_id=by.district_id,
        consent=consent,
        recorded_by=by,
        revoked_by_name=revoked_by_name[:200],
        reason=(reason or "").strip(),
        notified=[email for email, _contact in recipients],
    )
    district = by.district
    context = {
        "district_name": district.name,
        "partner_name": partner.name,
        "school_name": student.school.name,
        "reference": consent.reference,
        "revoked_at": revocation.revoked_at,
    }
    for email, contact in recipients:
        send_templated(
            "referrals/email/consent_revoked",
            to=email,
            context=context,
            language=recipient_language(contact, district),
            district=district,
            unsubscribe_url=unsubscribe_url(contact),
        )
    return revocation


@transaction.atomic
def verbal_agreement_record(
    *,
    by: Membership,
    student: Student,
    note: str,
    partner: Partner | None = None,
    referral: Referral | None = None,
) -> VerbalAgreement:
    """Write down a family's spoken agreement. It is a note: it never allows a disclosure
    (FERPA asks for a signed and dated consent)."""
    require(by, "consent.record")
    require_same_district(by, student)
    require_my_school(by, student.school_id)
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Write down what was agreed, with whom and when.")]
    if outside(by.district_id, partner):
        errors["partner"] = [_("Choose one of your district's partners.")]
    if outside(by.district_id, referral) or (
        referral is not None and referral.student_id != student.pk
    ):
        errors["referral"] = [_("Choose one of this student's referrals.")]
    if errors:
        raise ValidationError(errors)
    return VerbalAgreement.objects.create(
        district_id=by.district_id,
        student=student,
        partner=partner,
        referral=referral,
        note=note,
        recorded_by=by,
        at=timezone.now(),
    )
