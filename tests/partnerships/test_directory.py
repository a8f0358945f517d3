"""The partner directory: the list and its search, a partner's page, create and edit,
the district's service categories."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.languages import COMMON
from partnerships.models import (
    Contact,
    Goal,
    GoalProgress,
    Partner,
    PartnerSchool,
    Service,
    ServiceCategory,
)
from partnerships.services.directory import PARTNER_FIELDS
from schools.models import School
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory
from tests.partnerships.directory_setup import make_mou, make_partner, person, read, signed_in

pytestmark = pytest.mark.django_db


def list_url(district, **query):
    from urllib.parse import urlencode

    url = reverse("partner_list", args=[district.slug])
    return f"{url}?{urlencode(query)}" if query else url


def names(response) -> list[str]:
    return [row["partner"].name for row in response.context["rows"]]


# --- The list: who may see it ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator", "counselor", "viewer"])
def test_staff_see_the_directory(client, district, role):
    make_partner(district, name="Harbor Counseling", services=["therapy"])
    signed_in(client, person(district, role))

    response = client.get(list_url(district))

    assert response.status_code == 200
    assert "Harbor Counseling" in response.content.decode()


def test_a_partner_member_cannot_open_the_directory(client, district):
    signed_in(client, person(district, "partner"))

    assert client.get(list_url(district)).status_code == 403


def test_another_districts_member_gets_404(client, district, other_district):
    make_partner(district, name="Harbor Counseling")
    signed_in(client, person(other_district, "coordinator"))

    assert client.get(list_url(district)).status_code == 404


def test_the_directory_shows_only_the_districts_own_partners(client, district, other_district):
    make_partner(district, name="Harbor Counseling")
    make_partner(other_district, name="Southern Youth Center")
    signed_in(client, person(district, "counselor"))

    assert names(client.get(list_url(district))) == ["Harbor Counseling"]


# --- The search -------------------------------------------------------------------------------


@pytest.fixture
def directory(district):
    """Three partners that differ in every filter."""
    from schools.models import School

    north_high = read(district, lambda: School.objects.get(district=district))
    east_middle = SchoolFactory(district=district, name="East Middle School")
    make_partner(
        district,
        name="Harbor Counseling",
        description="Licensed therapists for teens",
        services=[("therapy", "Teen therapy"), "crisis_intervention"],
        schools=[north_high],
        languages=["en", "es"],
        delivery_modes=["on_site", "telehealth"],
        payments=["medicaid"],
        intake="accepting",
        last_verified_at=timezone.now(),
    )
    make_partner(
        district,
        name="Food Bridge",
        description="Weekend food bags",
        services=["food_assistance"],
        schools=[east_middle],
        languages=["vi", "es-mx"],
        delivery_modes=["at_partner"],
        payments=["free"],
        intake="waitlist",
        last_verified_at=timezone.now() - datetime.timedelta(days=400),
    )
    make_partner(
        district,
        name="Mentor Circle",
        services=["mentoring"],
        schools=[north_high, east_middle],
        languages=["en"],
        delivery_modes=["on_site"],
        payments=["sliding_scale", "free"],
        intake="closed",
    )
    return {"north_high": north_high, "east_middle": east_middle}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Food Bridge", "Harbor Counseling", "Mentor Circle"]),
        ({"q": "harbor"}, ["Harbor Counseling"]),
        ({"q": "teen therapy"}, ["Harbor Counseling"]),  # a service's name
        ({"q": "food bags"}, ["Food Bridge"]),  # the description
        ({"category": "mentoring"}, ["Mentor Circle"]),
        ({"category": "crisis_intervention"}, ["Harbor Counseling"]),
        ({"language": "en"}, ["Harbor Counseling", "Mentor Circle"]),
        ({"language": "vi"}, ["Food Bridge"]),
        # Compared by base language: "es" serves "es-mx" and "es-mx" serves "es".
        ({"language": "es"}, ["Food Bridge", "Harbor Counseling"]),
        ({"language": "es-MX"}, ["Food Bridge", "Harbor Counseling"]),
        ({"language": "es-419"}, ["Food Bridge", "Harbor Counseling"]),
        ({"delivery": "on_site"}, ["Harbor Counseling", "Mentor Circle"]),
        ({"delivery": "at_partner"}, ["Food Bridge"]),
        ({"payment": "free"}, ["Food Bridge", "Mentor Circle"]),
        ({"payment": "medicaid"}, ["Harbor Counseling"]),
        ({"accepting": "on"}, ["Harbor Counseling"]),
        ({"stale": "on"}, ["Food Bridge", "Mentor Circle"]),
        ({"category": "therapy", "language": "vi"}, []),
    ],
)
def test_search_filters(client, district, directory, query, expected):
    signed_in(client, person(district, "counselor"))

    assert names(client.get(list_url(district, **query))) == expected


def test_search_by_school_served(client, district, directory):
    signed_in(client, person(district, "counselor"))

    school = directory["east_middle"].pk
    assert names(client.get(list_url(district, school=school))) == ["Food Bridge", "Mentor Circle"]


def test_htmx_gets_the_results_fragment_and_a_full_page_works_with_the_same_query(
    client, district, directory
):
    signed_in(client, person(district, "counselor"))

    fragment = client.get(list_url(district, q="harbor"), HTTP_HX_REQUEST="true")
    page = client.get(list_url(district, q="harbor"))

    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert 'id="partner-results"' in fragment.content.decode()
    assert "Food Bridge" not in fragment.content.decode()
    assert "<html" in page.content.decode() and 'value="harbor"' in page.content.decode()
    assert fragment["Vary"].count("HX-Request") == 1


def test_bad_filter_values_are_dropped_not_a_500(client, district, directory):
    signed_in(client, person(district, "counselor"))

    response = client.get(
        list_url(district, school="abc", category="nope", language="Klingon", page="x", payment="ß")
    )

    assert response.status_code == 200
    assert names(response) == ["Food Bridge", "Harbor Counseling", "Mentor Circle"]


def test_rows_show_kind_services_intake_and_stale_badges_in_words(client, district, directory):
    signed_in(client, person(district, "counselor"))

    html = client.get(list_url(district)).content.decode()

    assert '<span class="badge badge--success">Accepting referrals</span>' in html
    assert '<span class="badge badge--warning">Waitlist</span>' in html
    assert '<span class="badge badge--neutral">Not accepting</span>' in html
    # Food Bridge was verified 400 days ago; Mentor Circle never; Harbor today.
    assert html.count('<span class="badge badge--danger">Needs verification</span>') == 1
    assert html.count('<span class="badge badge--danger">Never verified</span>') == 1
    assert "Crisis intervention; Therapy" in html


def test_directory_costs_the_same_queries_for_one_partner_or_forty(client, district, count_queries):
    signed_in(client, person(district, "counselor"))
    school = SchoolFactory(district=district)
    make_partner(district, name="Partner 0", services=["therapy"], schools=[school])
    url = list_url(district)
    client.get(url)  # warm the session and caches
    one = count_queries(lambda: client.get(url))
    for index in range(1, 40):
        make_partner(
            district,
            name=f"Partner {index}",
            services=["therapy", "mentoring"],
            schools=[school],
            languages=[COMMON[index], "es-mx"],
        )

    forty = count_queries(lambda: client.get(url))

    assert len(client.get(url).context["rows"]) == 40
    assert forty == one


def test_empty_directory_tells_a_coordinator_how_to_add_the_first_partner(client, district):
    signed_in(client, person(district, "coordinator"))

    html = client.get(list_url(district)).content.decode()

    assert "No partners yet" in html
    assert reverse("partner_create", args=[district.slug]) in html


def test_empty_directory_tells_a_counselor_who_adds_partners(client, district):
    signed_in(client, person(district, "counselor"))

    html = client.get(list_url(district)).content.decode()

    assert "No partners yet" in html and "coordinator adds the partners" in html
    assert reverse("partner_create", args=[district.slug]) not in html


# --- A partner's page ---------------------------------------------------------------------


def detail_url(district, partner):
    return reverse("partner_detail", args=[district.slug, partner.pk])


@pytest.fixture
def harbor(district):
    from partnerships.models import Goal, GoalProgress
    from schools.models import School

    school = read(district, lambda: School.objects.get(district=district))
    partner = make_partner(
        district,
        name="Harbor Counseling",
        services=[("therapy", "Teen therapy")],
        schools=[school],
        contacts=[
            {
                "name": "Ana Ruiz",
                "email": "ana@harbor.example",
                "roles": ["intake"],
                "reminders": True,
            }
        ],
    )
    mou = make_mou(district, partner, status="active", schools=[school], services=["therapy"])
    with tenant_context(district):
        goal = Goal.objects.create(
            district=district,
            mou=mou,
            description="Students seen",
            target=100,
            unit="students",
            period="2025-26",
        )
        GoalProgress.objects.create(
            district=district, goal=goal, date=datetime.date(2025, 12, 1), value=42
        )
    return partner


def test_partner_page_shows_services_contacts_schools_mous_and_goals(client, district, harbor):
    signed_in(client, person(district, "counselor"))

    response = client.get(detail_url(district, harbor))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Teen therapy" in html and "Ana Ruiz" in html and "ana@harbor.example" in html
    assert "Intake" in html and "gets reminders" in html
    assert "North High School" in html
    mou = response.context["mous"][0]
    assert f"/{district.slug}/mous/{mou.pk}/" in html
    assert "Active" in html and "badge--success" in html
    assert "Students seen" in html and "42 of 100 students" in html
    assert "No meeting with this partner in the next 60 days." in html
    assert "No referrals yet. The scorecard fills in" in html


def test_a_counselor_does_not_see_the_management_forms(client, district, harbor):
    signed_in(client, person(district, "counselor"))

    html = client.get(detail_url(district, harbor)).content.decode()

    assert reverse("partner_edit", args=[district.slug, harbor.pk]) not in html
    assert reverse("partner_verification_send", args=[district.slug, harbor.pk]) not in html


def test_a_coordinator_sees_edit_and_the_confirmation_link_form(client, district, harbor):
    signed_in(client, person(district, "coordinator"))

    html = client.get(detail_url(district, harbor)).content.decode()

    assert reverse("partner_edit", args=[district.slug, harbor.pk]) in html
    assert reverse("partner_verification_send", args=[district.slug, harbor.pk]) in html


def test_a_partner_of_another_district_is_404(client, district, other_district):
    theirs = make_partner(other_district, name="Southern Youth Center")
    signed_in(client, person(district, "coordinator"))

    assert client.get(detail_url(district, theirs)).status_code == 404
    assert client.get(reverse("partner_edit", args=[district.slug, theirs.pk])).status_code == 404


def test_a_partner_member_cannot_open_a_partner_page(client, district, harbor):
    signed_in(client, person(district, "partner"))

    assert client.get(detail_url(district, harbor)).status_code == 403


def test_partner_page_costs_the_same_queries_however_much_it_has(client, district, count_queries):
    from schools.models import School

    school = read(district, lambda: School.objects.get(district=district))
    small = make_partner(
        district, name="Small", services=["therapy"], schools=[school], contacts=[{"name": "One"}]
    )
    make_mou(district, small, schools=[school], services=["therapy"])
    large = make_partner(
        district,
        name="Large",
        services=[f"cat_{i}" for i in range(10)],
        schools=[school, *(SchoolFactory(district=district) for _ in range(5))],
        contacts=[{"name": f"Person {i}", "roles": ["intake"]} for i in range(8)],
    )
    for index in range(6):
        make_mou(district, large, schools=[school], services=["therapy"], title=f"MOU {index}")
    signed_in(client, person(district, "counselor"))
    client.get(detail_url(district, small))

    assert count_queries(lambda: client.get(detail_url(district, large))) == count_queries(
        lambda: client.get(detail_url(district, small))
    )


def test_partner_page_reads_each_thing_once_for_a_coordinator(
    client, district, harbor, django_assert_max_num_queries
):
    """Contacts once (the list, and the confirmation form's choices from it), each MOU's
    schools and each goal's latest progress within the MOU and goal reads."""
    school = read(district, lambda: School.objects.get(district=district))
    contacts = [
        {"name": f"Person {i}", "email": f"p{i}@harbor.example", "roles": ["intake"]}
        for i in range(8)
    ]
    large = make_partner(district, name="Large", services=["therapy"], contacts=contacts)
    schools = [school, *(SchoolFactory(district=district, name=f"School {i}") for i in range(4))]
    for index in range(6):
        mou = make_mou(district, large, schools=schools, services=["therapy"], title=f"MOU {index}")
        with tenant_context(district):
            goal = Goal.objects.create(
                district=district, mou=mou, description=f"Goal {index}", target=10, unit="visits"
            )
            for day in (1, 2):
                GoalProgress.objects.create(
                    district=district, goal=goal, date=datetime.date(2025, 9, day), value=day
                )
    signed_in(client, person(district, "coordinator"))
    client.get(detail_url(district, large))

    # The session, the member and the district's context (with the test's savepoints: 8),
    # the partner, the service labels, services, schools, MOUs (with their schools), goals
    # (with their latest progress), contacts, meetings and action items, the referral
    # scorecard's four, the navigation. It was 26: contacts three times, and the MOUs'
    # schools and the goals' progress each in a query of their own.
    with django_assert_max_num_queries(22):
        response = client.get(detail_url(district, large))

    html = response.content.decode()
    assert html.count("2 of 10 visits") == 6  # the latest of each goal's two
    mou = response.context["mous"][0]
    assert mou.school_names == ["North High School", *(f"School {i}" for i in range(4))]
    assert html.count("@harbor.example&gt;</option>") == 8  # every contact with an address


# --- A partner's own organisation ---------------------------------------------------------------


def test_a_partner_member_sees_their_own_organisation(client, district):
    member = person(district, "partner")
    read(
        district,
        lambda: Service.objects.create(
            district=district, partner=member.partner, category="therapy"
        ),
    )
    signed_in(client, member)

    response = client.get(reverse("partner_own", args=[district.slug]))

    assert response.status_code == 200
    assert response.context["partner"] == member.partner
    assert "Your organization, as the district lists it" in response.content.decode()
    assert reverse("partner_edit", args=[district.slug, member.partner.pk]) not in (
        response.content.decode()
    )


@pytest.mark.parametrize("role", ["admin", "coordinator", "counselor", "viewer"])
def test_staff_have_no_own_organisation_page(client, district, role):
    signed_in(client, person(district, role))

    assert client.get(reverse("partner_own", args=[district.slug])).status_code == 403


def test_own_organisation_of_another_district_is_404(client, district, other_district):
    signed_in(client, person(other_district, "partner"))

    assert client.get(reverse("partner_own", args=[district.slug])).status_code == 404


# --- Create and edit ------------------------------------------------------------------------


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "100",
    }


