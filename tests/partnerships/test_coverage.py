"""The coverage map: schools x service categories, partners with an active MOU in each
cell, gaps highlighted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partnerships.models import SERVICE_TAXONOMY, ServiceCategory
from schools.models import School
from tests.factories import SchoolFactory
from tests.partnerships.directory_setup import make_mou, make_partner, person, read, signed_in

pytestmark = pytest.mark.django_db


def coverage_url(district):
    return reverse("partner_coverage", args=[district.slug])


@pytest.fixture
def fixture(district):
    """Two schools; MOUs in every status that matters; a service without an MOU."""
    north = read(district, lambda: School.objects.get(district=district))
    east = SchoolFactory(district=district, name="East Middle School")
    read(
        district,
        lambda: ServiceCategory.objects.create(
            district=district, code="legal_aid", name="Legal aid"
        ),
    )
    harbor = make_partner(district, name="Harbor Counseling")
    bridge = make_partner(district, name="Bridge Youth")
    draft = make_partner(district, name="Drafty Org")
    ended = make_partner(district, name="Ended Org")
    listed = make_partner(district, name="Listed Only", services=["housing"])
    make_mou(
        district, harbor, status="active", schools=[north, east], services=["therapy", "mentoring"]
    )
    make_mou(
        district, bridge, status="expiring", schools=[north], services=["therapy", "legal_aid"]
    )
    make_mou(district, draft, status="draft", schools=[east], services=["food_assistance"])
    make_mou(district, ended, status="terminated", schools=[north], services=["housing"])
    make_mou(district, ended, status="expired", schools=[east], services=["housing"])
    return {"north": north, "east": east, "listed": listed, "harbor": harbor}


def cells(response) -> dict[tuple[str, str], list[str]]:
    return {
        (row["school"].name, cell["code"]): [name for _pk, name in cell["partners"]]
        for row in response.context["rows"]
        for cell in row["cells"]
    }


def test_cells_name_partners_with_an_active_or_expiring_mou_for_that_school_and_service(
    client, district, fixture
):
    signed_in(client, person(district, "counselor"))

    found = cells(client.get(coverage_url(district)))

    covered = {key: value for key, value in found.items() if value}
    assert covered == {
        ("North High School", "therapy"): ["Bridge Youth", "Harbor Counseling"],
        ("North High School", "mentoring"): ["Harbor Counseling"],
        ("North High School", "legal_aid"): ["Bridge Youth"],
        ("East Middle School", "therapy"): ["Harbor Counseling"],
        ("East Middle School", "mentoring"): ["Harbor Counseling"],
    }


def test_every_other_cell_is_a_gap_including_the_districts_own_categories(
    client, district, fixture
):
    signed_in(client, person(district, "counselor"))

    response = client.get(coverage_url(district))

    categories = [code for code, _label in response.context["categories"]]
    assert categories == [code for code, _label in SERVICE_TAXONOMY] + ["legal_aid"]
    assert response.context["gaps"] == 2 * len(categories) - 5
    found = cells(response)
    assert found[("East Middle School", "food_assistance")] == []  # a draft MOU is no cover
    assert found[("North High School", "housing")] == []  # terminated, and a bare listing
    assert found[("East Middle School", "legal_aid")] == []
    html = response.content.decode()
    assert html.count("coverage-cell--gap") == response.context["gaps"]
    assert html.count(">Gap</span>") == response.context["gaps"]


def test_the_map_is_a_scrollable_table_with_a_header_row(client, district, fixture):
    signed_in(client, person(district, "viewer"))

    html = client.get(coverage_url(district)).content.decode()

    assert 'class="table-scroll coverage-scroll" tabindex="0" role="region"' in html
    assert "<thead>" in html and '<th scope="col">Therapy</th>' in html
    assert '<th scope="row">East Middle School</th>' in html
    assert reverse("partner_detail", args=[district.slug, fixture["harbor"].pk]) in html
    assert reverse("partner_detail", args=[district.slug, fixture["listed"].pk]) not in html


@pytest.mark.parametrize("role", ["admin", "coordinator", "counselor", "viewer"])
def test_staff_see_the_map(client, district, fixture, role):
    signed_in(client, person(district, role))

    assert client.get(coverage_url(district)).status_code == 200


def test_a_partner_member_cannot_see_the_map(client, district, fixture):
    signed_in(client, person(district, "partner"))

    assert client.get(coverage_url(district)).status_code == 403


def test_another_districts_member_gets_404_and_their_mous_never_show(
    client, district, other_district, fixture
):
    south_school = SchoolFactory(district=other_district, name="South High")
    theirs = make_partner(other_district, name="Southern Youth Center")
    make_mou(other_district, theirs, schools=[south_school], services=["therapy"])
    signed_in(client, person(other_district, "coordinator"))
    assert client.get(coverage_url(district)).status_code == 404

    signed_in(client, person(district, "coordinator"))
    html = client.get(coverage_url(district)).content.decode()
    assert "Southern Youth Center" not in html and "South High" not in html


def test_the_map_costs_the_same_queries_for_one_school_or_many(client, district, count_queries):
    signed_in(client, person(district, "counselor"))
    north = read(district, lambda: School.objects.get(district=district))
    harbor = make_partner(district, name="Harbor Counseling")
    make_mou(district, harbor, schools=[north], services=["therapy"])
    client.get(coverage_url(district))
    small = count_queries(lambda: client.get(coverage_url(district)))
    schools = [SchoolFactory(district=district) for _ in range(15)]
    for index in range(10):
        partner = make_partner(district, name=f"Partner {index}")
        make_mou(district, partner, schools=schools[index:], services=["therapy", "mentoring"])
    read(
        district,
        lambda: ServiceCategory.objects.create(
            district=district, code="legal_aid", name="Legal aid"
        ),
    )

    large = count_queries(lambda: client.get(coverage_url(district)))

    assert large == small


def test_with_no_schools_the_map_says_so(client, other_district):
    signed_in(client, person(other_district, "coordinator"))

    html = client.get(coverage_url(other_district)).content.decode()

    assert "No schools yet" in html


def test_only_an_mou_in_force_today_covers_a_cell(client, district):
    """Signed but not started, or its term over while still marked active: no cover (the
    one rule, partnerships.mou_rules.in_force_q)."""
    import datetime

    from partnerships.models import MOU

    north = read(district, lambda: School.objects.get(district=district))
    today = district.today()
    later = make_partner(district, name="Starts Later")
    over = make_partner(district, name="Term Over")
    now = make_partner(district, name="In Force Now")
    for partner, start, end in [
        (later, today + datetime.timedelta(days=10), None),
        (over, None, today - datetime.timedelta(days=1)),
        (now, today, today),
    ]:
        mou = make_mou(district, partner, schools=[north], services=["therapy"])
        read(
            district,
            lambda mou=mou, start=start, end=end: MOU.objects.filter(pk=mou.pk).update(
                start_date=start, end_date=end
            ),
        )
    signed_in(client, person(district, "counselor"))

    found = cells(client.get(coverage_url(district)))

    assert found[("North High School", "therapy")] == ["In Force Now"]
