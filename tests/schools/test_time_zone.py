"""Time in the district's zone: its day and its clock on every page, in tasks and in imports.

Honolulu is ten hours behind UTC all year: at 08:00 UTC on March 1 it is still 22:00 on
February 28 there, and already March 1 in Tokyo (and in UTC, the server's zone).
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from partnerships.models import Partner
from partnerships.services.directory import listing_token
from schools.models import District, RosterImport
from schools.services.students import roster_import_create
from schools.tenancy import in_district, tenant_context, work_in_district
from tests.factories import MembershipFactory, SuccessStoryFactory
from tests.partnerships.directory_setup import make_partner
from tests.partnerships.mou_setup import Cast, advance, draft, review_links
from tests.schools.test_roster_import import csv_bytes, simple_row

MARCH_1_0800_UTC = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)
FEB_28 = datetime.date(2026, 2, 28)
MARCH_1 = datetime.date(2026, 3, 1)


def in_zone(district, name):
    district.time_zone = name
    district.save(update_fields=["time_zone"])
    return district


@pytest.fixture
def honolulu(district):
    return in_zone(district, "Pacific/Honolulu")


@pytest.fixture
def tokyo(other_district):
    return in_zone(other_district, "Asia/Tokyo")


@pytest.fixture
def evening(time_machine):
    """Feb 28, 22:00 in Honolulu; March 1 in UTC and in Tokyo."""
    time_machine.move_to(MARCH_1_0800_UTC, tick=False)


# --- The field and the day --------------------------------------------------------------------


def test_a_districts_time_zone_is_a_zone_and_unknown_zones_are_refused(honolulu):
    honolulu.refresh_from_db()

    assert honolulu.time_zone == zoneinfo.ZoneInfo("Pacific/Honolulu")
    assert District.objects.get(pk=honolulu.pk).time_zone.key == "Pacific/Honolulu"
    with pytest.raises(ValidationError):
        District(name="Nowhere", slug="nowhere", time_zone="Mars/Olympus_Mons")
    assert District(name="New", slug="new").time_zone == zoneinfo.ZoneInfo("America/New_York")


def test_today_is_the_districts_day_not_the_servers(honolulu, tokyo, evening):
    assert honolulu.today() == FEB_28
    assert (honolulu.now().date(), honolulu.now().hour) == (FEB_28, 22)
    assert tokyo.today() == MARCH_1
    assert timezone.localdate() == MARCH_1  # the server's zone, UTC


# --- Pages: the district's date, whatever the date in UTC -------------------------------------


def test_a_story_shows_the_day_it_was_reviewed_in_each_districts_zone(
    client, honolulu, tokyo, member, evening
):
    coordinator = member("coordinator")
    MembershipFactory(district=tokyo, user=coordinator.user, role="coordinator")
    here = SuccessStoryFactory(district=honolulu, reviewed_at=timezone.now())
    there = SuccessStoryFactory(district=tokyo, reviewed_at=timezone.now())
    client.force_login(coordinator.user)

    page_here = client.get(reverse("story_detail", args=[honolulu.slug, here.pk]))
    page_there = client.get(reverse("story_detail", args=[tokyo.slug, there.pk]))

    assert "Reviewed on February 28, 2026." in page_here.content.decode()
    assert "Reviewed on March 1, 2026." in page_there.content.decode()
    # The zone ends with its request: the next one on this thread starts in UTC.
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_partner_page_says_the_day_of_the_last_verification_in_the_districts_zone(
    client, honolulu, member, evening
):
    partner = make_partner(honolulu, name="Harbor", last_verified_at=timezone.now())
    client.force_login(member("counselor").user)

    body = client.get(reverse("partner_detail", args=[honolulu.slug, partner.pk])).content
    text = body.decode()

    assert "Last verified on February 28, 2026" in text
    assert "March 1, 2026" not in text


def test_the_pdf_panel_dates_each_version_in_the_districts_zone(client, honolulu, member, evening):
    coordinator = member("coordinator")
    mou = draft(coordinator)  # version 1, saved now
    client.force_login(coordinator.user)

    response = client.get(reverse("mou_pdfs", args=[honolulu.slug, mou.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "February 28, 2026" in response.content.decode()
    assert "March 1, 2026" not in response.content.decode()


def test_the_emailed_mou_link_shows_times_in_the_districts_zone(client, honolulu, time_machine):
    cast = Cast(honolulu)
    mou = draft(cast.coordinator, partner=cast.partner)
    advance(mou, cast, "sent")
    path = review_links()[0].removeprefix(settings.SITE_URL)
    time_machine.move_to(MARCH_1_0800_UTC, tick=False)
    signed = client.post(
        path + "sign/", {"name": "Lee Link", "title": "CEO", "agree": "on", "version": "1"}
    )
    assert "You signed" in signed.content.decode()

    page = client.get(path).content.decode()

    assert "Signed version 1 on February 28, 2026, 10:00 PM" in page
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_spent_listing_link_says_the_day_of_the_verification_in_the_districts_zone(
    client, honolulu, evening
):
    partner = make_partner(
        honolulu, name="Harbor", contacts=[{"name": "Ana Ruiz", "email": "ana@example.org"}]
    )
    with tenant_context(honolulu):
        path = reverse("listing_verify", args=[listing_token(partner, partner.contacts.get())])
        Partner.objects.filter(pk=partner.pk).update(last_verified_at=timezone.now())

    response = client.get(path)

    assert response.status_code == 410
    assert "was verified on February 28, 2026" in response.content.decode()


# --- Work outside a request -------------------------------------------------------------------


def test_a_task_in_a_district_runs_in_its_zone(honolulu, tokyo, evening):
    @in_district
    def task(district_id):
        return timezone.get_current_timezone_name(), timezone.localdate()

    assert task(honolulu.pk) == ("Pacific/Honolulu", FEB_28)
    assert task(tokyo.pk) == ("Asia/Tokyo", MARCH_1)
    assert timezone.get_current_timezone_name() == "UTC"


def test_each_district_of_a_sweep_is_worked_in_its_own_zone(honolulu, tokyo, evening):
    days = {}
    for district in (honolulu, tokyo):
        with work_in_district(district):
            days[district.slug] = timezone.localdate()

    assert days == {honolulu.slug: FEB_28, tokyo.slug: MARCH_1}


def test_a_roster_birth_date_after_the_districts_today_is_refused(honolulu, member, evening):
    coordinator = member("coordinator")
    rows = [
        simple_row("S1", date_of_birth="2026-02-28"),  # row 2: today in Honolulu
        simple_row("S2", date_of_birth="2026-03-01"),  # row 3: tomorrow there (today in UTC)
    ]
    upload = SimpleUploadedFile("roster.csv", csv_bytes(rows), content_type="text/csv")

    with tenant_context(honolulu):
        created = roster_import_create(by=coordinator, uploaded_file=upload)
        errors = RosterImport.objects.get(pk=created.pk).errors

    assert [(row, column, code) for row, column, code, *_rest in errors] == [
        (3, "date_of_birth", "implausible_date")
    ]
