"""The district's closed days: an administrator adds a day or a range of weekdays, removes
one, and reads them by school year; everyone else is refused, another district gets 404."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from schools.models import ClosedDay
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, enable_totp

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 11, 10)  # a Monday, school year 2025-26


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(datetime.datetime(2025, 11, 10, 15, 0, tzinfo=datetime.UTC), tick=False)


def url(district, **query):
    path = reverse("closed_days", args=[district.slug])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def sign_in(client, district, role="admin"):
    membership = MembershipFactory(district=district, role=role)
    if role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def days(district) -> list[tuple[datetime.date, str]]:
    with tenant_context(district):
        return list(
            ClosedDay.objects.filter(district=district).order_by("date").values_list("date", "name")
        )


def add_day(district, day: datetime.date, name=""):
    with tenant_context(district):
        return ClosedDay.objects.create(district=district, date=day, name=name)


def post_day(client, district, date, name=""):
    return client.post(url(district), {"action": "add", "day-date": date, "day-name": name})


def post_range(client, district, first, last, name=""):
    return client.post(
        url(district),
        {"action": "range", "range-first": first, "range-last": last, "range-name": name},
    )


# --- The trio ---------------------------------------------------------------------------------


def test_an_administrator_adds_a_day_and_sees_it_in_its_school_year(client, district):
    sign_in(client, district)

    response = post_day(client, district, "2025-11-27", "Thanksgiving")

    assert response.status_code == 302
    assert response["Location"] == url(district, year=2025)
    assert days(district) == [(datetime.date(2025, 11, 27), "Thanksgiving")]
    html = client.get(response["Location"]).content.decode()
    assert "Thanksgiving" in html and "is now a closed day" in html
    assert "does not move the answer due dates of referrals already sent" in html


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer", "partner"])
def test_other_roles_are_refused(client, district, role):
    sign_in(client, district, role)

    assert client.get(url(district)).status_code == 403
    assert post_day(client, district, "2025-11-27").status_code == 403
    assert days(district) == []


def test_another_districts_administrator_gets_404(client, district, other_district):
    add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    sign_in(client, other_district)

    assert client.get(url(district)).status_code == 404
    assert post_day(client, district, "2025-11-28").status_code == 404
    assert days(district) == [(datetime.date(2025, 11, 27), "Thanksgiving")]


def test_an_administrator_cannot_remove_another_districts_day(client, district, other_district):
    theirs = add_day(other_district, datetime.date(2025, 11, 27), "Their holiday")
    sign_in(client, district)

    response = client.post(url(district), {"action": "remove", "closed_day": theirs.pk})

    assert response.status_code == 302
    assert days(other_district) == [(datetime.date(2025, 11, 27), "Their holiday")]


def test_the_page_lists_only_the_districts_own_days(client, district, other_district):
    add_day(other_district, datetime.date(2025, 11, 27), "Their holiday")
    sign_in(client, district)

    html = client.get(url(district)).content.decode()

    assert "Their holiday" not in html
    assert "No closed days in this school year" in html


# --- Adding, removing, listing -----------------------------------------------------------------


def test_a_range_adds_its_weekdays_only_and_keeps_the_days_already_listed(client, district):
    add_day(district, datetime.date(2025, 12, 24), "Christmas Eve")
    sign_in(client, district)

    # Monday Dec 22 to Friday Jan 2: ten weekdays, two weekend days.
    response = post_range(client, district, "2025-12-22", "2026-01-02", "Winter break")

    assert response.status_code == 302
    added = days(district)
    assert [day for day, _name in added] == [
        datetime.date(2025, 12, 22),
        datetime.date(2025, 12, 23),
        datetime.date(2025, 12, 24),
        datetime.date(2025, 12, 25),
        datetime.date(2025, 12, 26),
        datetime.date(2025, 12, 29),
        datetime.date(2025, 12, 30),
        datetime.date(2025, 12, 31),
        datetime.date(2026, 1, 1),
        datetime.date(2026, 1, 2),
    ]
    assert dict(added)[datetime.date(2025, 12, 24)] == "Christmas Eve"
    assert dict(added)[datetime.date(2025, 12, 29)] == "Winter break"
    message = client.get(response["Location"]).content.decode()
    assert "9 closed days were added." in message
    assert "1 was already on the list" in message
    assert "2 weekend days were left out." in message


def test_a_day_is_removed(client, district):
    day = add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    sign_in(client, district)

    response = client.post(url(district), {"action": "remove", "closed_day": day.pk})

    assert response.status_code == 302
    assert days(district) == []
    again = client.post(url(district), {"action": "remove", "closed_day": day.pk}, follow=True)
    assert "That day was not on the list any more." in again.content.decode()


def test_days_are_shown_by_school_year_coming_up_then_past(client, district):
    add_day(district, datetime.date(2025, 9, 1), "Labor Day")
    add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    add_day(district, datetime.date(2024, 11, 28), "Thanksgiving 2024")
    sign_in(client, district)

    response = client.get(url(district))
    assert response.context["year"] == 2025
    assert [d.name for d in response.context["upcoming"]] == ["Thanksgiving"]
    assert [d.name for d in response.context["past"]] == ["Labor Day"]
    assert [y["year"] for y in response.context["years"]] == [2026, 2025, 2024]

    older = client.get(url(district, year=2024))
    assert [d.name for d in older.context["past"]] == ["Thanksgiving 2024"]
    assert older.context["upcoming"] == []
    for garbage in ("abc", "-1", "99999999999999999999", "1e9"):
        assert client.get(url(district, year=garbage)).context["year"] == 2025


def test_the_list_costs_the_same_queries_with_many_days(
    client, district, django_assert_max_num_queries
):
    sign_in(client, district)
    client.get(url(district))  # warm the session

    with django_assert_max_num_queries(25) as few:
        client.get(url(district))
    for n in range(60):
        add_day(district, datetime.date(2025, 8, 1) + datetime.timedelta(days=n * 5), f"Day {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(district))
    assert len(response.context["upcoming"]) + len(response.context["past"]) > 40


# --- Bad input: errors next to the field, what was typed kept ----------------------------------


def field_errors(response, form, field) -> list[str]:
    return list(response.context[form].errors.get(field, []))


@pytest.mark.parametrize(
    "value", ["2025-02-30", "not a date", "11/27/2025", "", "9999-99-99", "x" * 10_000, "\x00"]
)
def test_a_bad_date_is_an_error_next_to_the_field(client, district, value):
    sign_in(client, district)

    response = post_day(client, district, value, "Thanksgiving")

    assert response.status_code == 200
    assert field_errors(response, "day_form", "date")
    assert 'id="id_day-date_error"' in response.content.decode()
    assert response.context["day_form"]["name"].value() == "Thanksgiving"  # kept
    assert days(district) == []


def test_a_weekend_day_and_a_day_already_listed_are_refused(client, district):
    add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    sign_in(client, district)

    saturday = post_day(client, district, "2025-11-29")
    twice = post_day(client, district, "2025-11-27")

    assert "weekend" in field_errors(saturday, "day_form", "date")[0]
    assert "already a closed day" in field_errors(twice, "day_form", "date")[0]
    assert days(district) == [(datetime.date(2025, 11, 27), "Thanksgiving")]


def test_a_date_too_far_away_is_refused(client, district):
    sign_in(client, district)

    response = post_day(client, district, "2040-01-02")

    assert "ten years before and three years after" in field_errors(response, "day_form", "date")[0]


def test_a_name_too_long_is_an_error_next_to_the_name(client, district):
    sign_in(client, district)

    response = post_day(client, district, "2025-11-27", "x" * 101)

    assert field_errors(response, "day_form", "name")
    assert days(district) == []


def test_a_range_backwards_is_refused_on_the_last_day(client, district):
    sign_in(client, district)

    response = post_range(client, district, "2026-01-02", "2025-12-22", "Winter break")

    assert response.status_code == 200
    assert "comes before the first day" in field_errors(response, "range_form", "last")[0]
    assert 'id="id_range-last_error"' in response.content.decode()
    assert response.context["range_form"]["name"].value() == "Winter break"
    assert days(district) == []


def test_a_range_over_366_days_is_refused(client, district):
    sign_in(client, district)

    response = post_range(client, district, "2025-08-01", "2026-08-02")

    assert "at most 366 days" in field_errors(response, "range_form", "last")[0]
    assert days(district) == []
    exactly = post_range(client, district, "2025-08-01", "2026-08-01")
    assert exactly.status_code == 302


def test_a_range_of_weekend_days_only_is_refused(client, district):
    sign_in(client, district)

    response = post_range(client, district, "2025-11-29", "2025-11-30")

    assert "weekend" in field_errors(response, "range_form", "last")[0]


def test_a_range_with_a_bad_date_is_an_error_next_to_that_date(client, district):
    sign_in(client, district)

    response = post_range(client, district, "2025-13-01", "2025-12-24")

    assert field_errors(response, "range_form", "first")
    assert not field_errors(response, "range_form", "last")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "nonsense"},
        {"action": "remove"},
        {"action": "remove", "closed_day": "abc"},
        {"action": "remove", "closed_day": "-1"},
        {"action": "remove", "closed_day": "99999999999999999999999"},
        {"action": ["add", "range"]},
    ],
)
def test_garbage_changes_nothing_and_never_fails(client, district, data):
    add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    sign_in(client, district)

    response = client.post(url(district), data)

    assert response.status_code in (200, 302)
    assert days(district) == [(datetime.date(2025, 11, 27), "Thanksgiving")]


# --- What the response time uses ----------------------------------------------------------------


def test_a_closed_day_counts_in_the_referral_response_time(district):
    from referrals.services.loop import closed_days

    add_day(district, datetime.date(2025, 11, 27), "Thanksgiving")
    with tenant_context(district):
        found = closed_days(district.pk, datetime.date(2025, 11, 1), datetime.date(2025, 11, 30))

    assert found == frozenset({datetime.date(2025, 11, 27)})
