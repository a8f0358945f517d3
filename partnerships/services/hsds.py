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
import io
import json
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import csv as cells
from core.languages import bcp47, language_name
from partnerships.models import (
    SERVICE_TAXONOMY,
    Contact,
    ContactRole,
    DeliveryMode,
    Partner,
    PartnerSchool,
    Payment,
    Service,
    ServiceCategory,
)
from partnerships.services.directory import _check_manager
from partnerships.services.hsds_format import (
    CATEGORY_TAXONOMY,
    FIELD_TAXONOMY,
    FIELD_TERMS,
    TABLES,
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

__all__ = ["HSDSFileError", "hsds_export", "hsds_import", "hsds_plan", "hsds_read"]

# --- Export -------------------------------------------------------------------------------------


def _category_terms(district) -> dict[str, str]:
    """code -> English name of every category: shipped, then the district's own."""
    with translation.override("en"):
        terms = {code: str(label) for code, label in SERVICE_TAXONOMY}
    for category in ServiceCategory.objects.filter(district=district).order_by("code"):
        terms.setdefault(category.code, category.name)
    return terms


def _export_rows(district) -> dict[str, list[dict]]:
    d = district.pk
    tables: dict[str, list[dict]] = {name: [] for name in TABLES}
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

    def attribute(entity, link_pk, link_id, term, value, label="", index=0):
        tables["attributes"].append(
            {
                "id": hsds_id(d, f"attribute.{entity}.{term}.{index}", link_pk),
                "link_id": link_id,
                "taxonomy_term_id": term_id(FIELD_TAXONOMY, term),
                "link_type": "",
                "link_entity": entity,
                "value": value,
                "label": label,
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
                    "description": p.description,
                    "email": p.email,
                    "website": p.website,
                }
            )
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
            if physical:
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
            for index, language in enumerate(p.languages):
                tables["languages"].append(
                    {
                        "id": hsds_id(d, f"language.{index}", p.pk),
                        "location_id": location,
                        "name": language_name(language, "en"),
                        "code": bcp47(language),
                    }
                )
            if p.phone:
                tables["phones"].append(
                    {
                        "id": hsds_id(d, "phone", p.pk),
                        "organization_id": org,
                        "contact_id": "",
                        "number": p.phone,
                        "type": "voice",
                    }
                )
            attribute("organization", p.pk, org, "partner_kind", p.kind, p.get_kind_display())
            for index, mode in enumerate(p.delivery_modes):
                label = str(DeliveryMode(mode).label) if mode in DeliveryMode.values else ""
                attribute("organization", p.pk, org, "delivery_mode", mode, label, index)
            for index, payment in enumerate(p.payments):
                label = str(Payment(payment).label) if payment in Payment.values else ""
                attribute("organization", p.pk, org, "payment", payment, label, index)
            attribute("organization", p.pk, org, "intake", p.intake, p.get_intake_display())
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
            tables["services"].append(
                {
                    "id": service,
                    "organization_id": hsds_id(d, "partner", p.pk),
                    "name": s.name or label,
                    "description": s.description,
                    "status": "active" if p.active else "inactive",
                    "minimum_age": "" if p.min_age is None else str(p.min_age),
                    "maximum_age": "" if p.max_age is None else str(p.max_age),
                    "eligibility_description": p.eligibility,
                    # The district's day of the last verification.
                    "assured_date": (
                        timezone.localdate(p.last_verified_at, district.time_zone).isoformat()
                        if p.last_verified_at
                        else ""
                    ),
                }
            )
            tables["attributes"].append(
                {
                    "id": hsds_id(d, "attribute.service.category.0", s.pk),
                    "link_id": service,
                    "taxonomy_term_id": term_id(CATEGORY_TAXONOMY, s.category),
                    "link_type": "",
                    "link_entity": "service",
                    "value": "",
                    "label": label,
                }
            )
            location, physical = locations[p.pk]
            if physical and DeliveryMode.AT_PARTNER in p.delivery_modes:
                tables["service_at_locations"].append(
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
                        "organization_id": "",
                        "contact_id": contact,
                        "number": c.phone,
                        "type": "voice",
                    }
                )
            for index, role in enumerate(c.roles):
                label = str(ContactRole(role).label) if role in ContactRole.values else ""
                attribute("contact", c.pk, contact, "contact_role", role, label, index)
            if c.preferred_language:
                code, name = c.preferred_language, language_name(c.preferred_language, "en")
                attribute("contact", c.pk, contact, "preferred_language", code, name)
            if c.reminders:
                attribute("contact", c.pk, contact, "reminders", "true")

    for code, name in [*categories.items(), *((code, code) for code in dict.fromkeys(used_codes))]:
        tables["taxonomy_terms"].append(
            {
                "id": term_id(CATEGORY_TAXONOMY, code),
                "code": code,
                "name": name,
                "description": f"Service category: {name}",
                "taxonomy": CATEGORY_TAXONOMY,
                "language": "en",
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
            }
        )
    return tables


