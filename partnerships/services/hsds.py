"""HSDS 3 interchange: the directory as an Open Referral tabular data package.

A package is a zip of CSV files named for HSDS 3 tables, with a Frictionless
`datapackage.json` describing them. Mapping:

- Partner -> organizations.csv (+ one locations.csv row, its addresses.csv row and its
  languages.csv rows; the partner's phone in phones.csv);
- Service -> services.csv, its category an attribute linking it to a term of the
  "Trellis service categories" taxonomy (taxonomy_terms.csv, attributes.csv);
- Contact -> contacts.csv (+ its phone in phones.csv);
- what HSDS has no column for (kind, delivery modes, fees and insurance, intake,
  capacity, schools served, ages, verification, contact roles...) -> attributes.csv rows
  with a value, linked to terms of the "Trellis directory fields" taxonomy. Ages and
  eligibility are also written on each service (minimum_age...), where HSDS readers look.

Ids are UUIDs derived from the district and the row id (uuid5), so exporting twice gives
the same package byte for byte, and importing our own package again updates the same
partners. A foreign package (a 211 directory) creates new partners.

Reading never trusts the upload: size, member count, names, total uncompressed size and
compression ratio are checked from the zip's directory BEFORE anything is decompressed,
and decompression stops at the declared size.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core import csv as cells
from core.languages import bcp47, language_name
from partnerships.models import (
    SERVICE_TAXONOMY,
    Contact,
    DeliveryMode,
    Partner,
    PartnerSchool,
    Payment,
    Service,
    ServiceCategory,
)
from partnerships.services.directory import PARTNER_FIELDS, _check_manager
from partnerships.services.hsds_format import (
    CATEGORY_TAXONOMY,
    EXPORTED,
    FIELD_TAXONOMY,
    FIELD_TERMS,
    SPEC,
    SPEC_RESOURCES,
    TABLES,
    TAXONOMIES,
    ZIP_DATE,
    Column,
    hsds_id,
    term_id,
)
from partnerships.services.hsds_reader import (
    HSDSFileError,
    ImportedOrganization,
    ParsedPackage,
    _short,
    hsds_read,
)
from schools.models import Membership, School

__all__ = [
    "HSDSFileError",
    "hsds_export",
    "hsds_import",
    "hsds_plan",
    "hsds_read",
    "import_source",
]

# --- Export -------------------------------------------------------------------------------------


def _category_terms(district) -> dict[str, str]:
    """code -> English name of every category: shipped, then the district's own."""
    with translation.override("en"):
        terms = {code: str(label) for code, label in SERVICE_TAXONOMY}
    for category in ServiceCategory.objects.filter(district=district).order_by("code"):
        terms.setdefault(category.code, category.name)
    return terms


def _assurer_emails(partners, contacts) -> dict[int, str]:
    """partner id -> the email of the contact who last verified the listing (by name), for
    HSDS's assurer_email; none when the verifier is not a contact with an email."""
    emails = {}
    verifiers = {p.pk: p.last_verified_by.strip().casefold() for p in partners}
    for c in contacts:
        if (
            c.email
            and verifiers.get(c.partner_id)
            and c.name.strip().casefold() == (verifiers[c.partner_id])
        ):
            emails.setdefault(c.partner_id, c.email)
    return emails


