"""The students list and a student's page: who sees which students, search, the access log."""

from __future__ import annotations

import pytest

from schools.models import AccessLog, MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, StudentFactory


def list_url(district, query=""):
    return f"/{district.slug}/students/{query}"


def student_url(student):
    return f"/{student.district.slug}/students/{student.pk}/"


def names_on(response) -> str:
    return response.content.decode()


def access_log_rows(district) -> list[AccessLog]:
    with tenant_context(district):
        return list(AccessLog.objects.filter(district=district).select_related("student"))


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


# --- The list --------------------------------------------------------------------------------


def test_counselor_sees_the_districts_students(client, district, signed_in):
    StudentFactory(district=district, first_name="Ana", last_name="Morales")
    signed_in("counselor")

    response = client.get(list_url(district))

    assert response.status_code == 200
    assert "Morales, Ana" in names_on(response)
    assert "1 student" in names_on(response)


def test_viewer_may_not_list_students(client, district, signed_in):
    StudentFactory(district=district)
    signed_in("viewer")

    assert client.get(list_url(district)).status_code == 403


def test_partner_may_not_list_students(client, district, signed_in):
    signed_in("partner")

    assert client.get(list_url(district)).status_code == 403


def test_another_districts_member_gets_404(client, district, other_district, signed_in):
    StudentFactory(district=district)
    signed_in("coordinator", in_district=other_district)

    assert client.get(list_url(district)).status_code == 404


def test_own_district_list_never_shows_another_districts_students(
    client, district, other_district, signed_in
):
    StudentFactory(district=other_district, last_name="Elsewhere")
    StudentFactory(district=district, last_name="Here")
    signed_in("coordinator")

    text = names_on(client.get(list_url(district)))

    assert "Here" in text and "Elsewhere" not in text


def test_school_limited_counselor_sees_only_their_schools(client, district, signed_in):
    mine, theirs = SchoolFactory(district=district), SchoolFactory(district=district)
    StudentFactory(district=district, school=mine, last_name="Mine")
    StudentFactory(district=district, school=theirs, last_name="Theirs")
    counselor = signed_in("counselor")
    limit_to(counselor, mine)

    text = names_on(client.get(list_url(district)))

    assert "Mine" in text and "Theirs" not in text
    assert theirs.name not in text  # not even in the school filter
    assert client.get(list_url(district, f"?school={theirs.pk}")).status_code == 200


def test_search_matches_names_preferred_name_and_student_id(client, district, signed_in):
    StudentFactory(district=district, first_name="Ana", last_name="Morales", local_id="A-1")
    StudentFactory(
        district=district, first_name="Benjamin", last_name="Okafor", preferred_name="Benji"
    )
    StudentFactory(district=district, first_name="Chloe", last_name="Nguyen", local_id="Z-99")
    signed_in("counselor")

    def found(query):
        text = names_on(client.get(list_url(district, f"?q={query}")))
        return {name for name in ("Morales", "Okafor", "Nguyen") if name in text}

    assert found("mora") == {"Morales"}
    assert found("benji") == {"Okafor"}
    assert found("z-99") == {"Nguyen"}
    assert found("ana morales") == {"Morales"}
    assert found("ana nguyen") == set()


def test_filters_by_school_and_grade(client, district, signed_in):
    north, south = SchoolFactory(district=district), SchoolFactory(district=district)
    StudentFactory(district=district, school=north, grade="09", last_name="NorthNine")
    StudentFactory(district=district, school=north, grade="10", last_name="NorthTen")
    StudentFactory(district=district, school=south, grade="09", last_name="SouthNine")
    signed_in("coordinator")

    text = names_on(client.get(list_url(district, f"?school={north.pk}&grade=09")))

    assert "NorthNine" in text
    assert "NorthTen" not in text and "SouthNine" not in text


def test_htmx_asks_for_the_results_fragment_only(client, district, signed_in):
    StudentFactory(district=district, last_name="Morales")
    signed_in("counselor")

    response = client.get(list_url(district, "?q=mor"), headers={"HX-Request": "true"})

    text = names_on(response)
    assert "<html" not in text and 'id="student-results"' in text
    assert 'hx-swap-oob="innerHTML"' in text  # the live count outside the results
    assert "Morales" in text
    assert "HX-Request" in response["Vary"]