def organization_post(**overrides):
    """The add-partner form: the organization section."""
    data = {
        "name": "Harbor Counseling",
        "kind": "mental_health",
        "description": "Therapists for teens",
        "website": "harbor.example.org",
        "email": "hello@harbor.example.org",
        "phone": "555-0100",
    }
    data.update(overrides)
    return data


def section_post(section, **overrides):
    """A section of the edit page as the browser sends it (a row section with its rows)."""
    data = {"section": section}
    if section == "organization":
        data.update(organization_post())
    elif section == "offer":
        data.update(
            {
                "languages": ["en", "es"],
                "other_languages": "Oromo, english",
                "delivery_modes": ["on_site", "telehealth"],
                "payments": ["medicaid"],
                "min_age": "12",
                "max_age": "18",
                "intake": "waitlist",
                "capacity": "3",
            }
        )
    elif section == "services":
        data.update(
            {
                **management("services", 2),
                "services-0-category": "therapy",
                "services-0-name": "Teen therapy",
                "services-1-category": "",
            }
        )
    else:
        data.update(
            {
                **management("contacts", 1),
                "contacts-0-name": "Ana Ruiz",
                "contacts-0-email": "ana@harbor.example.org",
                "contacts-0-roles": ["intake", "leadership"],
                "contacts-0-reminders": "on",
            }
        )
    data.update(overrides)
    return data