def _export_rows(district) -> dict[str, list[dict]]:
    """The rows of each table an export writes, by column name (the specification's); a
    column left out of a row is written empty."""
    d = district.pk
    tables: dict[str, list[dict]] = {name: [] for name in EXPORTED}
    categories = _category_terms(district)
    partners = list(Partner.objects.filter(district=district).order_by("pk"))
    services = list(Service.objects.filter(district=district).order_by("pk"))
    contacts = list(Contact.objects.filter(district=district).order_by("pk"))
    school_names: dict[int, list[str]] = {}
    for partner_id, name in (
        PartnerSchool.objects.filter(district=district)
        .order_by("school__name", "school_id")
        .values_list("partner_id", "school__name")
    ):
        school_names.setdefault(partner_id, []).append(name)
    by_partner = {p.pk: p for p in partners}
    services_of: dict[int, list] = {}
    for s in services:
        services_of.setdefault(s.partner_id, []).append(s)
    assurers = _assurer_emails(partners, contacts)

    def attribute(entity, link_pk, link_id, term, value, index=0):
        tables["attributes"].append(
            {
                "id": hsds_id(d, f"attribute.{entity}.{term}.{index}", link_pk),
                "link_id": link_id,
                "taxonomy_term_id": term_id(FIELD_TAXONOMY, term),
                "link_entity": entity,
                "value": value,
            }
        )

    locations = {}
    with translation.override("en"):
        for p in partners:
            org = hsds_id(d, "partner", p.pk)
            tables["organizations"].append(
                {
                    "id": org,
                    "name": p.name,
                    # HSDS requires a description: one that only repeats the name says
                    # nothing, and the import reads it as none.
                    "description": p.description or p.name,
                    "email": p.email,
                    "website": p.website,
                }
            )
            complete = all((p.address, p.city, p.state, p.postal_code))
            physical = any((p.address, p.city, p.state, p.postal_code))
            location = hsds_id(d, "location", p.pk)
            locations[p.pk] = (location, physical)
            tables["locations"].append(
                {
                    "id": location,
                    "location_type": "physical" if physical else "virtual",
                    "url": "" if physical else p.website,
                    "organization_id": org,
                    "name": p.name,
                }
            )
            if complete:
                tables["addresses"].append(
                    {
                        "id": hsds_id(d, "address", p.pk),
                        "location_id": location,
                        "address_1": p.address,
                        "city": p.city,
                        "state_province": p.state,
                        "postal_code": p.postal_code,
                        "country": "US",
                        "address_type": "physical",
                    }
                )
            else:  # HSDS needs every part of an address: the parts there are, as attributes
                for term, value in (
                    ("street_address", p.address),
                    ("city", p.city),
                    ("state", p.state),
                    ("postal_code", p.postal_code),
                ):
                    if value:
                        attribute("organization", p.pk, org, term, value)
            # Languages on each service (where HSDS readers look); on the location when the
            # partner has no service to carry them.
            carriers = [("service", s.pk) for s in services_of.get(p.pk, [])] or [
                ("location", p.pk)
            ]
            for kind, pk in carriers:
                for index, language in enumerate(p.languages):
                    tables["languages"].append(
                        {
                            "id": hsds_id(d, f"language.{kind}.{index}", pk),
                            f"{kind}_id": hsds_id(d, kind, pk),
                            "name": language_name(language, "en"),
                            "code": bcp47(language),
                        }
                    )
            if p.phone:
                tables["phones"].append(
                    {
                        "id": hsds_id(d, "phone", p.pk),
                        "organization_id": org,
                        "number": p.phone,
                        "type": "voice",
                    }
                )
            attribute("organization", p.pk, org, "partner_kind", p.kind)
            for index, mode in enumerate(p.delivery_modes):
                attribute("organization", p.pk, org, "delivery_mode", mode, index)
            for index, payment in enumerate(p.payments):
                attribute("organization", p.pk, org, "payment", payment, index)
            attribute("organization", p.pk, org, "intake", p.intake)
            if p.capacity is not None:
                attribute("organization", p.pk, org, "capacity", str(p.capacity))
            for index, name in enumerate(school_names.get(p.pk, [])):
                attribute("organization", p.pk, org, "school_served", name, index=index)
            if p.min_age is not None:
                attribute("organization", p.pk, org, "min_age", str(p.min_age))
            if p.max_age is not None:
                attribute("organization", p.pk, org, "max_age", str(p.max_age))
            if p.eligibility:
                attribute("organization", p.pk, org, "eligibility", p.eligibility)
            if p.last_verified_at is not None:
                verified = p.last_verified_at.astimezone(datetime.UTC).isoformat()
                attribute("organization", p.pk, org, "verified_at", verified)
            if p.last_verified_by:
                attribute("organization", p.pk, org, "verified_by", p.last_verified_by)
            if not p.active:
                attribute("organization", p.pk, org, "active", "false")

        used_codes = []
        for s in services:
            p = by_partner[s.partner_id]
            service = hsds_id(d, "service", s.pk)
            label = categories.get(s.category, s.category)
            if s.category not in categories:
                used_codes.append(s.category)
            payments = [str(Payment(x).label) for x in p.payments if x in Payment.values]
            tables["services"].append(
                {
                    "id": service,
                    "organization_id": hsds_id(d, "partner", p.pk),
                    "name": s.name or label,
                    "description": s.description,
                    "status": "active" if p.active else "inactive",
                    "fees_description": ", ".join(payments),
                    "eligibility_description": p.eligibility,
                    "minimum_age": "" if p.min_age is None else str(p.min_age),
                    "maximum_age": "" if p.max_age is None else str(p.max_age),
                    # The district's day of the last verification, and who made it.
                    "assured_date": (
                        timezone.localdate(p.last_verified_at, district.time_zone).isoformat()
                        if p.last_verified_at
                        else ""
                    ),
                    "assurer_email": assurers.get(p.pk, ""),
                }
            )
            tables["attributes"].append(
                {
                    "id": hsds_id(d, "attribute.service.category.0", s.pk),
                    "link_id": service,
                    "taxonomy_term_id": term_id(CATEGORY_TAXONOMY, s.category),
                    "link_entity": "service",
                }
            )
            # Fees and insurance as the service's cost options (no amounts: Trellis records
            # which are accepted, not prices).
            for index, option in enumerate(payments):
                tables["cost_options"].append(
                    {
                        "id": hsds_id(d, f"cost_option.{index}", s.pk),
                        "service_id": service,
                        "option": option,
                    }
                )
            # The schools served, as the service's areas.
            for index, name in enumerate(school_names.get(p.pk, [])):
                tables["service_areas"].append(
                    {
                        "id": hsds_id(d, f"service_area.{index}", s.pk),
                        "service_id": service,
                        "name": name,
                        "description": "A school the service is offered to.",
                    }
                )
            location, physical = locations[p.pk]
            if physical and DeliveryMode.AT_PARTNER in p.delivery_modes:
                tables["service_at_location"].append(
                    {
                        "id": hsds_id(d, "service_at_location", s.pk),
                        "service_id": service,
                        "location_id": location,
                    }
                )

        for c in contacts:
            contact = hsds_id(d, "contact", c.pk)
            tables["contacts"].append(
                {
                    "id": contact,
                    "organization_id": hsds_id(d, "partner", c.partner_id),
                    "name": c.name,
                    "title": c.title,
                    "email": c.email,
                }
            )
            if c.phone:
                tables["phones"].append(
                    {
                        "id": hsds_id(d, "contact_phone", c.pk),
                        "contact_id": contact,
                        "number": c.phone,
                        "type": "voice",
                    }
                )
            for index, role in enumerate(c.roles):
                attribute("contact", c.pk, contact, "contact_role", role, index)
            if c.preferred_language:
                attribute("contact", c.pk, contact, "preferred_language", c.preferred_language)
            if c.reminders:
                attribute("contact", c.pk, contact, "reminders", "true")

    for name, description in TAXONOMIES.items():
        tables["taxonomies"].append(
            {"id": term_id("taxonomy", name), "name": name, "description": description}
        )
    for code, name in [*categories.items(), *((code, code) for code in dict.fromkeys(used_codes))]:
        tables["taxonomy_terms"].append(
            {
                "id": term_id(CATEGORY_TAXONOMY, code),
                "code": code,
                "name": name,
                "description": f"Service category: {name}",
                "taxonomy": CATEGORY_TAXONOMY,
                "language": "en",
                "taxonomy_id": term_id("taxonomy", CATEGORY_TAXONOMY),
            }
        )
    for code, description in FIELD_TERMS.items():
        tables["taxonomy_terms"].append(
            {
                "id": term_id(FIELD_TAXONOMY, code),
                "code": code,
                "name": code.replace("_", " "),
                "description": description,
                "taxonomy": FIELD_TAXONOMY,
                "language": "en",
                "taxonomy_id": term_id("taxonomy", FIELD_TAXONOMY),
            }
        )
    return tables


