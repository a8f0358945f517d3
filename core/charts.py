"""Server-rendered SVG charts: the geometry here, the markup in templates/components/charts/.

DESIGN.md, Screens: charts are server-rendered SVG, so that the same chart serves the page
and the PDF. Python computes positions in SVG user units (plain floats); the component
template writes them with localization off, because SVG reads `12.5`, never the `12,5` a
Spanish page would otherwise write. Everything a person reads (axis labels, a segment's
title) comes formatted from the caller's `format_value`, in the active language.

Every chart is an image with a title and a description (`role="img"`); the page gives the
same figures in a table beside it.

    chart = stacked_bar_chart(groups, series, format_value=money)  # in the view
    {% include "components/charts/stacked_bars.html" with chart=chart id="mix-chart"
       title=chart_title desc=chart_desc %}  {# in the page, on one line #}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# A colour for a series that names none: each 3:1 or more against white (WCAG 1.4.11).
PALETTE = ("#0f5e57", "#1a4f78", "#8a5300", "#6b3fa0", "#a4231c", "#4f5b58")

# The smallest segment drawn (user units): a tiny amount still shows, and keeps its title.
MIN_SEGMENT = 0.5


@dataclass(frozen=True)
class Series:
    """One kind of value stacked in every bar (a legend entry)."""

    key: str
    label: str
    colour: str = ""


@dataclass(frozen=True)
class Group:
    """One bar: its label under the axis and its value per series key."""

    label: str
    values: Mapping[str, Decimal | float | int]
    emphasis: bool = False  # shown in bold (the current year)


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    label_x: float
    segments: list[Segment]
    emphasis: bool


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class StackedBarChart:
    width: int
    height: int
    left: float  # the plot's left edge (the value axis)
    right_edge: float
    baseline: float  # y of the zero line
    label_y: float  # y of the bars' labels
    tick_label_x: float
    bars: list[Bar]
    ticks: list[Tick]
    legend: list[Series] = field(default_factory=list)


def nice_ceiling(value) -> Decimal:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis top); 1 for
    nothing at all, so an empty chart divides by something."""
    value = Decimal(str(value))
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** int(math.floor(math.log10(float(value))))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def stacked_bar_chart(
    groups: Sequence[Group],
    series: Sequence[Series],
    *,
    format_value: Callable[[Decimal], str] = str,
    width: int = 720,
    height: int = 300,
    ticks: int = 4,
) -> StackedBarChart | None:
    """Vertical bars, one per group, each a stack of one segment per series with a value
    above zero, under an axis from zero to a round top with `ticks` steps. None when there
    is no group. Heights are proportional to the values; an all-zero chart draws no segment.
    """
    if not groups:
        return None
    left, right, top, bottom = 84, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    baseline = top + plot_h
    colours = {s.key: s.colour or PALETTE[index % len(PALETTE)] for index, s in enumerate(series)}
    totals = [
        sum((Decimal(str(v)) for v in g.values.values() if v > 0), Decimal(0)) for g in groups
    ]
    top_value = nice_ceiling(max(totals))
    slot = plot_w / len(groups)
    bar_w = min(72.0, slot * 0.6)
    bars = []
    for index, group in enumerate(groups):
        x = left + slot * index + (slot - bar_w) / 2
        y = float(baseline)
        segments = []
        for s in series:
            value = Decimal(str(group.values.get(s.key, 0)))
            if value <= 0:
                continue
            h = float(value / top_value) * plot_h
            y -= h
            segments.append(
                Segment(
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(bar_w, 1),
                    height=round(max(h, MIN_SEGMENT), 1),
                    colour=colours[s.key],
                    title=f"{s.label}, {group.label}: {format_value(value)}",
                )
            )
        bars.append(Bar(group.label, round(x + bar_w / 2, 1), segments, group.emphasis))
    return StackedBarChart(
        width=width,
        height=height,
        left=left,
        right_edge=width - right,
        baseline=baseline,
        label_y=baseline + 24,
        tick_label_x=left - 8,
        bars=bars,
        ticks=[
            Tick(
                y=round(baseline - plot_h * i / ticks, 1), label=format_value(top_value * i / ticks)
            )
            for i in range(ticks + 1)
        ],
        legend=[Series(s.key, s.label, colours[s.key]) for s in series],
    )
