import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_counselor_signs_in_through_the_form_and_sees_the_district_home(page, member):
    counselor = member("counselor")
    page.goto(f"/{counselor.district.slug}/")

    assert "/accounts/login/" in page.url  # sent to sign in first
    assert_accessible(page)
    page.get_by_label("Email").fill(counselor.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    page.wait_for_url(f"**/{counselor.district.slug}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert counselor.district.name in page.locator("header").inner_text()
    assert_accessible(page)


def test_wrong_password_is_refused_with_a_message(page, member):
    counselor = member("counselor")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(counselor.user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign In").click()

    assert "/accounts/login/" in page.url
    expect(page.get_by_text("not correct")).to_be_visible()
    assert_accessible(page)


def test_home_page_reads_in_spanish_after_switching_language(page, member):
    counselor = member("counselor")
    page.goto("/accounts/login/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_label("Correo electrónico").fill(counselor.user.email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"**/{counselor.district.slug}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Le damos la bienvenida")
    assert_accessible(page)
