"""HSDS 3 tabular format as Trellis writes and reads it: tables, columns, ids, limits.

See partnerships/services/hsds.py for the mapping between the directory and HSDS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core import csv as cells
from partnerships.models import ContactRole, DeliveryMode, Intake, PartnerKind, Payment

NAMESPACE = uuid.UUID("0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31")
CATEGORY_TAXONOMY = "Trellis service categories"
FIELD_TAXONOMY = "Trellis directory fields"

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for the whole zip and for any large member
MAX_MEMBERS = 40
MAX_ROWS = 50_000  # per file
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
    required: bool = False  # a value is required in every row we write
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


def _c(name, description, **kwargs) -> Column:
    return Column(name, description=description, **kwargs)


TABLES: dict[str, list[Column]] = {
    "organizations": [
        _c("id", "Identifier of the organization.", format="uuid", required=True),
        _c("name", "The official or public name of the organization.", required=True),
        _c("description", "A brief summary about the organization."),
        _c("email", "The contact e-mail address for the organization.", format="email"),
        _c("website", "The URL (website address) of the organization.", format="uri"),
    ],
    "services": [
        _c("id", "Identifier of the service.", format="uuid", required=True),
        _c(
            "organization_id",
            "The organization that provides this service.",
            format="uuid",
            required=True,
            references="organizations.id",
        ),
        _c("name", "The official or public name of the service.", required=True),
        _c("description", "A free text description of the service."),
        _c("status", "active, inactive, defunct or temporarily closed.", required=True),
        _c("minimum_age", "The youngest age served.", type="integer"),
        _c("maximum_age", "The oldest age served.", type="integer"),
        _c("eligibility_description", "Who the service is intended for."),
        _c("assured_date", "The date the information was last checked.", type="date"),
    ],
    "locations": [
        _c("id", "Identifier of the location.", format="uuid", required=True),
        _c("location_type", "physical, postal or virtual.", required=True),
        _c("url", "The URL of a virtual location.", format="uri"),
        _c(
            "organization_id",
            "The organization that maintains this location.",
            format="uuid",
            references="organizations.id",
        ),
        _c("name", "The name of the location."),
    ],
    "addresses": [
        _c("id", "Identifier of the address.", format="uuid", required=True),
        _c(
            "location_id",
            "The location at this address.",
            format="uuid",
            references="locations.id",
        ),
        _c("address_1", "Building number and street."),
        _c("city", "The city."),
        _c("state_province", "The state."),
        _c("postal_code", "The postal code."),
        _c("country", "ISO 3166-1 two-letter country code.", required=True),
        _c("address_type", "physical, postal or virtual.", required=True),
    ],
    "phones": [
        _c("id", "Identifier of the phone.", format="uuid", required=True),
        _c(
            "organization_id",
            "The organization with this number.",
            format="uuid",
            references="organizations.id",
        ),
        _c("contact_id", "The contact with this number.", format="uuid", references="contacts.id"),
        _c("number", "The phone number.", required=True, phone=True),
        _c("type", "The type of phone service (RFC 6350).", required=True),
    ],
    "contacts": [
        _c("id", "Identifier of the contact.", format="uuid", required=True),
        _c(
            "organization_id",
            "The organization of the contact.",
            format="uuid",
            references="organizations.id",
        ),
        _c("name", "The name of the contact.", required=True),
        _c("title", "The job title of the contact."),
        _c("email", "The email address of the contact.", format="email"),
    ],
    "languages": [
        _c("id", "Identifier of the language entry.", format="uuid", required=True),
        _c(
            "location_id",
            "The location where services are delivered in this language.",
            format="uuid",
            references="locations.id",
        ),
        _c("name", "The name of the language, in English.", required=True),
        _c("code", "The ISO 639 code of the language (BCP 47: es, es-MX, zh-Hant)."),
    ],
    "service_at_locations": [
        _c("id", "Identifier of the service at location.", format="uuid", required=True),
        _c("service_id", "The service.", format="uuid", required=True, references="services.id"),
        _c(
            "location_id",
            "Where the service is delivered.",
            format="uuid",
            required=True,
            references="locations.id",
        ),
    ],
    "taxonomy_terms": [
        _c("id", "Identifier of the term.", format="uuid", required=True),
        _c("code", "The term's code in its taxonomy.", required=True),
        _c("name", "The term itself.", required=True),
        _c("description", "What the term means.", required=True),
        _c("taxonomy", "The taxonomy the term belongs to.", required=True),
        _c("language", "ISO 639-1 code of the term's language.", required=True),
    ],
    "attributes": [
        _c("id", "Identifier of the attribute.", format="uuid", required=True),
        _c("link_id", "The row the term applies to.", format="uuid", required=True),
        _c(
            "taxonomy_term_id",
            "The term.",
            format="uuid",
            required=True,
            references="taxonomy_terms.id",
        ),
        _c("link_type", "What the term describes."),
        _c("link_entity", "The table of link_id.", required=True),
        _c("value", "The value of the attribute, if any."),
        _c("label", "A readable label of the value."),
    ],
}

# Columns an imported file must have (the rest are optional; unknown ones are ignored).
REQUIRED_COLUMNS = {
    "organizations": ("id", "name"),
    "services": ("id", "organization_id", "name"),
    "locations": ("id",),
    "addresses": ("id", "location_id"),
    "phones": ("id", "number"),
    "contacts": ("id",),
    "languages": ("id",),
    "service_at_locations": ("id", "service_id", "location_id"),
    "taxonomy_terms": ("id", "name"),
    "attributes": ("id", "link_id", "taxonomy_term_id", "link_entity"),
}
REQUIRED_FILES = ("organizations.csv", "services.csv")
# Every HSDS 3 table a package may carry; those we do not read are reported as not used.
OTHER_HSDS_TABLES = (
    "programs",
    "schedules",
    "service_areas",
    "funding",
    "accessibility",
    "cost_options",
    "required_documents",
    "organization_identifiers",
    "taxonomies",
    "metadata",
    "meta_table_descriptions",
    "service_capacities",
    "units",
    "urls",
)
KNOWN_MEMBERS = (
    {"datapackage.json"}
    | {f"{name}.csv" for name in TABLES}
    | {f"{name}.csv" for name in OTHER_HSDS_TABLES}
)
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
