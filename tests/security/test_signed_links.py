"""Every signed link of the product, refused when forged, expired or replayed (issue 8, item 4).

A registry (LINKS) describes each kind of link that leaves the product: how to make a live
one, what using it does, and what the database looks like before and after. The same
three attacks are then run against every kind:

- forged: the right ids and payload with a wrong signature (signed with another key,
  signed with another salt, or the real token with its signature changed);
- expired: the clock moved past the link's age limit (time-machine);
- replayed: used once successfully, then again: a one-time link says it was used, a
  reusable one (unsubscribe) answers the same and changes nothing a second time.

Each refusal must show the product's own page for it (not a 500, not the success page) and
leave the database exactly as it was. `test_every_signing_salt_has_a_registry_entry` scans
the source for salts, so a new kind of signed link fails the suite until it is added here;
`test_every_token_url_has_a_registry_entry` does the same for URLs taking a token.

allauth's password-reset and email-confirmation keys are allauth's own (Trellis does not
sign them, wrap them, or choose their salt); they are walked by test_garbage.py.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from schools.tenancy import tenant_context
from tests.factories import ContactFactory, InvitationFactory

START = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)
NEW_PASSWORD = "a long and unusual passphrase 42"
WRONG_KEY = "not-the-secret-key-" + "x" * 40


@dataclass
class Link:
    """One live link of a kind: its token, and the objects it names (for the state)."""

    token: str
    payload: dict
    objects: dict = field(default_factory=dict)


class LinkKind:
    """A kind of signed link. Subclasses fill in how to make, use and observe one."""

    name = ""  # the URL name
    salt = ""
    max_age: datetime.timedelta | None = None  # None: by design the link never expires
    one_time = True
    invalid = (404, "not valid")  # (status, text) of the "not valid" page
    expired = (410, "expired")
    used = (410, "")  # what a replay of a one-time link shows

    def make(self, district) -> Link:
        raise NotImplementedError

    def sign(self, payload, *, key=None, salt=None) -> str:
        """The payload signed as the product signs it (Signer or signing.dumps)."""
        return signing.dumps(payload, key=key, salt=salt or self.salt)

    def use(self, client: Client, token: str):
        """The request that makes the link do its work (the success path)."""
        return client.post(reverse(self.name, args=[token]), self.data(token))

    def data(self, token: str) -> dict:
        """What the link's form posts (for the MOU links, the version the token names)."""
        return {}

    def succeeded(self, response) -> bool:
        return response.status_code in (200, 302) and not self.refusal(response)

    def refusal(self, response) -> bool:
        return response.status_code >= 400

    def state(self, link: Link, district):
        """What the link can change, read as it is in the database now."""
        raise NotImplementedError


# --- The kinds -------------------------------------------------------------------------------


