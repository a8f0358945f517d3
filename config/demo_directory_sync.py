"""Two partners of the demo district that came from a regional 211 directory (issue 17):
imported through the HSDS import as a package laid out by the specification, so their
pages say where the listing came from and when it was last synced, and a newer version of
the same package would update them.

Made once: a rerun finds the source's partners and leaves them as people left them.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import timedelta

from django.utils import timezone

from partnerships.models import Partner
from partnerships.services.hsds_format import SPEC, SPEC_RESOURCES, TABLES
from schools.models import Membership, Role

SOURCE = "Bay Area 211"


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://211.example/bay-area/{name}"))


ROWS = {
    "organizations": [
        {
            "id": _id("org/1"),
            "name": "Eastside Family Resource Center",
            "description": "Case management, parenting classes and emergency help for families.",
            "email": "info@eastsidefrc.example.org",
            "website": "https://eastsidefrc.example.org",
        },
        {
            "id": _id("org/2"),
            "name": "Harbor Light Youth Shelter",
            "description": "Emergency shelter and drop-in services for youth 12 to 24.",
            "website": "https://harborlight.example.org",
        },
    ],
    "services": [
        {
            "id": _id("svc/1"),
            "organization_id": _id("org/1"),
            "name": "Family case management",
            "description": "A case manager helps the family with housing, benefits and school.",
            "status": "active",
            "minimum_age": "0",
            "maximum_age": "18",
        },
        {
            "id": _id("svc/2"),
            "organization_id": _id("org/2"),
            "name": "Youth drop-in center",
            "description": "Meals, showers and a counselor on site, no appointment needed.",
            "status": "active",
            "minimum_age": "12",
            "maximum_age": "24",
        },
    ],
    "locations": [
        {
            "id": _id("loc/1"),
            "location_type": "physical",
            "organization_id": _id("org/1"),
            "name": "Main office",
        },
    ],
    "addresses": [
        {
            "id": _id("adr/1"),
            "location_id": _id("loc/1"),
            "address_1": "1810 Alum Rock Ave",
            "city": "San Jose",
            "state_province": "CA",
            "postal_code": "95116",
            "country": "US",
            "address_type": "physical",
        },
    ],
    "phones": [
        {"id": _id("ph/1"), "organization_id": _id("org/1"), "number": "(408) 555-0180"},
        {"id": _id("ph/2"), "organization_id": _id("org/2"), "number": "(408) 555-0190"},
    ],
    "contacts": [
        {
            "id": _id("ct/1"),
            "organization_id": _id("org/1"),
            "name": "Lucia Herrera",
            "title": "Program director",
            "email": "lucia@eastsidefrc.example.org",
        },
    ],
    "languages": [
        {"id": _id("ln/1"), "service_id": _id("svc/1"), "name": "English", "code": "en"},
        {"id": _id("ln/2"), "service_id": _id("svc/1"), "name": "Spanish", "code": "es"},
        {"id": _id("ln/3"), "service_id": _id("svc/2"), "name": "English", "code": "en"},
    ],
    "service_areas": [
        {"id": _id("area/1"), "service_id": _id("svc/1"), "name": "Washington Elementary School"},
        {"id": _id("area/2"), "service_id": _id("svc/2"), "name": "Lincoln High School"},
    ],
    "cost_options": [
        {"id": _id("cost/1"), "service_id": _id("svc/1"), "option": "Free"},
        {"id": _id("cost/2"), "service_id": _id("svc/2"), "option": "Free"},
    ],
    "taxonomies": [
        {"id": _id("tax/1"), "name": "Bay Area 211 categories", "description": "Local terms"},
    ],
    "taxonomy_terms": [
        {
            "id": _id("term/1"),
            "code": "family_support",
            "name": "Family support",
            "description": "Help for families",
            "taxonomy_id": _id("tax/1"),
        },
        {
            "id": _id("term/2"),
            "code": "housing",
            "name": "Housing",
            "description": "Shelter and housing",
            "taxonomy_id": _id("tax/1"),
        },
    ],
    "attributes": [
        {
            "id": _id("attr/1"),
            "link_id": _id("svc/1"),
            "taxonomy_term_id": _id("term/1"),
            "link_entity": "service",
        },
        {
            "id": _id("attr/2"),
            "link_id": _id("svc/2"),
            "taxonomy_term_id": _id("term/2"),
            "link_entity": "service",
        },
    ],
}


def package() -> bytes:
    """The source's package: its tables with every official column, and its descriptor."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        tables = [*ROWS, "programs"]
        for table in tables:
            out = io.StringIO()
            writer = csv.writer(out)
            columns = [column.name for column in TABLES[table]]
            writer.writerow(columns)
            for row in ROWS.get(table, []):
                writer.writerow([row.get(name, "") for name in columns])
            archive.writestr(f"{table}.csv", out.getvalue())
        descriptor = {
            **{key: value for key, value in SPEC.items() if key != "resources"},
            "name": "bay-area-211",
            "title": SOURCE,
            "resources": [SPEC_RESOURCES[table] for table in tables],
        }
        archive.writestr("datapackage.json", json.dumps(descriptor))
    return buffer.getvalue()


def seed_directory_sync(district) -> None:
    from partnerships.services.hsds import hsds_import

    if Partner.objects.for_district(district).filter(hsds_source=SOURCE).exists():
        return
    coordinator = (
        Membership.objects.for_district(district)
        .filter(role=Role.COORDINATOR, active=True)
        .select_related("user", "district")
        .order_by("pk")
        .first()
    )
    if coordinator is None:
        return
    names = [row["name"] for row in ROWS["organizations"]]
    if Partner.objects.for_district(district).filter(name__in=names).exists():
        return  # someone made one by hand: importing would clash with its name
    hsds_import(by=coordinator, data=package(), filename="bay-area-211.zip")
    # Synced a while ago, as a district that imports the 211 feed each term would be.
    Partner.objects.for_district(district).filter(hsds_source=SOURCE).update(
        synced_at=timezone.now() - timedelta(days=12)
    )
