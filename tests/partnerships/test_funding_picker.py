"""The funding form in a large district: partners and MOUs are pickers (core.picker), found
by name as typed, or with the Find button without JavaScript; small districts keep their
lists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from core.picker import PICK_ALL_UP_TO
from partnerships.models import FundingSource
from schools.tenancy import tenant_context
from tests.factories import MOUFactory, PartnerFactory


@pytest.fixture
def coordinator(client, member):
    membership = member("coordinator")
    client.force_login(membership.user)
    return membership


@pytest.fixture
def crowded(district):
    """More partners and MOUs than a form lists whole, and Harbor with its MOU."""
    for n in range(PICK_ALL_UP_TO + 1):
        partner = PartnerFactory(district=district, name=f"Partner {n:03d}")
        MOUFactory(district=district, partner=partner, title=f"Agreement {n:03d}")
    harbor = PartnerFactory(district=district, name="Harbor Family Services")
    mou = MOUFactory(district=district, partner=harbor, title="School-based counseling")
    return harbor, mou


def pick(client, district, params):
    url = reverse("funding_pick", args=[district.slug])
    return client.get(url, params, HTTP_HX_REQUEST="true")


def text(response):
    return response.content.decode()


def test_a_small_district_lists_every_partner(client, district, coordinator):
    PartnerFactory(district=district, name="Harbor Family Services")

    page = text(client.get(reverse("funding_new", args=[district.slug])))

    assert ">Harbor Family Services</label>" in page and 'name="partners_q"' not in page


def test_a_large_district_searches_partners_and_mous(client, district, coordinator, crowded):
    page = text(client.get(reverse("funding_new", args=[district.slug])))

    assert 'name="partners_q"' in page and 'name="mous_q"' in page
    assert ">Partner 000</label>" not in page and "Agreement 000" not in page
    assert "Harbor Family Services" in text(
        pick(client, district, {"field": "partners", "partners_q": "harbór"})
    )
    # An MOU by its title or by its partner's name.
    assert "School-based counseling (Harbor Family Services)" in text(
        pick(client, district, {"field": "mous", "mous_q": "counseling"})
    )
    assert "School-based counseling" in text(
        pick(client, district, {"field": "mous", "mous_q": "harbor"})
    )


def test_what_was_found_and_checked_is_saved(client, district, coordinator, crowded):
    harbor, mou = crowded

    response = client.post(
        reverse("funding_new", args=[district.slug]),
        {
            "kind": "grant",
            "funder": "State grant",
            "amount": "1000",
            "start_date": "2026-07-01",
            "end_date": "2027-06-30",
            "partners": [harbor.pk],
            "mous": [mou.pk],
        },
    )

    assert response.status_code == 302
    with tenant_context(district):
        funding = FundingSource.objects.get()
        assert funding.amount == Decimal("1000")
        assert list(funding.partners.all()) == [harbor] and list(funding.mous.all()) == [mou]


def test_find_without_javascript_saves_nothing(client, district, coordinator, crowded):
    response = client.post(
        reverse("funding_new", args=[district.slug]),
        {"funder": "State grant", "partners_q": "harbor", "find": "partners"},
    )

    page = text(response)
    assert response.status_code == 200 and "Harbor Family Services" in page
    assert 'value="State grant"' in page and "This field is required" not in page
    with tenant_context(district):
        assert not FundingSource.objects.exists()


@pytest.mark.parametrize("role", ["counselor", "partner", "viewer"])
def test_a_weaker_role_may_not_pick(client, district, member, role):
    client.force_login(member(role).user)

    response = pick(client, district, {"field": "partners", "partners_q": "harbor"})

    assert response.status_code == 403


def test_another_districts_partners_are_never_found(
    client, district, other_district, coordinator, crowded
):
    PartnerFactory(district=other_district, name="Harbor Elsewhere")

    page = text(pick(client, district, {"field": "partners", "partners_q": "harbor"}))

    assert "Harbor Family Services" in page and "Harbor Elsewhere" not in page


@pytest.mark.parametrize(
    "params",
    [{"field": "kind"}, {"field": "mous", "mous": ["x", "-2"], "mous_q": "\x00"}, {}],
)
def test_bad_values_are_never_a_500(client, district, coordinator, crowded, params):
    response = pick(client, district, params)

    assert response.status_code in (200, 302)


def test_the_form_costs_the_same_queries_at_two_sizes(
    client, district, coordinator, crowded, count_queries
):
    url = reverse("funding_new", args=[district.slug])
    client.get(url)
    few = count_queries(lambda: client.get(url))
    for _n in range(30):
        MOUFactory(district=district, partner=PartnerFactory(district=district))
    many = count_queries(lambda: client.get(url))

    assert few == many
