"""The access log page: administrators search who opened which student's page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import DatabaseError, transaction

from schools.models import AccessLog, MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, StudentFactory, enable_totp
from tests.schools.test_roster_import import (
    csv_bytes,
    district_school,
    latest_import,
    simple_row,
    upload,
)


def log_url(district, query=""):
    return f"/{district.slug}/access-log/{query}"


def record(membership, student=None, *, at=None, object_type="student"):
    with tenant_context(membership.district):
        return AccessLog.objects.create(
            district=membership.district,
            membership=membership,
            user=membership.user,
            object_type=object_type,
            object_id=str(student.pk if student else 0),
            student=student,
            path="/somewhere/",
            ip_address="192.0.2.7",
            **({"at": at} if at else {}),
        )


@pytest.fixture
def admin(client, member):
    membership = member("admin")
    enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def text_of(response) -> str:
    return response.content.decode()


def test_admin_sees_who_opened_which_student(client, district, admin, member):
    counselor = member("counselor")
    student = StudentFactory(district=district, first_name="Ana", last_name="Morales")
    record(counselor, student)

    response = client.get(log_url(district))

    text = text_of(response)
    assert response.status_code == 200
    assert counselor.user.email in text and "Ana Morales" in text and "192.0.2.7" in text
    assert "1 entry" in text


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer", "partner"])
def test_other_roles_may_not_read_the_log(client, district, member, role):
    membership = member(role)
    client.force_login(membership.user)

    assert client.get(log_url(district)).status_code == 403


def test_another_districts_admin_gets_404(client, district, other_district, member):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(log_url(district)).status_code == 404


def test_own_log_never_shows_another_districts_rows(
    client, district, other_district, admin, member
):
    theirs = member("counselor", in_district=other_district)
    record(theirs, StudentFactory(district=other_district, last_name="Elsewhere"))

    text = text_of(client.get(log_url(district)))

    assert "Elsewhere" not in text and "0 entries" in text


def test_search_by_student_id_name_and_person(client, district, admin, member):
    alice, bob = member("counselor"), member("coordinator")
    ana = StudentFactory(district=district, first_name="Ana", last_name="Morales", local_id="A1")
    ben = StudentFactory(district=district, first_name="Ben", last_name="Okafor", local_id="B2")
    record(alice, ana)
    record(bob, ben)

    def count(query):
        return len(client.get(log_url(district, query)).context["page"].object_list)

    assert count("?student=a1") == 1
    assert count("?student=okafor") == 1
    assert count("?student=ben+okafor") == 1
    assert count("?student=nobody") == 0
    assert count(f"?person={alice.user.email.split('@')[0]}@") == 1
    assert count(f"?person={bob.user.email}&student=A1") == 0


def test_dates_are_the_districts_days_and_newest_come_first(client, district, admin, member):
    counselor = member("counselor")
    zone = district.time_zone
    student = StudentFactory(district=district)
    late_evening = datetime(2026, 3, 10, 23, 30, tzinfo=zone)  # already the 11th in UTC
    record(counselor, student, at=late_evening)
    record(counselor, student, at=late_evening + timedelta(days=2))
    record(counselor, student, at=late_evening - timedelta(days=5))

    def ats(query):
        return [e.at for e in client.get(log_url(district, query)).context["page"].object_list]

    assert ats("?since=2026-03-10&until=2026-03-10") == [late_evening]
    assert ats("?since=2026-03-10") == [late_evening + timedelta(days=2), late_evening]
    assert ats("?until=2026-03-09") == [late_evening - timedelta(days=5)]


@pytest.mark.parametrize(
    "query",
    [
        "?since=yesterday",
        "?until=2026-02-30",
        "?since=2026-05-01&until=2026-04-01",
        "?since=9999-12-31&until=9999-12-31",
        "?since=0001-01-01",
        "?page=zzz",
        "?person=" + "x" * 400,
    ],
)
def test_garbage_searches_are_messages_not_500s(client, district, admin, query):
    response = client.get(log_url(district, query))

    assert response.status_code == 200


def test_backwards_dates_say_so(client, district, admin):
    text = text_of(client.get(log_url(district, "?since=2026-05-01&until=2026-04-01")))

    assert "The end date is before the start date." in text


def test_log_page_costs_the_same_queries_for_one_or_sixty_rows(
    client, district, admin, member, count_queries
):
    counselor = member("counselor")
    record(counselor, StudentFactory(district=district))
    client.get(log_url(district))

    one = count_queries(lambda: client.get(log_url(district)))
    for _ in range(59):
        record(member("counselor"), StudentFactory(district=district))
    sixty = count_queries(lambda: client.get(log_url(district)))
    cursor = client.get(log_url(district)).context["page"].next_cursor
    later = count_queries(lambda: client.get(log_url(district, f"?cursor={cursor}")))

    assert one == sixty == later


def test_filtered_log_costs_a_fixed_number_of_queries(
    client, district, admin, member, count_queries
):
    counselor = member("counselor")
    students = [StudentFactory(district=district, last_name="Rivera") for _ in range(60)]
    for student in students:
        record(counselor, student)
    client.get(log_url(district))
    plain = count_queries(lambda: client.get(log_url(district)))
    email = counselor.user.email

    def cost(query):
        return count_queries(lambda: client.get(log_url(district, query)))

    # The student or person is resolved first: one query (two for a name: no id matched).
    assert cost(f"?student={students[0].local_id}") == plain + 1
    assert cost("?student=rivera") == plain + 2
    assert cost(f"?person={email}") == plain + 1
    assert cost(f"?person={email}&student=rivera") == plain + 3


def test_log_is_paginated_fifty_a_page(client, district, admin, member):
    counselor = member("counselor")
    student = StudentFactory(district=district)
    for _ in range(51):
        record(counselor, student)

    first = client.get(log_url(district))
    second = client.get(log_url(district, f"?cursor={first.context['page'].next_cursor}"))
    old_link = client.get(log_url(district, "?page=2"))

    assert "Showing 1–50 of 51" in text_of(first) and "51 entries" in text_of(first)
    assert len(second.context["page"].object_list) == 1
    assert "Showing 51–51 of 51" in text_of(second) and 'rel="prev"' in text_of(second)
    assert [e.pk for e in old_link.context["page"]] == [e.pk for e in second.context["page"]]


def test_pages_walk_every_entry_once_newest_first_with_equal_times(
    client, district, admin, member, monkeypatch
):
    monkeypatch.setattr("schools.views.access_log.PAGE_SIZE", 4)
    counselor = member("counselor")
    student = StudentFactory(district=district)
    moment = datetime(2026, 3, 10, 9, 0, tzinfo=district.time_zone)
    entries = [record(counselor, student, at=moment + timedelta(hours=n % 3)) for n in range(15)]
    expected = [e.pk for e in sorted(entries, key=lambda e: (e.at, e.pk), reverse=True)]

    seen, cursor, pages = [], "", []
    while True:
        page = client.get(log_url(district, f"?student={student.local_id}&cursor={cursor}"))
        page = page.context["page"]
        pages.append(page)
        seen += [e.pk for e in page.object_list]
        cursor = page.next_cursor
        if not cursor or len(pages) > 10:
            break
    back, cursor = [], pages[-1].previous_cursor
    while cursor:
        page = client.get(log_url(district, f"?student={student.local_id}&cursor={cursor}"))
        back = [e.pk for e in page.context["page"].object_list] + back
        cursor = page.context["page"].previous_cursor

    assert seen == expected and len(pages) == 4
    assert back + [e.pk for e in pages[-1].object_list] == expected


@pytest.mark.parametrize("cursor", ["garbage", "e30:1s2x3y:abcdef", "x" * 3000])
def test_a_bad_cursor_shows_the_newest_entries(client, district, admin, member, cursor):
    counselor = member("counselor")
    newest = [record(counselor, StudentFactory(district=district)) for _ in range(2)][-1]

    response = client.get(log_url(district, f"?cursor={cursor}"))

    assert response.status_code == 200
    assert response.context["page"].object_list[0].pk == newest.pk


def test_capped_count_says_more_than(client, district, admin, member, monkeypatch):
    monkeypatch.setattr("core.pagination.COUNT_CAP", 3)
    counselor = member("counselor")
    student = StudentFactory(district=district)
    for _ in range(5):
        record(counselor, student)

    text = text_of(client.get(log_url(district)))

    assert "More than 3 entries" in text and "5 entries" not in text


def test_person_filter_names_only_members_of_this_district(
    client, district, other_district, admin, member
):
    from schools.selectors import access_log_people

    ours = member("counselor", user__email="pat.lee@ours.example.org")
    theirs = member(
        "counselor", in_district=other_district, user__email="pat.lee@theirs.example.org"
    )
    record(ours, StudentFactory(district=district))
    record(theirs, StudentFactory(district=other_district, last_name="Elsewhere"))

    with tenant_context(district):
        assert access_log_people(admin, "pat.lee") == [ours.user_id]
    mine = client.get(log_url(district, "?person=pat.lee")).context["page"].object_list
    text = text_of(client.get(log_url(district, "?person=theirs.example")))

    assert [e.user_id for e in mine] == [ours.user_id]
    assert "0 entries" in text and "Elsewhere" not in text


def test_student_filter_names_only_students_the_viewer_may_see(
    client, district, other_district, admin, member
):
    mine, theirs = SchoolFactory(district=district), SchoolFactory(district=district)
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=admin, school=mine)
    counselor = member("counselor")
    record(counselor, StudentFactory(district=district, school=mine, last_name="Quinn"))
    record(counselor, StudentFactory(district=district, school=theirs, last_name="Quincy"))
    elsewhere = StudentFactory(district=other_district, last_name="Quinlan", local_id="Q-1")
    record(member("counselor", in_district=other_district), elsewhere)

    def shown(query):
        page = client.get(log_url(district, query)).context["page"]
        return [e.student.last_name for e in page.object_list]

    assert shown("?student=quin") == ["Quinn"]
    assert shown("?student=Q-1") == []


def test_school_limited_admin_sees_only_their_schools_students(client, district, admin, member):
    mine, theirs = SchoolFactory(district=district), SchoolFactory(district=district)
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=admin, school=mine)
    counselor = member("counselor")
    record(counselor, StudentFactory(district=district, school=mine, last_name="Mine"))
    record(counselor, StudentFactory(district=district, school=theirs, last_name="Theirs"))

    text = text_of(client.get(log_url(district)))

    assert "Mine" in text and "Theirs" not in text


def test_the_log_is_read_only_in_the_database(district, member):
    entry = record(member("counselor"), StudentFactory(district=district))

    with tenant_context(district), pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(path="/rewritten/")


def test_empty_log_explains_itself(client, district, admin):
    assert "Nobody has opened a student" in text_of(client.get(log_url(district)))


def test_navigation_shows_the_access_log_to_admins_only(client, district, admin, member):
    assert f'href="/{district.slug}/access-log/"' in text_of(client.get(f"/{district.slug}/"))

    coordinator = member("coordinator")
    client.force_login(coordinator.user)
    assert f'href="/{district.slug}/access-log/"' not in text_of(client.get(f"/{district.slug}/"))


# --- What writes a row, and the request id on it -------------------------------------------


def rows(district) -> list[AccessLog]:
    with tenant_context(district):
        return list(AccessLog.objects.filter(district=district).order_by("at", "pk"))


def uploaded_import(client, district) -> int:
    district_school(district)
    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", first="Luis")]))
    return latest_import(district).pk


def test_each_view_of_a_roster_import_preview_is_logged(client, district, member):
    coordinator = member("coordinator")
    client.force_login(coordinator.user)
    import_id = uploaded_import(client, district)
    url = f"/{district.slug}/students/import/{import_id}/"

    first = client.get(url)
    client.get(url)

    assert first.status_code == 200 and "Luis" in first.content.decode()
    logged = rows(district)
    assert [(e.action, e.object_type, e.object_id, e.student_id) for e in logged] == [
        ("view", "roster_import", str(import_id), None)
    ] * 2
    assert (logged[0].membership_id, logged[0].path) == (coordinator.pk, url)


def test_a_refused_roster_preview_writes_no_row(client, district, member):
    coordinator = member("coordinator")
    client.force_login(coordinator.user)
    import_id = uploaded_import(client, district)
    client.force_login(member("counselor").user)

    assert client.get(f"/{district.slug}/students/import/{import_id}/").status_code == 403
    assert rows(district) == []


def open_student_page(client, district, member, **headers):
    student = StudentFactory(district=district)
    client.force_login(member("counselor").user)
    response = client.get(f"/{district.slug}/students/{student.pk}/", headers=headers)
    assert response.status_code == 200
    return response


def test_a_clients_request_id_is_not_trusted_without_a_proxy(client, district, member):
    response = open_student_page(client, district, member, **{"X-Request-ID": "planted-id-123"})
    open_student_page(client, district, member, **{"X-Request-ID": "planted-id-123"})

    ids = [e.request_id for e in rows(district)]
    assert "planted-id-123" not in ids
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    assert response["X-Request-ID"] == ids[0]


def test_a_trusted_proxys_well_formed_request_id_is_kept(client, district, member, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    open_student_page(client, district, member, **{"X-Request-ID": "proxy-7f3a.b_9"})

    assert [e.request_id for e in rows(district)] == ["proxy-7f3a.b_9"]


@pytest.mark.parametrize(
    "incoming", ["short", "has spaces in it", "x" * 65, "semi;colon;id", "<script>xx"]
)
def test_a_malformed_request_id_is_replaced_even_from_a_proxy(
    client, district, member, settings, incoming
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1

    open_student_page(client, district, member, **{"X-Request-ID": incoming})

    [entry] = rows(district)
    assert re.fullmatch(r"[0-9a-f]{32}", entry.request_id)
