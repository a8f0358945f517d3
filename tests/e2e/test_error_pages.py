"""Error pages in the browser: readable, accessible, and they say what to do next."""

from __future__ import annotations

import pytest

from tests.e2e.axe import assert_accessible
from tests.e2e.helpers import shot, signed_in_page

pytestmark = pytest.mark.browser


def test_the_404_page_is_accessible_and_leads_home(browser, live_server, district, member):
    counselor = member("counselor")
    page = signed_in_page(browser, live_server.url, counselor.user)

    response = page.goto(f"/{district.slug}/students/987654/")

    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    shot(page, "error-404")
    assert_accessible(page)
    page.get_by_role("link", name=f"Go to the {district.name} home page").click()
    page.wait_for_url(f"**/{district.slug}/")


def test_the_403_page_is_accessible_and_names_the_role(browser, live_server, district, member):
    counselor = member("counselor")
    page = signed_in_page(browser, live_server.url, counselor.user)

    response = page.goto(f"/{district.slug}/students/import/")

    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "You cannot do this here"
    assert "This needs the role: Coordinator or Administrator." in page.inner_text("main")
    shot(page, "error-403")
    assert_accessible(page)


def _database_gone(request):
    from django.db import OperationalError

    raise OperationalError("connection refused")


class DatabaseGoneURLs:
    from django.urls import path

    urlpatterns = [path("database-gone/", _database_gone)]
    handler500 = "config.views.server_error"  # the project's, as config/urls.py names it


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_503_page_is_accessible_and_says_to_wait(browser, live_server, settings, language):
    settings.ROOT_URLCONF = DatabaseGoneURLs
    context = browser.new_context(base_url=live_server.url, locale=language)
    page = context.new_page()

    response = page.goto("/database-gone/")

    assert response.status == 503
    assert response.headers["retry-after"] == "30"
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == (
        "Trellis is briefly unavailable"
        if language == "en"
        else "Trellis no está disponible por un momento"
    )
    shot(page, f"error-503-{language}")
    assert_accessible(page)
    context.close()
