"""HSDS packages as the specification lays them out (issue 17, parts 1 and 2): the export
validated with frictionless against the official HSDS 3.0.0 data package, and packages
written to the official layout (built here from the official column lists) imported."""

from __future__ import annotations

import io
import json
import random
import uuid
import zipfile

import frictionless
import pytest

from partnerships.models import Contact, Partner, PartnerSchool, Service
from partnerships.services.hsds import hsds_read
from partnerships.services.hsds_format import SPEC_PATH
from tests.factories import SchoolFactory
from tests.partnerships.directory_setup import read
from tests.partnerships.test_hsds import (  # noqa: F401 (fixtures)
    empty_district_like,
    export,
    full_directory,
    hostile_directory,
    import_into,
    make_zip,
    snapshot,
    table,
)

pytestmark = pytest.mark.django_db

OFFICIAL = json.loads(SPEC_PATH.read_text())
BY_PATH = {resource["path"]: resource for resource in OFFICIAL["resources"]}


def columns(path: str) -> list[str]:
    """The official columns of a table, in the specification's order."""
    return [field["name"] for field in BY_PATH[path]["schema"]["fields"]]


def validate(data: bytes, tmp_path) -> frictionless.Report:
    """Validate the package's CSV files against the OFFICIAL descriptor (not the one in the
    zip): the specification's resources for the files present."""
    folder = tmp_path / "package"
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name for name in archive.namelist() if name != "datapackage.json"]
        for name in names:
            (folder / name).write_bytes(archive.read(name))
    descriptor = {**OFFICIAL, "resources": [BY_PATH[name] for name in names]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor))
    return frictionless.validate(str(folder / "datapackage.json"))


def problems(report: frictionless.Report) -> list:
    return report.flatten(["title", "type", "note"])


# --- Export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["full_directory", "hostile_directory"])
def test_the_export_validates_against_the_official_package(directory, request, tmp_path):
    district = request.getfixturevalue(directory)

    report = validate(export(district), tmp_path)

    assert report.valid, problems(report)
    assert report.stats["tasks"] >= 14  # every table written was checked


