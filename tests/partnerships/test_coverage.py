"""The coverage map: schools x service categories, partners with an active MOU in each
cell, gaps highlighted."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from partnerships.models import SERVICE_TAXONOMY, Partner, ServiceCategory
from schools.models import School
from tests.factories import SchoolFactory
from tests.partnerships.directory_setup import (
    coverage_cells,
    make_mou,
    make_partner,
    person,
    read,
    signed_in,
)

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


cells = coverage_cells


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

    categories = [column["code"] for column in response.context["columns"]]
    assert sorted(categories) == sorted([code for code, _label in SERVICE_TAXONOMY] + ["legal_aid"])
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


def drawn(client, district):
    """The map drawn afresh, as the first reader after a change sees it (not the one kept)."""
    cache.clear()
    return client.get(coverage_url(district))


def test_the_map_costs_the_same_queries_for_one_school_or_many(client, district, count_queries):
    signed_in(client, person(district, "counselor"))
    north = read(district, lambda: School.objects.get(district=district))
    harbor = make_partner(district, name="Harbor Counseling")
    make_mou(district, harbor, schools=[north], services=["therapy"])
    drawn(client, district)
    small = count_queries(lambda: drawn(client, district))
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

    large = count_queries(lambda: drawn(client, district))

    assert large == small


def test_the_map_is_kept_and_drawn_again_after_any_change_to_what_it_shows(
    client, district, fixture, count_queries
):
    """Kept for the next reader (the drawing's queries saved), and drawn again after a
    change however it was written: a queryset update that no save() sees, a row added or
    deleted, within one transaction as here."""
    from partnerships.models import MOU, MOUSchool

    signed_in(client, person(district, "counselor"))
    first = count_queries(lambda: client.get(coverage_url(district)))
    again = count_queries(lambda: client.get(coverage_url(district)))
    assert again < first
    assert cells(client.get(coverage_url(district)))[("East Middle School", "therapy")] == [
        "Harbor Counseling"
    ]

    harbor = fixture["harbor"]
    read(district, lambda: Partner.objects.filter(pk=harbor.pk).update(name="Harbor Health"))
    found = cells(client.get(coverage_url(district)))
    assert found[("East Middle School", "therapy")] == ["Harbor Health"]

    read(
        district,
        lambda: MOUSchool.objects.filter(mou__partner=harbor, school=fixture["east"]).delete(),
    )
    found = cells(client.get(coverage_url(district)))
    assert found[("East Middle School", "therapy")] == []
    assert found[("North High School", "therapy")] == ["Bridge Youth", "Harbor Health"]

    read(district, lambda: MOU.objects.filter(partner=harbor).update(status="terminated"))
    assert cells(client.get(coverage_url(district)))[("North High School", "therapy")] == [
        "Bridge Youth"
    ]

    SchoolFactory(district=district, name="West Elementary")
    read(
        district,
        lambda: ServiceCategory.objects.create(district=district, code="tutoring_x", name="Tutors"),
    )
    response = client.get(coverage_url(district))
    assert ("West Elementary", "tutoring_x") in cells(response)


def test_a_kept_map_links_to_the_districts_address_as_it_is_now(client, district, fixture):
    """The district's own row is not among the map's sources: its address is in the key."""
    signed_in(client, person(district, "coordinator"))
    client.get(coverage_url(district))
    district.slug = "north-valley"
    district.save(update_fields=["slug"])

    html = client.get(coverage_url(district)).content.decode()

    harbor = reverse("partner_detail", args=["north-valley", fixture["harbor"].pk])
    assert f'href="{harbor}"' in html


def test_a_kept_map_is_the_districts_own_and_in_the_readers_language(
    client, district, other_district, fixture
):
    from django.conf import settings

    SchoolFactory(district=other_district, name="South High")
    signed_in(client, person(district, "coordinator"))
    english = client.get(coverage_url(district)).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    spanish = client.get(coverage_url(district)).content.decode()
    signed_in(client, person(other_district, "coordinator"))
    theirs = client.get(coverage_url(other_district)).content.decode()

    assert ">Gap</span>" in english and ">Carencia</span>" in spanish
    assert "Harbor Counseling" in spanish
    assert "South High" in theirs
    assert "Harbor Counseling" not in theirs and "North High School" not in theirs


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


def test_the_table_shows_each_cell_as_links_to_its_partners_or_a_gap(client, district, fixture):
    """The cells are written without a template loop (a large map has thousands): the
    HTML still says, row by row and in the header's order, who covers what, linked."""
    odd = make_partner(district, name="<b>Kids & Co</b>")
    make_mou(district, odd, schools=[fixture["east"]], services=["therapy"])
    signed_in(client, person(district, "counselor"))

    response = client.get(coverage_url(district))

    html = response.content.decode()
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S)
    codes = [column["code"] for column in response.context["columns"]]
    assert [name for name, _cells in rows] == ["East Middle School", "North High School"]
    shown = {}
    for school, cells_html in rows:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", cells_html, re.S)
        assert len(tds) == len(codes)
        for code, td in zip(codes, tds, strict=True):
            links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', td)
            if links:
                shown[(school, code)] = links
            else:
                assert td == '<span class="badge badge--danger">Gap</span>'

    def link(partner):
        return reverse("partner_detail", args=[district.slug, partner.pk])

    harbor = (link(fixture["harbor"]), "Harbor Counseling")
    bridge = link(read(district, lambda: Partner.objects.get(name="Bridge Youth")))
    assert shown == {
        ("North High School", "therapy"): [(bridge, "Bridge Youth"), harbor],
        ("North High School", "mentoring"): [harbor],
        ("North High School", "legal_aid"): [(bridge, "Bridge Youth")],
        ("East Middle School", "therapy"): [
            (link(odd), "&lt;b&gt;Kids &amp; Co&lt;/b&gt;"),
            harbor,
        ],
        ("East Middle School", "mentoring"): [harbor],
    }
    assert "<b>Kids" not in html