def create_url(district):
    return reverse("partner_create", args=[district.slug])


def edit_url(district, partner):
    return reverse("partner_edit", args=[district.slug, partner.pk])


def everything(district, partner):
    """What a partner is, to compare before and after a save."""

    def values():
        fresh = Partner.objects.get(pk=partner.pk)
        fields = {name: getattr(fresh, name) for name in PARTNER_FIELDS}
        services = sorted(Service.objects.filter(partner=partner).values_list("category", "name"))
        contacts = sorted(Contact.objects.filter(partner=partner).values_list("name", "email"))
        schools = sorted(PartnerSchool.objects.filter(partner=partner).values_list("school_id"))
        return fields, services, contacts, schools

    return read(district, values)


def test_adding_a_partner_saves_the_organization_and_leads_to_the_rest(client, district):
    signed_in(client, person(district, "coordinator"))

    response = client.post(create_url(district), organization_post())

    partner = read(district, lambda: Partner.objects.get(district=district))
    assert response.status_code == 302
    assert response["Location"] == edit_url(district, partner) + "#offer"
    assert partner.name == "Harbor Counseling" and partner.kind == "mental_health"
    assert partner.website == "https://harbor.example.org"
    assert partner.intake == "accepting" and partner.active  # the model's defaults
    assert read(district, lambda: (Service.objects.count(), Contact.objects.count())) == (0, 0)
    page = client.get(response["Location"]).content.decode()
    assert "Harbor Counseling is added." in page
    for section in ("organization", "offer", "services", "contacts"):
        assert f'<input type="hidden" name="section" value="{section}">' in page


