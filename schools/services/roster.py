"""Reading roster CSV files: the file's bytes in, valid rows and every row's errors out.

Two layouts, told apart by the header row:

- the Trellis roster (documented on the upload page): student_id, first_name, last_name,
  preferred_name, date_of_birth, grade, school, guardian_name, guardian_email,
  guardian_phone, family_language;
- a OneRoster 1.1 users.csv: only role=student rows become students; parent, guardian and
  relative rows named in a student's agentSourcedIds give the guardian contact.

An empty cell of an optional column means "no change" for a student already in Trellis.
"(clear)" empties a field: written in a cell, for that student; written after a column's
name ("guardian_phone (clear)"), every empty cell of that column empties the field.

Nothing here touches the database: the caller passes the district's schools in, and
compares the rows with the students already there (services.students).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date

from django.core.validators import EmailValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.languages import parse_language
from schools.models import Student

MAX_BYTES = 20 * 1024 * 1024
# A file where every row is wrong says so long before the 5,000th error.
MAX_STORED_ERRORS = 5000
# Error values are shown back to the person; keep them short.
_VALUE_MAX = 80

SIMPLE = "simple"
ONEROSTER = "oneroster"

# Student fields an import may set, in the order rows are stored.
STUDENT_FIELDS = (
    "local_id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "grade",
    "school",
    "guardian_name",
    "guardian_email",
    "guardian_phone",
    "family_language",
    "active",
)

# Trellis layout: column -> Student field.
SIMPLE_COLUMNS = {
    "student_id": "local_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "preferred_name": "preferred_name",
    "date_of_birth": "date_of_birth",
    "grade": "grade",
    "school": "school",
    "guardian_name": "guardian_name",
    "guardian_email": "guardian_email",
    "guardian_phone": "guardian_phone",
    "family_language": "family_language",
}
SIMPLE_REQUIRED = ("student_id", "first_name", "last_name", "date_of_birth", "grade", "school")
# Column names people type instead of ours.
SIMPLE_ALIASES = {"local_id": "student_id", "dob": "date_of_birth", "birth_date": "date_of_birth"}

ONEROSTER_COLUMNS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
)
ONEROSTER_REQUIRED = ("sourcedId", "role", "givenName", "familyName", "orgSourcedIds", "grades")
_AGENT_ROLES = {"parent", "guardian", "relative"}

# The clear marker, in a cell or after a column's name (see the module docstring).
CLEAR = "(clear)"
_CLEAR_HEADER = re.compile(r"\s*\(clear\)\s*$", re.IGNORECASE)

# Error codes stored with each row error, and what they say.
MESSAGES = {
    "missing": gettext_lazy("A value is required."),
    "bad_date": gettext_lazy(
        "“%(value)s” is not a date: write it as 03/14/2012 (month/day/year) or 2012-03-14."
    ),
    "cannot_clear": gettext_lazy("Every student needs a value here: it cannot be cleared."),
    "implausible_date": gettext_lazy("“%(value)s” cannot be a date of birth."),
    "unknown_school": gettext_lazy("No school of the district has this name or id: “%(value)s”."),
    "school_not_yours": gettext_lazy("“%(value)s” is not one of the schools you manage."),
    "school_closed": gettext_lazy(
        "“%(value)s” is closed: reopen it in Settings, or move the student to an open school."
    ),
    # Says only that the row cannot be imported: never where, or that, the student is enrolled.
    "student_not_yours": gettext_lazy(
        "Student %(value)s cannot be imported. A coordinator for the whole district can "
        "import this row."
    ),
    "unknown_grade": gettext_lazy("“%(value)s” is not a grade: use PK, KG or 1 to 12."),
    "bad_email": gettext_lazy("“%(value)s” is not an email address."),
    "duplicate_id": gettext_lazy("Student id “%(value)s” is already on row %(extra)s."),
    "too_long": gettext_lazy("Longer than %(extra)s characters."),
    "unknown_language": gettext_lazy(
        "“%(value)s” is not a language Trellis knows. Write its name in English or Spanish "
        "(Vietnamese, vietnamita) or its ISO 639 code (vi), or leave the cell empty."
    ),
}


def error_message(code: str, value: str = "", extra="") -> str:
    template = MESSAGES.get(code)
    if template is None:
        return _("This value is not valid.")
    return str(template) % {"value": value, "extra": extra}


class RosterFileError(Exception):
    """The file as a whole cannot be used; the message says what to do about it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ParsedRoster:
    layout: str
    # Student fields the file carries (an update leaves the others alone).
    fields: list[str]
    # Valid rows: [row number, value for each of `fields`...]; school as its id,
    # date_of_birth as YYYY-MM-DD. An optional field is None where the cell was empty
    # (keep what Trellis has) and "" where it is cleared.
    rows: list[list] = field(default_factory=list)
    # [row number, column as named in the file, code, value, extra]
    errors: list[list] = field(default_factory=list)
    error_total: int = 0
    error_rows: int = 0
    total_rows: int = 0
    skipped_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SchoolDirectory:
    """The district's schools as a roster names them: by name, state id or SIS id."""

    by_key: dict
    # None: every school may be imported into; otherwise only these ids.
    allowed_ids: frozenset | None = None
    # Schools marked closed: named, but nobody is imported into them.
    closed_ids: frozenset = frozenset()

    @classmethod
    def build(cls, schools, allowed_ids=None) -> SchoolDirectory:
        by_key = {}
        # Names first, ids after: an id never hides a school's own name.
        for school in schools:
            for key in (school.sis_id, school.state_id):
                if key:
                    by_key.setdefault(key.strip().casefold(), school.pk)
        for school in schools:
            by_key[school.name.strip().casefold()] = school.pk
        closed = frozenset(school.pk for school in schools if school.closed_on is not None)
        return cls(by_key, None if allowed_ids is None else frozenset(allowed_ids), closed)

    def find(self, *keys: str) -> int | None:
        for key in keys:
            school_id = self.by_key.get(key.strip().casefold())
            if school_id is not None:
                return school_id
        return None