def test_the_map_keeps_its_query_count_with_hundreds_of_cells(
    client, district, django_assert_max_num_queries
):
    schools = [SchoolFactory(district=district) for _ in range(12)]
    for index in range(12):
        partner = make_partner(district, name=f"Partner {index}")
        make_mou(district, partner, schools=schools[index:], services=["therapy", "housing"])
    signed_in(client, person(district, "coordinator"))
    client.get(coverage_url(district))

    # The session and the member, the district's context (set, then cleared), the test's
    # savepoints, the navigation's reads, and the map's four reads.
    with django_assert_max_num_queries(15):
        response = client.get(coverage_url(district))

    assert response.context["gaps"] == 13 * response.context["category_count"] - 2 * 12


# --- A crowded cell: its count on the map, every partner on the cell's own page -------------


@pytest.fixture
def crowded(district):
    """North High School's therapy covered by four partners, mentoring by one."""
    north = read(district, lambda: School.objects.get(district=district))
    names = ["Delta Care", "alpha House", "Beta Clinic", "Charlie Center"]
    partners = [make_partner(district, name=name) for name in names]
    for partner in partners:
        make_mou(district, partner, status="active", schools=[north], services=["therapy"])
    make_mou(district, partners[0], status="active", schools=[north], services=["mentoring"])
    return {"north": north, "partners": partners}


def cell_url(district, school, code):
    return f"{coverage_url(district)}?school={school.pk}&service={code}"


def test_a_cell_with_more_partners_than_it_names_says_how_many_and_links_to_them(
    client, district, crowded
):
    signed_in(client, person(district, "coordinator"))

    html = client.get(coverage_url(district)).content.decode()

    north = crowded["north"]
    link = cell_url(district, north, "therapy").replace("&", "&amp;")
    assert f'<a class="coverage-cell__count" href="{link}">4 partners</a>' in html
    assert "Beta Clinic" not in html  # named on the cell's page, not in the map
    # A cell with few partners still names them.
    delta = reverse("partner_detail", args=[district.slug, crowded["partners"][0].pk])
    assert f'<li><a href="{delta}">Delta Care</a></li>' in html


def test_the_cells_page_lists_every_partner_by_name_as_the_map_counts_them(
    client, district, crowded
):
    signed_in(client, person(district, "counselor"))

    response = client.get(cell_url(district, crowded["north"], "therapy"))

    assert response.status_code == 200
    assert [name for _pk, name in response.context["partners"]] == [
        "alpha House",
        "Beta Clinic",
        "Charlie Center",
        "Delta Care",
    ]
    html = response.content.decode()
    assert "<h1>Therapy at North High School</h1>" in html
    assert "4 partners" in html


def test_a_cell_without_partners_is_a_gap_with_a_way_back(client, district, crowded):
    signed_in(client, person(district, "coordinator"))

    html = client.get(cell_url(district, crowded["north"], "housing")).content.decode()

    assert "A gap: no partner here" in html
    assert f'href="{coverage_url(district)}"' in html


def test_a_school_or_service_not_of_the_district_shows_the_map_with_a_message(
    client, district, other_district, crowded
):
    elsewhere = SchoolFactory(district=other_district)
    signed_in(client, person(district, "coordinator"))

    for url in [
        cell_url(district, elsewhere, "therapy"),
        cell_url(district, crowded["north"], "no_such_service"),
        f"{coverage_url(district)}?school=abc&service=therapy",
        f"{coverage_url(district)}?school=99999999999999999999&service=therapy",
        f"{coverage_url(district)}?service=therapy",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "That school or service is not on your district&#x27;s map" in html, url
        assert "table" in response.context and "partners" not in response.context, url


def test_the_cells_page_is_for_the_maps_readers_only(client, district, other_district, crowded):
    url = cell_url(district, crowded["north"], "therapy")
    signed_in(client, person(district, "partner"))
    assert client.get(url).status_code == 403
    signed_in(client, person(other_district, "coordinator"))
    assert client.get(url).status_code == 404


def test_another_districts_mous_never_count_in_a_cell(client, district, other_district, crowded):
    """The same school id asked in the other district finds nothing of this one."""
    theirs = make_partner(other_district, name="Their Partner")
    their_school = SchoolFactory(district=other_district)
    make_mou(other_district, theirs, status="active", schools=[their_school], services=["therapy"])
    signed_in(client, person(other_district, "coordinator"))

    response = client.get(cell_url(other_district, crowded["north"], "therapy"))
    assert "partners" not in response.context  # not their school: the map, with a message

    response = client.get(cell_url(other_district, their_school, "therapy"))
    assert [name for _pk, name in response.context["partners"]] == ["Their Partner"]


def test_the_cells_page_costs_the_same_queries_for_one_partner_or_many(
    client, district, crowded, count_queries
):
    signed_in(client, person(district, "coordinator"))
    url = cell_url(district, crowded["north"], "therapy")
    client.get(url)
    few = count_queries(lambda: client.get(url))
    for index in range(8):
        partner = make_partner(district, name=f"More {index}")
        make_mou(
            district, partner, status="active", schools=[crowded["north"]], services=["therapy"]
        )

    assert count_queries(lambda: client.get(url)) == few
    assert len(client.get(url).context["partners"]) == 12