def datapackage(district) -> dict:
    """The package's descriptor: the specification's own resources for the tables written
    (partnerships/standards/hsds-3.0/datapackage.json, unchanged), under a name and a
    description of this export."""
    return {
        "name": f"trellis-{district.slug}-directory",
        "title": f"{district.name}: partner directory",
        "description": (
            "Partner directory exported from Trellis in the Open Referral Human Services "
            "Data Specification (HSDS) 3.0.0 tabular format. A text cell that would start "
            "with =, +, -, @, a tab or a carriage return starts with an apostrophe (') so "
            "that spreadsheets show it rather than run it; Trellis removes it again on "
            "import."
        ),
        "profile": SPEC["profile"],
        "version": SPEC["version"],
        "homepage": SPEC["homepage"],
        "license": SPEC["license"],
        "resources": [SPEC_RESOURCES[table] for table in EXPORTED],
    }


def _csv_bytes(columns: list[Column], rows: list[dict]) -> bytes:
    """One table: typed cells checked and written as they are, text cells neutralized (a
    directory's text comes from outsiders, and people open these files in spreadsheets)."""
    out = io.StringIO()
    writer = cells.Writer(out, [c.rule for c in columns])
    writer.writeheader([c.name for c in columns])
    for row in rows:
        writer.writerow([row.get(c.name, "") for c in columns])
    return out.getvalue().encode("utf-8")


