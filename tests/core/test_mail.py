"""core.mail: every email in its recipient's language, with links on SITE_URL, never dropped."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from core.mail import absolute_url, language_code, recipient_language, send_templated
from partnerships.models import MOUStatus
from partnerships.services.directory import listing_verification_send
from partnerships.services.mous.workflow import mou_partner_comment, mou_submit
from schools.models import Invitation, OutgoingEmail, Role
from schools.services import people
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    DistrictFactory,
    MembershipFactory,
    UserFactory,
    enable_totp,
)
from tests.partnerships.mou_setup import Cast, advance, draft

pytestmark = pytest.mark.django_db

SITE = "https://trellis.example.org"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


def spanish(msgid: str, **params) -> str:
    """`msgid` as the Spanish catalogue has it (and it must have it: not the English)."""
    with translation.override("es"):
        text = gettext(msgid)
    assert text != msgid, f"no Spanish translation of {msgid!r}"
    return text % params if params else text


def mail_to(address: str) -> list[OutgoingEmail]:
    """The rows queued for `address` (still unsent: the tests run no on-commit callback)."""
    return list(OutgoingEmail.objects.filter(to=[address]).order_by("pk"))


# --- Links: always on SITE_URL --------------------------------------------------------------


def test_absolute_url_is_on_site_url(site):
    assert absolute_url("/p/unsubscribe/x/") == SITE + "/p/unsubscribe/x/"


def test_absolute_url_takes_only_a_path(site):
    with pytest.raises(ValueError):
        absolute_url("https://elsewhere.example.org/")


def test_without_site_url_mail_is_refused_loudly_not_sent_without_its_link(settings, district):
    settings.SITE_URL = ""
    admin = MembershipFactory(district=district, role=Role.ADMIN)

    with pytest.raises(ImproperlyConfigured, match="SITE_URL"), tenant_context(district):
        people.invitation_create(by=admin, email="new@example.org", role=Role.COUNSELOR)

    assert not OutgoingEmail.objects.exists()
    with tenant_context(district):
        assert not Invitation.objects.exists()  # the whole action is refused, not half done


def test_a_sweep_and_a_request_write_the_same_link(client, district, site, time_machine):
    """The coordinator submits through the page (a request on the test client's host); the
    renewal sweep (no request) writes about the same MOU: both links are on SITE_URL."""
    from partnerships.tasks import mou_renewal_sweep

    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner)
    client.force_login(cast.coordinator.user)
    response = client.post(reverse("mou_submit", args=[district.slug, mou.pk]))
    assert response.status_code == 302
    [from_request] = mail_to(cast.admin.user.email)

    with tenant_context(district):
        mou.__class__.objects.filter(pk=mou.pk).update(
            status=MOUStatus.ACTIVE, end_date=datetime.date(2026, 6, 30)
        )
    time_machine.move_to(datetime.datetime(2026, 5, 1, 15, tzinfo=datetime.UTC), tick=False)
    mou_renewal_sweep()
    [from_sweep] = mail_to(cast.coordinator.user.email)

    expected = SITE + reverse("mou_detail", args=[district.slug, mou.pk])
    assert links(from_request) == links(from_sweep) == [expected]


def links(email: OutgoingEmail) -> list[str]:
    return re.findall(r"https?://\S+", email.body_text)


def test_the_invitation_link_from_a_page_is_the_one_a_service_makes(client, district, site):
    """Invited through the page (a request), the link is what the service makes anywhere."""
    admin = MembershipFactory(district=district, role=Role.ADMIN)
    enable_totp(admin.user)
    client.force_login(admin.user)

    response = client.post(
        reverse("people_invite", args=[district.slug]),
        {"email": "new@example.org", "role": "counselor"},
        HTTP_HOST="localhost",
    )

    assert response.status_code == 302
    with tenant_context(district):
        invitation = Invitation.objects.get()
    [email] = mail_to("new@example.org")
    assert people.invitation_link(invitation).startswith(SITE + "/invitations/")
    assert links(email) == [people.invitation_link(invitation)]


def test_a_password_reset_link_is_on_site_url_not_the_requests_host(client, member, site):
    counselor = member("counselor")

    client.post("/accounts/password/reset/", {"email": counselor.user.email}, HTTP_HOST="localhost")

    [email] = mail_to(counselor.user.email)
    [link] = links(email)
    assert link.startswith(SITE + "/accounts/password/reset/key/")
    assert "localhost" not in email.body_text + email.body_html


def test_an_email_confirmation_link_is_on_site_url(rf, member, site):
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    from schools.adapters import AccountAdapter

    counselor = member("counselor")
    address = EmailAddress.objects.get(user=counselor.user)
    request = rf.get("/", HTTP_HOST="localhost")

    url = AccountAdapter(request).get_email_confirmation_url(
        request, EmailConfirmationHMAC(address)
    )

    assert url.startswith(SITE + "/accounts/confirm-email/")


def test_the_sign_in_throttle_notice_links_to_site_url_not_the_requests_host(
    client, member, site, time_machine
):
    counselor = member("counselor")
    time_machine.move_to(datetime.datetime(2026, 3, 2, 15, tzinfo=datetime.UTC), tick=False)

    for _ in range(5):
        client.post(
            reverse("account_login"),
            {"login": counselor.user.email, "password": "a wrong guess"},
            HTTP_HOST="localhost",
        )

    [notice] = mail_to(counselor.user.email)
    assert links(notice) == [SITE + reverse("account_reset_password")]


# --- Nothing silently dropped ----------------------------------------------------------------


def test_staff_hear_of_a_submitted_mou_without_any_request(district, site):
    """`_notify_staff` once needed the request's address and sent nothing without it."""
    cast = Cast(district)
    mou = draft(cast.coordinator, partner=cast.partner)

    with tenant_context(district):
        mou_submit(by=cast.coordinator, mou=mou)

    [notice] = mail_to(cast.admin.user.email)
    assert notice.subject == f"MOU to review: {mou.title}"
    assert SITE + reverse("mou_detail", args=[district.slug, mou.pk]) in notice.body_text


def test_the_drafter_hears_of_the_partners_comments_made_through_the_link(district, site):
    cast = Cast(district)
    mou = advance(draft(cast.coordinator, partner=cast.partner), cast, "sent")
    OutgoingEmail.objects.all().delete()

    with tenant_context(district):
        mou_partner_comment(
            by=None, mou=mou, version_number=1, author_name="Pat", comment="Change 2."
        )

    [notice] = mail_to(cast.coordinator.user.email)
    assert "Change 2." in notice.body_text


def test_send_templated_refuses_no_recipient(district):
    with pytest.raises(ValueError):
        send_templated(
            "schools/email/invitation", to="", context={}, language="en", district=district
        )


# --- The recipient's language ----------------------------------------------------------------


def test_a_spanish_speaking_contact_of_an_english_district_gets_the_mou_in_spanish(district, site):
    assert district.default_language == "en"
    cast = Cast(district)
    ContactFactory(
        district=district,
        partner=cast.partner,
        email="rosa@partner.example.org",
        roles=["leadership"],
        preferred_language="Español",
    )
    mou = draft(cast.coordinator, partner=cast.partner)

    advance(mou, cast, "sent")

    [email] = mail_to("rosa@partner.example.org")
    title = {"title": mou.title, "district_name": district.name}
    assert email.subject == spanish(
        "Please review and sign: %(title)s (%(district_name)s)", **title
    )
    assert spanish("Review the MOU") in email.body_html
    assert '<html lang="es">' in email.body_html
    assert spanish("To stop all email from Trellis to this address:") in email.body_text
    # The contact without a preference, in the same send: the district's English.
    [english] = mail_to(cast.contact.email)
    assert english.subject == "Please review and sign: {title} ({district_name})".format(**title)


def test_a_spanish_speaking_partner_member_gets_the_mou_in_spanish(district, site):
    cast = Cast(district)
    cast.partner_member.user.preferred_language = "es"
    cast.partner_member.user.save(update_fields=["preferred_language"])

    advance(draft(cast.coordinator, partner=cast.partner), cast, "sent")

    [email] = mail_to(cast.partner_member.user.email)
    assert email.subject.startswith(
        spanish("Please review and sign: %(title)s (%(district_name)s)").split(":")[0]
    )
    assert (
        spanish("Sign in to Trellis to read it, then sign it or ask for changes:")
        in email.body_text
    )


def test_a_spanish_speaking_administrator_is_told_in_spanish(district, site):
    cast = Cast(district)
    cast.admin.user.preferred_language = "es"
    cast.admin.user.save(update_fields=["preferred_language"])
    english_admin = MembershipFactory(district=district, role=Role.ADMIN)
    mou = draft(cast.coordinator, partner=cast.partner)

    with tenant_context(district):
        mou_submit(by=cast.coordinator, mou=mou)

    [email] = mail_to(cast.admin.user.email)
    assert email.subject == spanish("MOU to review: %(title)s", title=mou.title)
    assert spanish("Open it in Trellis:") in email.body_text
    [other] = mail_to(english_admin.user.email)
    assert other.subject == f"MOU to review: {mou.title}"


def test_a_spanish_speaking_contact_is_asked_to_confirm_the_listing_in_spanish(district, site):
    coordinator = MembershipFactory(district=district, role=Role.COORDINATOR)
    contact = ContactFactory(
        district=district, email="rosa@partner.example.org", preferred_language="spanish"
    )

    with tenant_context(district):
        listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)

    [email] = mail_to("rosa@partner.example.org")
    assert email.subject == spanish(
        "Please confirm your listing with %(district_name)s", district_name=district.name
    )
    assert spanish("Confirm or correct the listing") in email.body_html


