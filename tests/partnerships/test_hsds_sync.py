"""A directory kept in step with another (issue 17, part 3): imported organizations,
services and contacts keep their id in the source, so a newer version of the same package
updates what changed, adds what is new and offers to close what disappeared; a field
changed in Trellis since the last sync is never overwritten without the coordinator's
choice."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from partnerships.models import Contact, Partner, Service
from partnerships.services.hsds import hsds_plan, hsds_read, import_source
from tests.partnerships.directory_setup import person, read, signed_in
from tests.partnerships.test_hsds import import_into, make_zip
from tests.partnerships.test_hsds_official import BY_PATH, ID, OFFICIAL, official_package
from tests.partnerships.test_hsds_official import official_table as sheet

pytestmark = pytest.mark.django_db

SOURCE = "Central Illinois 211"


def package(**overrides) -> bytes:
    files = official_package(as_specified=True)
    files.update(overrides)
    files = {name: content for name, content in files.items() if content is not None}
    names = [name for name in files if name.endswith(".csv")]
    files["datapackage.json"] = json.dumps(
        {**OFFICIAL, "title": SOURCE, "resources": [BY_PATH[name] for name in names]}
    )
    return make_zip({name: content for name, content in files.items() if content is not None})


def plan_of(district, data):
    return read(district, lambda: hsds_plan(district, hsds_read(data), SOURCE))


def riverbend(district) -> Partner:
    return read(district, lambda: Partner.objects.get(hsds_id=ID["org"]))


def newer(**changes) -> bytes:
    """The next version of the source's package: Riverbend's row changed, Hilltop gone, a
    new organization, Riverbend's service renamed and another added, its contact changed."""
    organizations = sheet(
        "organizations.csv",
        {
            "id": ID["org"],
            "name": "Riverbend Family Services",
            "description": changes.get("description", "Counseling for families, now Saturdays."),
            "email": "intake@riverbend.example.org",
            "website": "https://riverbend.example.org",
        },
        {"id": ID["new"], "name": "Lakeside Mentors", "description": "Mentoring for teens"},
    )
    services = sheet(
        "services.csv",
        {
            "id": ID["svc"],
            "organization_id": ID["org"],
            "name": "Family therapy",
            "status": "active",
            "minimum_age": "6",
            "maximum_age": "18",
            "eligibility_description": "Families in the county",
        },
        {
            "id": ID["svc3"],
            "organization_id": ID["org"],
            "name": "Parent groups",
            "status": "active",
        },
        {"id": ID["svc4"], "organization_id": ID["new"], "name": "Mentoring", "status": "active"},
    )
    phones = sheet(
        "phones.csv",
        {"id": ID["ph"], "organization_id": ID["org"], "number": changes.get("phone", "555-0300")},
    )
    contacts = sheet(
        "contacts.csv",
        {
            "id": ID["ct"],
            "organization_id": ID["org"],
            "name": "Rosa Vega",
            "title": "Intake lead",
            "email": "rosa@riverbend.example.org",
        },
    )
    return package(
        **{
            "organizations.csv": organizations,
            "services.csv": services,
            "phones.csv": phones,
            "contacts.csv": contacts,
            "languages.csv": None,
            "service_areas.csv": None,
            "cost_options.csv": None,
            "attributes.csv": None,
            "service_at_location.csv": sheet(
                "service_at_location.csv",
                {"id": ID["sal"], "service_id": ID["svc"], "location_id": ID["loc"]},
            ),
        }
    )


ID.update(
    {
        "new": "0b8a6a8e-3c59-4c1e-9d53-4f9f3c7d1a10",
        "svc3": "2f2d8f0c-5f1e-4a57-8d3e-6c1c1b7a2b30",
        "svc4": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c90",
    }
)


