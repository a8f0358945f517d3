"""The district's closed days (holidays, breaks, snow days), kept by administrators.

A closed day is a weekday that is not a business day for the referral response time
(core.business_days). Weekends never are, so they never get a row. Changing the list does
not move the answer due dates of referrals already sent: those were fixed when each was
sent (referrals.services.loop.response_due_on).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schools.capabilities import require
from schools.models import ClosedDay, Membership
from schools.tenancy import require_same_district

# The longest range added at once ("a range over a year is a typing mistake").
RANGE_MAX_DAYS = 366
NAME_MAX = 100
# How far from today a closed day may be: far enough back to correct past figures, far
# enough ahead for the next school year's calendar.
PAST_LIMIT = datetime.timedelta(days=366 * 10)
FUTURE_LIMIT = datetime.timedelta(days=366 * 3)
# A school year runs from July 1 to June 30 (named by the year it starts in).
SCHOOL_YEAR_START_MONTH = 7


def school_year_of(day: datetime.date) -> int:
    """The school year a date belongs to, by the year it starts in (2025 for 2025-26)."""
    return day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1


def school_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the school year that starts in `year`."""
    return (
        datetime.date(year, SCHOOL_YEAR_START_MONTH, 1),
        datetime.date(year + 1, SCHOOL_YEAR_START_MONTH, 1) - datetime.timedelta(days=1),
    )


@dataclass
class RangeResult:
    added: list[datetime.date] = field(default_factory=list)
    already: list[datetime.date] = field(default_factory=list)
    weekend_days: int = 0


def _label(day: datetime.date) -> str:
    return date_format(day, "DATE_FORMAT")


def _name(name) -> str:
    name = " ".join(str(name or "").split())
    if len(name) > NAME_MAX:
        raise ValidationError(
            {"name": [_("Keep the name under %(count)s characters.") % {"count": NAME_MAX}]}
        )
    return name


def _check_day(district, day) -> list[str]:
    if not isinstance(day, datetime.date):
        return [_("Give a date.")]
    today = district.today()
    if day < today - PAST_LIMIT or day > today + FUTURE_LIMIT:
        return [_("Give a date within ten years before and three years after today.")]
    return []


@transaction.atomic
def closed_day_add(*, by: Membership, date: datetime.date, name: str = "") -> ClosedDay:
    """Add one closed day. A weekend day or a day already on the list is refused with a
    message on `date`."""
    require(by, "district.settings")
    district = by.district
    name = _name(name)
    errors = _check_day(district, date)
    if not errors and date.weekday() >= 5:
        errors = [
            _("%(date)s is a weekend day: weekends are never business days already.")
            % {"date": _label(date)}
        ]
    if not errors:
        existing = ClosedDay.objects.for_district(district).filter(date=date).first()
        if existing is not None:
            errors = [_("%(date)s is already a closed day.") % {"date": _label(date)}]
    if errors:
        raise ValidationError({"date": errors})
    try:
        with transaction.atomic():
            return ClosedDay.objects.create(district=district, date=date, name=name)
    except IntegrityError:  # someone added it a moment ago
        raise ValidationError(
            {"date": [_("%(date)s is already a closed day.") % {"date": _label(date)}]}
        ) from None


@transaction.atomic
def closed_days_add_range(
    *, by: Membership, first: datetime.date, last: datetime.date, name: str = ""
) -> RangeResult:
    """Add every weekday from `first` to `last` (both included) as a closed day, under one
    name (a winter break). Weekend days get no row; days already on the list keep theirs.
    A range backwards, longer than RANGE_MAX_DAYS, or without a weekday is refused."""
    require(by, "district.settings")
    district = by.district
    name = _name(name)
    errors: dict[str, list[str]] = {}
    first_errors = _check_day(district, first)
    last_errors = _check_day(district, last)
    if first_errors:
        errors["first"] = first_errors
    if last_errors:
        errors["last"] = last_errors
    if not errors:
        if last < first:
            errors["last"] = [_("The last day comes before the first day.")]
        elif (last - first).days + 1 > RANGE_MAX_DAYS:
            errors["last"] = [
                _("A range covers at most %(count)s days: add a longer closure in parts.")
                % {"count": RANGE_MAX_DAYS}
            ]
    if errors:
        raise ValidationError(errors)
    days = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    weekdays = [day for day in days if day.weekday() < 5]
    if not weekdays:
        raise ValidationError(
            {"last": [_("These days are all on a weekend: weekends are never business days.")]}
        )
    already = set(
        ClosedDay.objects.for_district(district)
        .filter(date__gte=first, date__lte=last)
        .values_list("date", flat=True)
    )
    new = [day for day in weekdays if day not in already]
    # Unique (district, date): a day someone added a moment ago is skipped, not an error.
    ClosedDay.objects.bulk_create(
        [ClosedDay(district=district, date=day, name=name) for day in new],
        ignore_conflicts=True,
    )
    return RangeResult(
        added=new,
        already=sorted(already & set(weekdays)),
        weekend_days=len(days) - len(weekdays),
    )


@transaction.atomic
def closed_day_remove(*, by: Membership, closed_day: ClosedDay) -> bool:
    """Remove one closed day of the member's district; False when someone removed it a
    moment ago."""
    require(by, "district.settings")
    require_same_district(by, closed_day)
    deleted, _rows = (
        ClosedDay.objects.for_district(by.district_id).filter(pk=closed_day.pk).delete()
    )
    return bool(deleted)


def find_closed_day(district, pk) -> ClosedDay | None:
    """The district's closed day `pk` (an id from a form: anything), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return ClosedDay.objects.for_district(district).filter(pk=pk).first()


def closed_day_list(district, *, year: int):
    """The district's closed days of a school year, in date order (one query)."""
    start, end = school_year_bounds(year)
    return (
        ClosedDay.objects.for_district(district)
        .filter(date__gte=start, date__lte=end)
        .order_by("date")
    )


def closed_day_years(district) -> list[int]:
    """The school years that have closed days, most recent first (one query)."""
    dates = ClosedDay.objects.for_district(district).dates("date", "month", order="DESC")
    return sorted({school_year_of(day) for day in dates}, reverse=True)
