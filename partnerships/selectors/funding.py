"""Reads of funding: the sources with what they pay for, the mix per year, what ends soon."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from partnerships.models import MOU, FundingKind, FundingSource, Partner
from schools.selectors import partners_in

# The mix shows at most this many years either side of the current one.
FUNDING_MIX_YEARS_AROUND = 5


def funding_sources(membership):
    """The district's funding sources, latest start first, with the partners and MOUs they
    pay for prefetched: three queries however many rows."""
    district_id = membership.district_id
    return (
        FundingSource.objects.for_district(district_id)
        .prefetch_related(
            Prefetch(
                "partners",
                queryset=Partner.objects.for_district(district_id).order_by("name"),
            ),
            Prefetch(
                "mous",
                queryset=MOU.objects.for_district(district_id)
                .select_related("partner")
                .order_by("title"),
            ),
        )
        .order_by("-start_date", "funder", "pk")
    )


def funding_amounts(membership) -> list:
    """Every funding source of the district as (kind, amount, start_date, end_date), for the
    mix per year and its totals: one narrow query over all of them, whatever page of the
    list is shown (the list is paginated; the totals are the district's)."""
    return list(
        FundingSource.objects.for_district(membership.district_id)
        .order_by()
        .values_list("kind", "amount", "start_date", "end_date", named=True)
    )


def access_funding(membership, funding_id):
    """A funding source of the viewer's district, with its partners and MOUs, or 404."""
    return get_object_or_404(funding_sources(membership), pk=funding_id)


def funding_partner_choices(membership):
    return partners_in(membership.district_id)


def funding_mou_choices(membership):
    return (
        MOU.objects.for_district(membership.district_id)
        .select_related("partner")
        .order_by("title", "pk")
    )


def funding_year_of(day, basis: str) -> int:
    """The year a day counts in: its calendar year, or the school year (July to June)
    named by the year it starts in."""
    if basis == "calendar":
        return day.year
    return day.year if day.month >= 7 else day.year - 1


def funding_year_bounds(year: int, basis: str):
    if basis == "calendar":
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return datetime.date(year, 7, 1), datetime.date(year + 1, 6, 30)


def funding_year_label(year: int, basis: str) -> str:
    if basis == "calendar":
        return str(year)
    return f"{year}–{str(year + 1)[-2:]}"


def funding_spread(source, basis: str, *, first_year: int, last_year: int) -> dict:
    """How much of a source falls in each year from first_year to last_year: the amount
    is spread evenly over the days of its period, in cents. When the whole period lies in
    the range the parts add up to the amount exactly (the last year takes the rounding)."""
    start, end = source.start_date, source.end_date
    total_days = (end - start).days + 1
    cent = Decimal("0.01")
    first = max(funding_year_of(start, basis), first_year)
    last = min(funding_year_of(end, basis), last_year)
    parts: dict[int, Decimal] = {}
    for year in range(first, last + 1):
        year_start, year_end = funding_year_bounds(year, basis)
        days = (min(end, year_end) - max(start, year_start)).days + 1
        if days > 0:
            parts[year] = (source.amount * days / total_days).quantize(cent, ROUND_HALF_UP)
    whole = funding_year_of(start, basis) >= first_year and funding_year_of(end, basis) <= last_year
    if whole and parts:
        last_key = max(parts)
        parts[last_key] = source.amount - sum(v for k, v in parts.items() if k != last_key)
    return parts


def funding_mix(sources, *, basis: str, today) -> dict:
    """Amount by kind per year (school or calendar), for the chart and its table.

    Years span the sources' periods, kept within FUNDING_MIX_YEARS_AROUND of the current
    year. Pure computation over `sources` (no query): give it every source of the district
    (funding_amounts), never a page of the list.
    """
    current = funding_year_of(today, basis)
    window_first = current - FUNDING_MIX_YEARS_AROUND
    window_last = current + FUNDING_MIX_YEARS_AROUND
    amounts: dict[tuple[int, str], Decimal] = {}
    for source in sources:
        for year, amount in funding_spread(
            source, basis, first_year=window_first, last_year=window_last
        ).items():
            amounts[(year, source.kind)] = amounts.get((year, source.kind), Decimal(0)) + amount
    present = {kind for _year, kind in amounts}
    kinds_used = [(code, label) for code, label in FundingKind.choices if code in present]
    years_used = sorted({year for year, _kind in amounts})
    years = []
    if years_used:
        for year in range(years_used[0], years_used[-1] + 1):
            parts = [
                {"kind": code, "label": label, "amount": amounts.get((year, code), Decimal(0))}
                for code, label in kinds_used
            ]
            years.append(
                {
                    "year": year,
                    "label": funding_year_label(year, basis),
                    "parts": parts,
                    "total": sum((p["amount"] for p in parts), Decimal(0)),
                    "current": year == current,
                }
            )
    totals = [
        {
            "kind": code,
            "label": label,
            "amount": sum((amounts.get((y["year"], code), Decimal(0)) for y in years), Decimal(0)),
        }
        for code, label in kinds_used
    ]
    return {
        "basis": basis,
        "years": years,
        "kinds": kinds_used,
        "totals": totals,
        "grand_total": sum((t["amount"] for t in totals), Decimal(0)),
    }


def funding_expiring(membership, *, today, within_days: int = 90) -> list:
    """The district's sources whose period ends between today and `within_days` from now,
    soonest first, with `days_left` (one query, in the database: not limited to the page
    of the list being shown)."""
    until = today + datetime.timedelta(days=within_days)
    ending = list(
        FundingSource.objects.for_district(membership.district_id)
        .filter(end_date__gte=today, end_date__lte=until)
        .only("id", "kind", "funder", "amount", "end_date")
        .order_by("end_date", "funder", "pk")
    )
    for source in ending:
        source.days_left = (source.end_date - today).days
    return ending
