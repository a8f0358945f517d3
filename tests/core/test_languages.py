"""Languages as ISO 639 codes (core/languages.py), their names in the reader's language, the
template filters, and the migrations that turned the free text stored before into codes."""

from __future__ import annotations

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import translation

from core.languages import (
    COMMON,
    base_code,
    bcp47,
    is_known,
    language_choices,
    language_name,
    normalize_code,
    parse_language,
    validate_language_code,
)

schools_0011 = importlib.import_module("schools.migrations.0011_family_language_codes")
partnerships_0009 = importlib.import_module("partnerships.migrations.0009_languages_as_codes")


# --- Codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("es", "es"),
        (" ES ", "es"),
        ("hmn", "hmn"),
        ("es-MX", "es-mx"),
        ("", ""),
        ("zh_Hant", "zh-hant"),
    ],
)
def test_codes_are_normalised_to_the_iso_639_shape(value, expected):
    assert normalize_code(value) == expected


@pytest.mark.parametrize("value", ["Spanish", "e", "español", "es-", "es-MX-extra-long", "12"])
def test_anything_else_is_not_the_shape_of_a_code(value):
    assert normalize_code(value) is None


@pytest.mark.parametrize("code", ["es", "es-mx", "hmn", "prs", "kar", "ase", "zh-hant", "quc"])
def test_languages_families_speak_are_known(code):
    assert is_known(code)


@pytest.mark.parametrize("code", ["xx", "qqq", "und", "mul", "zxx", "mis", ""])
def test_made_up_codes_and_codes_for_no_language_are_not_known(code):
    assert not is_known(code)


def test_every_common_language_is_known_and_named():
    for code in COMMON:
        assert is_known(code), code
        assert language_name(code, "en") != code, code
        assert language_name(code, "es") != code, code


def test_the_validator_refuses_names_and_unknown_codes_and_accepts_codes():
    validate_language_code("es-mx")
    validate_language_code("")
    for value in ("Spanish", "ES", "xx"):
        with pytest.raises(ValidationError) as refused:
            validate_language_code(value)
        assert "Choose a language from the list" in refused.value.messages[0]


def test_base_codes_and_bcp47_spelling():
    assert base_code("es-mx") == "es" and base_code("hmn") == "hmn" and base_code("") == ""
    assert bcp47("es-mx") == "es-MX" and bcp47("zh-hant") == "zh-Hant" and bcp47("vi") == "vi"
    assert bcp47("es-419") == "es-419"


# --- Names in the reader's language -----------------------------------------------------------


def test_names_are_in_the_readers_language():
    with translation.override("en"):
        assert language_name("es") == "Spanish"
        assert language_name("es-mx") == "Spanish (Mexico)"
    with translation.override("es"):
        assert language_name("es") == "Español"
        assert language_name("en") == "Inglés"
        assert language_name("vi") == "Vietnamita"
    assert language_name("zh-hant", "en") == "Chinese (Traditional)"
    assert language_name("prs", "en") == "Dari"  # CLDR does not name it: Trellis does


def test_choices_put_english_and_spanish_first_then_the_rest_by_name():
    choices = language_choices("en")
    codes = [code for code, _name in choices]
    assert codes[:2] == ["en", "es"]
    names = [name for _code, name in choices[2:]]
    assert names == sorted(names, key=str.casefold)
    assert len(codes) == len(set(codes)) and "gsw" not in codes
    assert ("gsw", "Swiss German") in language_choices("en", include=("gsw", "es"))
    assert dict(language_choices("es"))["de"] == "Alemán"


def test_template_filters_name_codes_in_the_readers_language():
    template = Template("{% load languages %}{{ code|language_name }} / {{ codes|language_names }}")
    context = Context({"code": "es", "codes": ["en", "es-mx", "vi"]})
    with translation.override("en"):
        assert template.render(context) == "Spanish / English, Spanish (Mexico), Vietnamese"
    with translation.override("es"):
        assert template.render(context) == "Español / Inglés, Español (México), Vietnamita"


