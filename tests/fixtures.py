"""Fixtures every suite can use: two districts, people in each role, a browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.factories import DistrictFactory, MembershipFactory, SchoolFactory

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def district(db):
    district = DistrictFactory(slug="north", name="North Valley Unified")
    SchoolFactory(district=district, name="North High School")
    return district


@pytest.fixture
def other_district(db):
    """The second district every feature is tested against (expect 404 from it)."""
    return DistrictFactory(slug="south", name="South Coast Unified")


@pytest.fixture
def member(district):
    """Factory: member("coordinator") makes a person with that role in `district`."""

    def make(role="counselor", *, in_district=None, **kwargs):
        return MembershipFactory(district=in_district or district, role=role, **kwargs)

    return make


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright; skipped with a reason if absent.

    With TRELLIS_REQUIRE_BROWSER=1 (CI) a missing browser fails instead of skipping.
    """
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("TRELLIS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    # Reduced motion: no smooth scrolling (trellis.css), so a click lands where Playwright
    # scrolled to, not on whatever slides under it while the page still scrolls.
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        reduced_motion="reduce",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def count_queries(db):
    """count_queries(fn) -> how many SQL statements fn() ran (savepoints excluded)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fn):
        with CaptureQueriesContext(connection) as context:
            fn()
        return sum(
            1 for q in context.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        )

    return count


@pytest.fixture
def broker():
    """Publish to the real broker (the suite runs tasks eagerly otherwise)."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