def test_imported_partners_keep_their_source_and_id_there(district):
    plan = import_into(district, package())

    assert plan.created == 2 and plan.source == SOURCE
    partner = riverbend(district)
    assert (partner.hsds_source, partner.hsds_id) == (SOURCE, ID["org"])
    assert partner.synced_at is not None
    assert partner.synced_values["phone"] == "555-0300"
    service = read(district, lambda: Service.objects.get(partner=partner))
    contact = read(district, lambda: Contact.objects.get(partner=partner))
    assert (service.hsds_id, contact.hsds_id) == (ID["svc"], ID["ct"])


def test_importing_the_same_package_again_updates_instead_of_clashing(district):
    import_into(district, package())

    plan = import_into(district, package())

    assert (plan.created, plan.updated, plan.package.error_total) == (0, 2, 0)
    assert read(district, lambda: (Partner.objects.count(), Service.objects.count())) == (2, 2)
    assert read(district, lambda: Contact.objects.count()) == 1


def test_a_newer_version_changes_adds_and_offers_to_close_what_disappeared(district):
    import_into(district, package())
    partner = riverbend(district)
    # A service the coordinator added in Trellis: the source knows nothing of it.
    read(
        district,
        lambda: Service.objects.create(
            district=district, partner=partner, category="tutoring", name="Our own"
        ),
    )
    plan = plan_of(district, newer())
    assert [p.name for p in plan.gone] == ["Hilltop Tutors"]
    assert (plan.created, plan.updated, plan.conflicts) == (1, 1, [])
    hilltop = plan.gone[0]

    plan = import_into_with(district, newer(), {f"close-{hilltop.pk}": "on"})

    assert plan.closed == 1
    partner = riverbend(district)
    assert partner.description == "Counseling for families, now Saturdays."
    services = read(
        district,
        lambda: sorted(Service.objects.filter(partner=partner).values_list("name", "hsds_id")),
    )
    assert services == [
        ("Family therapy", ID["svc"]),  # renamed in the source
        ("Our own", ""),  # added in Trellis: kept
        ("Parent groups", ID["svc3"]),  # new in the source
    ]
    contact = read(district, lambda: Contact.objects.get(partner=partner))
    assert contact.title == "Intake lead"
    assert not read(district, lambda: Partner.objects.get(pk=hilltop.pk).active)
    assert read(district, lambda: Partner.objects.get(hsds_id=ID["new"]).hsds_source) == SOURCE


def test_what_disappeared_is_kept_active_unless_the_coordinator_ticks_it(district):
    import_into(district, package())

    plan = import_into(district, newer())

    assert plan.closed == 0
    assert read(district, lambda: Partner.objects.get(name="Hilltop Tutors").active)


def import_into_with(district, data, choices):
    from partnerships.services.hsds import hsds_import

    by = person(district, "coordinator")
    return read(district, lambda: hsds_import(by=by, data=data, choices=choices))


def change_in_trellis(district, **fields):
    read(district, lambda: Partner.objects.filter(hsds_id=ID["org"]).update(**fields))


def test_a_field_changed_on_both_sides_is_a_conflict_and_trellis_wins_by_default(district):
    import_into(district, package())
    change_in_trellis(district, phone="555-9999", email="new@riverbend.example.org")

    plan = plan_of(district, newer(phone="555-0400"))

    [conflict] = plan.conflicts  # the phone; the email changed in Trellis only
    assert (conflict.field, conflict.ours, conflict.theirs) == ("phone", "555-9999", "555-0400")
    import_into(district, newer(phone="555-0400"))
    partner = riverbend(district)
    assert partner.phone == "555-9999"  # never overwritten without asking
    assert partner.email == "new@riverbend.example.org"  # the source did not change it
    assert partner.description == "Counseling for families, now Saturdays."  # source only
    assert partner.synced_values["phone"] == "555-0400"  # what the source says now


