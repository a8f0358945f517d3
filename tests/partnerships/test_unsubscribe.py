"""Partner contacts (no account) can stop all mail from Trellis with the link in it."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from partnerships.services.directory import listing_verification_send
from partnerships.services.unsubscribe import contact_for_token
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, MembershipFactory


@pytest.fixture
def contact(district):
    return ContactFactory(district=district, email="director@riverbend.example.org")


def send_listing_link(district, contact, capture):
    coordinator = MembershipFactory(district=district, role="coordinator")
    with tenant_context(district), capture(execute=True):
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)
    return coordinator


def names(link: str) -> tuple[int, int]:
    """(district id, contact id) that an unsubscribe link names."""
    return contact_for_token(link.rstrip("/").rsplit("/", 1)[1])


def unsubscribed_at(district, contact):
    with tenant_context(district):
        contact.refresh_from_db()
    return contact.unsubscribed_at


def test_the_listing_email_carries_a_link_that_stops_all_mail(
    client, district, contact, django_capture_on_commit_callbacks
):
    coordinator = send_listing_link(district, contact, django_capture_on_commit_callbacks)
    # (The token carries the second it was made: read it from the mail, then check it.)
    path = re.search(r"http://testserver(/p/unsubscribe/[^/\s]+/)", mail.outbox[0].body).group(1)
    assert names(path) == (district.pk, contact.pk)
    assert path in mail.outbox[0].alternatives[0][0]

    page = client.get(path)
    assert page.status_code == 200 and unsubscribed_at(district, contact) is None
    assert client.post(path).status_code == 200
    first = unsubscribed_at(district, contact)
    assert first is not None
    client.post(path)  # twice: the first time is kept
    assert unsubscribed_at(district, contact) == first

    with pytest.raises(ValidationError), tenant_context(district):
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)


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


@pytest.mark.parametrize(
    "payload", [{"d": 2**70}, {"c": 2**70}, {"c": 2**63}, {"d": -1}, {"c": 0}, {"c": "7"}]
)
def test_a_signed_link_carrying_an_out_of_range_value_is_not_valid(
    client, district, contact, payload
):
    from django.core import signing

    from partnerships.services.unsubscribe import _SALT

    claims = {"d": district.pk, "c": contact.pk, **payload}
    path = f"/p/unsubscribe/{signing.dumps(claims, salt=_SALT, compress=True)}/"

    for response in (client.get(path), client.post(path)):
        assert response.status_code == 404 and b"not valid" in response.content
    assert unsubscribed_at(district, contact) is None


# --- One-click unsubscribe headers (RFC 8058) -------------------------------------------------


def one_click_link(message) -> str:
    """The List-Unsubscribe link of a sent message, after checking both RFC 8058 headers."""
    sent = message.message()  # as the mail server gets it
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    value = str(sent["List-Unsubscribe"])
    assert value.startswith("<http") and value.endswith(">")
    return value[1:-1]


def mail_to(address):
    return next(m for m in mail.outbox if m.to == [address])


def test_one_click_post_from_the_mail_provider_unsubscribes_without_sign_in_or_csrf(
    district, contact, django_capture_on_commit_callbacks, settings
):
    from django.test import Client

    settings.SITE_URL = "https://trellis.example.org"
    coordinator = MembershipFactory(district=district, role="coordinator")
    with tenant_context(district), django_capture_on_commit_callbacks(execute=True):
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)
    link = one_click_link(mail_to(contact.email))
    assert link.startswith("https://trellis.example.org/p/unsubscribe/")
    assert names(link) == (district.pk, contact.pk)

    provider = Client(enforce_csrf_checks=True)  # no session, no CSRF cookie: a mail provider
    response = provider.post(
        link.removeprefix("https://trellis.example.org"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )

    assert response.status_code == 200
    assert unsubscribed_at(district, contact) is not None


def test_renewal_notices_to_a_contact_carry_their_own_one_click_link(
    district, time_machine, django_capture_on_commit_callbacks, settings
):
    import datetime

    from partnerships.models import MOUStatus
    from partnerships.tasks import mou_renewal_sweep
    from tests.factories import MOUFactory, PartnerFactory, UserFactory

    settings.SITE_URL = "https://trellis.example.org"
    partner = PartnerFactory(district=district)
    director = ContactFactory(
        district=district, partner=partner, email="dir@p.example.org", roles=["leadership"]
    )
    deputy = ContactFactory(
        district=district, partner=partner, email="dep@p.example.org", roles=["leadership"]
    )
    MembershipFactory(
        district=district, role="coordinator", user=UserFactory(email="ana@north.example.org")
    )
    end = datetime.date(2026, 6, 30)
    MOUFactory(district=district, partner=partner, status=MOUStatus.ACTIVE, end_date=end)
    time_machine.move_to(
        datetime.datetime.combine(
            end - datetime.timedelta(days=60), datetime.time(15), datetime.UTC
        ),
        tick=False,
    )

    with django_capture_on_commit_callbacks(execute=True):
        mou_renewal_sweep()

    assert names(one_click_link(mail_to("dir@p.example.org"))) == (district.pk, director.pk)
    assert names(one_click_link(mail_to("dep@p.example.org"))) == (district.pk, deputy.pk)
    assert "List-Unsubscribe" not in mail_to("ana@north.example.org").message()  # an account


def test_an_mou_sent_to_a_contact_carries_their_one_click_link(
    client, district, django_capture_on_commit_callbacks
):
    from tests.partnerships.mou_setup import Cast, advance, draft

    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner)

    with django_capture_on_commit_callbacks(execute=True):
        advance(mou, cast, "sent")

    link = one_click_link(mail_to(cast.contact.email))
    assert names(link) == (district.pk, cast.contact.pk)
    assert "List-Unsubscribe" not in mail_to(cast.partner_member.user.email).message()
    assert client.post("/" + link.split("/", 3)[3]).status_code == 200
    assert unsubscribed_at(district, cast.contact) is not None


# --- The pages of a contact's links open in the mail's language (issue 16) -----------------


@pytest.mark.parametrize(
    ("preferred", "cookie", "expected", "words"),
    [
        ("es", None, "es", "Correo de Trellis"),
        ("es-MX", None, "es", "Correo de Trellis"),
        ("", None, "en", "Email from Trellis"),
        ("es", "en", "en", "Email from Trellis"),  # the reader chose English on the site
    ],
)
def test_the_unsubscribe_page_is_in_the_mails_language(
    client, district, preferred, cookie, expected, words
):
    from django.conf import settings
    from django.urls import reverse

    from partnerships.services.unsubscribe import unsubscribe_token

    contact = ContactFactory(
        district=district, email="ana@example.org", preferred_language=preferred
    )
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    with tenant_context(district):
        path = reverse("contact_unsubscribe", args=[unsubscribe_token(contact)])

    page = client.get(path, headers={"Accept-Language": "en-US"})

    assert page["Content-Language"] == expected
    assert words in page.content.decode()
    assert f'<html lang="{expected}"' in page.content.decode()


def test_the_listing_link_page_is_in_the_mails_language(client, district):
    from django.urls import reverse

    from partnerships.services.directory import listing_token

    contact = ContactFactory(district=district, email="ana@example.org", preferred_language="es")
    with tenant_context(district):
        path = reverse("listing_verify", args=[listing_token(contact.partner, contact)])

    page = client.get(path, headers={"Accept-Language": "en-US"})

    assert page.status_code == 200 and page["Content-Language"] == "es"
    assert "Su nombre" in page.content.decode()