# --- Reading what people write ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Spanish", "es"),  # English
        ("spanish ", "es"),
        ("Español", "es"),  # the language's own name
        ("espanol", "es"),  # without its accent
        ("Inglés", "en"),  # Spanish
        ("vietnamita", "vi"),
        ("Tiếng Việt", "vi"),
        ("العربية", "ar"),
        ("Farsi", "fa"),  # what people write, not what CLDR writes
        ("Haitian Creole", "ht"),
        ("Kreyòl", "ht"),
        ("Mandarin", "cmn"),
        ("K'iche'", "quc"),  # CLDR writes Kʼicheʼ
        ("Dari", "prs"),
        ("es", "es"),  # codes
        ("ES", "es"),
        ("es_MX", "es-mx"),
        ("Spanish (Mexico)", "es-mx"),  # as language_name writes it
        ("Español (México)", "es-mx"),
        ("Chinese (Traditional)", "zh-hant"),
    ],
)
def test_names_and_codes_are_read_as_codes(text, code):
    assert parse_language(text) == code


@pytest.mark.parametrize(
    "text", ["", "Other", "Elvish", "Unknown language", "und", "xx", "Spanish (Narnia)"]
)
def test_text_that_names_no_language_is_none(text):
    assert parse_language(text) is None


@pytest.mark.parametrize("code", ["en", "es", "es-mx", "vi", "zh-hant", "hmn", "prs", "quc"])
def test_an_english_name_reads_back_as_its_code(code):
    """What the migrations write backwards reads forwards again as the same code."""
    assert parse_language(language_name(code, "en")) == code


# --- The migrations' conversions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spanish", ("es", "")),
        ("  Español ", ("es", "")),
        ("vietnamita", ("vi", "")),
        ("es_MX", ("es-mx", "")),
        ("Haitian  Creole", ("ht", "")),
        ("", ("", "")),
        ("Other", ("", "Other")),  # kept for a person to correct, not dropped
        ("Mixteco Alto", ("", "Mixteco Alto")),
    ],
)
def test_the_student_migration_reads_family_languages(text, expected):
    assert schools_0011.family_language_code(text) == expected


def test_the_student_migration_backwards_gives_english_names_or_the_kept_text():
    assert schools_0011.family_language_text("es", "") == "Spanish"
    assert schools_0011.family_language_text("es-mx", "") == "Spanish (Mexico)"
    assert schools_0011.family_language_text("", "Other") == "Other"
    assert schools_0011.family_language_text("", "") == ""


def test_the_directory_migration_reads_partner_languages_and_keeps_the_rest():
    codes, unknown = partnerships_0009.languages_to_codes(
        ["English", "Español", "spanish", "Farsi", "Elvish", "", "Tiếng Việt", "Elvish"]
    )
    assert codes == ["en", "es", "fa", "vi"]
    assert unknown == ["Elvish"]


def test_the_directory_migration_reads_contact_languages():
    assert partnerships_0009.contact_language_to_code("Spanish") == ("es", "")
    assert partnerships_0009.contact_language_to_code("es-MX") == ("es-mx", "")
    assert partnerships_0009.contact_language_to_code("Dothraki") == ("", "Dothraki")
    assert partnerships_0009.contact_language_to_code("") == ("", "")


def test_unrecognized_names_go_to_the_description_and_come_back_out_of_it():
    description = partnerships_0009.with_unrecognized(
        "Therapists for teens.\n", ["Elvish", "Martian"], [("Jane Doe", "Dothraki")]
    )

    assert description == (
        "Therapists for teens.\n\n"
        "Languages not recognized on migration: Elvish, Martian\n"
        "Preferred language of Jane Doe not recognized on migration: Dothraki"
    )
    assert partnerships_0009.without_unrecognized(description) == (
        "Therapists for teens.",
        ["Elvish", "Martian"],
        {"Jane Doe": "Dothraki"},
    )
    assert partnerships_0009.with_unrecognized("", [], []) == ""
    assert partnerships_0009.with_unrecognized("", ["Elvish"], []) == (
        "Languages not recognized on migration: Elvish"
    )
    assert partnerships_0009.without_unrecognized("Just a description.") == (
        "Just a description.",
        [],
        {},
    )


# --- Mail in the family's or contact's language -------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "mail"),
    [
        ("es", "es"),
        ("es-mx", "es"),
        ("Spanish", "es"),  # written before languages were codes
        ("Español", "es"),
        ("en-us", "en"),
        ("vi", "en"),  # Trellis does not write Vietnamese: the district's language
        ("", "en"),
    ],
)
def test_mail_goes_in_spanish_for_every_way_spanish_is_stored(stored, mail):
    from types import SimpleNamespace

    from core.mail import recipient_language

    district = SimpleNamespace(default_language="en")
    assert recipient_language(SimpleNamespace(preferred_language=stored), district) == mail