def test_the_validation_fails_for_what_the_old_export_wrote(request, tmp_path):
    """The check can fail: a file in the old layout (a subset of the columns, in Trellis's
    order) does not pass."""
    district = request.getfixturevalue("full_directory")
    with zipfile.ZipFile(io.BytesIO(export(district))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    organizations = "id,name,description,email,website\n" + f"{uuid.uuid4()},Harbor,,,\n"
    files["organizations.csv"] = organizations.encode()

    report = validate(make_zip(files), tmp_path)

    assert not report.valid
    assert any(error[1] in ("incorrect-label", "missing-label") for error in problems(report))


def test_the_export_round_trips_through_the_official_layout(request):
    district = request.getfixturevalue("full_directory")
    target = empty_district_like(district)

    plan = import_into(target, export(district))

    assert snapshot(target) == snapshot(district)
    # Nothing of its own export is left aside or warned of (its empty tables included).
    assert (plan.package.not_used, plan.package.warnings) == ([], [])


# --- Import of a package laid out by the specification --------------------------------------


def ids(*names) -> dict[str, str]:
    return {
        name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://211.example/{name}")) for name in names
    }


ID = ids(
    "org",
    "org2",
    "svc",
    "svc2",
    "loc",
    "adr",
    "ph",
    "ct",
    "ln",
    "sal",
    "area",
    "cost",
    "cost2",
    "sched",
    "tax",
    "term",
    "attr",
)


def official_table(path: str, *rows: dict, extra=(), shuffle=False) -> str:
    """A CSV with every official column of the table (in the official order, or shuffled:
    columns may come in any order), and `extra` columns the specification does not have."""
    header = columns(path) + list(extra)
    if shuffle:
        header = header[:]
        random.Random(path).shuffle(header)
    return table(header, *[[row.get(name, "") for name in header] for row in rows])


def official_package(*, as_specified=False, **overrides) -> dict:
    """A package laid out by the specification, as a 211 directory might publish it: with
    `as_specified`, exactly so; else the organizations' columns shuffled and one added."""
    files = {
        "programs.csv": official_table("programs.csv"),  # none, but services name the table
        "organizations.csv": official_table(
            "organizations.csv",
            {
                "id": ID["org"],
                "name": "Riverbend Family Services",
                "alternate_name": "RFS",
                "description": "Counseling and case management for families.",
                "email": "intake@riverbend.example.org",
                "website": "https://riverbend.example.org",
                "tax_status": "501(c)(3)",
                "x_region": "North",
            },
            {"id": ID["org2"], "name": "Hilltop Tutors", "description": "Hilltop Tutors"},
            extra=[] if as_specified else ["x_region"],
            shuffle=not as_specified,
        ),
        "services.csv": official_table(
            "services.csv",
            {
                "id": ID["svc"],
                "organization_id": ID["org"],
                "name": "Family counseling",
                "description": "Weekly sessions",
                "status": "active",
                "minimum_age": "6",
                "maximum_age": "18",
                "eligibility_description": "Families in the county",
                "assured_date": "2026-09-01",
            },
            {
                "id": ID["svc2"],
                "organization_id": ID["org2"],
                "name": "Homework help",
                "status": "active",
            },
        ),
        "locations.csv": official_table(
            "locations.csv",
            {
                "id": ID["loc"],
                "location_type": "physical",
                "organization_id": ID["org"],
                "name": "Main office",
                "latitude": "41.88",
                "longitude": "-87.63",
            },
        ),
        "addresses.csv": official_table(
            "addresses.csv",
            {
                "id": ID["adr"],
                "location_id": ID["loc"],
                "address_1": "400 River Rd",
                "city": "Springfield",
                "state_province": "IL",
                "postal_code": "62704",
                "country": "US",
                "address_type": "physical",
            },
        ),
        "phones.csv": official_table(
            "phones.csv",
            {"id": ID["ph"], "organization_id": ID["org"], "number": "555-0300", "type": "voice"},
        ),
        "contacts.csv": official_table(
            "contacts.csv",
            {
                "id": ID["ct"],
                "organization_id": ID["org"],
                "name": "Rosa Vega",
                "title": "Intake coordinator",
                "email": "rosa@riverbend.example.org",
            },
        ),
        "languages.csv": official_table(
            "languages.csv",
            {"id": ID["ln"], "service_id": ID["svc"], "name": "Spanish", "code": "es"},
        ),
        "service_at_location.csv": official_table(
            "service_at_location.csv",
            {"id": ID["sal"], "service_id": ID["svc"], "location_id": ID["loc"]},
        ),
        "service_areas.csv": official_table(
            "service_areas.csv",
            {"id": ID["area"], "service_id": ID["svc"], "name": "North High School"},
        ),
        "cost_options.csv": official_table(
            "cost_options.csv",
            {"id": ID["cost"], "service_id": ID["svc"], "option": "Medicaid"},
            {"id": ID["cost2"], "service_id": ID["svc"], "option": "Donation", "amount": "5"},
        ),
        "schedules.csv": official_table(
            "schedules.csv",
            {"id": ID["sched"], "service_id": ID["svc"], "freq": "WEEKLY", "byday": "TU"},
        ),
        "taxonomies.csv": official_table(
            "taxonomies.csv", {"id": ID["tax"], "name": "Local", "description": "Local terms"}
        ),
        "taxonomy_terms.csv": official_table(
            "taxonomy_terms.csv",
            {
                "id": ID["term"],
                "code": "family_support",
                "name": "Family support",
                "description": "Support for families",
                "taxonomy_id": ID["tax"],
            },
        ),
        "attributes.csv": official_table(
            "attributes.csv",
            {
                "id": ID["attr"],
                "link_id": ID["svc"],
                "taxonomy_term_id": ID["term"],
                "link_entity": "service",
            },
        ),
    }
    files["datapackage.json"] = json.dumps(
        {**OFFICIAL, "resources": [BY_PATH[name] for name in files]}
    )
    files.update(overrides)
    return {name: content for name, content in files.items() if content is not None}


def test_the_official_layout_package_is_itself_valid(tmp_path):
    """The fixture is what the specification describes (so the import test reads a real one)."""
    files = official_package(as_specified=True, **{"datapackage.json": None})

    report = validate(make_zip(files), tmp_path)

    assert report.valid, problems(report)


def test_a_package_in_the_official_layout_is_imported_with_what_maps(district):
    SchoolFactory(district=district, name="East Middle School")

    plan = import_into(district, make_zip(official_package()))

    assert (plan.created, plan.package.error_total) == (2, 0), plan.package.errors
    riverbend = read(district, lambda: Partner.objects.get(name="Riverbend Family Services"))
    assert riverbend.description == "Counseling and case management for families."
    assert (riverbend.email, riverbend.website, riverbend.phone) == (
        "intake@riverbend.example.org",
        "https://riverbend.example.org",
        "555-0300",
    )
    assert (riverbend.address, riverbend.city, riverbend.state, riverbend.postal_code) == (
        "400 River Rd",
        "Springfield",
        "IL",
        "62704",
    )
    assert riverbend.languages == ["es"]  # a language of its service
    assert riverbend.payments == ["medicaid"]  # a cost option Trellis knows; not "Donation"
    assert (riverbend.min_age, riverbend.max_age) == (6, 18)
    schools = read(
        district,
        lambda: list(
            PartnerSchool.objects.filter(partner=riverbend).values_list("school__name", flat=True)
        ),
    )
    assert schools == ["North High School"]  # its service's area, a school of the district
    services = read(
        district,
        lambda: sorted(Service.objects.values_list("partner__name", "category", "name")),
    )
    assert services == [
        ("Hilltop Tutors", "other", "Homework help"),
        ("Riverbend Family Services", "family_support", "Family counseling"),
    ]
    rosa = read(district, lambda: Contact.objects.get())
    assert (rosa.name, rosa.title, rosa.partner_id) == (
        "Rosa Vega",
        "Intake coordinator",
        riverbend.pk,
    )
    hilltop = read(district, lambda: Partner.objects.get(name="Hilltop Tutors"))
    assert hilltop.description == ""  # a description that only repeats the name
    not_used = {part.split(": ")[0]: set(part.split(": ")[1:]) for part in plan.package.not_used}
    [organizations] = not_used["organizations.csv"]
    assert set(organizations.split(", ")) == {"alternate_name", "tax_status", "x_region"}
    assert not_used["locations.csv"] == {"latitude, longitude"}
    assert not_used["cost_options.csv"] == {"amount"}
    assert not_used["schedules.csv"] == set() and "taxonomies.csv" not in not_used
    # The only warning: the descriptor gives the organizations' columns in the official order.
    assert [w.message for w in plan.package.warnings] == [
        "It gives the columns of organizations.csv otherwise than the file's first line: the "
        "file's columns are read."
    ]


def test_any_subset_of_the_tables_is_accepted(district):
    files = official_package()
    only = {name: files[name] for name in ("organizations.csv",)}

    plan = import_into(district, make_zip(only))

    assert plan.created == 2 and plan.package.error_total == 0
    assert read(district, lambda: Service.objects.count()) == 0


def test_an_older_trellis_export_name_is_still_read(district):
    files = official_package(**{"datapackage.json": None})
    files["service_at_locations.csv"] = files.pop("service_at_location.csv")

    package = hsds_read(make_zip(files))

    assert package.error_total == 0 and "service_at_locations.csv" not in package.not_used


def test_a_file_that_is_no_hsds_table_is_listed_and_never_read(district):
    files = official_package(**{"payload.exe": b"MZ\x00\x00", "README.txt": "hello"})

    package = hsds_read(make_zip(files))

    assert {"payload.exe", "README.txt"} <= set(package.not_used)
    assert len(package.organizations) == 2


# --- Bad input ---------------------------------------------------------------------------------


def test_values_of_the_wrong_type_are_warned_of_and_the_rows_kept(district):
    files = official_package()
    files["services.csv"] = official_table(
        "services.csv",
        {
            "id": "svc-1",  # not a UUID
            "organization_id": ID["org"],
            "name": "Family counseling",
            "status": "active",
            "assured_date": "last week",  # not a date
            "last_modified": "yesterday",  # not a date and time
        },
    )
    files.pop("datapackage.json")

    package = hsds_read(make_zip(files))

    warnings = [(w.file, w.column, w.message) for w in package.warnings]
    assert (
        "services.csv",
        "id",
        "1 value of id is not a UUID as HSDS 3 says (first on line 2: “svc-1”).",
    ) in warnings
    assert any(w[1] == "assured_date" and "a date (YYYY-MM-DD)" in w[2] for w in warnings)
    assert any(w[1] == "last_modified" and "a date and time" in w[2] for w in warnings)
    riverbend = next(o for o in package.organizations if o.fields["name"].startswith("River"))
    assert [s["name"] for s in riverbend.services] == ["Family counseling"]  # kept


def test_an_age_of_the_wrong_type_leaves_the_service_out(district):
    files = official_package()
    files["services.csv"] = official_table(
        "services.csv",
        {
            "id": ID["svc"],
            "organization_id": ID["org"],
            "name": "Family counseling",
            "status": "active",
            "minimum_age": "six",
        },
    )

    package = hsds_read(make_zip(files))

    first, *dependents = package.errors
    assert (first.file, first.column) == ("services.csv", "minimum_age")
    assert "“six” is not an age from 0 to 120." in first.message
    # The rows that belong to the service are left out with it, and say so.
    assert {(p.file, p.column) for p in dependents} == {
        ("languages.csv", "service_id"),
        ("service_at_location.csv", "service_id"),
        ("service_areas.csv", "service_id"),
        ("cost_options.csv", "service_id"),
    }
    assert all("which has errors: left out with it" in p.message for p in dependents)


def test_two_organizations_with_the_same_source_id_are_refused_row_by_row(district):
    files = official_package()
    files["organizations.csv"] = official_table(
        "organizations.csv",
        {"id": ID["org"], "name": "Riverbend Family Services", "description": "One"},
        {"id": ID["org"], "name": "Riverbend Again", "description": "Two"},
    )

    package = hsds_read(make_zip(files))

    assert [o.fields["name"] for o in package.organizations] == ["Riverbend Family Services"]
    assert any("is used twice" in p.message for p in package.errors)


def test_a_descriptor_that_contradicts_the_files_is_warned_of_and_the_files_win(district):
    files = official_package()
    descriptor = json.loads(files["datapackage.json"])
    resources = [r for r in descriptor["resources"] if r["path"] != "contacts.csv"]
    organizations = next(r for r in resources if r["path"] == "organizations.csv")
    organizations["schema"]["fields"] = organizations["schema"]["fields"][:3]
    resources.append(BY_PATH["funding.csv"])
    files["datapackage.json"] = json.dumps({**descriptor, "resources": resources})

    package = hsds_read(make_zip(files))

    messages = [w.message for w in package.warnings if w.file == "datapackage.json"]
    assert "It describes funding.csv, which is not in the zip." in messages
    assert (
        "It gives the columns of organizations.csv otherwise than the file's first line: the "
        "file's columns are read." in messages
    )
    assert "It does not describe contacts.csv: the file is read as HSDS 3 lays it out." in (
        messages
    )
    assert len(package.organizations) == 2
    assert package.organizations[0].contacts[0]["name"] == "Rosa Vega"  # the file is read


def test_the_demo_districts_export_validates(settings, tmp_path):
    """The district a person trying Trellis sees: every kind of partner, verified and not,
    contacts in two languages, partial addresses."""
    from django.core.management import call_command

    from schools.models import District

    settings.LOCAL_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo = District.objects.get(slug="demo")

    report = validate(export(demo), tmp_path)

    assert report.valid, problems(report)