def test_list_is_paginated_fifty_a_page(client, district, signed_in):
    school = SchoolFactory(district=district)
    for n in range(55):
        StudentFactory(district=district, school=school, last_name=f"Student{n:02d}")
    signed_in("counselor")

    first = names_on(client.get(list_url(district)))
    second = names_on(client.get(list_url(district, "?page=2")))

    assert "Student49" in first and "Student50" not in first
    assert "Showing 1–50 of 55" in first
    assert "Student50" in second and "Showing 51–55 of 55" in second


def walk(client, url, direction="next_cursor", start=""):
    """Every page's student ids, following the `direction` links from `start`."""
    pages, cursor = [], start
    while True:
        response = client.get(url + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200
        page = response.context["page"]
        pages.append([student.pk for student in page.object_list])
        cursor = getattr(page, direction)
        if not cursor:
            return pages, page
        assert len(pages) < 50, "the links go round in circles"


def tied_students(district, school):
    """Thirty students in only four names (and accents and case that a search folds)."""
    names = [("Garcia", "Ana"), ("García", "ana"), ("Garcia", "Ben"), ("Lee", "Ana")]
    return [
        StudentFactory(district=district, school=school, last_name=last, first_name=first)
        for n in range(30)
        for last, first in [names[n % 4]]
    ]


@pytest.mark.parametrize("query", ["", "&q=gar", "&q=garcia+an"])
def test_next_and_previous_walk_every_student_once_in_order(
    client, district, signed_in, monkeypatch, query
):
    monkeypatch.setattr("schools.views.students.PAGE_SIZE", 7)
    school = SchoolFactory(district=district)
    students = tied_students(district, school)
    counselor = signed_in("counselor")
    from schools.selectors import student_search

    form_query = {"query": query.partition("=")[2].replace("+", " ")} if query else {}
    with tenant_context(district):
        expected = [s.pk for s in student_search(counselor, **form_query)]
    assert len(expected) >= 8  # several pages
    url = list_url(district, "?x=1" + query)

    forward, last = walk(client, url)
    backward, first = walk(client, url, "previous_cursor", start=last.previous_cursor)

    assert [pk for page in forward for pk in page] == expected
    assert all(len(page) == 7 for page in forward[:-1])
    assert [pk for page in reversed(backward) for pk in page] + forward[-1] == expected
    assert first.start_index == 1 and not first.has_previous
    assert {s.pk for s in students} >= set(expected)


def test_capped_count_says_more_than(client, district, signed_in, monkeypatch):
    monkeypatch.setattr("core.pagination.COUNT_CAP", 5)
    school = SchoolFactory(district=district)
    for _ in range(7):
        StudentFactory(district=district, school=school)
    signed_in("counselor")

    text = names_on(client.get(list_url(district)))

    assert "More than 5 students" in text and "Showing 1–7 of more than 5" not in text
    assert "7 students" not in text


def test_count_beyond_the_cap_says_more_than_in_the_page_range(
    client, district, signed_in, monkeypatch
):
    monkeypatch.setattr("core.pagination.COUNT_CAP", 5)
    monkeypatch.setattr("schools.views.students.PAGE_SIZE", 3)
    school = SchoolFactory(district=district)
    for _ in range(7):
        StudentFactory(district=district, school=school)
    signed_in("counselor")

    text = names_on(client.get(list_url(district)))

    assert "Showing 1–3 of more than 5" in text and 'rel="next"' in text


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "e30:1s2x3y:abcdef", "x" * 5000, "%00", "..", "W10:bad"],
)
def test_a_bad_cursor_shows_the_first_page(client, district, signed_in, cursor, monkeypatch):
    monkeypatch.setattr("schools.views.students.PAGE_SIZE", 2)
    school = SchoolFactory(district=district)
    for name in ("Adams", "Baker", "Clark"):
        StudentFactory(district=district, school=school, last_name=name)
    signed_in("counselor")

    response = client.get(list_url(district, f"?cursor={cursor}"))

    assert response.status_code == 200
    assert [s.last_name for s in response.context["page"].object_list] == ["Adams", "Baker"]


