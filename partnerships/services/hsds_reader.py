"""Reading an uploaded HSDS 3 package, without touching the database.

Whole-file problems (not a zip, a zip bomb, a missing file or column) raise HSDSFileError
with a message that says what to do. Row problems are listed with their file, line and
column; the row is left out, and so are the rows that belong to it.

The zip is vetted from its central directory (member count, names, total uncompressed
size, compression ratio) BEFORE anything is decompressed, and decompression stops at the
size the zip declared.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.csv import unguard
from core.languages import is_known, normalize_code, parse_language
from partnerships.models import (
    SERVICE_TAXONOMY,
    ContactRole,
    DeliveryMode,
    Intake,
    PartnerKind,
    Payment,
)
from partnerships.services.hsds_format import (
    CATEGORY_TAXONOMY,
    FIELD_TAXONOMY,
    FIELD_TERMS,
    LIMITS,
    MAX_ERRORS,
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    OLD_NAMES,
    READ,
    REQUIRED_COLUMNS,
    REQUIRED_FILES,
    SERVICE_STATUSES,
    TABLES,
    Column,
)

_VALUE_MAX = 80

# --- Reading ---------------------------------------------------------


class HSDSFileError(Exception):
    """The upload as a whole cannot be used; the message says what to do about it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Problem:
    file: str
    row: int | None  # the line in the file (the header is line 1); None for the whole file
    column: str
    message: str


@dataclass
class ImportedOrganization:
    hsds_id: str
    row: int
    fields: dict
    school_names: list[str] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)  # hsds_id, row, category, name, description
    contacts: list[dict] = field(default_factory=list)  # hsds_id, row, + CONTACT_FIELDS


@dataclass
class ParsedPackage:
    organizations: list[ImportedOrganization] = field(default_factory=list)
    # Categories of our taxonomy the package names: code -> name.
    categories: dict[str, str] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    error_total: int = 0
    warnings: list[Problem] = field(default_factory=list)
    not_used: list[str] = field(default_factory=list)  # files and columns left aside
    # The directory the package says it is (datapackage.json's title, else its name).
    source: str = ""
    # Every id of organizations.csv, those left out for problems included: an
    # organization of the source that is not among them has disappeared from it.
    organization_ids: set[str] = field(default_factory=set)

    def error(self, file, row, column, message):
        self.error_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(Problem(file, row, column, message))

    def warn(self, file, row, column, message):
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(Problem(file, row, column, message))


def _short(value: str) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= _VALUE_MAX else value[: _VALUE_MAX - 1] + "…"