def datapackage(district) -> dict:
    """The Frictionless descriptor of an export: every resource with its fields and keys."""
    resources = []
    for table, columns in TABLES.items():
        fields = []
        for column in columns:
            spec = {"name": column.name, "type": column.type, "description": column.description}
            if column.format != "default":
                spec["format"] = column.format
            constraints = {}
            if column.required:
                constraints["required"] = True
            if column.name == "id":
                constraints["unique"] = True
            if constraints:
                spec["constraints"] = constraints
            fields.append(spec)
        schema = {"fields": fields, "primaryKey": ["id"]}
        foreign = [
            {
                "fields": [c.name],
                "reference": {
                    "resource": c.references.split(".")[0],
                    "fields": [c.references.split(".")[1]],
                },
            }
            for c in columns
            if c.references
        ]
        if foreign:
            schema["foreignKeys"] = foreign
        resources.append(
            {
                "name": table,
                "path": f"{table}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema,
            }
        )
    return {
        "profile": "tabular-data-package",
        "name": f"trellis-{district.slug}-directory",
        "title": f"{district.name}: partner directory",
        "description": (
            "Partner directory exported from Trellis in the Open Referral Human Services "
            "Data Specification (HSDS) 3 tabular format. A text cell that would start with "
            "=, +, -, @, a tab or a carriage return starts with an apostrophe (') so that "
            "spreadsheets show it rather than run it; Trellis removes it again on import."
        ),
        "licenses": [],
        "resources": resources,
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
        for table, columns in TABLES.items():
            add(f"{table}.csv", _csv_bytes(columns, tables[table]))
    return buffer.getvalue()


def hsds_export_filename(district) -> str:
    return f"{district.slug}-directory-hsds.zip"


# --- Preview and import (the district's side) ---------------------------------------------------


@dataclass
class ImportPlan:
    package: ParsedPackage
    # (organization, the existing partner it updates or None)
    items: list[tuple[ImportedOrganization, Partner | None]] = field(default_factory=list)
    school_ids: dict[str, list[int]] = field(default_factory=dict)  # org hsds id -> school ids
    new_categories: dict[str, str] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    services: int = 0
    contacts: int = 0

    @property
    def importable(self) -> bool:
        return bool(self.items)


def hsds_plan(district, package: ParsedPackage) -> ImportPlan:
    """What importing the package into the district would do, with the district's problems
    added (a name already taken, a school the district does not have)."""
    plan = ImportPlan(package=package)
    partners = list(Partner.objects.filter(district=district))
    ours = {hsds_id(district.pk, "partner", p.pk): p for p in partners}
    by_name = {p.name.lower(): p for p in partners}
    schools = {s.name.lower(): s.pk for s in School.objects.filter(district=district)}
    known = {code for code, _label in SERVICE_TAXONOMY} | set(
        ServiceCategory.objects.filter(district=district).values_list("code", flat=True)
    )
    for org in package.organizations:
        existing = ours.get(org.hsds_id)
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
        for service in org.services:
            code = service["category"]
            if code not in known:
                plan.new_categories[code] = package.categories.get(code, code.replace("_", " "))
    return plan


class HSDSImportFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _sync(model, district, partner, kind: str, rows: list[dict], fields: tuple[str, ...]):
    """Rows of the package -> the partner's services or contacts, matched by our ids."""
    existing = {
        hsds_id(district.pk, kind, obj.pk): obj
        for obj in model.objects.filter(district=district, partner=partner)
    }
    keep = set()
    for row in rows:
        values = {name: row[name] for name in fields}
        obj = existing.get(row["hsds_id"])
        if obj is None:
            model.objects.create(district=district, partner=partner, **values)
            continue
        keep.add(obj.pk)
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save(update_fields=[*changed, "updated_at"])
    gone = [obj.pk for obj in existing.values() if obj.pk not in keep]
    if gone:
        model.objects.filter(district=district, partner=partner, pk__in=gone).delete()
        if model is Service:  # a queryset delete: the partner's search text is redone here
            Partner.refresh_search(district.pk, [partner.pk])


@transaction.atomic
def hsds_import(*, by: Membership, data: bytes) -> ImportPlan:
    """Import a package into the membership's district, all in one transaction.

    Our own ids update the partners (and their services and contacts) they came from;
    anything else creates new partners. Rows with errors are left out, as the preview said.
    """
    _check_manager(by)
    district = by.district
    plan = hsds_plan(district, hsds_read(data))
    if not plan.importable:
        raise HSDSImportFailed(_("Nothing in this package can be imported."))
    for code, name in plan.new_categories.items():
        ServiceCategory.objects.get_or_create(district=district, code=code, defaults={"name": name})
    try:
        with transaction.atomic():
            for org, partner in plan.items:
                if partner is None:
                    partner = Partner(district=district)
                for key, value in org.fields.items():
                    setattr(partner, key, value)
                partner.save()
                partner.schools.set(
                    plan.school_ids.get(org.hsds_id, []),
                    through_defaults={"district_id": partner.district_id},
                )
                _sync(
                    Service,
                    district,
                    partner,
                    "service",
                    org.services,
                    ("category", "name", "description"),
                )
                _sync(
                    Contact,
                    district,
                    partner,
                    "contact",
                    org.contacts,
                    ("name", "title", "email", "phone", "preferred_language", "roles", "reminders"),
                )
    except IntegrityError:
        raise HSDSImportFailed(
            _(
                "The directory changed while you were importing (two partners would share "
                "a name). Upload the file again."
            )
        ) from None
    return plan
