"""Freshness: stale listings are flagged, and a partner's contact confirms or corrects the
listing through a signed link, without an account."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from partnerships.models import Partner
from partnerships.selectors.directory import freshness_days
from partnerships.services.directory import LISTING_SALT, listing_token
from schools.models import OutgoingEmail, Student
from schools.tenancy import tenant_context
from tests.factories import StudentFactory
from tests.partnerships.directory_setup import make_partner, person, read, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbor(district):
    return make_partner(
        district,
        name="Harbor Counseling",
        phone="555-0100",
        languages=["en"],
        contacts=[
            {"name": "Ana Ruiz", "email": "ana@harbor.example.org"},
            {"name": "No Email"},
        ],
    )


def contact_named(district, partner, name):
    from partnerships.models import Contact

    return read(district, lambda: Contact.objects.get(partner=partner, name=name))


def link_path(district, harbor):
    return reverse(
        "listing_verify", args=[listing_token(harbor, contact_named(district, harbor, "Ana Ruiz"))]
    )


def fresh(district, pk):
    return read(district, lambda: Partner.objects.get(pk=pk))


# --- Stale flags ------------------------------------------------------------------------------


def test_freshness_defaults_to_180_days_and_follows_the_district_setting(district):
    assert freshness_days(district) == 180
    district.directory_freshness_days = 30  # the District field the lead adds later

    assert freshness_days(district) == 30


def test_a_listing_past_the_window_is_flagged_and_a_fresh_one_is_not(client, district):
    now = timezone.now()
    make_partner(district, name="Fresh", last_verified_at=now - datetime.timedelta(days=179))
    make_partner(district, name="Old", last_verified_at=now - datetime.timedelta(days=181))
    make_partner(district, name="Never")
    signed_in(client, person(district, "counselor"))

    rows = client.get(reverse("partner_list", args=[district.slug])).context["rows"]

    assert {row["partner"].name: row["stale"] for row in rows} == {
        "Fresh": False,
        "Old": True,
        "Never": True,
    }


def test_a_shorter_district_window_flags_more(client, district):
    make_partner(
        district, name="Fresh", last_verified_at=timezone.now() - datetime.timedelta(days=40)
    )
    district.directory_freshness_days = 30
    district.save(update_fields=["directory_freshness_days"])
    signed_in(client, person(district, "counselor"))

    rows = client.get(reverse("partner_list", args=[district.slug])).context["rows"]

    assert rows[0]["stale"] is True


# --- Sending the link ---------------------------------------------------------------------------


def send_url(district, partner):
    return reverse("partner_verification_send", args=[district.slug, partner.pk])


def test_a_coordinator_emails_a_contact_the_link(client, district, harbor):
    StudentFactory(district=district, first_name="Zelda", last_name="Quimby")
    ana = contact_named(district, harbor, "Ana Ruiz")
    signed_in(client, person(district, "coordinator"))

    response = client.post(send_url(district, harbor), {"contact": ana.pk})

    assert response.status_code == 302
    message = OutgoingEmail.objects.get()
    assert message.to == ["ana@harbor.example.org"]
    assert "North Valley Unified" in message.subject
    link = re.search(r"http://testserver(/p/verify/[^/\s]+/)", message.body_text).group(1)
    assert client.get(link).status_code == 200
    assert "Harbor Counseling" in message.body_text and "Harbor Counseling" in message.body_html
    assert "Zelda" not in message.body_text + message.body_html + message.subject
    assert read(district, lambda: Student.objects.count()) == 1


def test_a_contact_without_email_cannot_be_sent_the_link(client, district, harbor):
    nobody = contact_named(district, harbor, "No Email")
    signed_in(client, person(district, "coordinator"))

    client.post(send_url(district, harbor), {"contact": nobody.pk})

    assert OutgoingEmail.objects.count() == 0


def test_a_contact_of_another_partner_cannot_be_sent_this_partners_link(client, district, harbor):
    other = make_partner(
        district, name="Other", contacts=[{"name": "Bo", "email": "bo@example.org"}]
    )
    signed_in(client, person(district, "coordinator"))

    client.post(send_url(district, harbor), {"contact": contact_named(district, other, "Bo").pk})

    assert OutgoingEmail.objects.count() == 0


@pytest.mark.parametrize("role", ["counselor", "viewer", "partner"])
def test_weaker_roles_cannot_send_the_link(client, district, harbor, role):
    signed_in(client, person(district, role))

    response = client.post(
        send_url(district, harbor), {"contact": contact_named(district, harbor, "Ana Ruiz").pk}
    )

    assert response.status_code == 403
    assert OutgoingEmail.objects.count() == 0


def test_another_districts_coordinator_cannot_send_the_link(
    client, district, other_district, harbor
):
    signed_in(client, person(other_district, "coordinator"))

    response = client.post(
        send_url(district, harbor), {"contact": contact_named(district, harbor, "Ana Ruiz").pk}
    )

    assert response.status_code == 404
    assert OutgoingEmail.objects.count() == 0


def unsubscribe(district, contact):
    from partnerships.services.unsubscribe import contact_unsubscribe, unsubscribe_token

    contact_unsubscribe(token=unsubscribe_token(contact))


def test_an_unsubscribed_contact_is_not_offered_and_cannot_be_sent_the_link(
    client, district, harbor
):
    from partnerships.models import Contact

    with tenant_context(district):
        una = Contact.objects.create(
            district=district, partner=harbor, name="Una Gone", email="una@harbor.example.org"
        )
    unsubscribe(district, una)
    signed_in(client, person(district, "coordinator"))

    page = client.get(reverse("partner_detail", args=[district.slug, harbor.pk]))
    posted = client.post(send_url(district, harbor), {"contact": una.pk})

    offered = page.content.decode().split('name="contact"')[1].split("</select>")[0]
    assert "ana@harbor.example.org" in offered and "una@harbor.example.org" not in offered
    assert posted.status_code == 200
    assert "Choose a contact who can receive email." in posted.content.decode()
    assert OutgoingEmail.objects.count() == 0


def test_a_contact_who_unsubscribes_while_the_link_is_sent_gets_a_message_on_the_form(
    client, district, harbor, monkeypatch
):
    """The service refuses (the contact unsubscribed a moment ago): the form says why."""
    from partnerships.views import directory as views

    ana = contact_named(district, harbor, "Ana Ruiz")
    real_send = views.listing_verification_send

    def send_as_they_unsubscribe(**kwargs):
        unsubscribe(district, ana)
        with tenant_context(district):
            kwargs["contact"].refresh_from_db()
        return real_send(**kwargs)

    monkeypatch.setattr(views, "listing_verification_send", send_as_they_unsubscribe)
    signed_in(client, person(district, "coordinator"))

    response = client.post(send_url(district, harbor), {"contact": ana.pk})

    assert response.status_code == 200
    assert "This contact unsubscribed from Trellis email." in response.content.decode()
    assert OutgoingEmail.objects.count() == 0


def test_a_coordinator_can_mark_the_listing_verified_themselves(client, district, harbor):
    coordinator = person(district, "coordinator")
    signed_in(client, coordinator)

    client.post(reverse("partner_verified", args=[district.slug, harbor.pk]))

    partner = fresh(district, harbor.pk)
    assert partner.last_verified_at is not None
    assert partner.last_verified_by == coordinator.user.get_full_name()


# --- The link ------------------------------------------------------------------------------------


def test_the_link_shows_the_public_listing_without_an_account(client, district, harbor):
    response = client.get(link_path(district, harbor))
    html = response.content.decode()

    assert response.status_code == 200
    assert "Harbor Counseling" in html and 'value="555-0100"' in html
    assert 'value="Ana Ruiz"' in html  # who confirms, prefilled
    assert "North Valley Unified" in html


def test_confirming_marks_the_listing_verified_by_the_contact(client, district, harbor):
    path = link_path(district, harbor)
    form = client.get(path).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, [])}
    data.update(languages=["en"], intake="accepting", verifier_name="Ana Ruiz")

    response = client.post(path, data)

    partner = fresh(district, harbor.pk)
    assert response.status_code == 200
    assert "is confirmed" in response.content.decode()
    assert partner.last_verified_by == "Ana Ruiz"
    assert timezone.now() - partner.last_verified_at < datetime.timedelta(minutes=1)
    assert partner.phone == "555-0100"


def test_corrections_are_saved_and_the_listing_marked_verified(client, district, harbor):
    path = link_path(district, harbor)

    response = client.post(
        path,
        {
            "verifier_name": "Ana Ruiz",
            "phone": "555-0199",
            "languages": ["en", "es"],
            "intake": "waitlist",
            "capacity": "2",
            "delivery_modes": ["telehealth"],
        },
    )

    partner = fresh(district, harbor.pk)
    assert "corrections" in response.content.decode()
    assert (partner.phone, partner.languages, partner.intake, partner.capacity) == (
        "555-0199",
        ["en", "es"],
        "waitlist",
        2,
    )
    assert partner.delivery_modes == ["telehealth"] and partner.last_verified_at is not None
    assert partner.name == "Harbor Counseling"  # the name is not the contact's to change


def test_bad_corrections_are_shown_next_to_the_field_and_nothing_is_written(
    client, district, harbor
):
    path = link_path(district, harbor)

    response = client.post(
        path,
        {
            "verifier_name": "Ana",
            "intake": "accepting",
            "min_age": "15",
            "max_age": "9",
            "phone": "1",
        },
    )

    assert response.status_code == 200
    assert "cannot be below the youngest" in response.content.decode()
    partner = fresh(district, harbor.pk)
    assert partner.last_verified_at is None and partner.phone == "555-0100"


def test_a_used_link_says_the_listing_was_confirmed(client, district, harbor):
    path = link_path(district, harbor)
    client.post(path, {"verifier_name": "Ana Ruiz", "intake": "accepting"})

    again = client.get(path)
    post_again = client.post(path, {"verifier_name": "Mallory", "intake": "closed"})

    assert again.status_code == 410 and "already confirmed" in again.content.decode()
    assert post_again.status_code == 410
    assert fresh(district, harbor.pk).intake == "accepting"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        lambda token: "garbage",
        lambda token: signing.dumps({"d": 1, "p": 2, "c": 3, "v": ""}, salt="another-salt"),
        lambda token: signing.dumps({"d": "x"}, salt=LISTING_SALT),
    ],
)
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, district, harbor, mangle):
    token = listing_token(harbor, contact_named(district, harbor, "Ana Ruiz"))
    path = reverse("listing_verify", args=[mangle(token)])

    response = client.get(path)
    posted = client.post(path, {"verifier_name": "Mallory", "intake": "closed"})

    assert response.status_code == 404 and posted.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert fresh(district, harbor.pk).last_verified_at is None


def test_a_listing_removed_while_the_contact_confirms_gets_the_invalid_link_page(
    client, district, harbor, monkeypatch
):
    """The service refuses (the partner was removed a moment ago): no 500."""
    from partnerships.views import directory as views

    real_confirm = views.listing_confirm

    def confirm_as_it_is_removed(**kwargs):
        Partner.objects.filter(district=district, pk=harbor.pk).delete()
        return real_confirm(**kwargs)

    monkeypatch.setattr(views, "listing_confirm", confirm_as_it_is_removed)
    path = link_path(district, harbor)

    response = client.post(path, {"verifier_name": "Ana Ruiz", "intake": "accepting"})

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


@pytest.mark.parametrize(
    "payload",
    [
        {"d": 2**70},
        {"p": 2**70},
        {"c": 2**63},
        {"d": -1},
        {"c": 0},
        {"p": "12"},
        {"c": True},
        {"v": 12},
        {"v": "not a date"},
    ],
)
def test_a_signed_link_carrying_an_out_of_range_value_is_not_valid(
    client, district, harbor, payload
):
    ana = contact_named(district, harbor, "Ana Ruiz")
    claims = {"d": district.pk, "p": harbor.pk, "c": ana.pk, "v": "", **payload}
    path = reverse("listing_verify", args=[signing.dumps(claims, salt=LISTING_SALT)])

    response = client.get(path)
    posted = client.post(path, {"verifier_name": "Mallory", "intake": "closed"})

    assert response.status_code == 404 and posted.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert fresh(district, harbor.pk).last_verified_at is None


def test_a_link_naming_another_districts_partner_is_not_valid(client, district, other_district):
    theirs = make_partner(
        other_district, name="South", contacts=[{"name": "Sam", "email": "s@e.org"}]
    )
    sam = contact_named(other_district, theirs, "Sam")
    forged = signing.dumps(
        {"d": district.pk, "p": theirs.pk, "c": sam.pk, "v": ""}, salt=LISTING_SALT
    )

    response = client.get(reverse("listing_verify", args=[forged]))

    assert response.status_code == 404


def test_an_expired_link_says_what_to_do(client, district, harbor):
    path = link_path(district, harbor)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        response = client.get(path)
        posted = client.post(path, {"verifier_name": "Ana", "intake": "closed"})

    assert response.status_code == 410 and posted.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html and "Harbor Counseling" in html and "new link" in html
    assert fresh(district, harbor.pk).last_verified_at is None


def test_a_link_still_works_on_day_29(client, district, harbor):
    path = link_path(district, harbor)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=29)):
        assert client.get(path).status_code == 200