def _bomb() -> HSDSFileError:
    return HSDSFileError(
        _(
            "The zip file unpacks to far more than it holds (over %(limit)s MB, or compressed "
            "more than %(ratio)s times): it is refused. Export the directory again as a plain zip."
        )
        % {"limit": MAX_UNCOMPRESSED_BYTES // (1024 * 1024), "ratio": MAX_RATIO}
    )


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open and vet the zip from its central directory; nothing is decompressed here."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise HSDSFileError(
            _("The file is larger than %(limit)s MB.")
            % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise HSDSFileError(
            _(
                "This is not a zip file. Upload the .zip file of an HSDS export "
                "as it was downloaded."
            )
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise HSDSFileError(
            _("The zip holds %(count)s files; an HSDS package has at most %(limit)s.")
            % {"count": len(infos), "limit": MAX_MEMBERS}
        )
    seen = set()
    for info in infos:
        name = info.filename
        if info.is_dir() or "/" in name or "\\" in name or ".." in name or ":" in name:
            raise HSDSFileError(
                _(
                    "The zip contains a folder or a path (“%(name)s”). Put the CSV files and "
                    "datapackage.json at the top of the zip, not in a folder."
                )
                % {"name": _short(name)}
            )
        if name in seen:
            raise HSDSFileError(_("The zip contains “%(name)s” twice.") % {"name": name})
        seen.add(name)
        if info.flag_bits & 0x1:
            raise HSDSFileError(_("The zip is password-protected. Upload it without a password."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise HSDSFileError(
                _("The zip uses a compression method we cannot read. Save it as a standard zip.")
            )
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _bomb()
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES or total > MAX_RATIO * max(len(data), 1) + 1024 * 1024:
        raise _bomb()
    missing = [name for name in REQUIRED_FILES if name not in seen]
    if missing:
        raise HSDSFileError(
            _("The package has no %(files)s. An HSDS package needs at least %(required)s.")
            % {"files": ", ".join(missing), "required": ", ".join(REQUIRED_FILES)}
        )
    return archive, infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A member's text; decompression stops at the size the zip declared."""
    try:
        with archive.open(info) as handle:
            raw = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        raise HSDSFileError(
            _("“%(name)s” in the zip is damaged. Export the directory again.")
            % {"name": info.filename}
        ) from None
    if len(raw) > info.file_size:
        raise _bomb()
    if b"\x00" in raw:
        raise HSDSFileError(
            _("“%(name)s” is not a text file. Each table must be a CSV file saved as UTF-8.")
            % {"name": info.filename}
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HSDSFileError(
            _(
                "“%(name)s” is not saved as UTF-8 text. Save the CSV files as UTF-8 "
                "and zip them again."
            )
            % {"name": info.filename}
        ) from None


def _table(name: str, text: str, package: ParsedPackage) -> list[tuple[int, dict]]:
    """Rows of one CSV file as (line, {column: value}); column problems stop the upload."""
    filename = f"{name}.csv"
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise HSDSFileError(
                _("%(file)s is empty: its first line must name the columns.") % {"file": filename}
            )
        header = [cell.strip() for cell in header]
        duplicates = sorted({c for c in header if c and header.count(c) > 1})
        if duplicates:
            raise HSDSFileError(
                _("%(file)s names the column %(columns)s more than once.")
                % {"file": filename, "columns": ", ".join(duplicates)}
            )
        missing = [c for c in REQUIRED_COLUMNS[name] if c not in header]
        if missing:
            raise HSDSFileError(
                _(
                    "%(file)s has no %(missing)s column. Its first line must name the HSDS "
                    "columns (it has: %(found)s)."
                )
                % {
                    "file": filename,
                    "missing": ", ".join(missing),
                    "found": _short(", ".join(c for c in header if c)) or "—",
                }
            )
        # Our export guards text cells against spreadsheets; remove exactly that guard, and
        # only from the columns where it writes one (ids, numbers and dates are never guarded).
        guarded = {c.name for c in TABLES[name] if c.guarded}
        typed = {c.name: c for c in TABLES[name] if c.name in header and _TYPE_CHECKS.get(_kind(c))}
        wrong: dict[str, list] = {}  # column -> [count, first line, first value]
        rows = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise HSDSFileError(
                    _("%(file)s has more than %(limit)s rows.")
                    % {"file": filename, "limit": MAX_ROWS}
                )
            if len(values) != len(header):
                package.error(
                    filename,
                    line,
                    "",
                    _("This row has %(found)s values; the first line names %(expected)s columns.")
                    % {"found": len(values), "expected": len(header)},
                )
                continue
            row = {
                c: unguard(v.strip()) if c in guarded else v.strip()
                for c, v in zip(header, values, strict=True)
                if c
            }
            for column_name, column in typed.items():
                value = row.get(column_name, "")
                if value and not _TYPE_CHECKS[_kind(column)](value):
                    seen = wrong.setdefault(column_name, [0, line, value])
                    seen[0] += 1
            rows.append((line, row))
        # Columns left aside: those the specification does not have, and those it has that
        # Trellis has no place for, where the file gives them a value.
        spec = {c.name for c in TABLES[name]}
        filled = {column for _line, row in rows for column, value in row.items() if value}
        unused = [
            c
            for c in header
            if c and c not in _READ_COLUMNS[name] and (c not in spec or c in filled)
        ]
        if unused:
            package.not_used.append(f"{filename}: {', '.join(unused)}")
        for column_name, (count, line, value) in wrong.items():
            package.warn(
                filename,
                line,
                column_name,
                ngettext(
                    "%(count)s value of %(column)s is not %(what)s as HSDS 3 says (first on "
                    "line %(line)s: “%(value)s”).",
                    "%(count)s values of %(column)s are not %(what)s as HSDS 3 says (first on "
                    "line %(line)s: “%(value)s”).",
                    count,
                )
                % {
                    "count": count,
                    "column": column_name,
                    "what": _TYPE_NAMES[_kind(typed[column_name])](),
                    "line": line,
                    "value": _short(value),
                },
            )
        return rows
    except csv.Error as error:
        raise HSDSFileError(
            _("%(file)s cannot be read as CSV (%(error)s).") % {"file": filename, "error": error}
        ) from None


# The columns the import reads of each table, and those whose content Trellis keeps in
# another way (a service's status, fees and assurance come from its organization's
# attributes; "label" is in older Trellis exports): the others are listed as not used
# when they hold a value.
_READ_COLUMNS: dict[str, set] = {
    "organizations": {"id", "name", "description", "email", "website"},
    "services": {
        "id",
        "organization_id",
        "name",
        "description",
        "status",
        "minimum_age",
        "maximum_age",
        "eligibility_description",
        "fees_description",
        "assured_date",
        "assurer_email",
    },
    "locations": {"id", "organization_id", "location_type", "url", "name"},
    "addresses": {
        "id",
        "location_id",
        "address_1",
        "address_2",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    },
    "phones": {
        "id",
        "number",
        "type",
        "contact_id",
        "organization_id",
        "location_id",
        "service_id",
    },
    "contacts": {"id", "organization_id", "service_id", "location_id", "name", "title", "email"},
    "languages": {"id", "code", "name", "location_id", "service_id"},
    "service_at_location": {"id", "service_id", "location_id"},
    "service_areas": {"id", "service_id", "name", "description"},
    "cost_options": {"id", "service_id", "option"},
    "taxonomies": {"id", "name", "description", "uri", "version"},
    "taxonomy_terms": {"id", "code", "name", "description", "taxonomy", "language", "taxonomy_id"},
    "attributes": {
        "id",
        "link_id",
        "taxonomy_term_id",
        "link_type",
        "link_entity",
        "value",
        "label",
    },
}


def _kind(column: Column) -> str:
    return column.format if column.format in ("uuid", "email") else column.type


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    try:
        return parse_datetime(value) is not None
    except ValueError:
        return False


def _is_time(value: str) -> bool:
    return bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?([+-]\d\d:?\d\d|Z)?", value))


_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)

# The types of the specification's columns that a value is checked against (a value of
# another type is a warning: Trellis reads few of these columns, and checks those itself).
_TYPE_CHECKS = {
    "uuid": lambda value: bool(_UUID.fullmatch(value)),
    "email": lambda value: _valid_email(value),
    "number": _is_number,
    "integer": lambda value: value.lstrip("-").isdigit(),
    "date": _is_date,
    "datetime": _is_datetime,
    "time": _is_time,
}
_TYPE_NAMES = {
    "uuid": lambda: _("a UUID"),
    "email": lambda: _("an email address"),
    "number": lambda: _("a number"),
    "integer": lambda: _("a whole number"),
    "date": lambda: _("a date (YYYY-MM-DD)"),
    "datetime": lambda: _("a date and time"),
    "time": lambda: _("a time (HH:MM)"),
}

_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


def _valid_email(value: str) -> bool:
    try:
        _email(value)
    except ValidationError:
        return False
    return len(value) <= 254


def _website(value: str) -> str | None:
    """A website as we store it (a scheme added when missing), or None if not a URL."""
    if value and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
        value = "https://" + value
    try:
        _url(value)
    except ValidationError:
        return None
    return value if len(value) <= 200 else None


def _int(value: str, low: int, high: int) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not number.is_integer() or not low <= number <= high:
        return None
    return int(number)


def _table_of(member: str) -> str | None:
    """The table a member of the zip holds ("service_at_locations.csv", an older Trellis
    name, is service_at_location), or None for a file that is no HSDS table."""
    if member in OLD_NAMES:
        return OLD_NAMES[member]
    if member.endswith(".csv") and member[:-4] in TABLES:
        return member[:-4]
    return None


def _descriptor_warnings(descriptor: dict, headers: dict[str, list[str]], package) -> None:
    """Where datapackage.json says otherwise than the files: the files win; say so."""
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        package.warn(
            "datapackage.json",
            None,
            "",
            _("It lists no resources: the files are read as they are."),
        )
        return
    described = {}
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            fields = (
                (resource.get("schema") or {}).get("fields")
                if isinstance(resource.get("schema"), dict)
                else None
            )
            names = (
                [f.get("name") for f in fields if isinstance(f, dict)]
                if isinstance(fields, list)
                else None
            )
            described[resource["path"]] = names
    for path, names in described.items():
        if path not in headers:
            package.warn(
                "datapackage.json",
                None,
                "",
                _("It describes %(file)s, which is not in the zip.") % {"file": _short(path)},
            )
        elif names is not None and names != headers[path]:
            package.warn(
                "datapackage.json",
                None,
                "",
                _(
                    "It gives the columns of %(file)s otherwise than the file's first line: "
                    "the file's columns are read."
                )
                % {"file": _short(path)},
            )
    for path in headers:
        if path not in described:
            package.warn(
                "datapackage.json",
                None,
                "",
                _("It does not describe %(file)s: the file is read as HSDS 3 lays it out.")
                % {"file": _short(path)},
            )


def _header(text: str) -> list[str]:
    try:
        return [cell.strip() for cell in next(csv.reader(io.StringIO(text, newline="")), [])]
    except csv.Error:
        return []


def hsds_read(data: bytes) -> ParsedPackage:
    """Parse and check a package: whole-file problems raise HSDSFileError, row problems
    are listed (the row is left out, and so are rows that depend on it)."""
    archive, infos = _open_zip(data)
    package = ParsedPackage()
    members = {}
    descriptor = None
    with archive:
        # The specification's names first: an older name beside one is not used.
        for info in sorted(infos, key=lambda info: info.filename in OLD_NAMES):
            table = _table_of(info.filename)
            if info.filename == "datapackage.json":
                continue
            if table is None or table in members:
                package.not_used.append(info.filename)
            else:
                members[table] = info
        if "datapackage.json" in {info.filename for info in infos}:
            info = next(i for i in infos if i.filename == "datapackage.json")
            try:
                descriptor = json.loads(_read_member(archive, info))
            except ValueError:
                descriptor = None
            if not isinstance(descriptor, dict):
                raise HSDSFileError(
                    _("datapackage.json is not a valid data package descriptor (a JSON object).")
                )
        texts = {table: _read_member(archive, info) for table, info in members.items()}
    if descriptor is not None:
        headers = {members[table].filename: _header(text) for table, text in texts.items()}
        _descriptor_warnings(descriptor, headers, package)
        for key in ("title", "name"):
            if isinstance(descriptor.get(key), str) and descriptor[key].strip():
                package.source = " ".join(descriptor[key].split())[:200]
                break
    tables = {}
    for name in READ:
        tables[name] = _table(name, texts[name], package) if name in texts else []
    for name, text in texts.items():
        if name not in READ and len([line for line in text.splitlines() if line.strip()]) > 1:
            package.not_used.append(members[name].filename)  # a table with rows, unread
    _Builder(package, tables).build()
    return package


class _Builder:
    """Turns the rows of a package into organizations with their services and contacts."""

    CHOICES = {
        "partner_kind": PartnerKind.values,
        "delivery_mode": DeliveryMode.values,
        "payment": Payment.values,
        "intake": Intake.values,
        "contact_role": ContactRole.values,
    }
    TEXT_LIMITS = {
        "street_address": LIMITS["address"],
        "city": LIMITS["city"],
        "state": LIMITS["state"],
        "postal_code": LIMITS["postal_code"],
        "eligibility": LIMITS["description"],
        "verified_by": 200,
        "school_served": 200,
    }

    def __init__(self, package: ParsedPackage, tables: dict):
        self.package = package
        self.tables = tables
        self.orgs: dict[str, ImportedOrganization] = {}
        self.bad_orgs: set[str] = set()  # left out for errors: rows naming them are left out too
        self.bad_services: set[str] = set()
        self.terms: dict[str, tuple[str, str, str]] = {}  # id -> (taxonomy, code, name)
        self.org_values: dict[str, dict[str, list]] = {}
        self.contact_values: dict[str, dict[str, list]] = {}
        self.service_categories: dict[str, str] = {}
        self.area_schools: dict[str, list[str]] = {}  # organization -> its services' areas
        self.area_payments: dict[str, list[str]] = {}  # organization -> its cost options
        self.known_codes = {code for code, _label in SERVICE_TAXONOMY}
        with translation.override("en"):
            self.shipped_names = {code: str(label) for code, label in SERVICE_TAXONOMY}

    # problems ------------------------------------------------------------------------------

    def error(self, table, line, column, message):
        self.package.error(f"{table}.csv", line, column, message)

    def required(self, table, line, column):
        self.error(table, line, column, _("A value is required."))

    def too_long(self, table, line, column, limit):
        self.error(table, line, column, _("Longer than %(count)s characters.") % {"count": limit})

    def not_found(self, table, line, column, target, value):
        self.error(
            table,
            line,
            column,
            _("No row of %(file)s has the id “%(value)s”.")
            % {"file": f"{target}.csv", "value": _short(value)},
        )

    def invalid(self, table, line, column, value, what):
        self.error(
            table,
            line,
            column,
            _("“%(value)s” is not %(what)s.") % {"value": _short(value), "what": what},
        )

    def rows(self, table) -> list[tuple[int, dict]]:
        """The table's rows with a usable, unique id."""
        seen, rows = set(), []
        for line, row in self.tables[table]:
            key = row.get("id", "")
            if not key:
                self.required(table, line, "id")
            elif len(key) > 200:
                self.too_long(table, line, "id", 200)
            elif key in seen:
                self.error(
                    table,
                    line,
                    "id",
                    _("The id “%(value)s” is used twice.") % {"value": _short(key)},
                )
            else:
                seen.add(key)
                rows.append((line, row))
        return rows

    def text(self, table, line, row, column, limit, *, required=False):
        """The column's value, or None (with an error) when missing or too long."""
        value = row.get(column, "")
        if required and not value:
            self.required(table, line, column)
            return None
        if len(value) > limit:
            self.too_long(table, line, column, limit)
            return None
        return value

    def org_ref(self, table, line, value, *, column="organization_id", required=False):
        """The organization a row names: it, None when not named, False when bad."""
        if not value:
            if required:
                self.required(table, line, column)
                return False
            return None
        if value in self.orgs:
            return self.orgs[value]
        if value in self.bad_orgs:
            self.error(
                table,
                line,
                column,
                _("Belongs to organization “%(value)s”, which has errors: left out with it.")
                % {"value": _short(value)},
            )
        else:
            self.not_found(table, line, column, "organizations", value)
        return False

    # the build -----------------------------------------------------------------------------

    def build(self):
        self.organizations()
        self.taxonomy_terms()
        self.attributes()
        locations = self.locations()
        self.addresses(locations)
        services = self.services()
        self.languages(locations, services)
        contacts = self.contacts(services, locations)
        self.phones(contacts, locations, services)
        self.service_at_location(locations, services)
        self.service_areas(services)
        self.cost_options(services)
        self.finish()

    def organizations(self):
        names = set()
        self.package.organization_ids = {
            row.get("id", "") for _l, row in self.tables["organizations"]
        }
        for line, row in self.rows("organizations"):
            name = self.text("organizations", line, row, "name", LIMITS["name"], required=True)
            description = self.text(
                "organizations", line, row, "description", LIMITS["description"]
            )
            ok = name is not None and description is not None
            email = row.get("email", "")
            if email and not _valid_email(email):
                self.invalid("organizations", line, "email", email, _("an email address"))
                ok = False
            website = _website(row["website"]) if row.get("website") else ""
            if website is None:
                self.invalid("organizations", line, "website", row["website"], _("a web address"))
                ok = False
            if ok and name.lower() in names:
                self.error(
                    "organizations",
                    line,
                    "name",
                    _("Another organization of the package has the name “%(value)s”.")
                    % {"value": _short(name)},
                )
                ok = False
            if not ok:
                self.bad_orgs.add(row["id"])
                continue
            names.add(name.lower())
            if description == name:  # says nothing (HSDS requires one: our export repeats)
                description = ""
            fields = dict.fromkeys(("phone", "address", "city", "state", "postal_code"), "")
            fields.update(name=name, description=description, email=email, website=website)
            fields["languages"] = []
            self.orgs[row["id"]] = ImportedOrganization(hsds_id=row["id"], row=line, fields=fields)

    def taxonomy_terms(self):
        # A term names its taxonomy in `taxonomy`, or (HSDS 3) by `taxonomy_id`.
        taxonomies = {row["id"]: row.get("name", "") for _line, row in self.rows("taxonomies")}
        for line, row in self.rows("taxonomy_terms"):
            name = self.text("taxonomy_terms", line, row, "name", 200, required=True)
            if name is not None:
                taxonomy = row.get("taxonomy", "") or taxonomies.get(row.get("taxonomy_id"), "")
                self.terms[row["id"]] = (taxonomy, row.get("code", ""), name)

    def attributes(self):
        for line, row in self.rows("attributes"):
            term = self.terms.get(row["taxonomy_term_id"])
            if term is None:
                self.not_found(
                    "attributes",
                    line,
                    "taxonomy_term_id",
                    "taxonomy_terms",
                    row["taxonomy_term_id"],
                )
                continue
            taxonomy, code, name = term
            entity, link = row.get("link_entity", ""), row.get("link_id", "")
            if entity == "service":
                if taxonomy == CATEGORY_TAXONOMY or code in self.known_codes:
                    self.category(line, link, taxonomy, code, name)
                continue
            if taxonomy != FIELD_TAXONOMY or code not in FIELD_TERMS:
                continue  # another taxonomy's classification: not ours to read
            if entity == "organization":
                if link not in self.orgs:
                    if link not in self.bad_orgs:
                        self.not_found("attributes", line, "link_id", "organizations", link)
                    continue
                target = self.org_values
            elif entity == "contact":
                target = self.contact_values
            else:
                continue
            value = self.field_value(line, code, row.get("value", ""))
            if value is not None:
                target.setdefault(link, {}).setdefault(code, []).append(value)

    def category(self, line, service_id, taxonomy, code, name):
        if not re.fullmatch(r"[a-z0-9_]{1,40}", code or ""):
            self.invalid(
                "attributes",
                line,
                "taxonomy_term_id",
                code,
                _("a category code (lower-case letters, digits and _)"),
            )
            return
        self.service_categories.setdefault(service_id, code)
        if code not in self.known_codes:
            self.package.categories.setdefault(code, name[:100])

    def field_value(self, line, code, value):
        """A "Trellis directory fields" attribute's value, checked; None (and an error) if bad."""
        what = _("a valid %(field)s") % {"field": code.replace("_", " ")}
        if code in self.CHOICES:
            result = value if value in self.CHOICES[code] else None
        elif code == "capacity":
            result = _int(value, 0, 100000)
        elif code in ("min_age", "max_age"):
            result = _int(value, 0, 120)
        elif code == "preferred_language":
            result = parse_language(value)
        elif code in ("active", "reminders"):
            result = {"true": True, "false": False}.get(value.lower())
        elif code == "verified_at":
            try:
                result = parse_datetime(value)
            except ValueError:
                result = None
            if result is not None and timezone.is_naive(result):
                result = timezone.make_aware(result, datetime.UTC)
        else:
            if len(value) > self.TEXT_LIMITS[code]:
                self.too_long("attributes", line, "value", self.TEXT_LIMITS[code])
                return None
            return value
        if result is None:
            self.invalid("attributes", line, "value", value, what)
        return result

    def locations(self) -> dict[str, ImportedOrganization | None]:
        locations = {}
        for line, row in self.rows("locations"):
            org = self.org_ref("locations", line, row.get("organization_id", ""))
            if org is not False:
                locations[row["id"]] = org
        return locations

    def addresses(self, locations):
        done = set()
        columns = (
            ("address_1", "address"),
            ("city", "city"),
            ("state_province", "state"),
            ("postal_code", "postal_code"),
        )
        for line, row in self.rows("addresses"):
            location = row.get("location_id", "")
            if location not in locations:
                self.not_found("addresses", line, "location_id", "locations", location)
                continue
            values = {
                target: self.text("addresses", line, row, column, LIMITS[target])
                for column, target in columns
            }
            org = locations[location]
            if None in values.values() or org is None:
                continue
            if org.hsds_id in done:  # one address per partner: the first
                self.package.warn(
                    "addresses.csv",
                    line,
                    "",
                    _(
                        "%(name)s has more than one address: Trellis keeps one, the first, so "
                        "“%(address)s” is not kept."
                    )
                    % {
                        "name": _short(org.fields["name"]),
                        "address": _short(", ".join(v for v in values.values() if v)),
                    },
                )
                continue
            if row.get("address_2") and values["address"]:
                values["address"] = f"{values['address']}, {row['address_2']}"[: LIMITS["address"]]
            org.fields.update(values)
            done.add(org.hsds_id)

    def service_ref(self, table, line, value, services):
        """The organization of the service a row names, or None (with an error)."""
        if value in services:
            return services[value]
        if value in self.bad_services:
            self.error(
                table,
                line,
                "service_id",
                _("Belongs to service “%(value)s”, which has errors: left out with it.")
                % {"value": _short(value)},
            )
        else:
            self.not_found(table, line, "service_id", "services", value)
        return None

    def services(self) -> dict[str, ImportedOrganization]:
        services = {}
        for line, row in self.rows("services"):
            self.bad_services.add(row["id"])  # until it is read whole
            org = self.org_ref("services", line, row.get("organization_id", ""), required=True)
            name = self.text("services", line, row, "name", LIMITS["name"])
            description = self.text("services", line, row, "description", LIMITS["description"])
            if not org or name is None or description is None:
                continue
            status = row.get("status", "")
            if status and status.lower() not in SERVICE_STATUSES:
                self.invalid(
                    "services",
                    line,
                    "status",
                    status,
                    _("active, inactive, defunct or temporarily closed"),
                )
                continue
            ages = {column: row.get(column, "") for column in ("minimum_age", "maximum_age")}
            bad_age = False
            for column, value in ages.items():
                ages[column] = _int(value, 0, 120) if value else None
                if value and ages[column] is None:
                    self.invalid("services", line, column, value, _("an age from 0 to 120"))
                    bad_age = True
            if bad_age:
                continue
            code = self.service_categories.get(row["id"], "other")
            if name and name == self.shipped_names.get(code, self.package.categories.get(code)):
                name = ""  # our export names an unnamed service after its category
            org.services.append(
                {
                    "hsds_id": row["id"],
                    "row": line,
                    "category": code,
                    "name": name,
                    "description": description,
                    "eligibility": row.get("eligibility_description", ""),
                    **ages,
                }
            )
            services[row["id"]] = org
            self.bad_services.discard(row["id"])
        return services

    def languages(self, locations, services):
        """Each row's language as an ISO 639 code: its `code`, else its `name` read as a
        name in English or Spanish (or a code written there)."""
        for line, row in self.rows("languages"):
            code, name = row.get("code", ""), row.get("name", "")
            if code:
                language, column, value = normalize_code(code), "code", code
                if language and not is_known(language):
                    language = None
            elif name:
                language, column, value = parse_language(name), "name", name
            else:
                self.required("languages", line, "name")
                continue
            if not language:
                what = _("an ISO 639 code") if column == "code" else _("a language we know")
                self.invalid("languages", line, column, value, what)
                continue
            location, service = row.get("location_id", ""), row.get("service_id", "")
            if location and location not in locations:
                self.not_found("languages", line, "location_id", "locations", location)
                continue
            if location:
                org = locations.get(location)
            elif service:
                org = self.service_ref("languages", line, service, services)
                if org is None:
                    continue
            else:
                org = None
            if org is not None and language not in org.fields["languages"]:
                org.fields["languages"].append(language)

    def contacts(self, services, locations) -> dict[str, dict]:
        contacts = {}
        for line, row in self.rows("contacts"):
            org = self.org_ref("contacts", line, row.get("organization_id", ""))
            if org is None:
                org = services.get(row.get("service_id", "")) or locations.get(
                    row.get("location_id", "")
                )
                if org is None:
                    self.error(
                        "contacts",
                        line,
                        "organization_id",
                        _("This contact belongs to no organization of the package."),
                    )
                    continue
            name = self.text("contacts", line, row, "name", LIMITS["name"], required=True)
            title = self.text("contacts", line, row, "title", LIMITS["title"])
            email = row.get("email", "")
            if email and not _valid_email(email):
                self.invalid("contacts", line, "email", email, _("an email address"))
                continue
            if not org or name is None or title is None:
                continue
            values = self.contact_values.get(row["id"], {})
            contact = {
                "hsds_id": row["id"],
                "row": line,
                "name": name,
                "title": title,
                "email": email,
                "phone": "",
                "preferred_language": (values.get("preferred_language") or [""])[0],
                "roles": list(dict.fromkeys(values.get("contact_role", []))),
                "reminders": (values.get("reminders") or [False])[0],
            }
            if contact["reminders"] and not email:
                self.error(
                    "contacts",
                    line,
                    "email",
                    _("A contact who receives reminders needs an email address."),
                )
                continue
            org.contacts.append(contact)
            contacts[row["id"]] = contact
        return contacts

    def phones(self, contacts, locations, services):
        for line, row in self.rows("phones"):
            number = self.text("phones", line, row, "number", LIMITS["phone"], required=True)
            if number is None:
                continue
            contact_id, org_id = row.get("contact_id", ""), row.get("organization_id", "")
            location_id, service_id = row.get("location_id", ""), row.get("service_id", "")
            if contact_id:
                contact = contacts.get(contact_id)
                if contact is None:
                    self.not_found("phones", line, "contact_id", "contacts", contact_id)
                elif not contact["phone"]:
                    contact["phone"] = number
                continue
            if org_id:
                org = self.org_ref("phones", line, org_id)
            elif location_id:
                if location_id not in locations:
                    self.not_found("phones", line, "location_id", "locations", location_id)
                    continue
                org = locations[location_id]
            else:
                org = services.get(service_id)
            if org and not org.fields["phone"]:
                org.fields["phone"] = number

    def service_at_location(self, locations, services):
        for line, row in self.rows("service_at_location"):
            if row["service_id"] not in services:
                self.service_ref("service_at_location", line, row["service_id"], services)
            elif row["location_id"] not in locations:
                self.not_found(
                    "service_at_location", line, "location_id", "locations", row["location_id"]
                )

    def service_areas(self, services):
        """A service's areas, named as schools: the schools its organization serves (the
        names that are no school of the district are listed by the preview)."""
        for line, row in self.rows("service_areas"):
            org = self.service_ref("service_areas", line, row["service_id"], services)
            if org is None:
                continue
            name = self.text("service_areas", line, row, "name", 200)
            if name:
                self.area_schools.setdefault(org.hsds_id, []).append(name)

    def cost_options(self, services):
        """A service's cost options, where they name a kind of fee or insurance Trellis
        records (by its English name or its code): the organization's fees and insurance."""
        with translation.override("en"):
            known = {str(label).casefold(): code for code, label in Payment.choices}
        known.update({code: code for code in Payment.values})
        for line, row in self.rows("cost_options"):
            org = self.service_ref("cost_options", line, row["service_id"], services)
            if org is None:
                continue
            code = known.get(row.get("option", "").strip().casefold())
            if code is not None:
                self.area_payments.setdefault(org.hsds_id, []).append(code)

    def finish(self):
        """Each organization's Trellis fields: its attributes, else what its services say."""
        for org in list(self.orgs.values()):
            values = self.org_values.get(org.hsds_id, {})
            services = org.services
            ages_low = [s["minimum_age"] for s in services if s["minimum_age"] is not None]
            ages_high = [s["maximum_age"] for s in services if s["maximum_age"] is not None]
            eligibility = "\n".join(
                dict.fromkeys(s["eligibility"] for s in services if s["eligibility"])
            )
            defaults = {
                "partner_kind": PartnerKind.OTHER,
                "intake": Intake.ACCEPTING,
                "capacity": None,
                "active": True,
                "verified_at": None,
                "verified_by": "",
                "min_age": min(ages_low) if ages_low else None,
                "max_age": max(ages_high) if ages_high else None,
                "eligibility": eligibility[: LIMITS["description"]],
            }
            first = {code: (values.get(code) or [default])[0] for code, default in defaults.items()}
            org.fields.update(
                kind=first["partner_kind"],
                intake=first["intake"],
                capacity=first["capacity"],
                active=first["active"],
                last_verified_at=first["verified_at"],
                last_verified_by=first["verified_by"],
                min_age=first["min_age"],
                max_age=first["max_age"],
                eligibility=first["eligibility"],
                delivery_modes=list(dict.fromkeys(values.get("delivery_mode", []))),
                payments=list(
                    dict.fromkeys(
                        [*values.get("payment", []), *self.area_payments.get(org.hsds_id, [])]
                    )
                ),
                languages=org.fields["languages"][:30],
            )
            if not any(org.fields[key] for key in ("address", "city", "state", "postal_code")):
                # An address HSDS could not hold whole: its parts, from the attributes.
                for code, key in (
                    ("street_address", "address"),
                    ("city", "city"),
                    ("state", "state"),
                    ("postal_code", "postal_code"),
                ):
                    org.fields[key] = (values.get(code) or [""])[0]
            org.school_names = list(
                dict.fromkeys(
                    [*values.get("school_served", []), *self.area_schools.get(org.hsds_id, [])]
                )
            )
            low, high = first["min_age"], first["max_age"]
            if low is not None and high is not None and low > high:
                self.error(
                    "organizations",
                    org.row,
                    "",
                    _("The youngest age served (%(low)s) is above the oldest (%(high)s).")
                    % {"low": low, "high": high},
                )
                del self.orgs[org.hsds_id]
        self.package.organizations = sorted(self.orgs.values(), key=lambda o: o.row)
