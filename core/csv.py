"""CSV writing: the one way Trellis writes a CSV file.

Every file is written in one dialect (comma, double quotes only where needed, CRLF line
ends: RFC 4180, what every spreadsheet reads), and no cell can run in a spreadsheet. A cell
that starts with = + - @ tab or carriage return is a formula to Excel, LibreOffice and
Google Sheets ("CSV injection", OWASP), and directory text comes from outsiders (the
listing-confirmation link), so such a text cell gets a leading apostrophe: the spreadsheet
shows the text instead of running it.

Files that other programs read as typed data (HSDS, with its datapackage.json) give each
column a rule instead: typed columns (numbers, dates, ids) are checked as their type and
written as they are, so a longitude of -71.06 stays a number; phone numbers that are only
phone characters are written as they are (+1 555 0100); every other text cell is
neutralized, and `unguard` removes exactly what `neutralize` added, so reading back what
we wrote gives the same values.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header

GUARD = "'"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# A value that already starts with apostrophes before a trigger gets one more as well, so
# that removing one apostrophe from every guarded-looking cell gives back exactly what was
# written: unguard(neutralize(text)) == text for every text.
_NEEDS_GUARD = re.compile(r"'*[=+\-@\t\r]")  # [...]: the TRIGGERS
_GUARDED = re.compile(r"'+[=+\-@\t\r]")


class TrellisDialect(csv.Dialect):
    """RFC 4180, as Excel writes it: what every file Trellis writes uses."""

    delimiter = ","
    quotechar = '"'
    escapechar = None
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL


class CellError(ValueError):
    """A value in a typed column is not of the column's type (a bug in the export, never
    data to write as it is)."""


def neutralize(value: str) -> str:
    """The text as a spreadsheet will show it, never run it (a guard added if needed)."""
    return GUARD + value if _NEEDS_GUARD.match(value) else value


def unguard(value: str) -> str:
    """The text `neutralize` was given: removes the guard it added, and nothing else."""
    return value[len(GUARD) :] if _GUARDED.match(value) else value


# --- Column rules: str -> the cell written (raise CellError when the value is not valid) ---

Rule = Callable[[str], str]


def text(value: str) -> str:
    return neutralize(value)


def _typed(kind: str, valid: Callable[[str], bool]) -> Rule:
    def rule(value: str) -> str:
        if value and not valid(value):
            raise CellError(f"{value[:40]!r} is not a valid {kind}")
        return value

    rule.__name__ = kind
    return rule


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _is_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value))


def _is_datetime(value: str) -> bool:
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value))


integer = _typed("integer", re.compile(r"-?[0-9]+").fullmatch)
number = _typed("number", re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").fullmatch)
date = _typed("date", _is_date)
datetime_ = _typed("datetime", _is_datetime)
uuid_ = _typed("uuid", _is_uuid)
boolean = _typed("boolean", lambda value: value in ("true", "false"))

# Digits and what people write between them: no letters but an extension's x or ext, no
# quotes, no ! or |, so neither a function call nor a DDE link can be written with these.
_PHONE = re.compile(r"\+?[0-9 ().\-]*[0-9][0-9 ().\-]*(?: *(?:x|ext\.?) *[0-9]+)?", re.I)


def phone(value: str) -> str:
    """A phone number (+1 555 0100, (555) 010-0100 x12) as it is; anything else as text.
    A phone number never starts with an apostrophe, so `unguard` stays exact."""
    return value if _PHONE.fullmatch(value) else neutralize(value)


# --- Writing ------------------------------------------------------------------------------------


def _spreadsheet_cell(value: Any) -> str:
    """A cell by the value's own type: numbers and dates as they are, text neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return neutralize(str(value))


class Writer:
    """csv.writer in the Trellis dialect; each cell passes its column's rule, or, without
    rules, is written by its Python type (str neutralized, numbers and dates as they are)."""

    def __init__(self, out, rules: Sequence[Rule] | None = None):
        self._writer = csv.writer(out, dialect=TrellisDialect)
        self._rules = list(rules) if rules is not None else None

    def cells(self, row: Sequence[Any]) -> list[str]:
        if self._rules is None:
            return [_spreadsheet_cell(value) for value in row]
        if len(row) != len(self._rules):
            raise CellError(f"{len(row)} values for {len(self._rules)} columns")
        return [
            "" if value is None else rule(str(value))
            for rule, value in zip(self._rules, row, strict=True)
        ]

    def writeheader(self, names: Sequence[str]) -> None:
        self._writer.writerow([neutralize(str(name)) for name in names])

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow(self.cells(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_response(filename: str, rows: Iterable[Sequence[Any]], *, header=()) -> HttpResponse:
    """A CSV download for a spreadsheet: UTF-8 with a byte-order mark (so Excel reads it as
    UTF-8), every text cell neutralized."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response.write("\ufeff")
    writer = Writer(response)
    if header:
        writer.writeheader(header)
    writer.writerows(rows)
    return response