def hsds_export(district) -> bytes:
    """The district's directory as an HSDS 3 zip; the same directory gives the same bytes."""
    tables = _export_rows(district)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)

        add(
            "datapackage.json",
            json.dumps(datapackage(district), indent=2, ensure_ascii=False).encode("utf-8"),
        )
        for table in EXPORTED:
            add(f"{table}.csv", _csv_bytes(TABLES[table], tables[table]))
    return buffer.getvalue()


def hsds_export_filename(district) -> str:
    return f"{district.slug}-directory-hsds.zip"


# --- Preview and import (the district's side) ---------------------------------------------------

# The listing fields a sync compares: what a partner's form sets, and its verification.
SYNCED_FIELDS = (*PARTNER_FIELDS, "last_verified_at", "last_verified_by")


def _stored(value):
    """A field's value as synced_values keeps it (JSON): dates as ISO 8601 text."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass
class Conflict:
    """A field changed in Trellis since the last sync that the source changed too."""

    organization: str  # the source's id of the organization
    partner: Partner
    field: str
    ours: object
    theirs: object

    @property
    def key(self) -> str:
        """The name of the preview's choice for it (ids of any text: a digest)."""
        digest = hashlib.sha256(self.organization.encode()).hexdigest()[:16]
        return f"conflict-{digest}-{self.field}"

    @property
    def label(self) -> str:
        return capfirst(str(Partner._meta.get_field(self.field).verbose_name))

    def shown(self, value) -> str:
        """A value as the preview shows it: choices by their label, languages by name."""
        if value in (None, "", []):
            return _("Not given")
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if self.field == "languages":
            return ", ".join(language_name(code) for code in value)
        model_field = Partner._meta.get_field(self.field)
        choices = dict(getattr(model_field, "base_field", model_field).choices or ())
        if isinstance(value, list):
            return ", ".join(str(choices.get(item, item)) for item in value)
        return str(choices.get(value, value))

    @property
    def ours_shown(self) -> str:
        return self.shown(self.ours)

    @property
    def theirs_shown(self) -> str:
        return self.shown(self.theirs)