def test_the_add_partner_page_is_the_organization_alone(client, district):
    signed_in(client, person(district, "coordinator"))

    html = client.get(create_url(district)).content.decode()

    assert 'name="name"' in html and 'name="website"' in html
    assert 'name="languages"' not in html and 'name="services-TOTAL_FORMS"' not in html
    assert 'name="active"' not in html  # a new partner is active


def test_each_section_saves_alone_and_leaves_the_others_as_they_were(client, district):
    school = SchoolFactory(district=district, name="East High")
    partner = make_partner(
        district,
        name="Harbor Counseling",
        languages=["vi"],
        services=[("mentoring", "Mentors")],
        contacts=[{"name": "Bo Tran", "email": "bo@example.org"}],
    )
    signed_in(client, person(district, "coordinator"))
    before = everything(district, partner)

    response = client.post(edit_url(district, partner), section_post("offer", schools=[school.pk]))

    assert response.status_code == 302
    assert response["Location"] == edit_url(district, partner) + "#offer"
    fields, services, contacts, schools = everything(district, partner)
    assert fields["languages"] == ["en", "es", "om"]  # checked, then the others, no repeats
    assert fields["delivery_modes"] == ["on_site", "telehealth"] and fields["capacity"] == 3
    assert fields["name"] == before[0]["name"] and fields["website"] == before[0]["website"]
    assert (services, contacts) == before[1:3] and schools == [(school.pk,)]

    client.post(edit_url(district, partner), section_post("contacts"))
    after = everything(district, partner)
    assert after[2] == [("Ana Ruiz", "ana@harbor.example.org")] + before[2]
    assert after[0] == fields and after[1] == services and after[3] == schools
    contact = read(district, lambda: Contact.objects.get(name="Ana Ruiz"))
    assert contact.roles == ["intake", "leadership"] and contact.reminders


