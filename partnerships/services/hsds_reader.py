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
    KNOWN_MEMBERS,
    LIMITS,
    MAX_ERRORS,
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    OTHER_HSDS_TABLES,
    REQUIRED_COLUMNS,
    REQUIRED_FILES,
    SERVICE_STATUSES,
    TABLES,
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
        if name not in KNOWN_MEMBERS:
            raise HSDSFileError(
                _(
                    "The zip contains “%(name)s”, which is not a file of an HSDS package. "
                    "Only datapackage.json and the HSDS table files (organizations.csv, "
                    "services.csv, ...) may be in it."
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
        known = {c.name for c in TABLES[name]} | set(REQUIRED_COLUMNS[name]) | _READ_EXTRA[name]
        unused = [c for c in header if c and c not in known]
        if unused:
            package.not_used.append(f"{filename}: {', '.join(unused)}")
        # Our export guards text cells against spreadsheets; remove exactly that guard, and
        # only from the columns where it writes one (ids, numbers and dates are never guarded).
        guarded = {c.name for c in TABLES[name] if c.guarded}
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
            rows.append(
                (
                    line,
                    {
                        c: unguard(v.strip()) if c in guarded else v.strip()
                        for c, v in zip(header, values, strict=True)
                        if c
                    },
                )
            )
        return rows
    except csv.Error as error:
        raise HSDSFileError(
            _("%(file)s cannot be read as CSV (%(error)s).") % {"file": filename, "error": error}
        ) from None


# Columns of foreign packages we read although we do not write them.
_READ_EXTRA: dict[str, set] = {
    "organizations": set(),
    "services": set(),
    "locations": set(),
    "addresses": {"address_2"},
    "phones": {"location_id", "service_id"},
    "contacts": {"service_id", "location_id"},
    "languages": {"service_id"},
    "service_at_locations": set(),
    "taxonomy_terms": set(),
    "attributes": set(),
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


def hsds_read(data: bytes) -> ParsedPackage:
    """Parse and check a package: whole-file problems raise HSDSFileError, row problems
    are listed (the row is left out, and so are rows that depend on it)."""
    archive, infos = _open_zip(data)
    package = ParsedPackage()
    members = {info.filename: info for info in infos}
    with archive:
        if "datapackage.json" in members:
            text = _read_member(archive, members["datapackage.json"])
            try:
                descriptor = json.loads(text)
            except ValueError:
                descriptor = None
            if not isinstance(descriptor, dict):
                raise HSDSFileError(
                    _("datapackage.json is not a valid data package descriptor (a JSON object).")
                )
        tables = {}
        for name in TABLES:
            info = members.get(f"{name}.csv")
            tables[name] = _table(name, _read_member(archive, info), package) if info else []
        for name in OTHER_HSDS_TABLES:
            if f"{name}.csv" in members:
                package.not_used.append(f"{name}.csv")
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
        "eligibility": LIMITS["description"],
        "verified_by": 200,
        "school_served": 200,
    }

    def __init__(self, package: ParsedPackage, tables: dict):
        self.package = package
        self.tables = tables
        self.orgs: dict[str, ImportedOrganization] = {}
        self.bad_orgs: set[str] = set()  # left out for errors: rows naming them are left out too
        self.terms: dict[str, tuple[str, str, str]] = {}  # id -> (taxonomy, code, name)
        self.org_values: dict[str, dict[str, list]] = {}
        self.contact_values: dict[str, dict[str, list]] = {}
        self.service_categories: dict[str, str] = {}
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
        self.service_at_locations(locations)
        self.finish()

    def organizations(self):
        names = set()
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
            fields = dict.fromkeys(("phone", "address", "city", "state", "postal_code"), "")
            fields.update(name=name, description=description, email=email, website=website)
            fields["languages"] = []
            self.orgs[row["id"]] = ImportedOrganization(hsds_id=row["id"], row=line, fields=fields)

    def taxonomy_terms(self):
        for line, row in self.rows("taxonomy_terms"):
            name = self.text("taxonomy_terms", line, row, "name", 200, required=True)
            if name is not None:
                self.terms[row["id"]] = (row.get("taxonomy", ""), row.get("code", ""), name)

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
            if None in values.values() or org is None or org.hsds_id in done:
                continue  # one address per partner: the first
            if row.get("address_2") and values["address"]:
                values["address"] = f"{values['address']}, {row['address_2']}"[: LIMITS["address"]]
            org.fields.update(values)
            done.add(org.hsds_id)

    def services(self) -> dict[str, ImportedOrganization]:
        services = {}
        for line, row in self.rows("services"):
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
            org = locations.get(location) if location else services.get(service)
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

    def service_at_locations(self, locations):
        service_ids = {row.get("id") for _line, row in self.tables["services"]}
        for line, row in self.rows("service_at_locations"):
            if row["service_id"] not in service_ids:
                self.not_found(
                    "service_at_locations", line, "service_id", "services", row["service_id"]
                )
            elif row["location_id"] not in locations:
                self.not_found(
                    "service_at_locations", line, "location_id", "locations", row["location_id"]
                )

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
                payments=list(dict.fromkeys(values.get("payment", []))),
                languages=org.fields["languages"][:30],
            )
            org.school_names = list(dict.fromkeys(values.get("school_served", [])))
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