# --- Reading the bytes -----------------------------------------------------------------


def read_upload(uploaded_file) -> bytes:
    """The file's bytes, refusing anything over MAX_BYTES."""
    if uploaded_file.size is not None and uploaded_file.size > MAX_BYTES:
        raise RosterFileError(too_large_message())
    uploaded_file.seek(0)
    data = uploaded_file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RosterFileError(too_large_message())
    return data


def too_large_message() -> str:
    return _("The file is larger than %(size)s MB. Split the roster into smaller files.") % {
        "size": MAX_BYTES // (1024 * 1024)
    }


def decode(data: bytes) -> str:
    """UTF-8 text (with or without a byte-order mark), judged by content, not by name."""
    if not data.strip():
        raise RosterFileError(_("The file is empty."))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterFileError(
            _("This file is UTF-16 text; export it again as “CSV UTF-8” and upload that.")
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise RosterFileError(
            _("This looks like a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8”.")
        )
    if b"\x00" in data:
        raise RosterFileError(_("This is not a text file. Upload the roster as a CSV file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterFileError(
            _("This file is not UTF-8 text; export it again as CSV UTF-8.")
        ) from None
    if not text.strip():
        raise RosterFileError(_("The file is empty."))
    return text


def _records(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # strict: a quote left open must not swallow the rest of the file into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return list(reader)
    except csv.Error:
        raise RosterFileError(
            _(
                "Row %(row)s could not be read as CSV (a quote left open, or a cell too long). "
                "Check the file and upload it again."
            )
            % {"row": reader.line_num}
        ) from None


def _normalise(column: str) -> str:
    return re.sub(r"[\s\-]+", "_", column.strip().lower())


def _expected_columns_message(found: list[str]) -> str:
    shown = ", ".join(c for c in found if c)[:300]
    return _(
        "The columns of this file (%(found)s) are not a roster we know. "
        "A Trellis roster has the columns %(simple)s. "
        "A OneRoster 1.1 users.csv has %(oneroster)s."
    ) % {
        "found": shown,
        "simple": ", ".join(SIMPLE_COLUMNS),
        "oneroster": ", ".join(ONEROSTER_COLUMNS),
    }


# --- Parsing ---------------------------------------------------------------------------


def parse_roster(data: bytes, schools: SchoolDirectory, *, today: date) -> ParsedRoster:
    """Validate a whole roster file. Raises RosterFileError when the file cannot be used;
    otherwise every row is either valid or has its errors listed (row number and column).
    `today` is the district's date (`District.today()`): no birth date may come after it.
    """
    records = _records(decode(data))
    # Row numbers are the spreadsheet's: the header is row 1.
    numbered = [(number, record) for number, record in enumerate(records, start=1)]
    numbered = [(n, r) for n, r in numbered if any(cell.strip() for cell in r)]
    if not numbered:
        raise RosterFileError(_("The file is empty."))
    (_header_number, header), body = numbered[0], numbered[1:]
    # Both spellings: the Trellis layout names a column as the file does, OneRoster by ours.
    cleared = {
        name
        for cell in header
        if _CLEAR_HEADER.search(cell)
        for name in (cell.strip(), _CLEAR_HEADER.sub("", cell).strip())
    }
    names = [_normalise(_CLEAR_HEADER.sub("", cell)) for cell in header]
    seen = set()
    for original, name in zip(header, names, strict=True):
        if name and name in seen:
            raise RosterFileError(
                _("The column “%(column)s” appears twice.") % {"column": original.strip()}
            )
        seen.add(name)

    if "sourcedid" in names and "role" in names:
        parser = _OneRosterParser(header, names, schools, today)
    elif any(n in SIMPLE_COLUMNS or n in SIMPLE_ALIASES for n in names):
        parser = _SimpleParser(header, names, schools, today)
    else:
        raise RosterFileError(_expected_columns_message(header))
    parser.cleared_columns = cleared
    if not body:
        raise RosterFileError(
            _("The file has column names but no students. Add a row for each student.")
        )
    return parser.parse(body)


class _Parser:
    layout = ""

    def __init__(self, header, names, schools, today):
        self.header = [cell.strip() for cell in header]
        self.names = names
        self.schools = schools
        self.errors: list[list] = []
        self.error_total = 0
        self.error_row_numbers: set[int] = set()
        self.first_row_of: dict[str, int] = {}
        self.today = today
        # Columns marked "(clear)" in the header, as named there: their empty cells clear.
        self.cleared_columns: set[str] = set()

    def error(self, row: int, column: str, code: str, value: str = "", extra="") -> None:
        self.error_total += 1
        self.error_row_numbers.add(row)
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append([row, column, code, value[:_VALUE_MAX], extra])

    def missing_columns(self, required, known) -> None:
        missing = [column for column in required if column.lower() not in self.names]
        if missing:
            raise RosterFileError(
                _("The file has no column %(missing)s. The columns are: %(columns)s.")
                % {"missing": ", ".join(missing), "columns": ", ".join(known)}
            )

    # Field checks; each returns the clean value or None after recording an error.

    def required_text(self, row, column, value, field_name):
        return self.text(row, column, value, field_name, required=True)

    def empty(self, row, column, value, *, required=False):
        """The value of an empty or "(clear)" cell: None (no change), "" (cleared), or
        NotImplemented when the cell has a value to check."""
        if value.casefold() == CLEAR:
            if required:
                self.error(row, column, "cannot_clear", value)
                return None
            return ""
        if value:
            return NotImplemented
        if required:
            self.error(row, column, "missing")
            return None
        return "" if column in self.cleared_columns else None

    def text(self, row, column, value, field_name, *, required=False):
        value = value.strip()
        if (empty := self.empty(row, column, value, required=required)) is not NotImplemented:
            return empty
        limit = _MAX_LENGTHS[field_name]
        if len(value) > limit:
            self.error(row, column, "too_long", value, limit)
            return None
        return value

    def local_id(self, row, column, value, _field=None):
        value = self.text(row, column, value, "local_id", required=True)
        if value is None:
            return None
        first = self.first_row_of.setdefault(value, row)
        if first != row:
            self.error(row, column, "duplicate_id", value, first)
            return None
        return value

    def grade(self, row, column, value, _field=None):
        value = value.strip()
        if not value:
            self.error(row, column, "missing")
            return None
        grade = parse_grade(value)
        if grade is None:
            self.error(row, column, "unknown_grade", value)
        return grade

    def language(self, row, column, value, _field=None):
        """The family's language as an ISO 639 code, from a name or a code ("Spanish",
        "Español", "es-MX"); None or "" for an empty cell (see `empty`)."""
        value = " ".join(value.split())
        if (empty := self.empty(row, column, value)) is not NotImplemented:
            return empty
        code = parse_language(value)
        if code is None:
            self.error(row, column, "unknown_language", value)
        return code

    def email(self, row, column, value, _field=None):
        value = self.text(row, column, value, "guardian_email")
        if value and not email_ok(value):
            self.error(row, column, "bad_email", value)
            return None
        return value

    def school(self, row, column, value, keys):
        if not value.strip():
            self.error(row, column, "missing")
            return None
        school_id = self.schools.find(*keys)
        if school_id is None:
            self.error(row, column, "unknown_school", value.strip())
            return None
        if self.schools.allowed_ids is not None and school_id not in self.schools.allowed_ids:
            self.error(row, column, "school_not_yours", value.strip())
            return None
        if school_id in self.schools.closed_ids:
            self.error(row, column, "school_closed", value.strip())
            return None
        return school_id

    def result(self, fields, rows, total, skipped=0, ignored=()) -> ParsedRoster:
        return ParsedRoster(
            layout=self.layout,
            fields=list(fields),
            rows=rows,
            errors=self.errors,
            error_total=self.error_total,
            error_rows=len(self.error_row_numbers),
            total_rows=total,
            skipped_rows=skipped,
            ignored_columns=[c for c in ignored if c],
        )


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# US order, as spreadsheets in US districts write dates: 03/14/2012, 3/4/2012. A two-digit
# year is refused: 03/14/12 could be 1912 or 2012.
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(value: str) -> date | None:
    """A date written as YYYY-MM-DD or as M/D/YYYY (US order), or None."""
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = match.groups()
    elif match := _US_DATE.fullmatch(value):
        month, day, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


_EMAIL = EmailValidator()
_email_user_match = _EMAIL.user_regex.match  # resolves the lazy pattern once


@functools.lru_cache(maxsize=4096)
def _email_domain_ok(domain: str) -> bool:
    return _EMAIL.validate_domain_part(domain)


def email_ok(value: str) -> bool:
    """Django's EmailValidator, with its domain check remembered (rosters repeat domains)."""
    if "@" not in value or len(value) > 320:
        return False
    user, domain = value.rsplit("@", 1)
    return bool(_email_user_match(user)) and _email_domain_ok(domain)


_MAX_LENGTHS = {
    name: Student._meta.get_field(name).max_length
    for name in (
        "local_id",
        "first_name",
        "last_name",
        "preferred_name",
        "guardian_name",
        "guardian_email",
        "guardian_phone",
    )
}


class _SimpleParser(_Parser):
    layout = SIMPLE

    def __init__(self, header, names, schools, today):
        names = [SIMPLE_ALIASES.get(n, n) for n in names]
        super().__init__(header, names, schools, today)
        for n in SIMPLE_COLUMNS:
            if names.count(n) > 1:
                raise RosterFileError(_("The column “%(column)s” appears twice.") % {"column": n})
        self.missing_columns(SIMPLE_REQUIRED, SIMPLE_COLUMNS)
        self.index = {n: i for i, n in enumerate(names) if n in SIMPLE_COLUMNS}
        self.column = {n: self.header[i] for n, i in self.index.items()}
        self.fields = [f for f in STUDENT_FIELDS if f in {SIMPLE_COLUMNS[n] for n in self.index}]
        self.ignored = [self.header[i] for i, n in enumerate(names) if n not in SIMPLE_COLUMNS]
        self.width = len(names)
        check_of = {
            "local_id": self.local_id,
            "first_name": self.required_text,
            "last_name": self.required_text,
            "date_of_birth": self.birth_date,
            "grade": self.grade,
            "school": self.simple_school,
            "guardian_email": self.email,
            "family_language": self.language,
        }
        self.checks = [
            (SIMPLE_COLUMNS[n], self.column[n], i, check_of.get(SIMPLE_COLUMNS[n], self.text))
            for n, i in self.index.items()
        ]

    def simple_school(self, row, column, value, _field=None):
        return self.school(row, column, value, [value])

    def parse(self, body) -> ParsedRoster:
        rows = []
        for number, record in body:
            row_errors = self.error_total
            values = self.row(number, record)
            if self.error_total == row_errors:
                rows.append([number, *(values[f] for f in self.fields)])
        return self.result(self.fields, rows, len(body), ignored=self.ignored)

    def cell(self, record, name) -> str:
        i = self.index.get(name)
        return record[i] if i is not None and i < len(record) else ""

    def row(self, number, record) -> dict:
        if len(record) < self.width:
            record = record + [""] * (self.width - len(record))
        return {
            field_name: check(number, column, record[i], field_name)
            for field_name, column, i, check in self.checks
        }

    def birth_date(self, row, column, value, _field=None):
        value = value.strip()
        if (empty := self.empty(row, column, value)) is not NotImplemented:
            return empty
        parsed = parse_date(value)
        if parsed is None:
            self.error(row, column, "bad_date", value)
            return None
        if parsed.year < 1900 or parsed > self.today:
            self.error(row, column, "implausible_date", value)
            return None
        return parsed.isoformat()


class _OneRosterParser(_Parser):
    layout = ONEROSTER

    def __init__(self, header, names, schools, today):
        super().__init__(header, names, schools, today)
        self.missing_columns(ONEROSTER_REQUIRED, ONEROSTER_COLUMNS)
        known = {c.lower(): c for c in ONEROSTER_COLUMNS}
        self.index = {known[n]: i for i, n in enumerate(names) if n in known}
        self.ignored = [self.header[i] for i, n in enumerate(names) if n not in known]

    def cell(self, record, name) -> str:
        i = self.index.get(name)
        return record[i].strip() if i is not None and i < len(record) else ""

    def parse(self, body) -> ParsedRoster:
        agents = {}
        students = []
        for number, record in body:
            role = self.cell(record, "role").lower()
            if role == "student":
                students.append((number, record))
            elif role in _AGENT_ROLES:
                agents[self.cell(record, "sourcedId")] = record
        # A file without parent rows says nothing about guardians: leave them alone.
        fields = ["local_id", "first_name", "last_name", "grade", "school", "active"]
        if agents and "agentSourcedIds" in self.index:
            fields += ["guardian_name", "guardian_email", "guardian_phone"]
        fields = [f for f in STUDENT_FIELDS if f in fields]
        if not students:
            raise RosterFileError(
                _("This OneRoster file has no students (no rows with role “student”).")
            )
        rows = []
        for number, record in students:
            row_errors = self.error_total
            values = self.row(number, record, agents)
            if self.error_total == row_errors:
                rows.append([number, *(values[f] for f in fields)])
        skipped = len(body) - len(students)
        return self.result(fields, rows, len(students), skipped, self.ignored)

    def row(self, number, record, agents) -> dict:
        c = lambda name: self.cell(record, name)  # noqa: E731
        column = "identifier" if c("identifier") else "sourcedId"
        orgs = [o for o in c("orgSourcedIds").split(",") if o.strip()]
        grades = [g for g in c("grades").split(",") if g.strip()]
        values = {
            "local_id": self.local_id(number, column, c("identifier") or c("sourcedId")),
            "first_name": self.text(
                number, "givenName", c("givenName"), "first_name", required=True
            ),
            "last_name": self.text(
                number, "familyName", c("familyName"), "last_name", required=True
            ),
            "grade": self.grade(number, "grades", grades[0] if grades else ""),
            "school": self.school(number, "orgSourcedIds", c("orgSourcedIds"), orgs),
            "active": c("enabledUser").lower() != "false" and c("status").lower() != "tobedeleted",
        }
        agent = next(
            (agents[a.strip()] for a in c("agentSourcedIds").split(",") if a.strip() in agents),
            None,
        )
        a = (lambda name: self.cell(agent, name)) if agent else (lambda name: "")
        name = " ".join(p for p in (a("givenName"), a("familyName")) if p)
        values["guardian_name"] = self.text(number, "agentSourcedIds", name, "guardian_name")
        values["guardian_email"] = self.email(number, "agentSourcedIds", a("email"))
        phone = a("phone") or a("sms")
        values["guardian_phone"] = self.text(number, "agentSourcedIds", phone, "guardian_phone")
        return values


_GRADE_WORDS = {
    "PK": "PK",
    "P": "PK",
    "PREK": "PK",
    "PREKINDERGARTEN": "PK",
    "TK": "PK",  # transitional kindergarten comes before kindergarten
    "PR": "PK",
    "PS": "PK",
    "K": "KG",
    "KG": "KG",
    "KINDERGARTEN": "KG",
    "0": "KG",
    "00": "KG",
}


@functools.lru_cache(maxsize=512)
def parse_grade(value: str) -> str | None:
    """A grade as stored (PK, KG, 01..12) from the ways rosters write it, or None."""
    if value.strip().startswith("-"):
        return None
    text = re.sub(r"[\s\-_.]", "", value).upper()
    text = re.sub(r"^(GRADE|GR|G)(?=\d)", "", text)
    text = re.sub(r"(?<=\d)(ST|ND|RD|TH)$", "", text)
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    if text.isdigit() and 1 <= int(text) <= 12:
        return f"{int(text):02d}"
    return None
