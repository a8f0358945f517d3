"""Server-rendered SVG charts: bars in proportion to their values, nothing divided by zero,
and coordinates an SVG reader can parse whatever the page's language."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from core.charts import Group, Series, nice_ceiling, stacked_bar_chart
from tests.factories import FundingSourceFactory

SERIES = [Series("a", "Grants", "#0f5e57"), Series("b", "Donations", "#8a5300")]

# Every attribute of the chart's SVG that SVG reads as numbers.
NUMERIC = ("x", "y", "x1", "x2", "y1", "y2", "dy", "width", "height", "viewBox", "stroke-width")
SVG_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def svg_numbers(html: str) -> list[str]:
    """The numeric attributes of every <svg> in the page, each number on its own."""
    numbers = []
    for svg in re.findall(r"<svg\b.*?</svg>", html, re.S):
        for name, value in re.findall(r'\s([\w-]+)="([^"]*)"', svg):
            if name in NUMERIC:
                numbers.extend(value.split(" "))
    return numbers


def test_bars_and_segments_are_in_proportion_to_their_values():
    chart = stacked_bar_chart(
        [Group("2024", {"a": Decimal(100), "b": Decimal(50)}), Group("2025", {"a": 25})],
        SERIES,
    )

    first, second = chart.bars
    grant, donation = first.segments
    assert grant.height == pytest.approx(2 * donation.height, abs=0.1)
    assert second.segments[0].height == pytest.approx(grant.height / 4, abs=0.1)
    # Stacked from the baseline up, under a round top (200 for a tallest bar of 150).
    assert grant.y + grant.height == pytest.approx(chart.baseline, abs=0.1)
    assert donation.y + donation.height == pytest.approx(grant.y, abs=0.1)
    plot_height = chart.baseline - chart.ticks[-1].y
    assert grant.height + donation.height == pytest.approx(plot_height * 150 / 200, abs=0.1)
    assert [tick.label for tick in chart.ticks] == ["0", "50", "100", "150", "200"]
    assert [s.title for s in first.segments] == ["Grants, 2024: 100", "Donations, 2024: 50"]


def test_a_chart_of_zeros_divides_by_nothing_and_draws_no_segment():
    chart = stacked_bar_chart([Group("2024", {"a": 0, "b": Decimal(0)}), Group("2025", {})], SERIES)

    assert [bar.segments for bar in chart.bars] == [[], []]
    assert len(chart.ticks) == 5
    assert stacked_bar_chart([], SERIES) is None


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (Decimal("0.3"), Decimal("0.5")), (7, 10), (150, 200), (124290, 200000), (5e5, 5e5)],
)
def test_the_axis_top_is_a_round_number_at_or_above_the_tallest_bar(value, top):
    assert nice_ceiling(value) == Decimal(str(top))


def test_coordinates_are_written_with_dots_in_a_language_that_writes_commas():
    chart = stacked_bar_chart(
        [Group("2024", {"a": Decimal("1234.5"), "b": Decimal("12.5")}), Group("2025", {"a": 7})],
        SERIES,
        format_value=lambda value: f"${value:,.0f}",
    )

    with translation.override("es"):
        html = render_to_string(
            "components/charts/stacked_bars.html",
            {"chart": chart, "id": "c", "title": "T", "desc": "D"},
        )

    numbers = svg_numbers(html)
    assert numbers and all(SVG_NUMBER.fullmatch(n) for n in numbers), numbers
    assert any("." in n for n in numbers)  # fractions were written: dots, not commas
    assert 'aria-labelledby="c-title c-desc"' in html and "Leyenda" in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_funding_page_draws_its_chart_with_numbers_svg_can_read(
    client, district, member, time_machine, language
):
    time_machine.move_to(datetime.datetime(2025, 9, 15, 16, tzinfo=datetime.UTC), tick=False)
    FundingSourceFactory(
        district=district,
        kind="grant",
        amount=Decimal("120000"),
        start_date=datetime.date(2024, 7, 1),
        end_date=datetime.date(2025, 6, 30),
    )
    FundingSourceFactory(
        district=district,
        kind="donation",
        amount=Decimal("3650"),
        start_date=datetime.date(2025, 1, 1),
        end_date=datetime.date(2025, 12, 31),
    )
    client.force_login(member("viewer").user)

    html = client.get(f"/{district.slug}/funding/", headers={"Accept-Language": language})
    html = html.content.decode()

    heading = {"en": "Funding by kind and year", "es": "Financiamiento por tipo y año"}
    assert f'<title id="funding-chart-title">{heading[language]}</title>' in html
    numbers = svg_numbers(html)
    assert len(re.findall(r"<rect ", html)) >= 3 and numbers
    assert all(SVG_NUMBER.fullmatch(n) for n in numbers), [n for n in numbers if "," in n]
    assert any("." in n for n in numbers)