def test_a_section_sent_by_htmx_comes_back_saved_in_place(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.post(
        edit_url(district, partner), section_post("services"), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section class="card directory-section" id="services"')
    assert "The “Services” section is saved." in html
    # The saved service comes back as a saved row, with one empty row after it.
    assert 'name="services-0-id"' in html and 'value="Teen therapy"' in html
    assert 'name="services-TOTAL_FORMS" value="2"' in html
    # The outline beside the form is brought up to date out of band.
    assert 'id="partner-outline" aria-label="Sections of the form" hx-swap-oob="true"' in html
    assert read(district, lambda: list(Service.objects.values_list("name", flat=True))) == [
        "Teen therapy"
    ]


@pytest.mark.parametrize("role", ["counselor", "viewer", "partner"])
def test_weaker_roles_cannot_create_partners(client, district, role):
    signed_in(client, person(district, role))

    assert client.get(create_url(district)).status_code == 403
    assert client.post(create_url(district), organization_post()).status_code == 403
    assert read(district, lambda: Partner.objects.filter(name="Harbor Counseling").count()) == 0


@pytest.mark.parametrize("role", ["counselor", "viewer", "partner"])
def test_weaker_roles_cannot_save_a_section(client, district, role):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, role))
    before = everything(district, partner)

    for section in ("organization", "offer", "services", "contacts"):
        response = client.post(edit_url(district, partner), section_post(section, name="Other"))
        assert response.status_code == 403
    assert everything(district, partner) == before


def test_another_districts_coordinator_gets_404_creating(client, district, other_district):
    signed_in(client, person(other_district, "coordinator"))

    assert client.post(create_url(district), organization_post()).status_code == 404