def test_an_invitation_to_someone_with_an_account_is_in_their_language(district, site):
    UserFactory(email="luis@example.org", preferred_language="es")
    admin = MembershipFactory(district=district, role=Role.ADMIN)

    with tenant_context(district):
        people.invitation_create(by=admin, email="Luis@Example.org", role=Role.COUNSELOR)
        people.invitation_create(by=admin, email="nobody@example.org", role=Role.COUNSELOR)

    [email] = mail_to("luis@example.org")
    assert email.subject == spanish(
        "Invitation to join %(district_name)s on Trellis", district_name=district.name
    )
    [newcomer] = mail_to("nobody@example.org")  # no account: the district's language
    assert newcomer.subject == f"Invitation to join {district.name} on Trellis"


def test_without_a_preference_the_districts_language_is_used(db, site):
    district = DistrictFactory(slug="sur", name="Distrito Sur", default_language="es")
    coordinator = MembershipFactory(district=district, role=Role.COORDINATOR)
    for email, preference in [("a@p.example.org", ""), ("b@p.example.org", "Klingon")]:
        contact = ContactFactory(district=district, email=email, preferred_language=preference)
        with tenant_context(district):
            listing_verification_send(by=coordinator, partner=contact.partner, contact=contact)

        [sent] = mail_to(email)
        assert sent.subject == spanish(
            "Please confirm your listing with %(district_name)s", district_name=district.name
        )


