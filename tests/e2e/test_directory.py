"""The partner directory in the browser: search as you type, creating a partner, the
partner page, the coverage map at phone width, the import preview, the emailed link."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from partnerships.models import Partner, Service
from partnerships.services.directory import listing_token
from schools.models import School
from schools.tenancy import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot
from tests.factories import SchoolFactory, enable_totp
from tests.partnerships.directory_setup import make_mou, make_partner, read

pytestmark = pytest.mark.browser


def browse_as(page, live_server, membership):
    """Sign the browser in as the membership's person (the sign-in form has its own tests)."""
    if membership.needs_mfa:
        enable_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


@pytest.fixture
def three_partners(district):
    north = read(district, lambda: School.objects.get(district=district))
    make_partner(
        district,
        name="Harbor Counseling",
        services=[("therapy", "Teen therapy")],
        languages=["es"],
        intake="accepting",
        schools=[north],
    )
    make_partner(district, name="Food Bridge", services=["food_assistance"], intake="waitlist")
    make_partner(district, name="Mentor Circle", services=["mentoring"], intake="accepting")
    return north


def test_directory_search_filters_as_you_type(page, live_server, district, member, three_partners):
    browse_as(page, live_server, member("counselor"))

    page.goto(f"/{district.slug}/partners/")
    rows = page.locator("#partner-results tbody tr")
    expect(rows).to_have_count(3)
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search").press_sequentially("harb", delay=40)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbor Counseling")
    expect(page.locator("#partner-count")).to_have_text("1 partner")
    assert re.search(r"[?&]q=harb", page.url)

    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_label("Service", exact=True).select_option("mentoring")
    expect(rows.first).to_contain_text("Mentor Circle")
    expect(rows).to_have_count(1)

    page.get_by_label("Service", exact=True).select_option("")
    page.get_by_label("Accepting referrals now").check()
    expect(rows).to_have_count(2)
    expect(page.locator("#partner-results")).not_to_contain_text("Food Bridge")
    page.get_by_label("Language spoken").select_option("Spanish")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbor Counseling")
    assert_accessible(page)

    page.get_by_label("Language spoken").select_option("")
    page.get_by_role("searchbox", name="Search").fill("nobody at all")
    page.get_by_text("No partners match").wait_for()
    assert_accessible(page)

    page.reload()  # the full page for the same address
    assert page.get_by_role("searchbox", name="Search").input_value() == "nobody at all"


def test_a_coordinator_creates_a_partner(page, live_server, district, member):
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/partners/")
    page.get_by_text("No partners yet").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Add a partner").first.click()
    page.wait_for_url(f"**/{district.slug}/partners/new/")
    assert_accessible(page)

    page.locator("#id_name").fill("Harbor Counseling")
    page.get_by_label("Kind").select_option("mental_health")
    page.get_by_role("button", name="Add the partner").click()

    # The rest of the form, in sections each saved in place (no page load between them).
    page.get_by_role("heading", name="Edit Harbor Counseling", level=1).wait_for()
    page.get_by_text("Harbor Counseling is added.").wait_for()
    assert_accessible(page)
    page.evaluate("window.sameDocument = true")
    offer = page.locator("section#offer")
    offer.get_by_label("Telehealth").check()
    offer.get_by_label("Medicaid").check()
    offer.get_by_role("button", name="Save “Who they serve and how”").click()
    expect(offer.get_by_role("status")).to_have_text(
        "The “Who they serve and how” section is saved."
    )

    services = page.locator("section#services")
    services.locator("#id_services-0-category").select_option("therapy")
    services.locator("#id_services-0-name").fill("Teen therapy")
    services.get_by_role("button", name="Add a service").click()
    expect(services.locator("#id_services-1-category")).to_be_focused()  # the new row
    services.locator("#id_services-1-category").select_option("mentoring")
    services.get_by_role("button", name="Add a service").click()
    expect(services.locator("fieldset.directory-row")).to_have_count(3)
    services.get_by_role("button", name="Save “Services”").click()
    expect(services.get_by_role("status")).to_have_text("The “Services” section is saved.")
    # Saved rows come back with one empty row after them; the outline counts them.
    expect(services.locator("fieldset.directory-row")).to_have_count(3)
    expect(page.locator("#partner-outline")).to_contain_text("Services (2)")
    assert_accessible(page)

    contacts = page.locator("section#contacts")
    contacts.locator("#id_contacts-0-name").fill("Ana Ruiz")
    contacts.locator("#id_contacts-0-reminders").check()  # without an email: refused
    contacts.get_by_role("button", name="Save “Contacts”").click()
    summary = contacts.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert contacts.locator("#id_contacts-0-name").input_value() == "Ana Ruiz"  # kept
    assert_accessible(page)
    contacts.locator("#id_contacts-0-email").fill("ana@harbor.example.org")
    contacts.get_by_role("button", name="Save “Contacts”").click()
    expect(contacts.get_by_role("status")).to_have_text("The “Contacts” section is saved.")
    assert page.evaluate("window.sameDocument") is True
    shot(page, "partner-edit-sections")

    page.get_by_role("link", name="Done: see the partner’s page").click()
    page.get_by_role("heading", name="Harbor Counseling", level=1).wait_for()
    assert "Teen therapy" in page.content() and "Ana Ruiz" in page.content()
    assert_accessible(page)
    partner = read(district, lambda: Partner.objects.get(district=district))
    assert partner.delivery_modes == ["telehealth"] and partner.payments == ["medicaid"]
    names = read(district, lambda: sorted(Service.objects.values_list("category", flat=True)))
    assert names == ["mentoring", "therapy"]


