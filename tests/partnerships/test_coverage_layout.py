"""The coverage map's layout: covered services first, each school's gaps summed up on top."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

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


@pytest.fixture
def page(client, district):
    north = read(district, lambda: School.objects.get(district=district))
    east = SchoolFactory(district=district, name="East Middle School")
    SchoolFactory(district=district, name="West Elementary")
    harbor = make_partner(district, name="Harbor Counseling")
    bridge = make_partner(district, name="Bridge Youth")
    make_mou(district, harbor, schools=[north, east], services=["mentoring", "housing"])
    make_mou(district, bridge, schools=[north], services=["peer_support"])
    signed_in(client, person(district, "counselor"))
    return client.get(reverse("partner_coverage", args=[district.slug]))


def test_services_covered_at_the_most_schools_come_first(page):
    labels = [column["label"] for column in page.context["columns"]]
    codes = [column["code"] for column in page.context["columns"]]

    assert codes[:3] == ["housing", "mentoring", "peer_support"]  # 2, 2, then 1 school
    assert [c["schools"] for c in page.context["columns"][:4]] == [2, 2, 1, 0]
    html = page.content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', html)
    assert headers[1:] == [str(label) for label in labels]  # after "School"
    # The rows follow the same column order, and every cell is still there.
    cells = coverage_cells(page)
    assert len(cells) == 3 * len(codes)
    assert cells[("North High School", "peer_support")] == ["Bridge Youth"]
    assert cells[("East Middle School", "housing")] == ["Harbor Counseling"]
    assert cells[("West Elementary", "housing")] == []


def test_the_summary_on_top_lists_each_schools_gaps_most_first(page):
    summary = page.context["summary"]
    total = len(page.context["columns"])

    assert [(line["school"], len(line["missing"])) for line in summary] == [
        ("West Elementary", total),
        ("East Middle School", total - 2),
        ("North High School", total - 3),
    ]
    html = page.content.decode()
    assert html.index("Gaps by school") < html.index("coverage-table")
    assert f"{total - 3} services without a partner" in html
    east = summary[1]
    assert east["elsewhere"] == ["Peer support"]  # Bridge Youth offers it at North
    assert "offered at other schools: Peer support" in html
    assert sum(len(line["missing"]) for line in summary) == page.context["gaps"]


def test_services_no_partner_covers_anywhere_get_narrow_columns(page):
    html = page.content.decode()
    empty = sum(1 for column in page.context["columns"] if not column["schools"])

    assert html.count('class="coverage-table__empty"') == empty > 0
    assert f"{empty} services have no partner at any school (the last columns" in html
    assert "Crisis intervention" in page.context["uncovered_everywhere"]
