"""The referral logging page: one form, the student picked as you type, partners suggested,
the crisis protocol first for an emergency, refusals beside their fields, one referral per
form however often it is submitted."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from referrals.models import Referral
from schools.models import MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import PartnerFactory, SchoolFactory, StudentFactory


def new_url(district) -> str:
    return reverse("referral_new", args=[district.slug])


def search_url(district) -> str:
    return reverse("referral_student_search", args=[district.slug])


def suggestions_url(district) -> str:
    return reverse("referral_suggestions", args=[district.slug])


def referrals_of(district) -> list[Referral]:
    with tenant_context(district):
        return list(Referral.objects.filter(district=district))


def limit_to(membership, *schools):
    with tenant_context(membership.district):
        for school in schools:
            MembershipSchool.objects.create(
                district=membership.district, membership=membership, school=school
            )


@pytest.fixture
def signed_in(client, member):
    def sign_in(role="counselor", **kwargs):
        membership = member(role, **kwargs)
        client.force_login(membership.user)
        return membership

    return sign_in


def posted(student, partner=None, **overrides) -> dict:
    data = {
        "student": student.pk if student is not None else "",
        "partner": partner.pk if partner is not None else "",
        "urgency": "routine",
        "concerns": ["anxiety"],
        "services": ["counselling_individual"],
        "family_language": "es",
        "payment": ["medicaid"],
        "availability": "After 3 pm",
        "confidential_notes": "Talked with mom on Monday.",
        "submission_key": str(uuid.uuid4()),
        "step": "save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def errors_of(response) -> str:
    """The text of the error summary and the field errors."""
    html = response.content.decode()
    return " ".join(re.findall(r'class="errorlist"[^>]*>(.*?)</ul>', html, re.S)) + " ".join(
        re.findall(r'class="alert__list">(.*?)</ul>', html, re.S)
    )


# --- The trio -------------------------------------------------------------------------------


def test_counselor_opens_the_form_with_sensible_defaults(client, district, signed_in):
    signed_in("counselor")

    response = client.get(new_url(district))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="urgency" value="routine" id="id_urgency_0" checked' in html
    assert re.search(r'name="submission_key" value="[0-9a-f-]{36}"', html)
    assert "Type a name or student ID" in html
    assert "Only your school&#x27;s care team sees these." in html
    assert 'id="partner-later" checked' in html  # no partner yet
    # No student information is shared unless chosen: a de-identified consultation.
    assert not re.search(r'name="shared_fields"[^>]*checked', html)


def test_counselor_saves_a_referral_and_is_sent_to_it(
    client, district, signed_in, student, partner
):
    membership = signed_in("counselor")

    response = client.post(new_url(district), posted(student, partner))

    [referral] = referrals_of(district)
    assert response.status_code == 302
    assert response["Location"] == reverse("referral_detail", args=[district.slug, referral.pk])
    assert referral.student_id == student.pk
    assert referral.school_id == student.school_id
    assert referral.partner_id == partner.pk
    assert referral.referred_by_id == membership.pk
    assert referral.concerns == ["anxiety"]
    assert referral.family_language == "es"
    assert referral.shared_fields == []
    assert referral.confidential_notes == "Talked with mom on Monday."


def test_viewer_may_not_log_a_referral(client, district, signed_in, student, partner):
    signed_in("viewer")

    assert client.get(new_url(district)).status_code == 403
    assert client.post(new_url(district), posted(student, partner)).status_code == 403
    assert client.get(search_url(district), {"q": "oka"}, HTTP_HX_REQUEST="true").status_code == 403
    assert client.get(suggestions_url(district), HTTP_HX_REQUEST="true").status_code == 403
    assert referrals_of(district) == []


def test_partner_staff_may_not_log_a_referral(client, district, signed_in):
    signed_in("partner")

    assert client.get(new_url(district)).status_code == 403


def test_another_districts_member_gets_404(client, district, other_district, member, student):
    outsider = member("counselor", in_district=other_district)
    client.force_login(outsider.user)

    assert client.get(new_url(district)).status_code == 404
    assert client.get(search_url(district), {"q": "oka"}, HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(new_url(district), posted(student)).status_code == 404
    assert referrals_of(district) == []


def test_another_districts_student_id_is_a_field_error(
    client, district, other_district, signed_in, partner
):
    signed_in("counselor")
    theirs = StudentFactory(district=other_district, first_name="Zed", last_name="Outsider")

    response = client.post(new_url(district), posted(theirs, partner))

    assert response.status_code == 200
    assert "Choose a student of your district." in errors_of(response)
    assert "Outsider" not in response.content.decode()
    assert referrals_of(district) == []


# --- Garbage and refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("student", "abc"),
        ("student", "-1"),
        ("student", "99999999999999999999999"),
        ("student", "1; DROP TABLE"),
        ("partner", "abc"),
        ("partner", "0"),
        ("partner", "99999999999999999999999"),
        ("submission_key", "not-a-uuid"),
        ("urgency", "whenever"),
        ("concerns", "nonsense"),
        ("family_language", "'; --"),
        ("payment", "gold"),
        ("shared_fields", "soul"),
    ],
)
def test_garbage_is_a_field_error_never_a_500(
    client, district, signed_in, student, partner, field, value
):
    signed_in("counselor")
    data = posted(student, partner)
    data[field] = value

    response = client.post(new_url(district), data)

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert referrals_of(district) == []


@pytest.mark.parametrize(
    "query",
    ["", "%", "_", "\\", "'", "a" * 500, "\x00", "Ω≈ç√", "1 2 3 4 5 6 7 8 9"],
)
def test_garbage_searches_are_not_a_500(client, district, signed_in, query):
    signed_in("counselor")

    for url in (search_url(district), suggestions_url(district), new_url(district)):
        params = {"q": query, "student": query, "partner": query, "services": query}
        params["family_language"] = query
        assert client.get(url, params, HTTP_HX_REQUEST="true").status_code == 200
        assert client.get(url, params).status_code in (200, 302)


def test_a_partner_not_taking_referrals_is_a_field_error(client, district, signed_in, student):
    signed_in("counselor")
    closed = PartnerFactory(district=district, name="Closed Clinic", intake="closed")

    response = client.post(new_url(district), posted(student, closed))

    assert response.status_code == 200
    assert "Closed Clinic is not taking referrals now" in errors_of(response)
    assert 'id="id_partner_error"' in response.content.decode()
    assert referrals_of(district) == []


def test_another_districts_partner_is_a_field_error(
    client, district, other_district, signed_in, student
):
    signed_in("counselor")
    theirs = PartnerFactory(district=other_district, name="Their Clinic")

    response = client.post(new_url(district), posted(student, theirs))

    assert "Choose one of your district&#x27;s partners." in errors_of(response)
    assert referrals_of(district) == []


def test_missing_concern_is_shown_beside_the_field_and_choices_are_kept(
    client, district, signed_in, student, partner
):
    signed_in("counselor")

    response = client.post(new_url(district), posted(student, partner, concerns=[]))

    html = response.content.decode()
    assert 'id="id_concerns_error"' in html
    assert 'href="#id_concerns_0"' in html  # the summary links to the field
    assert f'name="student" value="{student.pk}"' in html  # the student stays chosen
    assert re.search(rf'value="{partner.pk}" id="partner-{partner.pk}" checked', html)
    assert "Talked with mom on Monday." in html
    assert referrals_of(district) == []


def test_school_limited_counselor_cannot_refer_another_schools_student(
    client, district, signed_in, partner
):
    membership = signed_in("counselor")
    mine = SchoolFactory(district=district, name="Lincoln Elementary")
    limit_to(membership, mine)
    elsewhere = StudentFactory(district=district, first_name="Other", last_name="School")

    response = client.post(new_url(district), posted(elsewhere, partner))

    assert "You can refer students of your own schools only." in errors_of(response)
    assert referrals_of(district) == []


def test_no_student_chosen_says_how_to_choose_one(client, district, signed_in, partner):
    signed_in("counselor")

    response = client.post(new_url(district), posted(None, partner))

    assert "type a name or student ID" in errors_of(response)


# --- Exactly once ---------------------------------------------------------------------------


def test_submitting_the_same_form_twice_makes_one_referral(
    client, district, signed_in, student, partner
):
    signed_in("counselor")
    data = posted(student, partner)

    first = client.post(new_url(district), data)
    second = client.post(new_url(district), data)

    [referral] = referrals_of(district)
    assert first["Location"] == second["Location"]
    assert first["Location"].endswith(f"/referrals/{referral.pk}/")


def test_each_showing_of_the_form_has_its_own_key(client, district, signed_in):
    signed_in("counselor")

    keys = {
        re.search(
            r'name="submission_key" value="([0-9a-f-]{36})"',
            client.get(new_url(district)).content.decode(),
        )[1]
        for _ in range(2)
    }

    assert len(keys) == 2


# --- The emergency --------------------------------------------------------------------------


def test_emergency_shows_the_crisis_protocol_before_the_form_is_accepted(
    client, district, signed_in, student, partner
):
    signed_in("counselor")
    district.crisis_protocol = "Call the North Valley crisis line at 555-0199 first."
    district.save(update_fields=["crisis_protocol"])
    data = posted(student, partner, urgency="emergency")

    response = client.post(new_url(district), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert referrals_of(district) == []
    assert "crisis-panel crisis-panel--shown" in html  # shown without CSS or JavaScript
    assert "Call the North Valley crisis line at 555-0199 first." in html
    assert "988" in html
    assert "Trellis does not replace a call" in html
    assert "I have followed the crisis protocol" in html
    # The protocol comes before the rest of the form.
    assert html.index("crisis-panel--shown") < html.index('id="student-picker"')

    data["protocol_seen"] = "on"
    accepted = client.post(new_url(district), data)

    assert accepted.status_code == 302
    [referral] = referrals_of(district)
    assert referral.urgency == "emergency"


def test_routine_referral_needs_no_protocol_confirmation(client, district, signed_in, student):
    signed_in("counselor")

    response = client.get(new_url(district))

    assert "crisis-panel--shown" not in response.content.decode()


# --- The student picker ---------------------------------------------------------------------


def test_student_search_matches_prefixes_of_names_and_ids(client, district, signed_in, school):
    signed_in("counselor")
    StudentFactory(
        district=district, school=school, first_name="Amara", last_name="Okafor", local_id="A77001"
    )
    StudentFactory(
        district=district,
        school=school,
        first_name="Bea",
        last_name="Okonkwo",
        preferred_name="Bee",
    )
    StudentFactory(district=district, school=school, first_name="Cal", last_name="Nokes")
    StudentFactory(
        district=district, school=school, first_name="Old", last_name="Okafor", active=False
    )

    def names(query):
        response = client.get(search_url(district), {"q": query}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return re.findall(r"<strong>([^<]+)</strong>", response.content.decode())

    assert names("oka") == ["Okafor, Amara"]  # not the student no longer enrolled
    assert names("ok") == ["Okafor, Amara", "Okonkwo, Bea"]  # prefix, not "Nokes"
    assert names("bee") == ["Okonkwo, Bea"]  # preferred name
    assert names("a770") == ["Okafor, Amara"]  # student id
    assert names("amara oka") == ["Okafor, Amara"]  # every word
    assert names("zz") == []


def test_student_search_respects_the_school_limit_and_the_district(
    client, district, other_district, signed_in, school
):
    membership = signed_in("counselor")
    mine = SchoolFactory(district=district, name="Lincoln Elementary")
    limit_to(membership, mine)
    StudentFactory(district=district, school=mine, first_name="Mia", last_name="Mine")
    StudentFactory(district=district, school=school, first_name="Nora", last_name="Mineral")
    StudentFactory(district=other_district, first_name="Olga", last_name="Minetti")

    response = client.get(search_url(district), {"q": "min"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "Mine, Mia" in html
    assert "Mineral" not in html
    assert "Minetti" not in html


def test_student_search_shows_ten_at_most(client, district, signed_in, school):
    signed_in("counselor")
    for n in range(14):
        StudentFactory(district=district, school=school, last_name=f"Garcia{n:02d}")

    response = client.get(search_url(district), {"q": "garc"}, HTTP_HX_REQUEST="true")

    assert response.content.decode().count('name="pick_student"') == 10


def test_choosing_a_student_shows_them_and_refills_the_language(
    client, district, signed_in, school
):
    signed_in("counselor")
    chosen = StudentFactory(
        district=district,
        school=school,
        first_name="Amara",
        last_name="Okafor",
        family_language="Spanish",
    )

    response = client.get(
        search_url(district),
        {"pick_student": chosen.pk, "family_language": ""},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert f'name="student" value="{chosen.pk}"' in html
    assert "North High School" in html
    assert 'hx-swap-oob="outerHTML"' in html
    assert re.search(r'<option value="es" selected>', html)
    assert response["HX-Trigger"] == "student-chosen"


def test_choosing_another_schools_student_by_id_shows_nothing_of_them(client, district, signed_in):
    membership = signed_in("counselor")
    limit_to(membership, SchoolFactory(district=district, name="Lincoln Elementary"))
    elsewhere = StudentFactory(district=district, first_name="Hidden", last_name="Person")

    response = client.get(
        search_url(district), {"pick_student": elsewhere.pk}, HTTP_HX_REQUEST="true"
    )

    assert "Hidden" not in response.content.decode()
    assert "HX-Trigger" not in response


def test_without_javascript_find_and_pick_post_back_and_save_nothing(
    client, district, signed_in, student, partner
):
    signed_in("counselor")
    data = posted(None, partner, q="okaf", step="find")

    found = client.post(new_url(district), data)

    assert found.status_code == 200
    assert f'name="pick_student" value="{student.pk}"' in found.content.decode()
    assert "There is a problem" not in found.content.decode()

    data["pick_student"] = student.pk
    picked = client.post(new_url(district), data)

    assert f'name="student" value="{student.pk}"' in picked.content.decode()
    assert referrals_of(district) == []


def test_a_student_page_can_link_to_the_form_with_the_student_chosen(
    client, district, signed_in, school
):
    signed_in("counselor")
    chosen = StudentFactory(district=district, school=school, family_language="Vietnamese")

    response = client.get(new_url(district), {"student": chosen.pk})

    html = response.content.decode()
    assert f'name="student" value="{chosen.pk}"' in html
    assert re.search(r'<option value="vi" selected>', html)


# --- Suggestions through the page -----------------------------------------------------------


def test_suggestions_fragment_lists_partners_with_why_they_fit(
    client, district, signed_in, student, partner
):
    signed_in("counselor")
    PartnerFactory(district=district, name="Closed Clinic", intake="closed")

    response = client.get(
        suggestions_url(district),
        {"student": student.pk, "services": "counselling_individual", "family_language": "es"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Riverbend Counseling" in html
    assert "Closed Clinic" not in html
    assert "Does not offer Counseling, individual" in html
    assert "Does not list Spanish" in html
    assert "<html" not in html  # a fragment


def test_fragments_opened_as_pages_go_to_the_form(client, district, signed_in, student):
    signed_in("counselor")

    response = client.get(suggestions_url(district), {"student": student.pk})

    assert response.status_code == 302
    assert response["Location"] == f"{new_url(district)}?student={student.pk}"


# --- Query counts ---------------------------------------------------------------------------


def test_page_search_and_suggestions_cost_fixed_queries(
    client, district, signed_in, school, student, count_queries
):
    signed_in("counselor")
    chosen = {"student": student.pk, "services": ["therapy", "mentoring"], "family_language": "es"}
    requests = [
        lambda: client.get(new_url(district), chosen),
        lambda: client.get(search_url(district), {"q": "oka"}, HTTP_HX_REQUEST="true"),
        lambda: client.get(suggestions_url(district), chosen, HTTP_HX_REQUEST="true"),
    ]
    PartnerFactory(district=district, name="Partner first", languages=["es"])
    requests[0]()  # the first visit also remembers the district (once)
    few = [count_queries(request) for request in requests]

    for n in range(40):
        PartnerFactory(district=district, name=f"Partner {n:02d}", languages=["es"])
        StudentFactory(district=district, school=school, last_name=f"Okafor{n:02d}")
    many = [count_queries(request) for request in requests]

    assert few == many
    # Beyond signing in and entering the district (what every request costs): the page reads
    # the student, the concern and service categories, the ranked partners and the student's
    # open referrals (the duplicate warning, issue 14); the search one query; the
    # suggestions the student, the service categories, the partners and the open referrals.
    baseline = many[1] - 1
    assert many == [baseline + 5, baseline + 1, baseline + 4]
