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