def test_another_districts_coordinator_gets_404_saving_a_section(client, district, other_district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(other_district, "coordinator"))
    before = everything(district, partner)

    response = client.post(edit_url(district, partner), section_post("services"))

    assert response.status_code == 404
    assert everything(district, partner) == before


@pytest.mark.parametrize(
    ("section", "overrides", "field", "message"),
    [
        ("organization", {"name": ""}, "name", "This field is required."),
        ("organization", {"email": "not-an-email"}, "email", "Enter a valid email address."),
        ("offer", {"max_age": "5"}, "max_age", "cannot be below the youngest"),
        ("offer", {"intake": "maybe"}, "intake", "Select a valid choice"),
        ("offer", {"other_languages": "Xyzzy"}, "other_languages", "does not know"),
    ],
)
def test_section_problems_are_shown_next_to_the_field_and_nothing_is_written(
    client, district, section, overrides, field, message
):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))
    before = everything(district, partner)

    response = client.post(edit_url(district, partner), section_post(section, **overrides))

    assert response.status_code == 200
    sent = next(s for s in response.context["sections"] if s["key"] == section)
    assert message in str(sent["form"].errors[field])
    assert sent["has_errors"]
    assert not any(s["has_errors"] for s in response.context["sections"] if s is not sent)
    assert everything(district, partner) == before
    if section == "offer":  # what was typed is kept
        assert 'name="capacity" value="3"' in response.content.decode()


def test_a_problem_on_the_add_partner_page_writes_nothing(client, district):
    signed_in(client, person(district, "coordinator"))

    response = client.post(create_url(district), organization_post(email="not-an-email"))

    assert response.status_code == 200
    assert "Enter a valid email address." in str(response.context["form"].errors["email"])
    assert "Therapists for teens" in response.content.decode()
    assert read(district, lambda: Partner.objects.count()) == 0


