"""HSDS 3 tabular format as Trellis writes and reads it: tables, columns, ids, limits.

See partnerships/services/hsds.py for the mapping between the directory and HSDS.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from core import csv as cells
from partnerships.models import ContactRole, DeliveryMode, Intake, PartnerKind, Payment

NAMESPACE = uuid.UUID("0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31")
CATEGORY_TAXONOMY = "Trellis service categories"
FIELD_TAXONOMY = "Trellis directory fields"

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for the whole zip and for any large member
MAX_MEMBERS = 40
# Rows per file. The link tables grow with partners x schools: the export of a district of
# 300 schools and 1,000 partners has 72,000 service areas, and its own export must import
# back (8 s). Memory stays bounded by MAX_UNCOMPRESSED_BYTES.
MAX_ROWS = 200_000  # per file
MAX_ERRORS = 1000  # kept for the preview; the total is counted past it

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def hsds_id(district_id: int, kind: str, pk) -> str:
    return str(uuid.uuid5(NAMESPACE, f"trellis:{district_id}:{kind}:{pk}"))


def term_id(taxonomy: str, code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"trellis:term:{taxonomy}:{code}"))


# --- The tables: columns written, what each means, which an import needs --------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    format: str = "default"
    required: bool = False  # the specification requires a value in every row
    description: str = ""
    references: str = ""  # "table.column" for a foreign key
    phone: bool = False  # text in HSDS, but a phone number is written as it is

    @property
    def rule(self) -> cells.Rule:
        """How a cell of this column is written: typed columns are checked and written as
        they are (other tools read them as their type), text is neutralized for spreadsheets."""
        if self.type in _TYPED:
            return _TYPED[self.type]
        if self.format == "uuid":
            return cells.uuid_
        return cells.phone if self.phone else cells.text

    @property
    def guarded(self) -> bool:
        """Whether the writer may have added a guard to a cell, which reading removes."""
        return self.rule in (cells.text, cells.phone)


_TYPED = {
    "integer": cells.integer,
    "number": cells.number,
    "date": cells.date,
    "datetime": cells.datetime_,
    "boolean": cells.boolean,
}

# The specification's own tabular data package (partnerships/standards/README.md): every
# table's file name, its columns in order with their types, and the keys between tables.
SPEC_PATH = Path(__file__).resolve().parent.parent / "standards" / "hsds-3.0" / "datapackage.json"
SPEC = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
# Table name (the file's stem: "organizations", "service_at_location") -> its resource.
SPEC_RESOURCES: dict[str, dict] = {Path(r["path"]).stem: r for r in SPEC["resources"]}
_STEMS = {r["name"]: Path(r["path"]).stem for r in SPEC["resources"]}  # "organization" -> ...


def _spec_columns(table: str) -> list[Column]:
    schema = SPEC_RESOURCES[table]["schema"]
    references = {
        fk["fields"][0] if isinstance(fk["fields"], list) else fk["fields"]: (
            f"{_STEMS[fk['reference']['resource']]}.{fk['reference']['fields'][0]}"
            if isinstance(fk["reference"]["fields"], list)
            else f"{_STEMS[fk['reference']['resource']]}.{fk['reference']['fields']}"
        )
        for fk in schema.get("foreignKeys", [])
    }
    return [
        Column(
            field["name"],
            type=field.get("type", "string"),
            format=field.get("format", "default"),
            required=bool(field.get("constraints", {}).get("required")),
            description=field.get("description", ""),
            references=references.get(field["name"], ""),
            phone=(table, field["name"]) == ("phones", "number"),
        )
        for field in schema["fields"]
    ]


# Every table of the specification, by file stem, with its columns in the specification's
# order: what the export writes (every column, empty where Trellis has nothing) and what
# the import knows.
TABLES: dict[str, list[Column]] = {table: _spec_columns(table) for table in SPEC_RESOURCES}
# The tables an export writes: those Trellis has something for, and those their keys name
# (programs.csv and taxonomies.csv), so that the package's keys all resolve.
EXPORTED = (
    "organizations",
    "programs",
    "services",
    "locations",
    "addresses",
    "phones",
    "contacts",
    "languages",
    "service_at_location",
    "service_areas",
    "cost_options",
    "taxonomies",
    "taxonomy_terms",
    "attributes",
)
# The tables the import reads; a package's other tables are listed as not used.
READ = (
    "organizations",
    "services",
    "locations",
    "addresses",
    "phones",
    "contacts",
    "languages",
    "service_at_location",
    "service_areas",
    "cost_options",
    "taxonomies",
    "taxonomy_terms",
    "attributes",
)
# File names of Trellis's exports before they followed the specification's (issue 17).
OLD_NAMES = {"service_at_locations.csv": "service_at_location"}

# Columns an imported file must have to be read at all (HSDS requires more values; a
# missing one is a row problem, not a reason to refuse the file).
REQUIRED_COLUMNS = {
    "organizations": ("id", "name"),
    "services": ("id", "organization_id"),
    "locations": ("id",),
    "addresses": ("id", "location_id"),
    "phones": ("id", "number"),
    "contacts": ("id",),
    "languages": ("id",),
    "service_at_location": ("id", "service_id", "location_id"),
    "service_areas": ("id", "service_id"),
    "cost_options": ("id", "service_id"),
    "taxonomies": ("id", "name"),
    "taxonomy_terms": ("id", "name"),
    "attributes": ("id", "link_id", "taxonomy_term_id"),
}
REQUIRED_FILES = ("organizations.csv",)
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")

# Terms of the "Trellis directory fields" taxonomy: the attribute's value holds the value.
FIELD_TERMS = {
    "partner_kind": "Kind of organization: " + ", ".join(PartnerKind.values),
    "delivery_mode": "How services are delivered: " + ", ".join(DeliveryMode.values),
    "payment": "Fees and insurance accepted: " + ", ".join(Payment.values),
    "intake": "Whether new referrals are taken: " + ", ".join(Intake.values),
    "capacity": "Open places for new students (a whole number).",
    "school_served": "A school the organization serves (its name).",
    "min_age": "The youngest age served.",
    "max_age": "The oldest age served.",
    "eligibility": "Other eligibility, as text.",
    "verified_at": "When the listing was last verified (ISO 8601 date and time).",
    "verified_by": "Who last verified the listing.",
    "active": "false when the district no longer works with the organization.",
    "contact_role": "A contact's role: " + ", ".join(ContactRole.values),
    "preferred_language": "The contact's preferred language, as an ISO 639 code.",
    "reminders": "true when the contact receives meeting reminders.",
    # An address HSDS cannot hold (addresses.csv needs its street, city, state and postal
    # code): the parts there are, each on the organization.
    "street_address": "The street of an address that lacks a part HSDS requires.",
    "city": "The city of an address that lacks a part HSDS requires.",
    "state": "The state of an address that lacks a part HSDS requires.",
    "postal_code": "The postal code of an address that lacks a part HSDS requires.",
}
# Taxonomies of the terms an export writes (taxonomies.csv).
TAXONOMIES = {
    CATEGORY_TAXONOMY: "The service categories of the district's partner directory.",
    FIELD_TAXONOMY: "What a Trellis directory records that HSDS has no column for.",
}

LIMITS = {
    "name": 200,
    "phone": 32,
    "address": 200,
    "city": 100,
    "state": 32,
    "postal_code": 16,
    "title": 200,
    "language": 40,
    "description": 10_000,
    "verified_by": 200,
}
