"""The emailed invitation link: /invitations/<signed token>/ (point 5, accepting)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from schools.models import Invitation, Membership, Role, User
from schools.services import people as services
from schools.tenancy import tenant_context
from tests.factories import (
    PASSWORD,
    InvitationFactory,
    PartnerFactory,
    SchoolFactory,
    UserFactory,
    enable_totp,
)

NEW_PASSWORD = "a long and unusual passphrase 42"


def path_of(invitation) -> str:
    return services.invitation_path(invitation)


def reload(invitation):
    with tenant_context(invitation.district_id):
        return Invitation.objects.get(pk=invitation.pk)


def membership_of(user, district):
    with tenant_context(district):
        return Membership.objects.filter(user=user, district=district).first()


@pytest.fixture
def invitation(district, member):
    inviter = member("admin")
    inviter.user.full_name = "Ada Admin"
    inviter.user.save(update_fields=["full_name"])
    school = SchoolFactory(district=district, name="Lincoln Elementary")
    return InvitationFactory(
        district=district,
        email="new.counselor@example.org",
        role=Role.COUNSELOR,
        school_ids=[school.pk],
        crisis_responder=True,
        invited_by=inviter,
    )


def sign_up(client, invitation, **overrides):
    data = {"full_name": "Nia New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    data.update(overrides)
    return client.post(path_of(invitation), data)


# --- A person without an account --------------------------------------------------------


def test_new_person_sees_who_invited_them_and_a_sign_up_form(client, invitation):
    response = client.get(path_of(invitation))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Join North Valley Unified" in html
    assert "Ada Admin invited you to North Valley Unified on Trellis as Counselor." in html
    assert "new.counselor@example.org" in html
    assert 'autocomplete="new-password"' in html


def test_new_person_creates_account_and_lands_on_the_district_home(client, invitation, district):
    response = sign_up(client, invitation)

    assert response.status_code == 302
    assert response["Location"] == "/north/"
    user = User.objects.get(email="new.counselor@example.org")
    assert user.full_name == "Nia New"
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists()
    with tenant_context(district):
        membership = Membership.objects.get(user=user)
        assert membership.role == Role.COUNSELOR and membership.active
        assert membership.crisis_responder is True
        assert [s.name for s in membership.schools.all()] == ["Lincoln Elementary"]
    accepted = reload(invitation)
    assert accepted.accepted_by == user and accepted.accepted_at is not None
    # signed in: the district home opens
    home = client.get("/north/")
    assert home.status_code == 200
    assert home.context["membership"].pk == membership.pk


def test_the_new_account_email_is_lower_case(client, district):
    invitation = InvitationFactory(district=district, email="Mixed.Case@Example.org")

    sign_up(client, invitation)

    assert User.objects.filter(email="mixed.case@example.org").exists()


def test_new_partner_joins_their_organisation(client, district):
    partner = PartnerFactory(district=district)
    invitation = InvitationFactory(district=district, role=Role.PARTNER, partner=partner)

    sign_up(client, invitation)

    user = User.objects.get(email=invitation.email)
    assert membership_of(user, district).partner_id == partner.pk


def test_new_administrator_is_sent_to_set_up_two_factor(client, district):
    invitation = InvitationFactory(district=district, role=Role.ADMIN)

    sign_up(client, invitation)
    response = client.get("/north/")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password2": "something else entirely"}, "password2", "not the same"),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "password1234", "password2": "password1234"}, "password1", "too common"),
        ({"full_name": "   "}, "full_name", ""),
    ],
)
def test_weak_or_mismatched_passwords_are_refused_next_to_the_field(
    client, invitation, overrides, field, message
):
    response = sign_up(client, invitation, **overrides)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert message in " ".join(errors)
    assert not User.objects.filter(email=invitation.email).exists()
    assert reload(invitation).accepted_at is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"full_name": "x" * 10_000, "password1": "y" * 10_000, "password2": "y" * 10_000},
        {"full_name": "nul\x00", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        {"full_name": ["a", "b"], "password1": ["c"], "password2": []},
    ],
)
def test_garbage_sign_ups_get_form_errors_not_500(client, invitation, data):
    response = client.post(path_of(invitation), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.filter(email=invitation.email).exists()


# --- A person with an account -----------------------------------------------------------


def test_existing_person_signed_out_is_asked_to_sign_in_and_come_back(client, district):
    person = UserFactory()
    invitation = InvitationFactory(district=district, email=person.email.upper())

    response = client.get(path_of(invitation))

    html = response.content.decode()
    assert response.status_code == 200
    assert "already have a Trellis account" in html
    assert "/accounts/login/?next=/invitations/" in html
    assert "password1" not in html
    # posting a sign-up anyway creates nothing
    sign_up(client, invitation)
    assert User.objects.filter(email__iexact=person.email).count() == 1
    assert reload(invitation).accepted_at is None


def test_existing_person_signs_in_then_accepts(client, district, other_district, member):
    elsewhere = member("counselor", in_district=other_district)
    invitation = InvitationFactory(district=district, email=elsewhere.user.email)
    path = path_of(invitation)

    login = client.post(
        f"/accounts/login/?next={path}", {"login": elsewhere.user.email, "password": PASSWORD}
    )
    assert login["Location"] == path
    page = client.get(path)
    response = client.post(path)

    assert b"Accept and open North Valley Unified" in page.content
    assert response.status_code == 302 and response["Location"] == "/north/"
    assert membership_of(elsewhere.user, district).role == Role.COUNSELOR
    assert reload(invitation).accepted_by == elsewhere.user
    assert client.get("/north/").status_code == 200


def test_accepting_reactivates_a_former_membership_with_the_new_role(client, district, member):
    former = member("counselor", active=False, deactivated_at=timezone.now())
    invitation = InvitationFactory(district=district, email=former.user.email, role=Role.VIEWER)
    client.force_login(former.user)

    client.post(path_of(invitation))

    again = membership_of(former.user, district)
    assert again.pk == former.pk
    assert again.active and again.deactivated_at is None and again.role == Role.VIEWER


def test_someone_else_signed_in_is_told_so(client, invitation, member):
    stranger = member("counselor")
    client.force_login(stranger.user)

    page = client.get(path_of(invitation))
    post = client.post(path_of(invitation))

    assert page.status_code == 200
    assert b"This invitation is for someone else" in page.content
    assert stranger.user.email.encode() in page.content
    assert post.status_code == 200 and b"for someone else" in post.content
    assert reload(invitation).accepted_at is None
    assert membership_of(stranger.user, invitation.district).role == Role.COUNSELOR


def test_someone_else_signed_in_cannot_use_the_service_either(invitation, member):
    stranger = member("viewer")

    with tenant_context(invitation.district), pytest.raises(services.InvitationUnavailable):
        services.invitation_accept(invitation=invitation, user=stranger.user)


# --- Links that no longer work ----------------------------------------------------------


def test_expired_invitation_says_to_ask_for_a_new_one(client, district):
    invitation = InvitationFactory(
        district=district, expires_at=timezone.now() - timedelta(minutes=1)
    )

    get = client.get(path_of(invitation))
    post = sign_up(client, invitation)

    for response in (get, post):
        assert response.status_code == 410
        assert b"This invitation has expired" in response.content
        assert b"send a new one" in response.content
    assert not User.objects.filter(email=invitation.email).exists()


def test_used_invitation_says_so(client, invitation):
    sign_up(client, invitation)
    second = Client()  # another browser, signed out

    again = second.get(path_of(invitation))
    repost = sign_up(second, invitation, full_name="Someone Else")

    assert again.status_code == 410 and b"already used" in again.content
    assert repost.status_code == 410 and b"already used" in repost.content
    assert User.objects.get(email=invitation.email).full_name == "Nia New"


def test_withdrawn_invitation_says_so(client, invitation, district):
    with tenant_context(district):
        services.invitation_revoke(by=invitation.invited_by, invitation=invitation)

    response = client.get(path_of(invitation))

    assert response.status_code == 410
    assert b"This invitation was withdrawn" in response.content
    assert sign_up(client, invitation).status_code == 410
    assert not User.objects.filter(email=invitation.email).exists()


def test_accepting_twice_in_the_service_is_refused(invitation, member):
    person = UserFactory(email=invitation.email)

    with tenant_context(invitation.district):
        services.invitation_accept(invitation=invitation, user=person)
        with pytest.raises(services.InvitationUnavailable) as error:
            services.invitation_accept(invitation=invitation, user=person)

    assert error.value.reason == "accepted"


def tampered(token: str) -> list[str]:
    payload, signature = token.rsplit(":", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        payload + ":" + flipped,  # signature changed
        "x" + token,  # payload changed
        token.split(":")[0],  # signature missing
        signing.Signer(salt="another.salt").sign_object({"d": 1, "i": 1, "n": "x"}),
        signing.Signer(salt=services.INVITATION_SALT, key="guessed").sign_object({"d": 1}),
    ]


@pytest.mark.parametrize("index", range(5))
def test_tampered_links_are_not_valid(client, invitation, index):
    token = services.invitation_token(invitation)

    response = client.get(f"/invitations/{tampered(token)[index]}/")

    assert response.status_code == 404
    assert b"This invitation link is not valid" in response.content


@pytest.mark.parametrize(
    "token", ["abc", "a:b:c", "%00", "x" * 5000, ":", "eyJkIjoxfQ:1:2", "..:..", "%F0%9F%98%80"]
)
def test_garbage_links_are_not_valid(client, db, token):
    get = client.get(f"/invitations/{token}/")
    post = client.post(f"/invitations/{token}/", {"full_name": "x"})

    assert get.status_code == 404 and b"not valid" in get.content
    assert post.status_code == 404


def test_a_correctly_signed_claim_to_a_missing_invitation_is_not_valid(client, district):
    signed = signing.Signer(salt=services.INVITATION_SALT).sign_object(
        {"d": district.pk, "i": 999_999, "n": "x"}
    )

    assert client.get(f"/invitations/{signed}/").status_code == 404


# A correctly signed payload is still checked: ids are whole numbers in 1..2**63-1 and the
# nonce is a short URL-safe string ("D" and "I" stand for the real district and invitation).
OUT_OF_RANGE = [
    {"d": 2**70, "i": "I", "n": "N"},
    {"d": "D", "i": 2**70, "n": "N"},
    {"d": "D", "i": 2**63, "n": "N"},
    {"d": -1, "i": "I", "n": "N"},
    {"d": "D", "i": 0, "n": "N"},
    {"d": "D", "i": "12", "n": "N"},
    {"d": "D", "i": True, "n": "N"},
    {"d": "D", "i": 1.5, "n": "N"},
    {"d": "D", "i": "I", "n": 12345},
    {"d": "D", "i": "I", "n": "x" * 500},
]


@pytest.mark.parametrize("payload", OUT_OF_RANGE)
def test_a_signed_link_carrying_an_out_of_range_value_is_not_valid(client, invitation, payload):
    real = {"D": invitation.district_id, "I": invitation.pk, "N": invitation.nonce}
    claims = {
        key: real.get(value, value) if isinstance(value, str) else value
        for key, value in payload.items()
    }
    token = signing.Signer(salt=services.INVITATION_SALT).sign_object(claims)

    response = client.get(f"/invitations/{token}/")
    posted = client.post(f"/invitations/{token}/", {"full_name": "Mallory"})

    assert response.status_code == 404 and b"This invitation link is not valid" in response.content
    assert posted.status_code == 404


def test_a_link_cannot_be_pointed_at_another_districts_invitation(
    client, invitation, other_district
):
    # The same invitation id and nonce, claimed for another district: RLS and the district
    # filter both keep the row out of reach.
    forged = signing.Signer(salt=services.INVITATION_SALT).sign_object(
        {"d": other_district.pk, "i": invitation.pk, "n": invitation.nonce}
    )

    assert client.get(f"/invitations/{forged}/").status_code == 404


def test_the_wrong_nonce_is_not_valid(client, invitation):
    forged = signing.Signer(salt=services.INVITATION_SALT).sign_object(
        {"d": invitation.district_id, "i": invitation.pk, "n": "not-the-nonce"}
    )

    assert client.get(f"/invitations/{forged}/").status_code == 404


def test_the_link_page_is_not_cached(client, invitation):
    response = client.get(path_of(invitation))

    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_admin_of_the_new_district_can_then_manage_people(client, district):
    invitation = InvitationFactory(district=district, role=Role.ADMIN)
    sign_up(client, invitation)
    enable_totp(User.objects.get(email=invitation.email))

    assert client.get("/north/people/").status_code == 200


def test_new_administrator_can_enrol_two_factor_without_typing_the_password_again(client, district):
    invitation = InvitationFactory(district=district, role=Role.ADMIN)
    sign_up(client, invitation)

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 200
