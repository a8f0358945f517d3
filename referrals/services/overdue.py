"""The overdue sweep: a referral the partner has not answered in time is reminded to the
partner once, then, one business day later, to the counselor who owns it, once.

Exactly once (DESIGN.md, Background work; as partnerships.services.renewals): before any
mail is queued, the sweep locks the referral and inserts a ReferralReminder row for
(referral, audience, due_on) in a savepoint of the district's transaction. The unique
constraint makes a second sweep's insert fail (if the first has committed) or wait and
then fail (if it has not); the lock makes a partner's answer given meanwhile win (the
referral is no longer "sent", so nothing is claimed). The mail is stored in the same
transaction and sent once it commits, with the step on the referral's timeline.

Who is told:
- the partner: every intake contact of the partner who may be mailed (an address, not
  unsubscribed), each with their own signed link to the referral's intake page; the mail
  names no student: the reference, the school (as the intake email does) and how late;
- the counselor: the referral's owner (their caseload), in their language, with a link to
  the referral page behind sign-in.

A reminder with nobody to tell (no intake contact to mail; an owner no longer active) is not
claimed, so it goes out once someone is there (a contact added, the referral reassigned).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from core.business_days import add_business_days, business_days_between, is_business_day
from core.mail import absolute_url, recipient_language, send_templated
from partnerships.models import Contact, ContactRole
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from referrals.models import (
    Referral,
    ReferralReminder,
    ReferralStatus,
    ReminderAudience,
    StepKind,
)
from referrals.services.loop import closed_days, record_step
from schools.models import District
from schools.tenancy import work_in_district

# Business days without an answer after the partner's reminder before the counselor hears.
COUNSELOR_AFTER_BUSINESS_DAYS = 1


@dataclass
class OverdueResult:
    partner: int = 0  # referrals whose partner was reminded by this sweep
    counselor: int = 0  # referrals whose counselor was told by this sweep


def overdue_sweep_district(
    *, district: District, today: datetime.date | None = None
) -> OverdueResult:
    """Run the overdue sweep for one district (enters its context itself).

    On a business day (never on a weekend or a closed day), for each referral still "sent"
    whose answer was due before `today` (the district's date): its partner's intake
    contacts are reminded, once per due date; once `today` is
    past one more business day after the due date (weekends and the district's closed days
    skipped), its owner is told, once per due date. Each reminder is a step on the
    referral's timeline (no actor: Trellis itself).

    Finding nothing costs one indexed query (district, status, response_due_on): a referral
    whose counselor was told drops out of it.
    """
    today = today or district.today()
    result = OverdueResult()
    with work_in_district(district):
        counselor_told = ReferralReminder.objects.for_district(district).filter(
            referral_id=OuterRef("pk"),
            audience=ReminderAudience.COUNSELOR,
            due_on=OuterRef("response_due_on"),
        )
        due = list(
            Referral.objects.for_district(district)
            .filter(status=ReferralStatus.SENT, response_due_on__lt=today)
            .exclude(Exists(counselor_told))
            .select_related("partner", "school", "owner__user")
            .order_by("response_due_on", "pk")
        )
        if not due:
            return result
        claimed = set(
            ReferralReminder.objects.for_district(district)
            .filter(referral_id__in=[referral.pk for referral in due])
            .values_list("referral_id", "audience", "due_on")
        )
        closed = closed_days(district.pk, min(r.response_due_on for r in due), today)
        if not is_business_day(today, closed):
            # Nobody is at work to answer: the reminders wait for the next business day.
            return result
        contacts = _intake_contacts(district, {referral.partner_id for referral in due})
        for referral in due:
            due_on = referral.response_due_on
            if (referral.pk, ReminderAudience.PARTNER, due_on) not in claimed:
                to = contacts.get(referral.partner_id, [])
                if to and _claim(district, referral, ReminderAudience.PARTNER, due_on):
                    _remind_partner(district, referral, to, today=today, closed=closed)
                    result.partner += 1
            counselor_due = add_business_days(due_on, COUNSELOR_AFTER_BUSINESS_DAYS, closed)
            if (
                today > counselor_due
                and (referral.pk, ReminderAudience.COUNSELOR, due_on) not in claimed
                and _owner_reachable(referral)
                and _claim(district, referral, ReminderAudience.COUNSELOR, due_on)
            ):
                _tell_counselor(district, referral, today=today, closed=closed)
                result.counselor += 1
    return result


def _claim(district: District, referral: Referral, audience: str, due_on: datetime.date) -> bool:
    """Lock the referral and insert the reminder row, in a savepoint so the sweep goes on.
    False when the referral was answered (or withdrawn, or its due date moved) meanwhile,
    or when another sweep holds the claim."""
    try:
        with transaction.atomic():
            still_due = list(
                Referral.objects.for_district(district)
                .select_for_update()
                .filter(pk=referral.pk, status=ReferralStatus.SENT, response_due_on=due_on)
                .values_list("pk", flat=True)
            )
            if not still_due:
                return False
            ReferralReminder.objects.create(
                district=district, referral=referral, audience=audience, due_on=due_on
            )
    except IntegrityError:
        return False
    return True


def _intake_contacts(district: District, partner_ids: set[int]) -> dict[int, list[Contact]]:
    """The partners' intake contacts who may be mailed, by partner, one per address, oldest
    first (as referrals.services.intake.intake_contacts chooses them); one query."""
    rows = mailable(
        Contact.objects.for_district(district).filter(
            partner_id__in=partner_ids, roles__contains=[ContactRole.INTAKE]
        )
    ).order_by("pk")
    chosen: dict[tuple[int, str], Contact] = {}
    for contact in rows:
        chosen.setdefault((contact.partner_id, contact.email.strip().lower()), contact)
    contacts: dict[int, list[Contact]] = {}
    for contact in chosen.values():
        contacts.setdefault(contact.partner_id, []).append(contact)
    return contacts


def _owner_reachable(referral: Referral) -> bool:
    owner = referral.owner
    return bool(owner.active and owner.user.is_active and owner.user.email)


def _lateness(referral: Referral, today: datetime.date, closed) -> dict:
    return {
        "reference": referral.reference,
        "due_on": referral.response_due_on,
        "days_late": (today - referral.response_due_on).days,
        "business_days_late": business_days_between(referral.response_due_on, today, closed),
    }


def _remind_partner(
    district: District, referral: Referral, contacts: list[Contact], *, today, closed
) -> None:
    # Imported here: the intake link belongs to the intake pages' module.
    from referrals.services.intake import intake_url

    for contact in contacts:
        send_templated(
            "referrals/email/overdue_partner",
            to=contact.email,
            context={
                **_lateness(referral, today, closed),
                "district_name": district.name,
                "partner_name": referral.partner.name,
                "school_name": referral.school.name,
                "link": intake_url(referral, contact),
            },
            language=recipient_language(contact, district),
            district=district,
            unsubscribe_url=unsubscribe_url(contact),
        )
    record_step(
        referral,
        kind=StepKind.REMINDED_PARTNER,
        actor=None,
        from_status=referral.status,
        to_status=referral.status,
        detail={"due_on": referral.response_due_on.isoformat(), "contacts": len(contacts)},
    )


def _tell_counselor(district: District, referral: Referral, *, today, closed) -> None:
    owner = referral.owner
    send_templated(
        "referrals/email/overdue_counselor",
        to=owner.user.email,
        context={
            **_lateness(referral, today, closed),
            "district_name": district.name,
            "partner_name": referral.partner.name,
            "link": absolute_url(reverse("referral_detail", args=[district.slug, referral.pk])),
        },
        language=recipient_language(owner, district),
        district=district,
    )
    record_step(
        referral,
        kind=StepKind.REMINDED_COUNSELOR,
        actor=None,
        from_status=referral.status,
        to_status=referral.status,
        detail={"due_on": referral.response_due_on.isoformat(), "to": owner.pk},
    )
