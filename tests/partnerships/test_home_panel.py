"""The MOU panel partnerships registers on the district home page (PartnershipsConfig)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MembershipFactory, MOUFactory, PartnerFactory


def home_text(client, membership) -> str:
    client.force_login(membership.user)
    response = client.get(f"/{membership.district.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def under_way(district, partner=None):
    partner = partner or PartnerFactory(district=district)
    for status in ("internal_review", "internal_review", "sent", "active", "draft"):
        MOUFactory(district=district, partner=partner, status=status)
    return partner


def test_staff_see_how_many_mous_are_under_way_by_status(client, district, other_district):
    under_way(district)
    MOUFactory(district=other_district, status="internal_review")
    coordinator = MembershipFactory(district=district, role="coordinator")

    text = home_text(client, coordinator)

    mous = f"/{district.slug}/mous/"
    assert f'<a href="{mous}?status=internal_review">In internal review</a>' in text
    assert f'<a href="{mous}?status=sent">Sent to partner</a>' in text
    assert '<td class="num">2</td>' in text and '<td class="num">1</td>' in text
    assert "?status=active" not in text and "?status=draft" not in text
    assert "Nothing needs you yet" not in text  # work is waiting: no empty state beside it


def test_a_partner_counts_only_its_own_mous_sent_to_it(client, district):
    own = under_way(district)
    under_way(district)  # another organization's
    partner_member = MembershipFactory(district=district, role="partner", partner=own)

    text = home_text(client, partner_member)

    assert '<a href="/north/mous/?status=sent">Sent to partner</a>' in text
    assert '<td class="num">1</td>' in text
    assert "internal_review" not in text  # still the district's own business


def test_a_role_that_may_not_see_mous_gets_no_panel(client, district):
    under_way(district)

    text = home_text(client, MembershipFactory(district=district, role="counselor"))

    assert "?status=" not in text and "North High School" in text


def test_no_panel_while_no_mou_is_under_way(client, district):
    MOUFactory(district=district, status="active")

    text = home_text(client, MembershipFactory(district=district, role="viewer"))

    assert "?status=" not in text


def test_the_panel_costs_the_same_queries_for_one_or_forty_mous(client, district):
    viewer = MembershipFactory(district=district, role="viewer")
    client.force_login(viewer.user)
    MOUFactory(district=district, status="sent")
    client.get(f"/{district.slug}/")  # the first visit also remembers the district

    with CaptureQueriesContext(connection) as few:
        client.get(f"/{district.slug}/")
    partner = PartnerFactory(district=district)
    for index in range(40):
        MOUFactory(district=district, partner=partner, status=("sent", "expiring")[index % 2])
    with CaptureQueriesContext(connection) as many:
        client.get(f"/{district.slug}/")

    assert len(many.captured_queries) == len(few.captured_queries)
