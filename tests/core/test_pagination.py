"""core.pagination: the capped count and keyset pages, on a real table (students)."""

from __future__ import annotations

import pytest

from core.pagination import capped_count, cursor_after, keyset_page
from schools.models import Student
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, StudentFactory


@pytest.fixture
def students(district):
    school = SchoolFactory(district=district)
    made = [StudentFactory(district=district, school=school, last_name="Same") for _ in range(9)]
    with tenant_context(district):
        yield Student.objects.for_district(district).order_by("last_name", "first_name", "pk")
    assert made


def test_capped_count_stops_at_the_cap(students):
    assert capped_count(students, 20) == (9, False)
    assert capped_count(students, 9) == (9, False)
    assert capped_count(students, 8) == (8, True)


def test_a_cursor_made_deep_in_the_list_opens_the_page_after_that_row(students):
    order = list(students.values_list("pk", flat=True))

    page = keyset_page(
        students, name="t", cursor=cursor_after(students, name="t", position=6), per_page=2
    )

    assert [s.pk for s in page] == order[6:8]
    assert (page.start_index, page.end_index) == (7, 8)
    assert page.has_previous and page.has_next


def test_a_cursor_of_another_list_name_is_the_first_page(students):
    cursor = cursor_after(students, name="other", position=6)

    page = keyset_page(students, name="t", cursor=cursor, per_page=2)

    assert page.start_index == 1 and not page.has_previous


def test_an_order_in_two_directions_is_refused(students):
    with pytest.raises(ValueError):
        keyset_page(students.order_by("last_name", "-pk"), name="t")
