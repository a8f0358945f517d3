"""Business days: Monday to Friday, except the district's closed days (schools.ClosedDay).

Pure date arithmetic; the caller passes the closed days (a set of dates) it read once.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

ONE_DAY = datetime.timedelta(days=1)


def is_business_day(day: datetime.date, closed: Collection[datetime.date] = ()) -> bool:
    return day.weekday() < 5 and day not in closed


def add_business_days(
    start: datetime.date, days: int, closed: Collection[datetime.date] = ()
) -> datetime.date:
    """The `days`-th business day after `start` (`start` itself never counts); `days` >= 0.
    Sent on a Friday with 1 day to answer: due the next business day (Monday)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    day = start
    while days:
        day += ONE_DAY
        if is_business_day(day, closed):
            days -= 1
    return day


def business_days_between(
    start: datetime.date, end: datetime.date, closed: Collection[datetime.date] = ()
) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start): how many
    business days an answer given on `end` to something of `start` took."""
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        if is_business_day(day, closed):
            count += 1
    return count