@dataclass
class ImportPlan:
    package: ParsedPackage
    # The directory the package comes from ("" for the district's own export).
    source: str = ""
    # (organization, the existing partner it updates or None)
    items: list[tuple[ImportedOrganization, Partner | None]] = field(default_factory=list)
    school_ids: dict[str, list[int]] = field(default_factory=dict)  # org hsds id -> school ids
    new_categories: dict[str, str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # Active partners of this source that the package no longer has.
    gone: list[Partner] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    services: int = 0
    contacts: int = 0
    closed: int = 0

    @property
    def importable(self) -> bool:
        return bool(self.items or self.gone)


def import_source(package: ParsedPackage, filename: str = "") -> str:
    """The directory a package comes from: its own title or name, else the file's name."""
    if package.source:
        return package.source
    stem = filename.rsplit("/", 1)[-1].removesuffix(".zip").strip()
    return stem[:200] or _("HSDS import")


def hsds_plan(district, package: ParsedPackage, source: str = "") -> ImportPlan:
    """What importing the package into the district would do, with the district's problems
    added (a name already taken, a school the district does not have).

    An organization is matched with a partner by Trellis's own id (the district's own
    export) or by its id in the same source (a newer version of a package imported before);
    else it is new. For a partner synced from the source, a field changed in Trellis since
    the last sync that the source changed too is a conflict the coordinator decides.
    """
    plan = ImportPlan(package=package, source=source)
    partners = list(Partner.objects.filter(district=district))
    ours = {hsds_id(district.pk, "partner", p.pk): p for p in partners}
    synced = {p.hsds_id: p for p in partners if source and p.hsds_source == source and p.hsds_id}
    by_name = {p.name.lower(): p for p in partners}
    schools = {s.name.lower(): s.pk for s in School.objects.filter(district=district)}
    known = {code for code, _label in SERVICE_TAXONOMY} | set(
        ServiceCategory.objects.filter(district=district).values_list("code", flat=True)
    )
    for org in package.organizations:
        existing = ours.get(org.hsds_id) or synced.get(org.hsds_id)
        holder = by_name.get(org.fields["name"].lower())
        if holder is not None and holder != existing:
            package.error(
                "organizations.csv",
                org.row,
                "name",
                _("A partner named “%(value)s” is already in the directory; this row is left out.")
                % {"value": _short(org.fields["name"])},
            )
            continue
        ids = []
        for name in org.school_names:
            school = schools.get(name.lower())
            if school is None:
                package.warn(
                    "attributes.csv",
                    None,
                    "value",
                    _(
                        "“%(school)s” (served by %(partner)s) is not a school of this "
                        "district: left out."
                    )
                    % {"school": _short(name), "partner": _short(org.fields["name"])},
                )
            else:
                ids.append(school)
        plan.school_ids[org.hsds_id] = ids
        plan.items.append((org, existing))
        plan.created += existing is None
        plan.updated += existing is not None
        plan.services += len(org.services)
        plan.contacts += len(org.contacts)
        if existing is not None and existing.hsds_id == org.hsds_id and existing.hsds_source:
            plan.conflicts += _conflicts(org, existing)
        for service in org.services:
            code = service["category"]
            if code not in known:
                plan.new_categories[code] = package.categories.get(code, code.replace("_", " "))
    if source:
        plan.gone = sorted(
            (p for p in synced.values() if p.active and p.hsds_id not in package.organization_ids),
            key=lambda p: p.name.lower(),
        )
    return plan


def _conflicts(org: ImportedOrganization, partner: Partner) -> list[Conflict]:
    """The fields changed both in Trellis (since the last sync) and in the source."""
    last = partner.synced_values or {}
    found = []
    for name in SYNCED_FIELDS:
        if name not in org.fields or name not in last:
            continue
        ours, theirs = _stored(getattr(partner, name)), _stored(org.fields[name])
        if ours != last[name] and theirs != last[name] and theirs != ours:
            found.append(Conflict(org.hsds_id, partner, name, ours, theirs))
    return found


def _synced_fields(org: ImportedOrganization, partner: Partner | None, choices) -> dict:
    """The fields a sync writes on a partner of the source: the source's, except a field
    changed in Trellis since the last sync (kept, unless the coordinator chose the file's
    value for a conflict)."""
    if partner is None or not partner.hsds_source:
        return dict(org.fields)
    last = partner.synced_values or {}
    fields = {}
    for name, theirs in org.fields.items():
        ours = _stored(getattr(partner, name))
        if name in last and ours != last[name]:  # changed in Trellis since the last sync
            conflict = Conflict(org.hsds_id, partner, name, ours, _stored(theirs))
            if _stored(theirs) == last[name] or choices.get(conflict.key) != "theirs":
                continue
        fields[name] = theirs
    return fields


class HSDSImportFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _sync(model, district, partner, kind: str, rows: list[dict], fields: tuple[str, ...]):
    """Rows of the district's own package -> the partner's services or contacts, matched
    by our ids; the rows the package no longer has are removed."""
    existing = {
        hsds_id(district.pk, kind, obj.pk): obj
        for obj in model.objects.filter(district=district, partner=partner)
    }
    _apply_rows(model, district, partner, existing, rows, fields, source_ids=False)


def _sync_source(model, district, partner, rows: list[dict], fields: tuple[str, ...]):
    """Rows of another directory -> the partner's services or contacts, matched by their
    id in the source. Those the source no longer has are removed; those added in Trellis
    (no id in the source) are kept."""
    existing = {
        obj.hsds_id: obj
        for obj in model.objects.filter(district=district, partner=partner).exclude(hsds_id="")
    }
    _apply_rows(model, district, partner, existing, rows, fields, source_ids=True)


def _apply_rows(model, district, partner, existing: dict, rows, fields, *, source_ids: bool):
    """Update the `existing` rows (by package id) the package has, create the others (with
    their id in the source when `source_ids`), remove the existing ones it does not have."""
    keep = set()
    for row in rows:
        values = {name: row[name] for name in fields}
        obj = existing.get(row["hsds_id"])
        if obj is None:
            if source_ids:
                values["hsds_id"] = row["hsds_id"]
            model.objects.create(district=district, partner=partner, **values)
            continue
        keep.add(obj.pk)
        _update(obj, values)
    gone = [obj.pk for obj in existing.values() if obj.pk not in keep]
    if gone:
        model.objects.filter(district=district, partner=partner, pk__in=gone).delete()
        if model is Service:  # a queryset delete: the partner's search text is redone here
            Partner.refresh_search(district.pk, [partner.pk])


def _update(obj, values: dict) -> None:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=[*changed, "updated_at"])


