"""The meeting form in a large district: partners, schools, people and contacts are pickers
(the chosen ones, and the matches of a typed name), the MOU lists the chosen partners'
MOUs, at the same cost whatever the district's size; small districts keep their lists."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.picker import PICK_ALL_UP_TO, PICK_MATCHES
from partnerships.models import Meeting
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, MOUFactory, PartnerFactory
from tests.partnerships.meeting_setup import make_cast


@pytest.fixture
def cast(district):
    return make_cast(district)


def crowd(district, n=PICK_ALL_UP_TO + 1, prefix="Partner", mous=3):
    """`n` partners, the first `mous` of them with an MOU each."""
    partners = [PartnerFactory(district=district, name=f"{prefix} {i:03d}") for i in range(n)]
    for partner in partners[:mous]:
        MOUFactory(district=district, partner=partner, title=f"MOU of {partner.name}")
    return partners


def new_url(district):
    return reverse("meeting_new", args=[district.slug])


def pick(client, district, params):
    url = reverse("meeting_pick", args=[district.slug])
    return client.get(url, params, HTTP_HX_REQUEST="true")


def a_meeting(district, partner, contact) -> dict:
    """A one-off check-in next week with `partner` and its `contact`, as the form posts it."""
    return {
        "title": "Check-in",
        "kind": "check_in",
        "date": (district.today() + datetime.timedelta(days=7)).isoformat(),
        "start_time": "15:30",
        "end_time": "16:30",
        "repeats": "none",
        "partners": [partner.pk],
        "contacts": [contact.pk],
    }


def text(response):
    return response.content.decode()


def test_a_small_district_lists_every_partner_as_before(client, cast, district):
    partner, coordinator, _contact = cast
    client.force_login(coordinator.user)

    page = text(client.get(new_url(district)))

    assert "Riverbend Family Services" in page and 'name="partners_q"' not in page


def test_a_large_district_shows_a_search_and_no_list_of_every_partner(client, cast, district):
    partner, coordinator, _contact = cast
    crowd(district, mous=PICK_ALL_UP_TO + 1)
    client.force_login(coordinator.user)

    page = text(client.get(new_url(district)))

    assert 'name="partners_q"' in page and "Find by name" in page
    assert ">Partner 000</label>" not in page  # no checkbox per partner
    assert ">Riverbend Family Services</label>" not in page
    assert "None chosen yet" in page
    # The MOUs too: none until partners are chosen.
    assert "MOU of Partner 000" not in page and "Choose the partners above" in page


def test_typing_a_name_finds_partners_and_keeps_the_chosen_ones_checked(client, cast, district):
    partner, coordinator, _contact = cast
    others = crowd(district)
    client.force_login(coordinator.user)

    response = pick(
        client, district, {"field": "partners", "partners": [others[5].pk], "partners_q": "river"}
    )

    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "Riverbend Family Services" in page  # the match, accents and case aside
    assert f'value="{others[5].pk}"' in page and "checked" in page  # the chosen one kept
    assert "Partner 006" not in page
    assert "HX-Request" in response["Vary"]


def test_matches_stop_at_a_page_and_say_so(client, cast, district):
    _partner, coordinator, _contact = cast
    crowd(district, n=PICK_ALL_UP_TO + PICK_MATCHES)
    client.force_login(coordinator.user)

    page = text(pick(client, district, {"field": "partners", "partners_q": "partner"}))

    assert page.count('type="checkbox"') == PICK_MATCHES
    assert "type more of the name" in page


def test_nothing_matching_says_what_to_do(client, cast, district):
    _partner, coordinator, _contact = cast
    crowd(district)
    client.force_login(coordinator.user)

    page = text(pick(client, district, {"field": "partners", "partners_q": "zzz"}))

    assert "Nothing else matches “zzz”" in page and 'type="checkbox"' not in page


def test_the_mou_lists_the_chosen_partners_mous(client, cast, district):
    _partner, coordinator, _contact = cast
    others = crowd(district, n=PICK_ALL_UP_TO + 5, mous=PICK_ALL_UP_TO + 5)
    client.force_login(coordinator.user)

    page = text(pick(client, district, {"field": "mou", "partners": [others[1].pk]}))

    assert "MOU of Partner 001" in page and "MOU of Partner 000" not in page
    assert 'id="mou-field"' in page


def test_without_javascript_find_shows_the_matches_and_keeps_what_was_typed(client, cast, district):
    _partner, coordinator, _contact = cast
    others = crowd(district)
    client.force_login(coordinator.user)

    response = client.post(
        new_url(district),
        {
            "title": "Check-in",
            "partners": [others[2].pk],
            "partners_q": "river",
            "find": "partners",
        },
    )

    page = text(response)
    assert response.status_code == 200
    assert 'value="Check-in"' in page and "Riverbend Family Services" in page
    assert "Partner 002" in page  # still chosen
    assert "This field is required" not in page  # nothing checked yet
    with tenant_context(district):
        assert not Meeting.objects.exists()


def test_a_partner_found_and_checked_is_saved_with_its_contacts(client, cast, district):
    partner, coordinator, contact = cast
    crowd(district)
    for n in range(PICK_ALL_UP_TO):
        ContactFactory(district=district, partner=partner, name=f"Helper {n}")
    client.force_login(coordinator.user)

    response = client.post(new_url(district), a_meeting(district, partner, contact))

    assert response.status_code == 302
    with tenant_context(district):
        meeting = Meeting.objects.get()
        assert list(meeting.partners.all()) == [partner]


def test_editing_shows_the_meetings_partners_checked(client, cast, district):
    partner, coordinator, contact = cast
    crowd(district)
    client.force_login(coordinator.user)
    client.post(new_url(district), a_meeting(district, partner, contact))
    with tenant_context(district):
        meeting = Meeting.objects.get()

    page = text(client.get(reverse("meeting_edit", args=[district.slug, meeting.pk])))

    assert ">Riverbend Family Services</label>" in page
    assert ">Partner 000</label>" not in page
    assert f"?meeting={meeting.pk}" in page  # the pickers ask about this meeting


def test_the_form_costs_the_same_queries_at_two_sizes(client, cast, district, count_queries):
    _partner, coordinator, _contact = cast
    crowd(district)
    client.force_login(coordinator.user)
    client.get(new_url(district))

    few = count_queries(lambda: client.get(new_url(district)))
    crowd(district, n=60, prefix="More")
    many = count_queries(lambda: client.get(new_url(district)))

    assert few == many


@pytest.mark.parametrize("role", ["counselor", "partner", "viewer"])
def test_a_weaker_role_may_not_pick(client, cast, district, member, role):
    client.force_login(member(role).user)

    response = pick(client, district, {"field": "partners", "partners_q": "river"})

    assert response.status_code == 403


def test_another_districts_partners_are_never_matches(client, cast, district, other_district):
    _partner, coordinator, _contact = cast
    crowd(district)
    PartnerFactory(district=other_district, name="Riverside Elsewhere")
    client.force_login(coordinator.user)

    page = text(pick(client, district, {"field": "partners", "partners_q": "river"}))

    assert "Riverbend Family Services" in page and "Riverside Elsewhere" not in page


def test_another_districts_meeting_is_404(client, cast, district, other_district):
    from tests.factories import MembershipFactory

    _partner, coordinator, _contact = cast
    elsewhere = MembershipFactory(district=other_district, role="coordinator")
    client.force_login(elsewhere.user)

    response = pick(client, other_district, {"field": "partners", "meeting": "999999"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"field": "nonsense"},
        {"field": "partners", "partners": ["abc", "-1", "99999999999999"]},
        {"field": "partners", "meeting": "x"},
        {"field": "mou", "mou": "abc", "partners": ["x"]},
        {"field": "partners", "partners_q": "\x00" * 500},
    ],
)
def test_bad_values_are_never_a_500(client, cast, district, params):
    _partner, coordinator, _contact = cast
    crowd(district)
    client.force_login(coordinator.user)

    response = pick(client, district, params)

    assert response.status_code in (200, 302, 404)


def test_opened_as_a_page_it_goes_to_the_form(client, cast, district):
    _partner, coordinator, _contact = cast
    client.force_login(coordinator.user)

    response = client.get(reverse("meeting_pick", args=[district.slug]), {"field": "partners"})

    assert response.status_code == 302 and response.url == new_url(district)


def test_a_name_with_markup_is_shown_as_text(client, cast, district):
    _partner, coordinator, _contact = cast
    crowd(district)
    PartnerFactory(district=district, name="<script>alert('x')</script> Harbor")
    client.force_login(coordinator.user)

    page = text(pick(client, district, {"field": "partners", "partners_q": "harbor"}))

    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_each_picker_finds_by_its_words(client, cast, district):
    from tests.factories import MembershipFactory, SchoolFactory, UserFactory

    partner, coordinator, _contact = cast
    crowd(district)
    for n in range(PICK_ALL_UP_TO + 1):
        SchoolFactory(district=district, name=f"School {n:03d}")
        ContactFactory(district=district, partner=partner, name=f"Helper {n:03d}")
        MembershipFactory(district=district, role="counselor")
    SchoolFactory(district=district, name="Escuela José Martí")
    PartnerFactory(district=district, name="Casa de la Familia")
    ContactFactory(district=district, partner=partner, name="Íñigo Núñez", email="in@x.example")
    MembershipFactory(
        district=district, role="counselor", user=UserFactory(full_name="Marisol Quintero")
    )
    MembershipFactory(
        district=district,
        role="counselor",
        user=UserFactory(full_name="Ramón Peña", email="rpena@north.example.org"),
    )
    client.force_login(coordinator.user)

    def found(field, query):
        return text(pick(client, district, {"field": field, f"{field}_q": query}))

    assert "Casa de la Familia" in found("partners", "FAMÍLIA casa")
    assert "Escuela José Martí" in found("schools", "jose marti")
    assert "Íñigo Núñez" in found("contacts", "inigo nunez")
    assert "Íñigo Núñez" in found("contacts", "riverbend inigo")  # the partner's name too
    assert "Marisol Quintero" in found("members", "quintero")
    assert "Ramón Peña" in found("members", "ramon PENA")  # accents and case aside
    assert "Ramón Peña" in found("members", "rpena@north")
    assert "Ramón Peña" not in found("members", "ramon quintero")  # every word
    assert "Helper" not in found("contacts", "casa")
