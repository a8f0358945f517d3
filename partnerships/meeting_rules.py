"""Rules of meeting times: recurrence (RFC 5545, read by python-dateutil) in the district's
zone, the occurrences of a series in a window, and the caps that keep a series bounded.

A series recurs on the district's wall clock: the rule runs over naive local times from
the first occurrence's local start, and each occurrence is then placed in the zone, so
"15:30 on the second Tuesday" is 15:30 in winter and in summer. Every saved rule ends
(UNTIL or COUNT): a rule without an end is given one MAX_SERIES_YEARS ahead, and a rule
that would yield more than MAX_PER_YEAR occurrences in a year is refused.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# At most one occurrence a day on average over a year.
MAX_PER_YEAR = 366
# A series without an end runs this long; extend it when it ends.
MAX_SERIES_YEARS = 2
# Reminders are planned this far ahead, and calendar feeds list this far.
PLAN_DAYS = 60
# A meeting without minutes this long after it ended is flagged to its organizer.
MINUTES_DUE = datetime.timedelta(days=7)
# A meeting lasts at most this long (one sitting, not a conference).
MAX_DURATION = datetime.timedelta(hours=12)

_ALLOWED_FREQ = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
_RULE_CHARS = re.compile(r"^[A-Z0-9=;,+\-]*$")
_UNTIL = re.compile(r"(^|;)UNTIL=[^;]*")


@dataclass(frozen=True)
class Rule:
    """A checked rule: its text as stored, and whether it was given an end."""

    text: str
    capped_until: datetime.date | None = None


def local_naive(moment: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """`moment` on the district's wall clock, without its zone (what a rule runs over)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def in_zone(naive: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """A wall-clock time of the district as an aware time in UTC. A time that does not
    exist (skipped by a spring-forward change) is read as the time an hour later, as
    calendar programs do; an ambiguous one (fall back) as its first (daylight) reading."""
    aware = naive.replace(tzinfo=zone, fold=0)
    there_and_back = aware.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None)
    if there_and_back != naive:  # in the gap: PEP 495 fold=0 gives the earlier offset
        aware = naive.replace(tzinfo=zone, fold=1)
    return aware.astimezone(datetime.UTC)


def check_rule(text: str, first_start: datetime.datetime, zone: ZoneInfo) -> Rule:
    """The rule `text` ("FREQ=MONTHLY;BYDAY=2TU"), checked for a series whose first
    occurrence starts at `first_start`; raises ValidationError keyed "recurrence".

    - An "RRULE:" prefix and spaces are tolerated; an empty rule is a single meeting.
    - At most daily (no HOURLY, MINUTELY or SECONDLY) and at most MAX_PER_YEAR a year.
    - Without UNTIL or COUNT, an end MAX_SERIES_YEARS ahead is added (`capped_until`).
    """
    text = (text or "").strip().upper().replace(" ", "")
    if text.startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        return Rule("")
    invalid = ValidationError(
        {
            "recurrence": [
                _(
                    "This is not a repeat rule Trellis can read. Write it as in a calendar "
                    "program, for example FREQ=MONTHLY;BYDAY=2TU (the second Tuesday of "
                    "each month)."
                )
            ]
        }
    )
    if not _RULE_CHARS.match(text) or len(text) > 250:
        raise invalid
    parts = dict(part.partition("=")[::2] for part in text.split(";") if part)
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        if parts.get("FREQ") in {"HOURLY", "MINUTELY", "SECONDLY"}:
            raise ValidationError({"recurrence": [_("A meeting can repeat at most once a day.")]})
        raise invalid
    start = local_naive(first_start, zone)
    capped = None
    if "UNTIL" in parts:
        try:
            until = _parse_until(parts["UNTIL"])
        except ValueError:
            raise invalid from None
        text = _UNTIL.sub(lambda m: f"{m.group(1)}UNTIL={until:%Y%m%dT%H%M%S}", text)
    elif "COUNT" not in parts:
        capped = _add_years(start.date(), MAX_SERIES_YEARS)
        text = f"{text};UNTIL={capped:%Y%m%d}T235959"
    try:
        rule = rrulestr(f"RRULE:{text}", dtstart=start)
        first_year = rule.between(start, _add_years_dt(start, 1), inc=True, count=MAX_PER_YEAR + 1)
    except (ValueError, TypeError, OverflowError, KeyError):
        raise invalid from None
    if not first_year:
        raise ValidationError(
            {"recurrence": [_("This rule gives no meeting on or after the first date.")]}
        )
    if len(first_year) > MAX_PER_YEAR:
        raise ValidationError(
            {
                "recurrence": [
                    ngettext(
                        "This rule gives more than %(max)s meeting a year; a meeting can "
                        "repeat at most once a day.",
                        "This rule gives more than %(max)s meetings a year; a meeting can "
                        "repeat at most once a day.",
                        MAX_PER_YEAR,
                    )
                    % {"max": MAX_PER_YEAR}
                ]
            }
        )
    return Rule(text, capped)


def _parse_until(value: str) -> datetime.datetime:
    """An UNTIL value (a date, a local time or a UTC time) as a naive local end of day or
    time: occurrences are compared on the district's wall clock."""
    value = value.rstrip("Z")
    if len(value) == 8:
        return datetime.datetime.strptime(value, "%Y%m%d").replace(hour=23, minute=59, second=59)
    return datetime.datetime.strptime(value, "%Y%m%dT%H%M%S")


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_years_dt(moment: datetime.datetime, years: int) -> datetime.datetime:
    return datetime.datetime.combine(_add_years(moment.date(), years), moment.time())


