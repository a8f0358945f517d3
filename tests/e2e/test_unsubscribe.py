import pytest
from playwright.sync_api import expect

from partnerships.services.unsubscribe import unsubscribe_token
from tests.e2e.axe import assert_accessible
from tests.factories import ContactFactory

pytestmark = pytest.mark.browser


def test_a_contact_unsubscribes_from_the_link_in_an_email(page, district):
    contact = ContactFactory(district=district, email="director@riverbend.example.org")
    page.goto(f"/p/unsubscribe/{unsubscribe_token(contact)}/")
    assert_accessible(page)

    page.get_by_role("button", name="Unsubscribe").click()

    expect(
        page.get_by_text("We will not send more email to director@riverbend.example.org")
    ).to_be_visible()
    assert_accessible(page)


def test_a_broken_link_explains_what_to_do(page, db):
    page.goto("/p/unsubscribe/not-a-token/")

    assert page.get_by_role("heading", level=1).inner_text() == "This link is not valid"
    assert_accessible(page)
