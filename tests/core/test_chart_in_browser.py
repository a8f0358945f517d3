"""The funding chart as a browser draws it for a Spanish reader: every bar has a size.

A coordinate written "260,0" is not an error anywhere: the browser quietly draws nothing.
Only asking the browser for each bar's box shows the chart is there.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page
from tests.factories import FundingSourceFactory, MembershipFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_funding_chart_has_bars_in_the_browser(
    browser, live_server, transactional_db, district, language
):
    today = timezone.localdate()
    for kind, amount, days in (("grant", "120000", 500), ("donation", "3650", 200)):
        FundingSourceFactory(
            district=district,
            kind=kind,
            amount=Decimal(amount),
            start_date=today - datetime.timedelta(days=days),
            end_date=today + datetime.timedelta(days=days),
        )
    viewer = MembershipFactory(district=district, role="viewer")
    page = signed_in_page(browser, live_server.url, viewer.user)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )

    page.goto(f"/{district.slug}/funding/")

    assert page.locator("html").get_attribute("lang") == language
    name = {"es": "Financiamiento por tipo y año", "en": "Funding by kind and year"}[language]
    chart = page.get_by_role("img", name=name)
    assert chart.is_visible()
    boxes = chart.locator("rect").evaluate_all(
        "rects => rects.map(r => { const b = r.getBoundingClientRect();"
        " return [b.width, b.height]; })"
    )
    assert len(boxes) >= 3
    assert all(width > 1 and height > 0 for width, height in boxes), boxes
    assert max(height for _width, height in boxes) > 20
    shot(page, f"funding-chart-{language}")
    assert_accessible(page)