def test_recipient_language_reads_users_memberships_and_contacts(district):
    user = UserFactory(preferred_language="es")
    membership = MembershipFactory(district=district, user=user)
    contact = ContactFactory(district=district, preferred_language="Spanish")
    nobody = ContactFactory(district=district, preferred_language="")

    assert recipient_language(user, district) == "es"
    assert recipient_language(membership, district) == "es"
    assert recipient_language(contact, district) == "es"
    assert recipient_language(nobody, district) == district.default_language == "en"
    assert recipient_language(None, None) == "en"


@pytest.mark.parametrize(
    ("value", "code"),
    [("es", "es"), ("Spanish", "es"), ("español", "es"), ("en-US", "en"), ("Klingon", None)],
)
def test_contact_languages_are_read_as_site_languages(value, code):
    assert language_code(value) == code


# --- The one layout ---------------------------------------------------------------------------


def test_mail_to_a_contact_carries_the_unsubscribe_footer_and_header(district, site):
    contact = ContactFactory(district=district, email="c@p.example.org")
    unsubscribe = SITE + "/p/unsubscribe/token/"

    with translation.override("en"):
        email = send_templated(
            "partnerships/email/mou-sent",
            to=contact.email,
            context={"title": "A & B", "district_name": "North", "link": SITE + "/x/"},
            language=None,
            district=district,
            unsubscribe_url=unsubscribe,
        )

    assert email.headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert unsubscribe in email.body_text and unsubscribe in email.body_html
    assert "Unsubscribe: stop all email from Trellis" in email.body_html
    assert '"A & B"' in email.body_text  # plain text is not HTML-escaped
    assert "A &amp; B" in email.body_html
    assert email.body_html.startswith("<!doctype html>")
    assert "max-width:560px" in email.body_html  # the layout of every email


def test_mail_to_staff_has_no_unsubscribe_footer(district, site):
    email = send_templated(
        "partnerships/email/mou-update",
        to="staff@north.example.org",
        context={"kind": "review", "title": "T", "partner_name": "P", "link": SITE + "/x/"},
        language="en",
        district=district,
    )

    assert "unsubscribe" not in (email.body_text + email.body_html).lower()
    assert email.headers == {}