def occurrence_starts(
    first_start: datetime.datetime,
    rule_text: str,
    zone: ZoneInfo,
    after: datetime.datetime,
    before: datetime.datetime,
) -> list[datetime.datetime]:
    """The original starts (UTC) of a series' occurrences with `after` <= start < `before`.

    A single meeting (no rule) has its one start. The rule runs on the district's wall
    clock; at most MAX_PER_YEAR per year of window are computed.
    """
    if not rule_text:
        return [first_start] if after <= first_start < before else []
    start = local_naive(first_start, zone)
    rule = rrulestr(f"RRULE:{rule_text}", dtstart=start)
    low = local_naive(after, zone) - datetime.timedelta(days=1)
    high = local_naive(before, zone) + datetime.timedelta(days=1)
    years = max(1, (high - low).days // 365 + 1)
    starts = (in_zone(naive, zone) for naive in rule.between(low, high, inc=True))
    found = []
    for moment in starts:
        if after <= moment < before:
            found.append(moment)
        if len(found) >= MAX_PER_YEAR * years:
            break
    return found


def last_start(first_start: datetime.datetime, rule_text: str, zone: ZoneInfo):
    """The original start (UTC) of a series' last occurrence (every saved rule ends)."""
    if not rule_text:
        return first_start
    rule = rrulestr(f"RRULE:{rule_text}", dtstart=local_naive(first_start, zone))
    last = rule.before(datetime.datetime.max.replace(year=9000), inc=True)
    return in_zone(last, zone) if last else first_start


# --- The repeat choices a form offers -------------------------------------------------------

NTH = {1: "1", 2: "2", 3: "3", 4: "4", -1: "-1"}


def week_of_month(day: datetime.date) -> int:
    """1 to 4 for the first to fourth weekday of its kind in the month; -1 for the last
    when it is the fifth."""
    n = (day.day - 1) // 7 + 1
    return n if n <= 4 else -1


_WEEKDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def preset_rules(day: datetime.date) -> dict[str, str]:
    """The rules of the form's repeat choices for a first meeting on `day`."""
    nth = week_of_month(day)
    weekday = _WEEKDAY[day.weekday()]
    return {
        "none": "",
        "weekly": "FREQ=WEEKLY",
        "biweekly": "FREQ=WEEKLY;INTERVAL=2",
        "four_weeks": "FREQ=WEEKLY;INTERVAL=4",
        "monthly_weekday": f"FREQ=MONTHLY;BYDAY={NTH[nth]}{weekday}",
        "monthly_day": f"FREQ=MONTHLY;BYMONTHDAY={day.day}",
    }


def describe(rule_text: str, first_start: datetime.datetime, zone: ZoneInfo) -> str:
    """The rule in words, for the presets ("Monthly on the second Tuesday"); a custom rule
    is shown as written."""
    if not rule_text:
        return _("Does not repeat")
    local = local_naive(first_start, zone)
    base = _UNTIL.sub("", rule_text)
    base = re.sub(r"(^|;)COUNT=\d+", "", base).strip(";")
    for key, text in preset_rules(local.date()).items():
        if key != "none" and base == text:
            return preset_label(key, local.date())
    return rule_text


def as_choice(rule_text: str, first_start: datetime.datetime, zone: ZoneInfo):
    """(repeat choice, until date or None, custom rule) a form shows for a saved rule: a
    preset with its end date when the rule is one, else "custom" with the rule as saved."""
    if not rule_text:
        return "none", None, ""
    local = local_naive(first_start, zone)
    until = re.search(r"(?:^|;)UNTIL=(\d{8})", rule_text)
    base = _UNTIL.sub("", rule_text).strip(";")
    if "COUNT=" not in base:
        for key, text in preset_rules(local.date()).items():
            if key != "none" and base == text:
                end = datetime.datetime.strptime(until.group(1), "%Y%m%d").date() if until else None
                return key, end, ""
    return "custom", None, rule_text


def preset_label(key: str, day: datetime.date) -> str:
    from django.utils.formats import date_format

    nth = week_of_month(day)
    ordinal = {
        1: _("first"),
        2: _("second"),
        3: _("third"),
        4: _("fourth"),
        -1: _("last"),
    }[nth]
    weekday = date_format(day, "l")
    labels = {
        "none": _("Does not repeat"),
        "weekly": _("Weekly on %(weekday)s") % {"weekday": weekday},
        "biweekly": _("Every 2 weeks on %(weekday)s") % {"weekday": weekday},
        "four_weeks": _("Every 4 weeks on %(weekday)s") % {"weekday": weekday},
        "monthly_weekday": _("Monthly on the %(ordinal)s %(weekday)s")
        % {"ordinal": ordinal, "weekday": weekday},
        "monthly_day": _("Monthly on day %(day)s") % {"day": day.day},
    }
    return labels[key]


def check_times(starts_at: datetime.datetime, ends_at: datetime.datetime) -> None:
    """The end after the start, within MAX_DURATION; ValidationError keyed "ends_at"."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The end must be after the start.")]})
    if ends_at - starts_at > MAX_DURATION:
        raise ValidationError({"ends_at": [_("A meeting can last at most 12 hours.")]})