def test_the_partner_page_and_the_coverage_map_at_phone_width(
    page, live_server, district, member, three_partners
):
    east = SchoolFactory(district=district, name="East Middle School")
    harbor = read(district, lambda: Partner.objects.get(name="Harbor Counseling"))
    make_mou(district, harbor, schools=[three_partners, east], services=["therapy"])
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/partners/{harbor.pk}/")
    page.get_by_role("heading", name="MOUs").wait_for()
    assert_accessible(page)

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/{district.slug}/partners/coverage/")
    assert page.locator(".coverage-cell--gap").first.inner_text() == "Gap"
    assert "Harbor Counseling" in page.locator(".coverage-table").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # the table scrolls inside its box, not the page
    assert_accessible(page)


def test_categories_import_preview_and_a_partners_own_page(
    page, live_server, district, member, three_partners
):
    browse_as(page, live_server, member("coordinator"))
    page.goto(f"/{district.slug}/partners/categories/")
    page.get_by_label("New category").fill("Legal aid")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("“Legal aid” was added.").wait_for()
    assert_accessible(page)

    page.goto(f"/{district.slug}/partners/import/")
    assert_accessible(page)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("organizations.csv", "id,name\norg-1,County Food Bank\norg-2,\n")
        archive.writestr("services.csv", "id,organization_id,name\ns-1,org-1,Bags\ns-2,org-9,X\n")
    page.get_by_label("Directory file").set_input_files(
        files=[{"name": "211.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Check the import").wait_for()
    assert "No row of organizations.csv has the id “org-9”" in page.content()
    assert_accessible(page)

    partner_member = member("partner")
    page.context.clear_cookies()
    browse_as(page, live_server, partner_member)
    page.goto(f"/{district.slug}/organization/")
    page.get_by_role("heading", name=partner_member.partner.name).wait_for()
    assert_accessible(page)


def test_a_partner_contact_confirms_the_listing_through_the_link(page, district):
    harbor = make_partner(
        district, name="Harbor Counseling", contacts=[{"name": "Ana Ruiz", "email": "a@h.org"}]
    )
    with tenant_context(district):
        contact = harbor.contacts.get()
    page.goto(f"/p/verify/{listing_token(harbor, contact)}/")
    page.get_by_role("heading", name="Is the listing of Harbor Counseling still right?").wait_for()
    assert_accessible(page)

    page.get_by_label("Phone").fill("555-0199")
    page.get_by_role("button", name="Confirm the listing").click()

    page.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(page)
    harbor = read(district, lambda: Partner.objects.get(pk=harbor.pk))
    assert harbor.phone == "555-0199" and harbor.last_verified_by == "Ana Ruiz"

    page.goto("/p/verify/not-a-real-token/")
    page.get_by_role("heading", name="This link is not valid").wait_for()
    assert_accessible(page)


def test_a_sync_preview_asks_about_conflicts_and_what_disappeared(
    page, live_server, district, member
):
    """A newer version of a 211 package imported before (issue 17): the coordinator sees
    what changed on both sides and what the source no longer lists, and decides."""
    from tests.partnerships.test_hsds import import_into
    from tests.partnerships.test_hsds_sync import change_in_trellis, newer, package, riverbend

    import_into(district, package())
    change_in_trellis(district, phone="555-9999")
    browse_as(page, live_server, member("coordinator"))

    page.goto(f"/{district.slug}/partners/import/")
    page.get_by_label("Directory file").set_input_files(
        files=[
            {"name": "211.zip", "mimeType": "application/zip", "buffer": newer(phone="555-0400")}
        ]
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Changed on both sides").wait_for()
    assert page.get_by_label("Keep Trellis's: 555-9999").is_checked()  # Trellis wins by default
    assert_accessible(page)
    shot(page, "hsds-sync-preview")
    page.get_by_label("Take the file's: 555-0400").check()
    page.get_by_label("Mark Hilltop Tutors as inactive").check()
    page.get_by_role("button", name=re.compile(r"^Import \d+ partners?$")).click()

    page.get_by_text("1 partner the source no longer lists is marked inactive.").wait_for()
    assert riverbend(district).phone == "555-0400"
    page.goto(f"/{district.slug}/partners/{riverbend(district).pk}/")
    assert (
        page.locator("#listing-source")
        .inner_text()
        .startswith("Imported from Central Illinois 211; last synced on")
    )
    assert_accessible(page)


def test_the_directory_export_is_prepared_then_downloaded(
    page, live_server, district, member, three_partners
):
    """The HSDS export runs in the reports queue (eager in the suite): the button leads to
    its progress page, which offers the zip once it is ready."""
    browse_as(page, live_server, member("coordinator"))
    page.goto(f"/{district.slug}/partners/")
    page.get_by_role("link", name="Export (HSDS)").click()
    expect(page.get_by_role("heading", name="Export the directory")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Prepare the export").click()
    download_link = page.get_by_role("link", name="Download the package (zip)")
    expect(download_link).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The package was prepared")
    assert_accessible(page)
    shot(page, "directory-export-ready")

    with page.expect_download() as download:
        download_link.click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert "organizations.csv" in archive.namelist()
        assert "datapackage.json" in archive.namelist()