def test_a_cursor_of_another_list_or_with_values_its_columns_cannot_hold_shows_the_first_page(
    client, district, signed_in, monkeypatch
):
    import base64
    import json

    monkeypatch.setattr("schools.views.students.PAGE_SIZE", 2)
    school = SchoolFactory(district=district)
    for name in ("Adams", "Baker", "Clark"):
        StudentFactory(district=district, school=school, last_name=name)
    signed_in("counselor")
    good = client.get(list_url(district)).context["page"].next_cursor
    data = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))

    def cursor(**change):
        text = json.dumps({**data, **change})
        return base64.urlsafe_b64encode(text.encode()).decode()

    bad = [
        cursor(l="access_log:00000000"),
        cursor(k=[data["k"][0], data["k"][1], "not a number"]),
        cursor(k=[data["k"][0], data["k"][1], 2**70]),
        cursor(k=["\ud800", "x", 1]),
        cursor(k=["a\u0000b", "x", 1]),
        cursor(k=[["Baker"], None, True]),
        cursor(k=data["k"][:2]),
        cursor(f="yes"),
        cursor(i=-3),
        base64.urlsafe_b64encode(b"[" * 2000).decode(),
        good[:-3],
    ]
    for token in bad:
        response = client.get(list_url(district, f"?cursor={token}"))
        assert response.status_code == 200
        assert [s.last_name for s in response.context["page"].object_list] == ["Adams", "Baker"]
    assert client.get(list_url(district, f"?cursor={good}")).context["page"].start_index == 3


@pytest.mark.parametrize("number", ["1", "0", "-1", "2", "99999999999999999999", "3.5"])
def test_page_numbers_from_old_links_still_answer(client, district, signed_in, number):
    school = SchoolFactory(district=district)
    for _ in range(3):
        StudentFactory(district=district, school=school)
    signed_in("counselor")

    response = client.get(list_url(district, f"?page={number}"))

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 3  # past the end: the first page


@pytest.mark.parametrize(
    "query",
    ["?school=abc", "?grade=ZZ", "?page=last", "?page=-4", "?q=" + "x" * 300, "?school=99999999"],
)
def test_garbage_filters_are_not_a_500(client, district, signed_in, query):
    StudentFactory(district=district)
    signed_in("counselor")

    assert client.get(list_url(district, query)).status_code == 200


def test_list_costs_the_same_queries_for_one_or_many_students_on_any_page(
    client, district, signed_in, count_queries
):
    school = SchoolFactory(district=district)
    counselor = signed_in("counselor")
    limit_to(counselor, school)  # the school limit is part of the query too
    StudentFactory(district=district, school=school)
    client.get(list_url(district))  # warm the session

    one = count_queries(lambda: client.get(list_url(district)))
    for _ in range(119):
        StudentFactory(district=district, school=school)
    many = count_queries(lambda: client.get(list_url(district)))
    cursor = client.get(list_url(district)).context["page"].next_cursor
    later = count_queries(lambda: client.get(list_url(district, f"?cursor={cursor}")))
    search = count_queries(lambda: client.get(list_url(district, "?q=a")))

    assert one == many == later == search


def test_empty_list_says_to_import_a_roster(client, district, signed_in):
    signed_in("coordinator")

    text = names_on(client.get(list_url(district)))

    assert "No students yet" in text
    assert f'href="/{district.slug}/students/import/"' in text


def test_empty_list_tells_a_counselor_who_imports_the_roster(client, district, signed_in):
    signed_in("counselor")

    text = names_on(client.get(list_url(district)))

    assert "coordinator imports the roster" in text
    assert "/students/import/" not in text


def test_navigation_offers_students_to_those_who_may_see_them(client, district, signed_in):
    signed_in("counselor")
    assert f'href="/{district.slug}/students/"' in names_on(client.get(f"/{district.slug}/"))

    signed_in("viewer")
    assert f'href="/{district.slug}/students/"' not in names_on(client.get(f"/{district.slug}/"))


# --- A student's page --------------------------------------------------------------------------


