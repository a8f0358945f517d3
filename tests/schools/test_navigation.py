"""The main navigation and the home page are filled by each app (schools/navigation.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from schools import navigation
from tests.factories import SchoolFactory, enable_totp


@pytest.fixture
def signed_in(client, member):
    def sign_in(role="counselor", **kwargs):
        membership = member(role, **kwargs)
        if role == "admin":
            enable_totp(membership.user)
        client.force_login(membership.user)
        return membership

    return sign_in


def home(client, district):
    response = client.get(f"/{district.slug}/")
    assert response.status_code == 200
    return response


def labels(response) -> list[str]:
    return [str(item["label"]) for item in response.context["navigation"]]


# --- Navigation --------------------------------------------------------------------------------


def test_an_administrator_sees_the_entries_in_the_order_they_always_had(
    client, district, signed_in
):
    signed_in("admin")

    assert labels(home(client, district)) == [
        "Home",
        "People",
        "Students",
        "Referrals",
        "Requests for help",
        "Access log",
        "Audit trail",
        "Partners",
        "Coverage",
        "MOUs",
        "Meetings",
        "Funding",
        "Stories",
        "Mail delivery",
        "Settings",
    ]


def test_a_partner_sees_their_organization_in_us_english(client, district, signed_in):
    signed_in("partner")

    response = home(client, district)

    assert labels(response) == [
        "Home",
        "Inbox",
        "Referrals",
        "Your organization",
        "MOUs",
        "Meetings",
        "Stories",
    ]
    assert f'href="/{district.slug}/organization/">Your organization</a>' in (
        response.content.decode()
    )


def test_an_entry_an_app_registers_shows_in_its_place_to_those_holding_its_capability(
    client, district, signed_in, monkeypatch
):
    monkeypatch.setattr(navigation, "NAVIGATION", list(navigation.NAVIGATION))
    # reports.view: administrators, coordinators and viewers, not counselors.
    navigation.register_nav("Reports", "roster_import", "reports.view", order=350)

    signed_in("coordinator")
    coordinator_labels = labels(home(client, district))
    signed_in("counselor")
    counselor_response = home(client, district)

    assert coordinator_labels == [
        "Home",
        "Students",
        "Referrals",
        "Requests for help",
        "Reports",
        "Partners",
        "Coverage",
        "MOUs",
        "Meetings",
        "Funding",
        "Stories",
        "Mail delivery",
    ]
    assert "Reports" not in labels(counselor_response)
    assert f'href="/{district.slug}/students/import/"' not in counselor_response.content.decode()


def test_the_entry_of_the_page_shown_is_marked_current(client, district, signed_in):
    signed_in("coordinator")

    response = client.get(f"/{district.slug}/partners/coverage/")

    current = [str(item["label"]) for item in response.context["navigation"] if item["current"]]
    assert current == ["Coverage"]


def test_registering_again_is_a_no_op_and_a_different_entry_for_the_same_page_an_error(
    monkeypatch,
):
    monkeypatch.setattr(navigation, "NAVIGATION", [])

    first = navigation.register_nav("Reports", "roster_import", "reports.view", order=350)
    again = navigation.register_nav("Reports", "roster_import", "reports.view", order=350)

    assert again is first
    assert len(navigation.NAVIGATION) == 1
    with pytest.raises(ImproperlyConfigured):
        navigation.register_nav("Other", "roster_import", "reports.view", order=350)
    with pytest.raises(ImproperlyConfigured):
        navigation.register_nav("Typo", "access_log", "reports.veiw", order=1)


# --- Home page panels ------------------------------------------------------------------------


def test_the_home_page_lists_the_districts_schools(client, district, other_district, signed_in):
    SchoolFactory(district=other_district, name="South Elementary")
    signed_in("viewer")

    text = home(client, district).content.decode()

    assert "North High School" in text and "South Elementary" not in text
    assert "Nothing needs you yet" in text


def test_a_district_without_schools_says_who_adds_them(client, other_district, signed_in):
    signed_in("counselor", in_district=other_district)

    assert "No schools yet. An administrator adds them." in (
        home(client, other_district).content.decode()
    )


def test_a_district_without_schools_shows_its_administrator_where_to_add_one(
    client, other_district, signed_in
):
    signed_in("admin", in_district=other_district)

    page = home(client, other_district).content.decode()

    assert f'href="/{other_district.slug}/settings/schools/new/"' in page


@pytest.fixture
def panel_templates(settings, tmp_path):
    """Three panel templates (early, late, staff) that show their context's `n`."""
    for name in ("early", "late", "staff"):
        (tmp_path / f"{name}.html").write_text("<section><h2>Panel {{ panel.n }}</h2></section>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]


def test_panels_an_app_registers_show_in_order_to_those_holding_their_capability(
    client, district, signed_in, monkeypatch, panel_templates
):
    monkeypatch.setattr(navigation, "HOME_PANELS", [])
    calls = []

    def panel(n):
        def context(request):
            calls.append((n, request.membership.role))
            return {"n": n}

        return context

    navigation.register_home_panel("late.html", panel("late"), "district.view", order=20)
    navigation.register_home_panel("early.html", panel("early"), "district.view", order=10)
    navigation.register_home_panel("staff.html", panel("staff"), "people.manage", order=15)

    signed_in("counselor")
    text = home(client, district).content.decode()

    assert text.index("Panel early") < text.index("Panel late")
    assert "Panel staff" not in text
    assert calls == [("early", "counselor"), ("late", "counselor")]  # not run when not allowed


def test_a_panel_with_nothing_to_show_is_left_out(
    client, district, signed_in, monkeypatch, panel_templates
):
    monkeypatch.setattr(navigation, "HOME_PANELS", [])
    navigation.register_home_panel("early.html", lambda request: None, "district.view", order=1)
    signed_in("counselor")

    text = home(client, district).content.decode()

    assert "Panel" not in text and "Nothing needs you yet" in text