def test_the_coordinator_may_take_the_files_value(district):
    import_into(district, package())
    change_in_trellis(district, phone="555-9999")
    [conflict] = plan_of(district, newer(phone="555-0400")).conflicts

    import_into_with(district, newer(phone="555-0400"), {conflict.key: "theirs"})

    assert riverbend(district).phone == "555-0400"


def test_a_field_changed_in_trellis_that_the_source_left_alone_is_kept_silently(district):
    import_into(district, package())
    change_in_trellis(district, description="Our own words")

    plan = plan_of(district, package())
    import_into(district, package())

    assert plan.conflicts == []
    assert riverbend(district).description == "Our own words"


def test_the_source_is_the_files_name_when_the_package_names_none(district):
    files = official_package(as_specified=True, **{"datapackage.json": None})

    package_ = hsds_read(make_zip(files))

    assert import_source(package_, "county-211-export.zip") == "county-211-export"


def test_an_organization_with_several_addresses_keeps_the_first_and_says_so(district):
    files = official_package(as_specified=True)
    files["addresses.csv"] = sheet(
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
        {
            "id": "9d7e2b1a-1111-4c2d-8e3f-000000000001",
            "location_id": ID["loc"],
            "address_1": "12 Elm St",
            "city": "Chatham",
            "state_province": "IL",
            "postal_code": "62629",
            "country": "US",
            "address_type": "physical",
        },
    )

    parsed = hsds_read(make_zip(files))

    first = next(o for o in parsed.organizations if o.hsds_id == ID["org"])
    assert first.fields["address"] == "400 River Rd"
    messages = [w.message for w in parsed.warnings]
    assert any("“12 Elm St, Chatham, IL, 62629” is not kept" in m for m in messages), messages


# --- Through the pages ------------------------------------------------------------------------


@pytest.fixture
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def upload(client, district, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile("211.zip", data, content_type="application/zip")
    return client.post(reverse("partner_import", args=[district.slug]), {"file": file})


def test_the_preview_asks_about_conflicts_and_what_disappeared(client, district, private_cache):
    import_into(district, package())
    change_in_trellis(district, phone="555-9999")
    hilltop = read(district, lambda: Partner.objects.get(name="Hilltop Tutors"))
    signed_in(client, person(district, "coordinator"))

    preview = upload(client, district, newer(phone="555-0400"))

    html = preview.content.decode()
    assert preview.status_code == 200
    assert f"Source: {SOURCE}." in html
    [conflict] = preview.context["plan"].conflicts
    assert f'name="{conflict.key}" value="ours" checked' in html
    assert "Keep Trellis's: 555-9999" in html and "Take the file's: 555-0400" in html
    assert f'name="close-{hilltop.pk}"' in html

    done = client.post(
        reverse("partner_import_confirm", args=[district.slug]),
        {"key": preview.context["key"], conflict.key: "theirs", f"close-{hilltop.pk}": "on"},
        follow=True,
    )

    assert "1 partner the source no longer lists is marked inactive." in done.content.decode()
    assert riverbend(district).phone == "555-0400"
    assert not read(district, lambda: Partner.objects.get(pk=hilltop.pk).active)
    page = client.get(reverse("partner_detail", args=[district.slug, riverbend(district).pk]))
    assert f"Imported from {SOURCE}; last synced on" in page.content.decode()


def test_a_choice_for_another_districts_partner_closes_nothing(
    client, district, other_district, private_cache
):
    import_into(other_district, package())
    theirs = read(other_district, lambda: Partner.objects.get(name="Hilltop Tutors"))
    import_into(district, package())
    signed_in(client, person(district, "coordinator"))
    preview = upload(client, district, newer())

    client.post(
        reverse("partner_import_confirm", args=[district.slug]),
        {"key": preview.context["key"], f"close-{theirs.pk}": "on"},
    )

    assert read(other_district, lambda: Partner.objects.get(pk=theirs.pk).active)
    assert read(district, lambda: Partner.objects.get(name="Hilltop Tutors").active)