SERVICE_SYNC = ("category", "name", "description")
CONTACT_SYNC = ("name", "title", "email", "phone", "preferred_language", "roles", "reminders")


@transaction.atomic
def hsds_import(
    *, by: Membership, data: bytes, filename: str = "", choices: dict | None = None
) -> ImportPlan:
    """Import a package into the membership's district, all in one transaction.

    Our own ids update the partners (and their services and contacts) they came from. A
    package from another directory creates partners that remember their source and their
    id there; importing a newer version of it updates them: a field changed in Trellis
    since the last sync is kept unless `choices` (the preview's, {Conflict.key: "theirs"})
    say otherwise, and the partners it no longer has are marked inactive where `choices`
    say so ({"close-<partner id>": "on"}). Rows with errors are left out, as the preview
    said.
    """
    _check_manager(by)
    district, choices = by.district, choices or {}
    package = hsds_read(data)
    source = import_source(package, filename)
    plan = hsds_plan(district, package, source)
    if not plan.importable:
        raise HSDSImportFailed(_("Nothing in this package can be imported."))
    for code, name in plan.new_categories.items():
        ServiceCategory.objects.get_or_create(district=district, code=code, defaults={"name": name})
    now = timezone.now()
    try:
        with transaction.atomic():
            for org, partner in plan.items:
                own = partner is not None and hsds_id(district.pk, "partner", partner.pk) == (
                    org.hsds_id
                )
                fields = _synced_fields(org, partner, choices)
                if partner is None:
                    partner = Partner(district=district, hsds_source=source, hsds_id=org.hsds_id)
                for key, value in fields.items():
                    setattr(partner, key, value)
                if not own:
                    partner.synced_at = now
                    partner.synced_values = {
                        name: _stored(value) for name, value in org.fields.items()
                    }
                partner.save()
                school_ids = plan.school_ids.get(org.hsds_id, [])
                if own:
                    partner.schools.set(
                        school_ids, through_defaults={"district_id": partner.district_id}
                    )
                    _sync(Service, district, partner, "service", org.services, SERVICE_SYNC)
                    _sync(Contact, district, partner, "contact", org.contacts, CONTACT_SYNC)
                else:
                    # A source names the schools it knows: they are added, none removed.
                    partner.schools.add(
                        *school_ids, through_defaults={"district_id": partner.district_id}
                    )
                    _sync_source(Service, district, partner, org.services, SERVICE_SYNC)
                    _sync_source(Contact, district, partner, org.contacts, CONTACT_SYNC)
            for partner in plan.gone:
                if choices.get(f"close-{partner.pk}") == "on":
                    partner.active = False
                    partner.save(update_fields=["active", "updated_at"])
                    plan.closed += 1
    except IntegrityError:
        raise HSDSImportFailed(
            _(
                "The directory changed while you were importing (two partners would share "
                "a name). Upload the file again."
            )
        ) from None
    return plan