class InvitationLink(LinkKind):
    name = "invitation_accept"
    used = (410, "already used")

    @property
    def salt(self):
        from schools.services.people import INVITATION_SALT

        return INVITATION_SALT

    def sign(self, payload, *, key=None, salt=None):
        return signing.Signer(key=key, salt=salt or self.salt).sign_object(payload)

    def make(self, district):
        from schools.services.people import invitation_token

        invitation = InvitationFactory(district=district, email="new.person@example.org")
        payload = {"d": district.pk, "i": invitation.pk, "n": invitation.nonce}
        return Link(invitation_token(invitation), payload, {"invitation": invitation})

    def data(self, token):
        return {"full_name": "Nia New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    def state(self, link, district):
        from schools.models import Invitation, Membership, User

        with tenant_context(district):
            invitation = Invitation.objects.get(pk=link.objects["invitation"].pk)
            members = Membership.objects.filter(district=district).count()
        users = list(User.objects.filter(email__iexact=invitation.email).values_list("pk"))
        return (invitation.accepted_at, invitation.accepted_by_id, members, users)

    def expire(self, link, district):
        """The invitation row carries the expiry (seven days); the token has no timestamp."""
        return link.objects["invitation"].expires_at + datetime.timedelta(minutes=1)


class ListingLink(LinkKind):
    name = "listing_verify"
    max_age = datetime.timedelta(days=30)
    used = (410, "already confirmed")

    @property
    def salt(self):
        from partnerships.services.directory import LISTING_SALT

        return LISTING_SALT

    def make(self, district):
        from partnerships.services.directory import listing_token

        contact = ContactFactory(district=district, name="Ana Ruiz")
        partner = contact.partner
        payload = {"d": district.pk, "p": partner.pk, "c": contact.pk, "v": ""}
        return Link(listing_token(partner, contact), payload, {"partner": partner})

    def data(self, token):
        return {"verifier_name": "Mallory", "intake": "closed", "name": "Forged Name"}

    def state(self, link, district):
        from partnerships.models import Partner

        with tenant_context(district):
            return tuple(
                Partner.objects.filter(pk=link.objects["partner"].pk).values_list(
                    "name", "intake", "last_verified_at", "last_verified_by", "updated_at"
                )
            )


def _version(token: str) -> str:
    """The version number a (possibly forged) MOU token names, read without verifying it."""
    try:
        return str(json.loads(signing.b64_decode(token.split(":")[0].encode()))["v"])
    except (ValueError, KeyError, TypeError):
        return "1"


class _MOULink(LinkKind):
    max_age = datetime.timedelta(days=30)

    @property
    def salt(self):
        from partnerships.services.mous.links import MOU_LINK_SALT

        return MOU_LINK_SALT

    def make(self, district):
        from partnerships.selectors.mous import current_version
        from partnerships.services.mous.links import mou_link_token
        from tests.partnerships.mou_setup import Cast, advance, draft

        cast = Cast(district)
        mou = advance(draft(cast.coordinator, partner=cast.partner), cast, "sent")
        with tenant_context(district):
            version = current_version(mou)
        payload = {"d": district.pk, "m": mou.pk, "v": version.number}
        return Link(mou_link_token(mou, version), payload, {"mou": mou, "version": version})

    def state(self, link, district):
        from partnerships.models import MOU, MOUComment, MOUSignature, MOUVersion

        mou = link.objects["mou"]
        with tenant_context(district):
            return (
                MOU.objects.get(pk=mou.pk).status,
                list(MOUSignature.objects.filter(version__mou=mou).values_list("pk", "name")),
                list(MOUComment.objects.filter(mou=mou).values_list("pk", "body")),
                list(MOUVersion.objects.filter(mou=mou).values_list("pk", "locked_at")),
            )


class MOUReviewLink(_MOULink):
    """Reading the MOU: reusable, and reading changes nothing."""

    name = "mou_review_link"
    one_time = False

    def use(self, client, token):
        return client.get(reverse(self.name, args=[token]))


class MOUSignLink(_MOULink):
    name = "mou_review_link_sign"
    used = (200, "Already signed")

    def data(self, token):
        return {
            "name": "Pat Partner",
            "title": "Director",
            "agree": "on",
            "version": _version(token),
        }

    def succeeded(self, response):
        return response.status_code == 200 and "You signed" in response.content.decode()


class MOUCommentLink(_MOULink):
    name = "mou_review_link_comment"
    # The comment sent the MOU back to draft: the form says the MOU no longer waits for it.
    used = (400, "not waiting for the partner")

    def data(self, token):
        return {
            "name": "Pat Partner",
            "comment": "Please change section 2.",
            "version": _version(token),
        }

    def succeeded(self, response):
        return (
            response.status_code == 200 and "Your comments were sent" in response.content.decode()
        )


class MOUPdfLink(_MOULink):
    """The executed PDF through the partner's link (issue 16): mailed to a contact who signed
    without an account once both parties signed. Reusable; reading changes nothing."""

    name = "mou_review_link_pdf"
    one_time = False

    def make(self, district):
        from partnerships.selectors.mous import current_version
        from partnerships.services.mous.links import mou_link_token
        from tests.partnerships.mou_setup import Cast, advance, draft

        cast = Cast(district)
        mou = advance(draft(cast.coordinator, partner=cast.partner), cast, "active")
        with tenant_context(district):
            version = current_version(mou)
        payload = {"d": district.pk, "m": mou.pk, "v": version.number}
        return Link(mou_link_token(mou, version), payload, {"mou": mou, "version": version})

    def use(self, client, token):
        return client.get(reverse(self.name, args=[token]))


class UnsubscribeLink(LinkKind):
    """Reusable by design: one click must still stop the mail years later, and a second
    click keeps the first time (no second side effect)."""

    name = "contact_unsubscribe"
    max_age = None
    one_time = False

    @property
    def salt(self):
        from partnerships.services import unsubscribe

        return unsubscribe._SALT

    def sign(self, payload, *, key=None, salt=None):
        return signing.dumps(payload, key=key, salt=salt or self.salt, compress=True)

    def make(self, district):
        from partnerships.services.unsubscribe import unsubscribe_token

        contact = ContactFactory(district=district)
        payload = {"d": district.pk, "c": contact.pk}
        return Link(unsubscribe_token(contact), payload, {"contact": contact})

    def data(self, token):
        return {"List-Unsubscribe": "One-Click"}

    def state(self, link, district):
        from partnerships.models import Contact

        with tenant_context(district):
            return tuple(
                Contact.objects.filter(pk=link.objects["contact"].pk).values_list(
                    "unsubscribed_at", "updated_at"
                )
            )


# --- Electronic consent (issue 13, engineer "econsent") --------------------------------------


class _ConsentRequestLink(LinkKind):
    """The guardian's link to a consent request. No timestamp: the request row carries its
    expiry (14 days); a signed, replaced or locked request refuses it whatever its age."""

    @property
    def salt(self):
        from referrals.services.consent_requests import CONSENT_REQUEST_SALT

        return CONSENT_REQUEST_SALT

    def sign(self, payload, *, key=None, salt=None):
        return signing.Signer(key=key, salt=salt or self.salt).sign_object(payload)

    def make(self, district):
        from referrals.services.consent_requests import (
            consent_request_create,
            consent_request_token,
        )
        from tests.factories import MembershipFactory, ReferralFactory, StudentFactory

        counselor = MembershipFactory(district=district, role="counselor")
        student = StudentFactory(district=district, guardian_email="guardian@example.org")
        referral = ReferralFactory(district=district, student=student, referred_by=counselor)
        with tenant_context(district):
            request = consent_request_create(
                by=counselor,
                referral=referral,
                fields=["name"],
                purpose="Counseling at school",
                valid_until=district.today() + datetime.timedelta(days=60),
            )
        payload = {"d": district.pk, "r": request.pk}
        return Link(consent_request_token(request), payload, {"request": request})

    def expire(self, link, district):
        return link.objects["request"].expires_at + datetime.timedelta(minutes=1)

    def state(self, link, district):
        from referrals.models import Consent, ConsentRequest

        request = link.objects["request"]
        with tenant_context(district):
            row = ConsentRequest.objects.filter(pk=request.pk).values_list(
                "status", "code_hash", "code_sends", "code_attempts", "consent_id", "updated_at"
            )
            consents = Consent.objects.filter(student_id=request.student_id).values_list("pk")
            return (list(row), list(consents))


class ConsentRequestPage(_ConsentRequestLink):
    """Reading the request: reusable, and reading changes nothing."""

    name = "econsent"
    one_time = False

    def use(self, client, token):
        return client.get(reverse(self.name, args=[token]))


class ConsentRequestCode(_ConsentRequestLink):
    """Asking for a code: asked again while the code is fresh (a second click, a reload), it
    sends nothing and says a code was sent; only the "new code" button sends another."""

    name = "econsent_code"
    one_time = False


class ConsentRequestSign(_ConsentRequestLink):
    name = "econsent_sign"
    used = (200, "Already signed")

    def make(self, district):
        from referrals.services.consent_requests import consent_request_send_code
        from schools.models import OutgoingEmail

        link = super().make(district)
        with tenant_context(district):
            consent_request_send_code(consent_request=link.objects["request"], language="en")
        mailed = OutgoingEmail.objects.filter(to=["guardian@example.org"]).order_by("-pk")[0]
        self.code = re.search(r"\b(\d{6})\b", mailed.body_text).group(1)
        return link

    def data(self, token):
        return {"code": getattr(self, "code", "000000"), "name": "Grace Okafor", "agree": "on"}

    def succeeded(self, response):
        return response.status_code == 200 and "Thank you" in response.content.decode()


# --- The partner contact's referral link (issue 14, engineer "helpera") ---------------------


class _IntakeLink(LinkKind):
    """A partner's intake contact's link to a referral sent to the partner: timestamped,
    30 days (INTAKE_LINK_VALID_FOR), and dead once the contact or the referral changes."""

    max_age = datetime.timedelta(days=30)

    @property
    def salt(self):
        from referrals.services.intake import INTAKE_SALT

        return INTAKE_SALT

    def make(self, district):
        from django.utils import timezone

        from referrals.services.intake import intake_token
        from tests.factories import PartnerFactory, ReferralFactory

        partner = PartnerFactory(district=district, intake="accepting")
        contact = ContactFactory(district=district, partner=partner, roles=["intake"])
        referral = ReferralFactory(
            district=district, partner=partner, status="sent", sent_at=timezone.now()
        )
        payload = {"d": district.pk, "r": referral.pk, "c": contact.pk}
        return Link(
            intake_token(referral, contact), payload, {"referral": referral, "contact": contact}
        )

    def state(self, link, district):
        from referrals.models import IntakeCode, Referral, ReferralStep

        referral = link.objects["referral"]
        with tenant_context(district):
            return (
                list(
                    Referral.objects.filter(pk=referral.pk).values_list(
                        "status", "accepted_at", "declined_at", "updated_at"
                    )
                ),
                list(ReferralStep.objects.filter(referral=referral).values_list("pk", "kind")),
                list(
                    IntakeCode.objects.filter(referral=referral).values_list(
                        "code_hash", "code_sends", "code_attempts", "updated_at"
                    )
                ),
            )


class IntakePage(_IntakeLink):
    """Reading the referral: reusable, and reading changes nothing."""

    name = "intake"
    one_time = False

    def use(self, client, token):
        return client.get(reverse(self.name, args=[token]))


class IntakeCodeLink(_IntakeLink):
    """Asking for a code: asked again while the code is fresh, it sends nothing and says a
    code was sent; only the "new code" button sends another."""

    name = "intake_code"
    one_time = False


class IntakeStepLink(_IntakeLink):
    """Accepting the referral: a second time, the page says the step is no longer possible
    (on the form, 200) and nothing changes."""

    name = "intake_step"
    used = (200, "not possible now")

    def data(self, token):
        return {"step": "accept"}

    def succeeded(self, response):
        return response.status_code == 302


# --- Meeting answers (issue 18) ----------------------------------------------------------------


class MeetingResponseLink(LinkKind):
    """A partner contact's accept or decline link in a meeting email: reusable (an answer can
    be given again; the same answer twice changes nothing), valid for 400 days."""

    name = "meeting_response"
    one_time = False
    max_age = datetime.timedelta(days=400)

    @property
    def salt(self):
        from partnerships.services.meetings import RESPONSE_LINK

        return RESPONSE_LINK.salt

    def make(self, district):
        from partnerships.models import Attendee
        from partnerships.services.meetings import RESPONSE_LINK
        from tests.security.tables import contact_attendee

        attendee_id = contact_attendee(district)
        with tenant_context(district):
            attendee = Attendee.objects.get(pk=attendee_id)
        payload = {"d": district.pk, "a": attendee.pk, "r": "accepted"}
        return Link(RESPONSE_LINK.make(**payload), payload, {"attendee": attendee})

    def state(self, link, district):
        from partnerships.models import Attendee

        with tenant_context(district):
            return tuple(
                Attendee.objects.filter(pk=link.objects["attendee"].pk).values_list(
                    "response", "responded_at"
                )
            )


LINKS = [
    InvitationLink(),
    ListingLink(),
    MOUReviewLink(),
    MOUSignLink(),
    MOUCommentLink(),
    MOUPdfLink(),
    UnsubscribeLink(),
    ConsentRequestPage(),
    ConsentRequestCode(),
    ConsentRequestSign(),
    IntakePage(),
    IntakeCodeLink(),
    IntakeStepLink(),
    MeetingResponseLink(),
]
IDS = [kind.name for kind in LINKS]


# --- The attacks -----------------------------------------------------------------------------


def flip_signature(token: str) -> str:
    payload, signature = token.rsplit(":", 1)
    return f"{payload}:{signature[:-2]}{'AB' if not signature.endswith('AB') else 'CD'}"


def forgeries(kind: LinkKind, link: Link) -> dict[str, str]:
    return {
        "signed with another key": kind.sign(link.payload, key=WRONG_KEY),
        "signed with another salt": kind.sign(link.payload, salt=kind.salt + ".other"),
        "signature changed": flip_signature(link.token),
        "signature removed": link.token.rsplit(":", 1)[0],
    }


def assert_page(response, expected, what):
    status, text = expected
    body = response.content.decode("utf-8", "replace")
    assert response.status_code == status, f"{what}: {response.status_code}"
    assert text.lower() in body.lower(), f"{what}: the page does not say {text!r}"


def requests_with(kind: LinkKind, client: Client, token: str):
    """Every way in with the token: the page and the form (or one-click POST)."""
    path = reverse(kind.name, args=[token])
    yield "GET", client.get(path)
    yield "POST", client.post(path, kind.data(token))


@pytest.mark.parametrize("kind", LINKS, ids=IDS)
def test_a_forged_link_with_the_right_ids_is_refused_and_changes_nothing(district, kind):
    link = kind.make(district)
    before = kind.state(link, district)
    client = Client(raise_request_exception=False)

    for forgery, token in forgeries(kind, link).items():
        assert token != link.token
        for method, response in requests_with(kind, client, token):
            assert_page(response, kind.invalid, f"{forgery}, {method}")
            assert kind.state(link, district) == before, f"{forgery}, {method} changed data"

    # The genuine link works (so the refusals above are the signature's doing).
    assert kind.succeeded(kind.use(client, link.token))


@pytest.mark.parametrize("kind", LINKS, ids=IDS)
def test_an_expired_link_is_refused_and_changes_nothing(district, kind):
    client = Client(raise_request_exception=False)
    with time_machine.travel(START, tick=False):
        link = kind.make(district)
    if hasattr(kind, "expire"):
        later = kind.expire(link, district)
    elif kind.max_age is not None:
        later = START + kind.max_age + datetime.timedelta(seconds=1)
    else:
        # No age limit, by design: the link still works years later.
        with time_machine.travel(START + datetime.timedelta(days=5 * 365), tick=False):
            assert kind.succeeded(kind.use(client, link.token))
        return
    before = kind.state(link, district)

    with time_machine.travel(later, tick=False):
        for method, response in requests_with(kind, client, link.token):
            assert_page(response, kind.expired, f"expired, {method}")
            assert kind.state(link, district) == before, f"expired, {method} changed data"


@pytest.mark.parametrize("kind", LINKS, ids=IDS)
def test_a_replayed_link_says_it_was_used_or_does_nothing_twice(district, kind):
    link = kind.make(district)
    client = Client(raise_request_exception=False)

    first = kind.use(client, link.token)
    assert kind.succeeded(first), f"first use: {first.status_code}"
    after_first = kind.state(link, district)

    replay_client = Client(raise_request_exception=False)  # another browser, signed out
    with time_machine.travel(datetime.timedelta(minutes=5)):  # later, so a write would show
        again = kind.use(replay_client, link.token)
        if kind.one_time:
            assert_page(again, kind.used, "replayed")
        else:
            assert kind.succeeded(again), f"replay of a reusable link: {again.status_code}"
            assert again.status_code == first.status_code
        assert kind.state(link, district) == after_first, "the replay changed data"


# --- Nothing escapes the registry -----------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
SKIPPED_DIRS = {"tests", ".venv", ".local", "locale", "static", "templates", "node_modules"}
SIGNING_API = re.compile(
    r"\b(?:signing\.(?:dumps|loads|Signer|TimestampSigner)|TimestampSigner|Signer)\s*\("
    r"|\bsign_object\(|\bsalted_hmac\(|\bget_signed_cookie\(|\bset_signed_cookie\("
)
SALT_CONSTANT = re.compile(r"""^\s*\w*SALT\w*\s*(?::\s*\w+\s*)?=\s*["']([^"']+)["']""", re.M)
SALT_LITERAL = re.compile(r"""\b(?:key_)?salt\s*=\s*["']([^"']+)["']""")
SALTED_HMAC = re.compile(r"""salted_hmac\(\s*["']([^"']+)["']""")
# The one signer, SignedLink: it signs with the salt each kind of link declares (and refuses
# a kind without one, tests/core/test_signed.py); the salts are found where they are declared.
SIGNER = Path("core/signed.py")


def product_sources():
    for top in sorted(ROOT.iterdir()):
        if top.name in SKIPPED_DIRS or top.name.startswith("."):
            continue
        for path in [top] if top.suffix == ".py" else sorted(top.rglob("*.py")):
            yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def salts_in_source() -> tuple[dict[str, str], list[str]]:
    """(salt -> file that defines it, files that sign without any salt of their own)."""
    found, unsalted = {}, []
    for relative, source in product_sources():
        salts = set(SALT_CONSTANT.findall(source))
        salts |= set(SALT_LITERAL.findall(source)) | set(SALTED_HMAC.findall(source))
        for salt in salts:
            found[salt] = str(relative)
        if SIGNING_API.search(source) and not salts and relative != SIGNER:
            unsalted.append(str(relative))
    return found, unsalted


def test_every_signing_salt_has_a_registry_entry():
    found, unsalted = salts_in_source()
    registered = {kind.salt for kind in LINKS}

    missing = {salt: where for salt, where in found.items() if salt not in registered}
    assert not missing, (
        f"signed links without an entry in LINKS (tests/security/test_signed_links.py): {missing}"
    )
    assert registered <= set(found), "LINKS names a salt the code no longer uses"
    assert not unsalted, f"signing without a salt of its own (add one, and a LinkKind): {unsalted}"


def test_the_salt_scan_would_see_a_new_salt():
    source = 'EXPORT_SALT = "trellis.x.export"\nsigning.dumps(data, salt="trellis.y")\n'
    assert SALT_CONSTANT.findall(source) == ["trellis.x.export"]
    assert SALT_LITERAL.findall(source) == ["trellis.y"]
    assert SIGNING_API.search("TimestampSigner(salt=SALT).sign('x')")
    assert SIGNING_API.search("signing.Signer().sign_object({})")


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def test_every_token_url_has_a_registry_entry():
    token_urls = {
        name
        for route, name in _routes(get_resolver().url_patterns)
        if re.search(r"<(?:\w+:)?token>", route) and not route.startswith("accounts/")
    }

    assert token_urls == {kind.name for kind in LINKS}
