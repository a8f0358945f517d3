"""A partner's scorecard: how it answers and serves the referrals a district sends it.

Computed from the referrals sent to the partner and not withdrawn (status in
SENT_STATUSES), in a fixed number of queries whatever their number: one aggregate for the
counts, one read of two dates per accepted referral for the medians (each measured with
referrals.loop's one definition, skipping the district's closed days), one read of those
closed days, one of the MOU in force for the response-time target.

Definitions (the page says them too):
- received: referrals sent to the partner, not withdrawn by the school;
- days to accept: business days from sending to acceptance (loop.days_to_accept); median
  over the accepted referrals;
- days to first appointment: calendar days from sending to the first appointment kept
  (loop.days_to_first_appointment); median over the referrals with one;
- no-show rate: missed first appointments / (first appointments kept + missed);
- closed with an outcome: of the referrals the partner accepted, the share now closed with
  an outcome;
- answered in time: of the referrals accepted or declined, the share answered on or before
  the due date fixed when each was sent;
- declines by reason: how many were declined, for each reason.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate

from referrals.loop import days_to_accept, days_to_first_appointment
from referrals.models import (
    SENT_STATUSES,
    DeclineReason,
    Referral,
    ReferralStatus,
)


@dataclass
class Scorecard:
    received: int = 0
    accepted: int = 0
    declined: int = 0
    answered: int = 0
    answered_in_time: int = 0
    median_days_to_accept: float | None = None
    median_days_to_first_appointment: float | None = None
    appointments_kept: int = 0
    no_shows: int = 0
    closed_with_outcome: int = 0
    # (code, label, count) for every reason, in DeclineReason's order.
    declines: list[tuple[str, str, int]] = field(default_factory=list)
    response_days: int = 0
    response_days_from_mou: bool = False
    since: datetime.date | None = None

    @property
    def no_show_rate(self) -> float | None:
        seen = self.appointments_kept + self.no_shows
        return self.no_shows / seen if seen else None

    @property
    def closed_share(self) -> float | None:
        return self.closed_with_outcome / self.accepted if self.accepted else None

    @property
    def in_time_share(self) -> float | None:
        return self.answered_in_time / self.answered if self.answered else None

    # The whole number that picks a median's plural form ("1 day", "2.5 days"): a fraction
    # counts as 0, which takes the plural in English and Spanish.
    @property
    def median_days_to_accept_count(self) -> int:
        return _plural_count(self.median_days_to_accept)

    @property
    def median_days_to_first_appointment_count(self) -> int:
        return _plural_count(self.median_days_to_first_appointment)

    @property
    def no_show_percent(self) -> int | None:
        return _percent(self.no_show_rate)

    @property
    def closed_percent(self) -> int | None:
        return _percent(self.closed_share)

    @property
    def in_time_percent(self) -> int | None:
        return _percent(self.in_time_share)


def _percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def _plural_count(value: float | None) -> int:
    return int(value) if value is not None and float(value).is_integer() else 0


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def partner_scorecard(district, partner, *, since: datetime.date | None = None) -> Scorecard:
    """The partner's scorecard in the district, over the referrals sent to it since `since`
    (the district's date; None: all of them). Four queries at most, whatever the data."""
    from referrals.services.loop import closed_days, mou_in_force

    zone = district.time_zone
    referrals = Referral.objects.for_district(district).filter(
        partner_id=partner.pk, status__in=SENT_STATUSES
    )
    if since is not None:
        referrals = referrals.filter(
            sent_at__gte=datetime.datetime.combine(since, datetime.time(0), tzinfo=zone)
        )
    card = Scorecard(since=since)
    reasons = list(DeclineReason)
    declined = Q(status=ReferralStatus.DECLINED)
    answered_on = TruncDate(Coalesce("accepted_at", "declined_at"), tzinfo=zone)
    totals = referrals.annotate(answered_on=answered_on).aggregate(
        received=Count("pk"),
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        declined=Count("pk", filter=declined),
        answered=Count("pk", filter=Q(answered_on__isnull=False)),
        answered_in_time=Count(
            "pk",
            filter=Q(answered_on__isnull=False, response_due_on__isnull=False)
            & Q(answered_on__lte=F("response_due_on")),
        ),
        kept=Count("pk", filter=Q(first_appointment_on__isnull=False)),
        no_shows=Coalesce(Sum("no_shows"), 0),
        closed=Count("pk", filter=Q(status=ReferralStatus.CLOSED)),
        **{
            f"declined_{reason.value}": Count("pk", filter=declined & Q(decline_reason=reason))
            for reason in reasons
        },
    )
    card.received = totals["received"]
    card.accepted = totals["accepted"]
    card.declined = totals["declined"]
    card.answered = totals["answered"]
    card.answered_in_time = totals["answered_in_time"]
    card.appointments_kept = totals["kept"]
    card.no_shows = totals["no_shows"]
    card.closed_with_outcome = totals["closed"]
    card.declines = [
        (reason.value, str(reason.label), totals[f"declined_{reason.value}"]) for reason in reasons
    ]

    if card.accepted:
        dates = list(
            referrals.filter(accepted_at__isnull=False)
            .annotate(
                sent_on=TruncDate("sent_at", tzinfo=zone),
                accepted_on=TruncDate("accepted_at", tzinfo=zone),
            )
            .values_list("sent_on", "accepted_on", "first_appointment_on")
        )
        closed = closed_days(
            district.pk, min(sent for sent, _a, _f in dates), max(a for _s, a, _f in dates)
        )
        card.median_days_to_accept = _median(
            [days_to_accept(sent, accepted, closed) for sent, accepted, _first in dates]
        )
        card.median_days_to_first_appointment = _median(
            [days_to_first_appointment(sent, first) for sent, _a, first in dates if first]
        )

    mou = mou_in_force(partner.pk, district.pk, district.today())
    if mou is not None and mou.response_days:
        card.response_days, card.response_days_from_mou = mou.response_days, True
    else:
        card.response_days = district.referral_response_days
    return card
