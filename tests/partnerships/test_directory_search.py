"""Directory search finds what people type: accents and case ignored, US and British
spellings alike, service categories by their names, never another district's partners; the
search text follows every change of a partner and its services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partnerships.models import Partner, Service, ServiceCategory
from partnerships.selectors.directory import directory_search
from partnerships.services.directory import partner_save
from schools.tenancy import tenant_context
from tests.partnerships.directory_setup import make_partner, person, signed_in

pytestmark = pytest.mark.django_db


def found(client, district, query, **params) -> list[str]:
    url = reverse("partner_list", args=[district.slug])
    response = client.get(url, {"q": query, **params})
    assert response.status_code == 200
    return [row["partner"].name for row in response.context["rows"]]


@pytest.fixture
def directory(district):
    make_partner(
        district,
        name="Harbour Counselling Centre",
        description="A community organisation for families.",
        services=[("after_school", "After-school programme")],
    )
    make_partner(
        district,
        name="Youth Counseling Center",
        description="A nonprofit organization.",
        services=[("mentoring", "Summer program")],
    )
    make_partner(district, name="Clínica Familiar García", services=["health_screening"])
    make_partner(district, name="Food Bridge", services=["food_assistance"])


BRITISH = "Harbour Counselling Centre"
US = "Youth Counseling Center"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("counseling", [BRITISH, US]),
        ("counselling", [BRITISH, US]),
        ("COUNSELLING CENTRE", [BRITISH, US]),
        ("center", [BRITISH, US]),
        ("centre", [BRITISH, US]),
        ("program", [BRITISH, US]),
        ("programme", [BRITISH, US]),
        # "programs": only the after-school category's name says it in the plural
        ("programmes", [BRITISH]),
        ("organization", [BRITISH, US]),
        ("organisation", [BRITISH, US]),
        ("couns", [BRITISH, US]),  # words are prefixes: found as they are typed
        ("harbour", [BRITISH]),
        ("garcia", ["Clínica Familiar García"]),
        ("CLINICA garcía", ["Clínica Familiar García"]),
        ("after-school", [BRITISH]),
        ("summer program", [US]),
        ("nothing like it", []),
    ],
)
def test_accents_case_and_spellings_are_ignored(client, district, directory, query, expected):
    signed_in(client, person(district, "counselor"))

    assert found(client, district, query) == expected


def test_service_categories_are_found_by_their_names(client, district, directory):
    signed_in(client, person(district, "counselor"))

    # Categories with no service name: found by the category's name (and its code).
    assert found(client, district, "food assistance") == ["Food Bridge"]
    assert found(client, district, "health screening") == ["Clínica Familiar García"]
    assert found(client, district, "mentoring") == [US]
    assert found(client, district, "after school") == [BRITISH]


def test_categories_are_found_by_english_names_in_spanish_too(client, district, directory):
    membership = person(district, "counselor")
    signed_in(client, membership)

    with tenant_context(district):
        from django.utils import translation

        with translation.override("es"):
            spanish = [p.name for p in directory_search(membership, query="food")]
    assert spanish == ["Food Bridge"]


def test_the_districts_own_categories_are_found_by_name(client, district):
    with tenant_context(district):
        ServiceCategory.objects.create(district=district, code="legal_aid", name="Ayuda legal")
    make_partner(district, name="Justice Now", services=["legal_aid"])
    signed_in(client, person(district, "counselor"))

    assert found(client, district, "ayuda") == ["Justice Now"]
    assert found(client, district, "legal") == ["Justice Now"]


def test_another_districts_partners_are_never_found(client, district, other_district, directory):
    make_partner(other_district, name="Harbour Counselling Elsewhere", services=["therapy"])
    signed_in(client, person(district, "counselor"))

    assert found(client, district, "counselling") == [BRITISH, US]
    assert found(client, district, "elsewhere") == []
    assert found(client, district, "therapy") == []


def test_the_search_text_follows_the_services(client, district):
    coordinator = person(district, "coordinator")
    with tenant_context(district):
        partner = partner_save(
            by=coordinator,
            fields={"name": "Bright Path", "description": "Tutoring"},
            services=[{"category": "mentoring", "name": "Peer tutoring", "description": ""}],
        )
    signed_in(client, person(district, "counselor"))
    assert found(client, district, "peer tutoring") == ["Bright Path"]

    with tenant_context(district):
        service = Service.objects.get(partner=partner)
        partner = Partner.objects.get(pk=partner.pk)
        partner_save(
            by=coordinator,
            partner=partner,
            fields={"name": "Bright Path Centre", "description": "Homework club"},
            services=[
                {"id": service.pk, "delete": True, **{k: "" for k in ("name", "description")},
                 "category": "mentoring"},
                {"category": "therapy", "name": "Family counselling", "description": ""},
            ],
        )  # fmt: skip
    assert found(client, district, "peer") == []
    assert found(client, district, "tutoring") == []  # the old description too
    assert found(client, district, "family counseling center") == ["Bright Path Centre"]
    assert found(client, district, "homework") == ["Bright Path Centre"]

    with tenant_context(district):
        Service.objects.create(district=district, partner=partner, category="other", name="Zumba")
    assert found(client, district, "zumba") == ["Bright Path Centre"]
    with tenant_context(district):
        Service.objects.get(partner=partner, name="Zumba").delete()
    assert found(client, district, "zumba") == []


def test_refresh_search_rewrites_rows_written_in_bulk(client, district):
    partner = make_partner(district, name="Plain Name")
    with tenant_context(district):
        Partner.objects.filter(pk=partner.pk).update(description="Théâtre programme")
        Partner.refresh_search(district.pk)
        assert Partner.objects.get(pk=partner.pk).search_text == "plain name theater program"