def test_counselor_opens_a_student_and_the_view_is_logged(client, district, signed_in):
    student = StudentFactory(
        district=district,
        first_name="Ana",
        last_name="Morales",
        preferred_name="Annie",
        guardian_name="Lucía Morales",
        family_language="es",
    )
    counselor = signed_in("counselor")

    response = client.get(student_url(student), headers={"User-Agent": "pytest"})

    text = names_on(response)
    assert response.status_code == 200
    assert "Annie Morales" in text and "Lucía Morales" in text and "Spanish" in text
    assert student.local_id in text and student.school.name in text
    [entry] = access_log_rows(district)
    assert (entry.object_type, entry.object_id, entry.student_id) == (
        "student",
        str(student.pk),
        student.pk,
    )
    assert (entry.membership_id, entry.user_id) == (counselor.pk, counselor.user_id)
    assert entry.path == student_url(student) and entry.user_agent == "pytest"


def test_every_view_writes_another_log_row(client, district, signed_in):
    student = StudentFactory(district=district)
    signed_in("coordinator")

    client.get(student_url(student))
    client.get(student_url(student))

    assert len(access_log_rows(district)) == 2


def test_viewer_gets_403_and_nothing_is_logged(client, district, signed_in):
    student = StudentFactory(district=district)
    signed_in("viewer")

    assert client.get(student_url(student)).status_code == 403
    assert access_log_rows(district) == []


def test_another_districts_member_gets_404_and_nothing_is_logged(
    client, district, other_district, signed_in
):
    from tests.factories import enable_totp

    student = StudentFactory(district=district)
    outsider = signed_in("admin", in_district=other_district)
    enable_totp(outsider.user)

    assert client.get(student_url(student)).status_code == 404
    # Nor under their own district's address.
    assert client.get(f"/{other_district.slug}/students/{student.pk}/").status_code == 404
    assert access_log_rows(district) == []
    assert access_log_rows(other_district) == []


def test_a_student_of_another_school_is_404_to_a_limited_counselor(client, district, signed_in):
    mine, theirs = SchoolFactory(district=district), SchoolFactory(district=district)
    student = StudentFactory(district=district, school=theirs)
    counselor = signed_in("counselor")
    limit_to(counselor, mine)

    assert client.get(student_url(student)).status_code == 404
    assert access_log_rows(district) == []


def test_a_missing_student_is_404(client, district, signed_in):
    signed_in("counselor")

    assert client.get(f"/{district.slug}/students/987654/").status_code == 404
    assert access_log_rows(district) == []


def test_birth_date_not_recorded_is_said_so(client, district, signed_in):
    student = StudentFactory(district=district, date_of_birth=None)
    signed_in("counselor")

    assert "Not recorded" in names_on(client.get(student_url(student)))


def test_posting_to_a_student_page_is_refused_without_logging(client, district, signed_in):
    student = StudentFactory(district=district)
    signed_in("counselor")

    assert client.post(student_url(student), {"x": "y"}).status_code == 405
    assert access_log_rows(district) == []


def test_admin_gets_a_link_to_the_students_access_history(client, district, signed_in):
    from tests.factories import enable_totp

    student = StudentFactory(district=district, local_id="S-42")
    admin = signed_in("admin")
    enable_totp(admin.user)

    assert f"/{district.slug}/access-log/?student=S-42" in names_on(
        client.get(student_url(student))
    )


def test_sections_registered_by_later_apps_appear_on_the_student_page(
    client, district, signed_in, monkeypatch, tmp_path, settings
):
    from schools.views import students as views

    (tmp_path / "section.html").write_text(
        "<section><h2>Referrals of {{ section.n }}</h2></section>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    monkeypatch.setattr(views, "STUDENT_SECTIONS", [])
    views.register_student_section(
        template="section.html", capability="students.view", context=lambda r, s: {"n": s.local_id}
    )
    views.register_student_section(
        template="section.html", capability="people.manage", context=lambda r, s: {"n": "secret"}
    )
    student = StudentFactory(district=district, local_id="S-7")
    signed_in("counselor")

    text = names_on(client.get(student_url(student)))

    assert "Referrals of S-7" in text and "secret" not in text
