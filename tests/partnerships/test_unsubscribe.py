"""Partner contacts (no account) can stop all mail from Trellis with the link in it."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partnerships.services.directory import listing_verification_send
from partnerships.services.unsubscribe import unsubscribe_token
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, MembershipFactory


@pytest.fixture
def contact(district):
    return ContactFactory(district=district, email="director@riverbend.example.org")


def send_listing_link(district, contact, capture):
    coordinator = MembershipFactory(district=district, role="coordinator")
    with tenant_context(district), capture(execute=True):
        listing_verification_send(
            by=coordinator, partner=contact.partner, contact=contact, base_url="http://testserver"
        )
    return coordinator


def unsubscribed_at(district, contact):
    with tenant_context(district):
        contact.refresh_from_db()
    return contact.unsubscribed_at


def test_the_listing_email_carries_a_link_that_stops_all_mail(
    client, district, contact, django_capture_on_commit_callbacks
):
    coordinator = send_listing_link(district, contact, django_capture_on_commit_callbacks)
    path = f"/p/unsubscribe/{unsubscribe_token(contact)}/"
    assert f"http://testserver{path}" in mail.outbox[0].body
    assert path in mail.outbox[0].alternatives[0][0]

    page = client.get(path)
    assert page.status_code == 200 and unsubscribed_at(district, contact) is None
    assert client.post(path).status_code == 200
    first = unsubscribed_at(district, contact)
    assert first is not None
    client.post(path)  # twice: the first time is kept
    assert unsubscribed_at(district, contact) == first

    with pytest.raises(ValidationError), tenant_context(district):
        listing_verification_send(
            by=coordinator, partner=contact.partner, contact=contact, base_url="http://testserver"
        )


@pytest.mark.parametrize("token", ["garbage", "eyJkIjoxfQ:1abc:xyz"])
def test_a_tampered_link_says_it_is_not_valid(client, db, token):
    response = client.post(f"/p/unsubscribe/{token}/")

    assert response.status_code == 404
    assert b"not valid" in response.content


def test_a_link_for_another_districts_contact_cannot_be_forged(client, district, other_district):
    from django.core import signing

    victim = ContactFactory(district=other_district)
    forged = signing.dumps({"d": district.pk, "c": victim.pk}, salt="wrong-salt")

    assert client.post(f"/p/unsubscribe/{forged}/").status_code == 404
    assert unsubscribed_at(other_district, victim) is None
