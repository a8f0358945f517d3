"""A partner's member confirms (and corrects) their own organization's listing, as the
emailed contact can; the district records who and when."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from partnerships.models import Partner
from partnerships.services.directory import partner_listing_confirm_own
from tests.partnerships.directory_setup import make_partner, person, read, signed_in

pytestmark = pytest.mark.django_db


def confirm_url(district):
    return reverse("partner_own_confirm", args=[district.slug])


def fresh(district, pk):
    return read(district, lambda: Partner.objects.get(pk=pk))


@pytest.fixture
def harbor(district):
    return make_partner(district, name="Harbor Counseling", phone="555-0100", languages=["en"])


@pytest.fixture
def harbor_member(district, harbor):
    member = person(district, "partner", partner=harbor)
    member.user.full_name = "Pat Lee"
    member.user.save(update_fields=["full_name"])
    return member


def test_the_own_page_offers_to_confirm_the_listing(client, district, harbor_member):
    signed_in(client, harbor_member)

    page = client.get(reverse("partner_own", args=[district.slug])).content.decode()

    assert f'href="{confirm_url(district)}"' in page
    assert "Confirm or correct the listing" in page


def test_a_partner_member_confirms_the_listing_as_it_is(client, district, harbor, harbor_member):
    signed_in(client, harbor_member)
    form = client.get(confirm_url(district)).context["form"]
    assert "verifier_name" not in form.fields  # the member is the verifier
    data = {name: value for name, value in form.initial.items() if value not in (None, [])}

    response = client.post(confirm_url(district), data, follow=True)

    partner = fresh(district, harbor.pk)
    assert response.redirect_chain[-1][0] == reverse("partner_own", args=[district.slug])
    assert "your listing is confirmed" in response.content.decode()
    assert partner.last_verified_by == "Pat Lee"
    assert timezone.now() - partner.last_verified_at < datetime.timedelta(minutes=1)
    assert (partner.phone, partner.languages) == ("555-0100", ["en"])
    assert "Last verified on" in response.content.decode()


def test_a_partner_member_corrects_the_public_details(client, district, harbor, harbor_member):
    signed_in(client, harbor_member)

    client.post(
        confirm_url(district),
        {"phone": "555-0199", "languages": ["en", "es"], "intake": "waitlist", "capacity": "3"},
    )

    partner = fresh(district, harbor.pk)
    assert (partner.phone, partner.languages, partner.intake, partner.capacity) == (
        "555-0199",
        ["en", "es"],
        "waitlist",
        3,
    )
    assert partner.last_verified_by == "Pat Lee" and partner.name == "Harbor Counseling"


def test_a_bad_correction_writes_nothing(client, district, harbor, harbor_member):
    signed_in(client, harbor_member)

    response = client.post(confirm_url(district), {"intake": "accepting", "email": "not-mail"})

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert fresh(district, harbor.pk).last_verified_at is None


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer"])
def test_staff_have_no_own_listing_to_confirm(client, district, harbor, role):
    signed_in(client, person(district, role))

    assert client.get(confirm_url(district)).status_code == 403
    assert client.post(confirm_url(district), {"intake": "closed"}).status_code == 403
    assert fresh(district, harbor.pk).last_verified_at is None


def test_a_partner_member_of_another_district_gets_404(client, district, other_district, harbor):
    signed_in(client, person(other_district, "partner"))

    assert client.post(confirm_url(district), {"intake": "closed"}).status_code == 404
    assert fresh(district, harbor.pk).last_verified_at is None


def test_the_service_refuses_a_member_who_is_not_the_partners(district, harbor):
    coordinator = person(district, "coordinator")

    with pytest.raises(PermissionDenied):
        read(district, lambda: partner_listing_confirm_own(by=coordinator))


def test_the_service_changes_only_public_fields(district, harbor, harbor_member):
    with pytest.raises(ValueError):
        read(district, lambda: partner_listing_confirm_own(by=harbor_member, changes={"name": "X"}))
    assert fresh(district, harbor.pk).name == "Harbor Counseling"