def test_a_bad_contact_row_keeps_every_contact_unwritten(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))
    data = section_post(
        "contacts",
        **management("contacts", 2),
        **{"contacts-1-name": "Bo Tran", "contacts-1-reminders": "on"},  # no email: refused
    )

    response = client.post(edit_url(district, partner), data, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Add an email address" in html
    assert 'href="#contacts-2"' in html  # the summary leads to the row
    assert "data-error-summary" in html and "is saved" not in html
    assert read(district, lambda: Contact.objects.count()) == 0


def test_a_service_row_without_a_category_is_refused(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.post(
        edit_url(district, partner),
        section_post("services", **{"services-1-name": "Something", "services-1-category": ""}),
    )

    assert response.status_code == 200
    sent = next(s for s in response.context["sections"] if s["key"] == "services")
    assert "required" in str(sent["form"].forms[1].errors["category"])
    assert read(district, lambda: Service.objects.count()) == 0


def test_a_name_already_in_the_directory_is_refused_ignoring_case(client, district):
    make_partner(district, name="Harbor Counseling")
    other = make_partner(district, name="Bay Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.post(create_url(district), organization_post(name="harbor counseling"))
    assert response.status_code == 200
    assert "already in the directory" in str(response.context["form"].errors["name"])

    response = client.post(
        edit_url(district, other), section_post("organization", name="HARBOR counseling")
    )
    assert response.status_code == 200
    sent = next(s for s in response.context["sections"] if s["key"] == "organization")
    assert "already in the directory" in str(sent["form"].errors["name"])
    assert read(district, lambda: sorted(Partner.objects.values_list("name", flat=True))) == [
        "Bay Counseling",
        "Harbor Counseling",
    ]


def test_a_post_without_a_section_saves_nothing(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))
    before = everything(district, partner)

    for section in (None, "schools", "<script>"):
        data = section_post("organization", name="Changed")
        data.pop("section")
        if section is not None:
            data["section"] = section
        response = client.post(edit_url(district, partner), data, follow=True)
        assert response.status_code == 200
        assert "Save one section of the form at a time." in response.content.decode()
    assert everything(district, partner) == before


def test_editing_removes_a_service_and_updates_a_contact(client, district):
    partner = make_partner(
        district,
        name="Harbor Counseling",
        services=[("therapy", "Teen therapy"), ("mentoring", "Mentors")],
        contacts=[{"name": "Ana Ruiz", "email": "ana@example.org", "reminders": True}],
    )
    services = read(
        district, lambda: list(Service.objects.filter(partner=partner).order_by("category"))
    )
    contact = read(district, lambda: Contact.objects.get(partner=partner))
    signed_in(client, person(district, "coordinator"))
    services_data = {
        "section": "services",
        **management("services", 3, initial=2),
        "services-0-id": str(services[0].pk),
        "services-0-category": "mentoring",
        "services-0-name": "Mentors",
        "services-0-DELETE": "on",
        "services-1-id": str(services[1].pk),
        "services-1-category": "therapy",
        "services-1-name": "Family therapy",
        "services-2-category": "peer_support",
    }
    contacts_data = {
        "section": "contacts",
        **management("contacts", 1, initial=1),
        "contacts-0-id": str(contact.pk),
        "contacts-0-name": "Ana Ruiz-Lopez",
        "contacts-0-email": "ana@example.org",
    }

    assert client.post(edit_url(district, partner), services_data).status_code == 302
    assert client.post(edit_url(district, partner), contacts_data).status_code == 302

    rows = read(
        district,
        lambda: sorted(Service.objects.filter(partner=partner).values_list("category", "name")),
    )
    assert rows == [("peer_support", ""), ("therapy", "Family therapy")]
    contact = read(district, lambda: Contact.objects.get(partner=partner))
    assert contact.name == "Ana Ruiz-Lopez" and not contact.reminders
    assert read(district, lambda: Partner.objects.get(pk=partner.pk).name) == "Harbor Counseling"


def checked(html: str, name: str) -> set[str]:
    """The values of the checked boxes named `name`."""
    boxes = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    return {re.search(r'value="([^"]*)"', box)[1] for box in boxes if " checked" in box}


def test_the_edit_form_starts_with_what_is_saved(client, district):
    partner = make_partner(
        district,
        name="Harbor Counseling",
        languages=["en", "gsw"],  # Swiss German is not one of the common languages
        services=[("therapy", "Teen therapy")],
    )
    signed_in(client, person(district, "coordinator"))

    html = client.get(edit_url(district, partner)).content.decode()

    assert checked(html, "languages") == {"en", "gsw"}
    assert ">Swiss German</label>" in html and ">Spanish</label>" in html
    assert 'value="Teen therapy"' in html
    assert 'value="Harbor Counseling"' in html


def test_a_tampered_row_id_is_refused_without_a_500(client, district, other_district):
    partner = make_partner(district, name="Harbor Counseling")
    other = make_partner(district, name="Other", services=["therapy"])
    theirs = read(district, lambda: Service.objects.get(partner=other))
    signed_in(client, person(district, "coordinator"))
    data = {
        "section": "services",
        **management("services", 1, initial=1),
        "services-0-id": str(theirs.pk),
        "services-0-category": "housing",
    }

    response = client.post(edit_url(district, partner), data)

    assert response.status_code == 200
    assert "Reload the page" in response.content.decode()
    assert read(district, lambda: Service.objects.get(pk=theirs.pk).category) == "therapy"


# --- Rows added in place ------------------------------------------------------------------


def row_url(district, partner, kind, count=None):
    url = reverse("partner_edit_row", args=[district.slug, partner.pk, kind])
    return url if count is None else f"{url}?{kind}-TOTAL_FORMS={count}"


@pytest.mark.parametrize(("kind", "first"), [("services", "category"), ("contacts", "name")])
def test_a_row_is_added_in_place_after_the_others(client, district, kind, first):
    read(
        district,
        lambda: ServiceCategory.objects.create(
            district=district, code="legal_aid", name="Legal aid"
        ),
    )
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.get(row_url(district, partner, kind, 3), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="{kind}-4"' in html and "(new)" in html
    assert re.search(rf'name="{kind}-3-{first}"[^>]*autofocus', html)
    assert f'name="{kind}-3-DELETE"' not in html  # an empty new row is simply ignored
    assert (
        f'<input type="hidden" name="{kind}-TOTAL_FORMS" value="4" '
        f'id="id_{kind}-TOTAL_FORMS" hx-swap-oob="true">'
    ) in html
    if kind == "services":  # the district's own categories are offered
        assert '<option value="legal_aid">Legal aid</option>' in html


@pytest.mark.parametrize("count", ["", "x", "-1", "100", "99999999999999999999"])
def test_a_row_count_that_is_not_the_pages_adds_nothing(client, district, count):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.get(
        row_url(district, partner, "services", count), headers={"HX-Request": "true"}
    )

    assert response.status_code == 204 and response.content == b""


def test_a_row_asked_for_without_htmx_leads_to_the_form(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.get(row_url(district, partner, "contacts", 1))

    assert response.status_code == 302
    assert response["Location"] == edit_url(district, partner) + "#contacts"


def test_rows_of_something_else_are_404(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    assert client.get(row_url(district, partner, "schools", 1)).status_code == 404


@pytest.mark.parametrize("role", ["counselor", "viewer", "partner"])
def test_weaker_roles_get_no_row(client, district, role):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, role))

    assert client.get(row_url(district, partner, "services", 1)).status_code == 403


def test_another_districts_partner_has_no_rows(client, district, other_district):
    theirs = make_partner(other_district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    assert client.get(row_url(district, theirs, "services", 1)).status_code == 404


# --- The district's own service categories ------------------------------------------------


def test_a_coordinator_adds_a_category_and_it_is_offered_for_services(client, district):
    partner = make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    response = client.post(
        reverse("service_category_list", args=[district.slug]), {"name": "Legal aid"}
    )

    assert response.status_code == 302
    category = read(district, lambda: ServiceCategory.objects.get(district=district))
    assert (category.code, category.name) == ("legal_aid", "Legal aid")
    html = client.get(edit_url(district, partner)).content.decode()
    assert '<option value="legal_aid">Legal aid</option>' in html
    filters = client.get(list_url(district)).content.decode()
    assert '<option value="legal_aid">Legal aid</option>' in filters


@pytest.mark.parametrize("name", ["Housing", "housing", "  Legal   aid "])
def test_a_category_already_in_the_list_is_refused(client, district, name):
    read(
        district,
        lambda: ServiceCategory.objects.create(
            district=district, code="legal_aid", name="Legal aid"
        ),
    )
    signed_in(client, person(district, "coordinator"))

    response = client.post(reverse("service_category_list", args=[district.slug]), {"name": name})

    assert response.status_code == 200
    assert "already in the list" in response.content.decode()
    assert read(district, lambda: ServiceCategory.objects.count()) == 1


def test_a_category_in_use_cannot_be_removed_an_unused_one_can(client, district):
    used, unused = read(
        district,
        lambda: (
            ServiceCategory.objects.create(district=district, code="legal_aid", name="Legal aid"),
            ServiceCategory.objects.create(district=district, code="tutoring", name="Tutoring"),
        ),
    )
    make_partner(district, name="Law Clinic", services=["legal_aid"])
    signed_in(client, person(district, "coordinator"))

    client.post(reverse("service_category_delete", args=[district.slug, used.pk]))
    client.post(reverse("service_category_delete", args=[district.slug, unused.pk]))

    left = read(district, lambda: list(ServiceCategory.objects.values_list("code", flat=True)))
    assert left == ["legal_aid"]


def test_categories_are_for_coordinators_only(client, district, other_district):
    signed_in(client, person(district, "counselor"))
    assert client.get(reverse("service_category_list", args=[district.slug])).status_code == 403
    signed_in(client, person(other_district, "coordinator"))
    assert client.get(reverse("service_category_list", args=[district.slug])).status_code == 404


def test_a_category_named_in_another_script_gets_a_code_of_its_own(client, district):
    signed_in(client, person(district, "coordinator"))

    client.post(reverse("service_category_list", args=[district.slug]), {"name": "Репетиторство"})
    response = client.post(reverse("service_category_list", args=[district.slug]), {"name": "!!!"})

    category = read(district, lambda: ServiceCategory.objects.get(district=district))
    assert category.name == "Репетиторство" and category.code.startswith("category_")
    assert "Use letters or numbers" in response.content.decode()


def test_the_organization_pages_old_address_redirects_to_the_new_one(client, district, member):
    partner = member("partner")
    client.force_login(partner.user)
    for old, new in [
        ("organisation/", "organization/"),
        ("organisation/confirm/", "organization/confirm/"),
    ]:
        response = client.get(f"/{district.slug}/{old}?from=mail")
        assert response.status_code == 301
        assert response["Location"] == f"/{district.slug}/{new}?from=mail"
    # A role without the page gets no redirect to it.
    client.force_login(member("counselor").user)
    assert client.get(f"/{district.slug}/organisation/").status_code in (403, 404)
