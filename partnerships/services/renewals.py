"""MOU renewals: the hourly sweep that moves statuses along the calendar and sends the
60- and 30-day renewal emails, exactly once each.

Exactly once (DESIGN.md, Background work): before an email is queued, the sweep inserts
an MOURenewalNotice row for (mou, end_date, days_before) inside the district's
transaction. The unique constraint makes a second sweep's insert fail (if the first has
committed) or wait and then fail (if it has not), so two sweeps running at once still
send one email. The email is stored in the same transaction and sent once it commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from core.mail import absolute_url, mail_language, recipient_language, send_templated
from partnerships.models import MOU, Contact, ContactRole, MOURenewalNotice, MOUStatus
from partnerships.selectors.mous import mou_url
from partnerships.services.mous.common import MOUTransitionRefused
from partnerships.services.mous.workflow import (
    mou_mark_active_again,
    mou_mark_expired,
    mou_mark_expiring,
)
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from schools.models import District, Membership, Role
from schools.tenancy import work_in_district

# Days before the end date at which coordinators and the partner's leadership hear of it,
# most distant first. The first also marks an active MOU "expiring".
NOTICE_DAYS = (60, 30)
EXPIRING_WITHIN = timedelta(days=NOTICE_DAYS[0])


@dataclass
class SweepResult:
    expiring: int = 0
    expired: int = 0
    notices: int = 0


def mou_renewal_sweep_district(*, district: District, today: date | None = None) -> SweepResult:
    """Run the renewal sweep for one district (enters its context itself).

    - active or expiring MOUs past their end date become expired;
    - active MOUs within 60 days of the end become expiring, and expiring ones whose end
      date moved further away (a renewal) become active again;
    - for each active/expiring MOU within 60 (then 30) days of its end, its district's
      coordinators and its partner's leadership contacts are emailed, once per
      (mou, end_date, 60|30). An MOU first seen within 30 days gets only the 30-day email.

    Finding nothing costs one indexed query (district, status, end_date).
    """
    today = today or district.today()
    horizon = today + EXPIRING_WITHIN
    result = SweepResult()
    with work_in_district(district):
        due = list(
            MOU.objects.for_district(district)
            .filter(
                Q(status=MOUStatus.ACTIVE, end_date__lte=horizon) | Q(status=MOUStatus.EXPIRING)
            )
            .select_related("partner")
            .order_by("end_date", "pk")
        )
        if not due:
            return result
        ending = []
        for mou in due:
            if mou.end_date is not None and mou.end_date < today:
                result.expired += _calendar_move(mou_mark_expired, mou)
            elif mou.end_date is None or mou.end_date > horizon:
                # The end date moved (a renewal): not expiring any more.
                _calendar_move(mou_mark_active_again, mou)
            else:
                if mou.status == MOUStatus.ACTIVE:
                    result.expiring += _calendar_move(mou_mark_expiring, mou)
                ending.append(mou)
        if ending:
            result.notices = _send_notices(district, ending, today=today)
    return result


def _calendar_move(service, mou: MOU) -> bool:
    """A status change Trellis makes on dates, through the MOU workflow's own services (they
    lock the row and refuse what MOU_TRANSITIONS does not allow). False when refused:
    someone (a person, or a concurrent sweep) changed the MOU first."""
    try:
        service(mou)
    except MOUTransitionRefused:
        return False
    return True


# --- The notices -----------------------------------------------------------------------------


def _notice_days(days_left: int) -> int:
    """The notice an MOU `days_left` from its end is due (the nearest threshold passed)."""
    return min(days for days in NOTICE_DAYS if days_left <= days)


def _send_notices(district: District, ending: list[MOU], *, today: date) -> int:
    wanted = {
        (mou.pk, mou.end_date, _notice_days((mou.end_date - today).days)): mou for mou in ending
    }
    claimed = set(
        MOURenewalNotice.objects.for_district(district)
        .filter(mou__in=[mou.pk for mou in ending])
        .values_list("mou_id", "end_date", "days_before")
    )
    to_send = [(key, mou) for key, mou in wanted.items() if key not in claimed]
    if not to_send:
        return 0
    coordinators = _coordinators(district)
    contacts = _leadership_contacts(district, {mou.partner_id for _key, mou in to_send})
    sent = 0
    for (_pk, end_date, days_before), mou in to_send:
        if not _claim(district, mou, end_date=end_date, days_before=days_before):
            continue  # another sweep claimed (and sends) this one
        days_left = (end_date - today).days
        for email, language in coordinators:
            _queue_email(district, mou, email, language, days_left=days_left, audience="district")
        for email, language, unsubscribe in contacts.get(mou.partner_id, []):
            _queue_email(
                district,
                mou,
                email,
                language,
                days_left=days_left,
                audience="partner",
                unsubscribe_url=unsubscribe,
            )
        sent += 1
    return sent


def _claim(district: District, mou: MOU, *, end_date: date, days_before: int) -> bool:
    """Insert the notice row; False when it exists (in a savepoint, so the sweep goes on)."""
    try:
        with transaction.atomic():
            MOURenewalNotice.objects.create(
                district=district, mou=mou, end_date=end_date, days_before=days_before
            )
    except IntegrityError:
        return False
    return True


def _coordinators(district: District) -> list[tuple[str, str]]:
    rows = (
        Membership.objects.for_district(district)
        .active()
        .filter(role=Role.COORDINATOR, user__is_active=True)
        .values_list("user__email", "user__preferred_language")
        .order_by("user__email")
    )
    return [(email, mail_language(language, district)) for email, language in rows]


def _leadership_contacts(district: District, partner_ids: set[int]) -> dict:
    contacts: dict[int, list[tuple[str, str]]] = {}
    rows = mailable(
        Contact.objects.for_district(district).filter(
            partner_id__in=partner_ids, roles__contains=[ContactRole.LEADERSHIP]
        )
    ).order_by("name")
    for contact in rows:
        contacts.setdefault(contact.partner_id, []).append(
            (
                contact.email,
                recipient_language(contact, district),
                unsubscribe_url(contact),
            )
        )
    return contacts


def _queue_email(
    district: District,
    mou: MOU,
    to: str,
    language: str,
    *,
    days_left: int,
    audience: str,
    unsubscribe_url: str = "",
) -> None:
    context = {
        "district_name": district.name,
        "mou_title": mou.title,
        "partner_name": mou.partner.name,
        "end_date": mou.end_date,
        "days_left": days_left,
        "audience": audience,
        # Staff have accounts: a link into Trellis. Contacts have none: no link (the page
        # is behind sign-in), only their unsubscribe link.
        "link": absolute_url(mou_url(district, mou.pk)) if audience == "district" else "",
    }
    send_templated(
        "partnerships/email/renewal",
        to=to,
        context=context,
        language=language,
        district=district,
        unsubscribe_url=unsubscribe_url,
    )
