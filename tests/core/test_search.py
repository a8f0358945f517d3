"""core.search: folding and spelling in Python, and the same folding in SQL (the student name
keys PostgreSQL generates must agree with the words Python folds, or a search misses)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value

from core.search import (
    FOLD_TABLE,
    Fold,
    fold,
    name_words,
    normalize,
    prefix_range,
    search_words,
    searchable,
)
from schools.models import Student
from schools.tenancy import tenant_context
from tests.factories import StudentFactory

TRICKY = [
    "García",
    "GARCÍA",
    "Muñoz",
    "NGUYỄN Thị Ánh",
    "Đặng",
    "Zoë",
    "Chloé",
    "François",
    "Søren",
    "Øyvind",
    "Straße",
    "STRASSE",
    "Ærø",
    "Œuvre",
    "Łukasz",
    "Dvořák",
    "İlker",
    "ǅemal",
    "Þórður",
    "Ἀλέξανδρος",
    "Σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "Ёлка",
    "ЙОРК",
    "e\u0301le\u0300ve",  # decomposed accents (NFD input)
    "O'Brien-Smith",
    "李小龍",
    "Ana María",
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("García", "garcia"),
        ("GARCÍA", "garcia"),
        ("NGUYỄN", "nguyen"),
        ("Zoë", "zoe"),
        ("Søren", "soren"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("Łukasz", "lukasz"),
        ("Đặng", "dang"),
        ("e\u0301le\u0300ve", "eleve"),
        ("ΣΊΣΥΦΟΣ", "σισυφοσ"),
        ("O'Brien", "o'brien"),
        ("", ""),
    ],
)
def test_fold_strips_accents_and_case(text, folded):
    assert fold(text) == folded


def test_every_fold_is_final():
    """Folding a folded letter changes nothing: the SQL (replace, then translate, then
    lower) can apply the table in one pass, in any order."""
    for char, folded in FOLD_TABLE.items():
        assert fold(folded) == folded, char
        assert fold(char) == folded


@pytest.mark.parametrize(
    ("british", "us"),
    [
        ("Counselling", "counseling"),
        ("counsellor", "counselor"),
        ("programme", "program"),
        ("Programmes", "programs"),
        ("centre", "center"),
        ("organisation", "organization"),
        ("behaviour", "behavior"),
        ("neighbourhood", "neighborhood"),
    ],
)
def test_british_spellings_become_us(british, us):
    assert normalize(british) == us
    assert normalize(us) == us


def test_spellings_are_whole_words_only():
    assert normalize("Programmers") == "programmers"  # not "programrs"
    assert normalize("Centre-ville") == "center-ville"
    assert normalize("the Centre's programme") == "the center's program"


def test_search_words_and_stored_text_split_alike():
    stored = searchable("Harbor Counselling Centre", "After-school programmes, García Hall")
    assert stored == "harbor counseling center after school programs garcia hall"
    assert search_words("  COUNSELLING, after-school!  ") == ["counseling", "after", "school"]
    assert search_words("\x00") == []
    assert len(search_words("a " * 20)) == 8


def test_name_words_split_at_spaces_only():
    assert name_words("Z-99  O'Brien García") == ["z-99", "o'brien", "garcia"]
    assert name_words("\u0301") == []  # nothing left after folding: no word
    assert name_words("x" * 300) == ["x" * 100]


def test_prefix_range_covers_the_folded_prefix():
    low, high = prefix_range("GARCÍ")
    assert (low, high) == ("garci", "garcj")
    assert low <= fold("García López") < high
    assert not low <= "garcj" < high


def _fold_in_sql(texts: list[str]) -> list[str]:
    sql, params = Fold(Value("")).template, []
    with connection.cursor() as cursor:
        for text in texts:
            cursor.execute(
                "SELECT " + sql % {"expressions": "%s::text", "function": ""},
                [text],
            )
            params.append(cursor.fetchone()[0])
    return params


@pytest.mark.django_db
def test_the_sql_fold_agrees_with_python_on_tricky_words():
    assert _fold_in_sql(TRICKY) == [fold(text) for text in TRICKY]


@pytest.mark.django_db
def test_the_sql_fold_agrees_with_python_on_every_letter_of_the_table():
    letters = "".join(FOLD_TABLE)
    assert _fold_in_sql([letters]) == [fold(letters)]


def test_the_generated_keys_agree_with_python(district):
    """The columns PostgreSQL generates (Student.*_key) hold what fold() gives."""
    made = [
        StudentFactory(
            district=district, first_name=name, last_name=name, preferred_name=name, local_id=name
        )
        for name in TRICKY
    ]
    with tenant_context(district):
        keys = {
            row[0]: row[1:]
            for row in Student.objects.filter(pk__in=[s.pk for s in made]).values_list(
                "local_id", "first_name_key", "last_name_key", "preferred_name_key", "local_id_key"
            )
        }
    for name in TRICKY:
        assert keys[name] == (fold(name),) * 4, name
