"""One date and time style across the product (config/formats): no "p.m..", no "Sept."."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

WHEN = datetime(2026, 9, 4, 15, 0)
DAY = date(2026, 9, 4)
NAMED = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "TIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
}


def render(source: str, language: str) -> str:
    with translation.override(language):
        return Template(source).render(Context({"when": WHEN, "day": DAY}))


@pytest.mark.parametrize(
    ("source", "english", "spanish"),
    [
        ('{{ day|date:"DATE_FORMAT" }}', "September 4, 2026", "4 de septiembre de 2026"),
        ("{{ day|date }}", "September 4, 2026", "4 de septiembre de 2026"),
        ('{{ when|date:"DATETIME_FORMAT" }}', "September 4, 2026, 3:00 PM", None),
        ('{{ when|time:"TIME_FORMAT" }}', "3:00 PM", "15:00"),
        ('{{ day|date:"SHORT_DATE_FORMAT" }}', "09/04/2026", "04/09/2026"),
    ],
)
def test_dates_and_times_read_the_same_everywhere(source, english, spanish):
    assert render(source, "en") == english
    if spanish:
        assert render(source, "es") == spanish


def test_a_sentence_ending_in_a_time_ends_in_one_period():
    sentence = render('We sent it at {{ when|time:"TIME_FORMAT" }}.', "en")

    assert sentence == "We sent it at 3:00 PM."
    assert ".." not in render('Sent {{ when|date:"DATETIME_FORMAT" }}.', "en")


def test_templates_name_a_format_instead_of_writing_a_pattern():
    """A template writing its own pattern ("N j, Y", "P") would bring back a second style."""
    found = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for pattern in re.findall(r'\|(?:date|time):"([^"]*)"', path.read_text()):
            # "T" (the zone's abbreviation) and "l" (the weekday) are words, not styles.
            if pattern not in NAMED and pattern not in {"T", "l"}:
                found.append(f"{path.name}: {pattern}")

    assert found == []
