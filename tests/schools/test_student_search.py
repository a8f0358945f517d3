"""Student search finds what people type: accents and case ignored, in the students list and
the referral form's student picker, never another district's students, through the index."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from config.db import as_owner
from referrals.suggestions import student_matches_query
from schools.models import Student
from schools.selectors import student_search
from schools.tenancy import tenant_context
from tests.factories import SchoolFactory, StudentFactory


@pytest.fixture
def signed_in(client, member):
    def sign_in(role="counselor", **kwargs):
        membership = member(role, **kwargs)
        client.force_login(membership.user)
        return membership

    return sign_in


def listed(client, district, query) -> set[str]:
    response = client.get(f"/{district.slug}/students/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    return {name for name in ("García", "Nguyễn", "Zoë", "Søren", "Garza") if name in html}


def picked(client, district, query) -> list[str]:
    url = reverse("referral_student_search", args=[district.slug])
    response = client.get(url, {"q": query}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return re.findall(r"<strong>([^<]+)</strong>", response.content.decode())


@pytest.fixture
def accented(district):
    school = SchoolFactory(district=district)
    StudentFactory(district=district, school=school, first_name="Lucía", last_name="García")
    StudentFactory(district=district, school=school, first_name="Thị Ánh", last_name="Nguyễn")
    StudentFactory(
        district=district, school=school, first_name="Zoë", last_name="Adams", local_id="ZA-1"
    )
    StudentFactory(district=district, school=school, first_name="Søren", last_name="Holm")
    StudentFactory(district=district, school=school, first_name="Rosa", last_name="Garza")
    return school


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("garcia", {"García"}),
        ("GARCÍA", {"García"}),
        ("garcía lucia", {"García"}),
        ("Garc", {"García"}),
        ("gar", {"García", "Garza"}),
        ("nguyen", {"Nguyễn"}),
        ("thi nguyen", {"Nguyễn"}),
        ("zoe", {"Zoë"}),
        ("ZOË", {"Zoë"}),
        ("za-1", {"Zoë"}),
        ("soren", {"Søren"}),
        ("garcia zoe", set()),
    ],
)
def test_the_students_list_ignores_accents_and_case(
    client, district, signed_in, accented, query, found
):
    signed_in("counselor")
    assert listed(client, district, query) == found


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("lopez", ["García López, Ana"]),
        ("LÓP", ["García López, Ana"]),
        ("garcia lopez", ["García López, Ana"]),
        ("ana lopez", ["García López, Ana"]),
        ("cruz", ["De la Cruz, Luis"]),
        ("jones", ["Smith-Jones, Mary-Ann"]),
        ("ann", ["Smith-Jones, Mary-Ann"]),
        ("la", []),  # a middle word is not a key: only the first and the last
        ("opez", []),  # words are matched from their start
    ],
)
def test_the_last_word_of_a_name_of_several_words_is_found(
    client, district, signed_in, query, found
):
    school = SchoolFactory(district=district)
    StudentFactory(district=district, school=school, first_name="Ana", last_name="García López")
    StudentFactory(district=district, school=school, first_name="Luis", last_name="De la Cruz")
    StudentFactory(district=district, school=school, first_name="Mary-Ann", last_name="Smith-Jones")
    StudentFactory(district=district, school=school, first_name="Rosa", last_name="Lopezz")
    signed_in("counselor")
    picked_names = picked(client, district, query)
    assert [name for name in picked_names if "Lopezz" not in name] == found
    page = client.get(f"/{district.slug}/students/", {"q": query}).content.decode()
    for name in ("García López", "De la Cruz", "Smith-Jones"):
        assert (name in page) == any(name in f for f in found), (query, name)


def test_the_referral_picker_ignores_accents_and_case(client, district, signed_in, accented):
    signed_in("counselor")
    assert picked(client, district, "garcia") == ["García, Lucía"]
    assert picked(client, district, "LUCIA") == ["García, Lucía"]
    assert picked(client, district, "nguyen thi") == ["Nguyễn, Thị Ánh"]
    assert picked(client, district, "zoe") == ["Adams, Zoë"]
    assert picked(client, district, "\u0301") == []  # only an accent: no search


def test_another_districts_students_are_never_found(
    client, district, other_district, signed_in, accented
):
    StudentFactory(district=other_district, first_name="Lucía", last_name="Garcíaotra")
    membership = signed_in("counselor")

    assert listed(client, district, "garcia") == {"García"}
    assert "Garcíaotra" not in client.get(f"/{district.slug}/students/?q=garcia").content.decode()
    assert picked(client, district, "garcia") == ["García, Lucía"]
    with tenant_context(district):
        assert {s.last_name for s in student_search(membership, query="garcia")} == {"García"}
    # Row-level security alone (no district filter in the query): nothing of the other
    # district is visible either.
    with tenant_context(district):
        keys = set(
            Student.objects.filter(last_name_key__startswith="garcia").values_list(
                "last_name", flat=True
            )
        )
    assert keys == {"García"}


SURNAMES = [
    "Adams", "Baker", "Brown", "Chen", "Clark", "Davis", "Díaz", "Evans", "García", "Gómez",
    "Green", "Hall", "Hernández", "Hill", "Jackson", "Johnson", "Jones", "Kim", "King", "Lee",
    "Lewis", "López", "Martin", "Martínez", "Miller", "Moore", "Nguyễn", "Nelson", "Pérez",
    "Patel", "Ramírez", "Reyes", "Robinson", "Rodríguez", "Sánchez", "Scott", "Smith",
    "Taylor", "Thomas", "Thompson", "Torres", "Tran", "Walker", "White", "Williams", "Wilson",
    "Wright", "Young", "Yılmaz", "Zhang",
]  # fmt: skip
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Elif", "Femi", "Grace", "Hugo", "Iris", "José"]


def _many_students(district, school, count: int, prefix: str) -> None:
    rows = [
        Student(
            district=district,
            school=school,
            local_id=f"{prefix}{n:06d}",
            first_name=f"{FIRST[n % len(FIRST)]}{n // 500}",
            last_name=f"{SURNAMES[n % len(SURNAMES)]}",
            grade="09",
        )
        for n in range(count)
    ]
    with tenant_context(district):
        Student.objects.bulk_create(rows, batch_size=1000)


@pytest.mark.django_db(transaction=True)
def test_the_search_uses_the_district_key_indexes(district, other_district, member):
    """At a realistic size, as the runtime role under row-level security, PostgreSQL finds
    the matches through the (district, key) indexes, for the picker and for the list.
    (No planner setting is changed: enable_seqscan stays on.)"""
    membership = member("counselor")
    _many_students(district, SchoolFactory(district=district), 4000, "A")
    _many_students(other_district, SchoolFactory(district=other_district), 4000, "B")
    with as_owner() as owner, owner.cursor() as cursor:  # the runtime role may not ANALYZE
        cursor.execute("ANALYZE schools_student")

    with tenant_context(district, user=membership.user):
        assert connection.settings_dict["USER"] == settings.DATABASE_ROLE_NAMES["runtime"]
        picker = student_matches_query(membership, "garcí")
        picker_plan = picker.explain()
        picker_found = list(picker)
        listing = student_search(membership, query="GARCÍA")
        list_plan = listing[:25].explain()
        list_found = listing.count()

    assert len(picker_found) == 10 and {s.last_name for s in picker_found} == {"García"}
    assert list_found == 80  # 4000 students, 50 surnames, none of the other district
    for plan in (picker_plan, list_plan):
        assert "student_last_key_idx" in plan, plan
        assert "Seq Scan on schools_student" not in plan, plan
