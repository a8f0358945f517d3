"""No input produces a 500: garbage posted to every URL pattern of the project.

The walk enumerates the URL patterns themselves (district pages through
tests/security/urls.py, allauth's account and two-factor pages, everything else in
config/urls.py), so a page added later is covered the moment its pattern exists. Each
page is first opened to learn its form's field names; then each kind of garbage is sent
as three people: anonymous, a district administrator with an authenticator, and a
counselor without one (so that the enrolment form is reached). Each person signs in once
and keeps one session for the whole walk: every request runs in a savepoint rolled back
after it, so each meets the page's object (or one-time link) as new and the person still
signed in, whatever the garbage did (signed out, changed the password, removed the
authenticator). Both signed-in people have just confirmed their password, so allauth's
"confirm access" step does not stop the garbage before the form.

Then valid-looking values that a service refuses (REFUSALS): each form is filled from its
own values with a marker in its text fields, and sent with another district's objects in
its choice and id fields, an unsubscribed contact, a version already signed, a school
outside a school-limited member's, another district's membership in the address.

Any status below 500 passes: a form with errors, a 4xx, a redirect; but a marker posted
with a refusal must never come back unescaped. Rate limits are off here so that the
forms themselves, not allauth's 429, answer the garbage.

The Django admin (/admin/) is skipped: it is Django's own code, open only to platform
staff (superusers, never district members), and its object URLs would need an object of
every registered model; its sign-in goes through allauth's login, which is walked here.
"""

from __future__ import annotations

import os
import re
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.utils import is_mfa_enabled
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from tests.factories import PASSWORD, MembershipFactory, enable_totp
from tests.security.probes import (
    Form,
    Markers,
    form_data,
    is_html,
    page_forms,
    unescaped_markers,
)
from tests.security.urls import OBJECT_MAKERS, district_urls, make_values

SKIPPED_PREFIXES = ("admin/",)


# --- What to walk ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    route: str
    district_url: object = None  # a tests.security.urls.DistrictURL for district pages
    arguments: tuple[str, ...] = ()


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def targets() -> list[Target]:
    district = {url.route: url for url in district_urls()}
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES):
            continue
        name = pattern.name or route
        if route in district:
            url = district[route]
            found.append(Target(name, route, district_url=url, arguments=url.arguments))
        else:
            found.append(Target(name, route, arguments=tuple(pattern.pattern.regex.groupindex)))
    return found


def _reset_password_path(client, user):
    """allauth's reset link for the person; opening it puts the key in the session."""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    response = client.get(path)
    return response["Location"] if response.status_code == 302 else path


def _confirm_email_path(client, user):
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=f"second-{user.pk}@example.org", defaults={"verified": False}
    )
    return reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key])


def _listing_verify_path(client, user):
    """A live link to confirm a partner's listing (partnerships directory)."""
    from partnerships.services.directory import listing_token
    from schools.models import Membership
    from schools.tenancy import tenant_context
    from tests.factories import ContactFactory

    with tenant_context(user=user):  # a person may read their own memberships
        district = Membership.objects.select_related("district").filter(user=user).first().district
    contact = ContactFactory(district=district)
    return reverse("listing_verify", args=[listing_token(contact.partner, contact)])


def _unsubscribe_path(client, user):
    """A live unsubscribe link of a partner contact in the person's district."""
    from partnerships.services.unsubscribe import unsubscribe_token
    from schools.models import Membership
    from schools.tenancy import tenant_context
    from tests.factories import ContactFactory

    with tenant_context(user=user):
        district = Membership.objects.select_related("district").filter(user=user).first().district
    contact = ContactFactory(district=district)
    return reverse("contact_unsubscribe", args=[unsubscribe_token(contact)])


def _users_district(user):
    from schools.models import Membership
    from schools.tenancy import tenant_context

    with tenant_context(user=user):  # a person may read their own memberships
        return Membership.objects.select_related("district").filter(user=user).first().district


def _meeting_response_path(client, user):
    """A live answer link of a partner contact invited to a meeting of the person's district
    (issue 18)."""
    from partnerships.models import Attendee
    from partnerships.services.meetings import response_url
    from schools.tenancy import tenant_context
    from tests.security.tables import contact_attendee

    district = _users_district(user)
    attendee_id = contact_attendee(district)
    with tenant_context(district):
        attendee = Attendee.objects.get(pk=attendee_id)
    return urlsplit(response_url(attendee, "accepted")).path


def _meeting_feed_path(client, user):
    """A live calendar feed address of a member of the person's district (issue 18)."""
    import hashlib
    import secrets

    from partnerships.models import CalendarFeed
    from schools.tenancy import tenant_context

    district = _users_district(user)
    secret = secrets.token_urlsafe(32)
    with tenant_context(district):
        CalendarFeed.objects.create(
            district=district,
            membership=MembershipFactory(district=district),
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
        )
    return reverse("meeting_feed", args=[district.slug, secret])


def _invitation_path(client, user):
    """A live invitation link (schools people): a fresh invitation in the person's district."""
    from schools.models import Membership
    from schools.services.people import invitation_path
    from schools.tenancy import tenant_context
    from tests.factories import InvitationFactory

    with tenant_context(user=user):  # a person may read their own memberships
        district = Membership.objects.select_related("district").filter(user=user).first().district
    return invitation_path(InvitationFactory(district=district))


def _mou_review_path(name):
    """A live link for a partner to review an MOU sent to it (partnerships MOUs)."""

    def make(client, user):
        from partnerships.services.mous.links import mou_link_token
        from schools.models import Membership
        from schools.tenancy import tenant_context
        from tests.factories import MOUVersionFactory

        with tenant_context(user=user):  # a person may read their own memberships
            membership = Membership.objects.select_related("district").filter(user=user).first()
        district = membership.district
        version = MOUVersionFactory(
            district=district, number=1, mou__district=district, mou__status="sent"
        )
        return reverse(name, args=[mou_link_token(version.mou, version)])

    return make


def _consent_request_path(name):
    """A live link to a guardian's consent request (referrals e-consent, issue 13), with a
    code already sent, so the signing form is there to fill in."""

    def make(client, user):
        import datetime

        from referrals.services.consent_requests import (
            consent_request_create,
            consent_request_send_code,
            consent_request_token,
        )
        from schools.models import Membership
        from schools.tenancy import tenant_context
        from tests.factories import MembershipFactory, ReferralFactory, StudentFactory

        with tenant_context(user=user):  # a person may read their own memberships
            district = (
                Membership.objects.select_related("district").filter(user=user).first().district
            )
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
            consent_request_send_code(consent_request=request, language="en")
        return reverse(name, args=[consent_request_token(request)])

    return make


def _intake_path(name):
    """A live link of a partner's intake contact to a referral sent to the partner
    (referrals intake, issue 14), with a code already sent, so every form is on the page."""

    def make(client, user):
        from django.utils import timezone

        from referrals.services.intake import intake_send_code, intake_token
        from schools.models import Membership
        from schools.tenancy import tenant_context
        from tests.factories import ContactFactory, PartnerFactory, ReferralFactory

        with tenant_context(user=user):  # a person may read their own memberships
            district = (
                Membership.objects.select_related("district").filter(user=user).first().district
            )
        partner = PartnerFactory(district=district, intake="accepting")
        contact = ContactFactory(district=district, partner=partner, roles=["intake"])
        referral = ReferralFactory(
            district=district, partner=partner, status="sent", sent_at=timezone.now()
        )
        with tenant_context(district):
            intake_send_code(referral=referral, contact=contact, language="en")
        return reverse(name, args=[intake_token(referral, contact)])

    return make


def _help_request_form_path(name):
    """A school's public request-for-help page (issue 14, engineer "helperc"): a new school
    of the person's district, so its rate limits start from zero."""

    def make(client, user):
        from schools.models import Membership
        from schools.tenancy import tenant_context
        from tests.factories import SchoolFactory

        with tenant_context(user=user):  # a person may read their own memberships
            district = (
                Membership.objects.select_related("district").filter(user=user).first().district
            )
        return reverse(name, args=[district.slug, SchoolFactory(district=district).pk])

    return make


# Pages outside the districts whose URL carries arguments: URL name -> function(client, user)
# returning a real path (user: the signed-in person, or for anonymous visitors a viewer of
# the district). A new one fails the walk until it is added here.
PATH_MAKERS = {
    "invitation_accept": _invitation_path,
    "account_reset_password_from_key": _reset_password_path,
    "account_confirm_email": _confirm_email_path,
    "listing_verify": _listing_verify_path,
    "contact_unsubscribe": _unsubscribe_path,
    "mou_review_link": _mou_review_path("mou_review_link"),
    "mou_review_link_sign": _mou_review_path("mou_review_link_sign"),
    "mou_review_link_comment": _mou_review_path("mou_review_link_comment"),
    # The executed PDF through the partner's link (issue 16, helper A).
    "mou_review_link_pdf": _mou_review_path("mou_review_link_pdf"),
    # The guardian's consent request (issue 13, engineer "econsent").
    "econsent": _consent_request_path("econsent"),
    "econsent_code": _consent_request_path("econsent_code"),
    "econsent_sign": _consent_request_path("econsent_sign"),
    # The partner contact's referral link (issue 14, engineer "helpera").
    "intake": _intake_path("intake"),
    "intake_code": _intake_path("intake_code"),
    "intake_step": _intake_path("intake_step"),
    # A school's public form for requests for help, and its thank-you page (issue 14,
    # engineer "helperc"): no account, no token; the district and the school are in the URL.
    "help_request_form": _help_request_form_path("help_request_form"),
    "help_request_thanks": _help_request_form_path("help_request_thanks"),
    # A partner contact's answer to a meeting invitation, and a member's calendar feed
    # (issue 18).
    "meeting_response": _meeting_response_path,
    "meeting_feed": _meeting_feed_path,
}

TARGETS = targets()


# --- Who sends it ---------------------------------------------------------------------------


class Persona:
    """A signed-in (or anonymous) person; `client()` signs in afresh, `ready(client)` keeps
    one session usable across the whole walk (signs in again only if the garbage ended it)."""

    def __init__(self, kind, district):
        self.kind = kind
        self.district = district
        self.user = None
        if kind == "admin":
            membership = MembershipFactory(district=district, role="admin")
            enable_totp(membership.user)
            self.user = membership.user
        elif kind == "counselor-without-mfa":
            self.user = MembershipFactory(district=district, role="counselor").user
        else:
            # Reset and confirmation links still need somebody's account.
            self.link_user = MembershipFactory(district=district, role="viewer").user

    def client(self) -> Client:
        client = Client(raise_request_exception=False)
        if self.user is not None:
            # Garbage may have changed the password (a 100,000-character one is valid).
            self.user.set_password(PASSWORD)
            self.user.save(update_fields=["password"])
            client.force_login(self.user)
            confirmed = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
            assert confirmed.status_code == 302, "could not confirm the password"
        return client

    def lost(self, client) -> bool:
        return self.user is not None and "_auth_user_id" not in client.session

    def ready(self, client) -> Client:
        """The same client, still signed in as this person and with their password just
        confirmed; only what the garbage may have undone is put back."""
        if self.user is None:
            return client
        if self.kind == "admin" and not is_mfa_enabled(self.user):
            enable_totp(self.user)  # a form deactivated the authenticator
        session = client.session
        records = session.get(AUTHENTICATION_METHODS_SESSION_KEY)
        if session.get("_auth_user_id") != str(self.user.pk) or not records:
            return self.client()  # the garbage signed the person out: start again
        # allauth's "confirm access" lasts minutes, the walk longer: confirmed just now.
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**r, "at": time.time()} for r in records]
        session.save()
        return client

    def path(self, client, target: Target) -> str:
        if target.district_url is not None:
            self.values = make_values(target.arguments, self.district)
            return target.district_url.build(self.district.slug, self.values)
        if not target.arguments:
            return reverse(target.name) if not target.name.startswith(("^", "<")) else "/"
        if target.name not in PATH_MAKERS:
            raise AssertionError(
                f"no path maker for {target.route!r} (arguments {list(target.arguments)}): "
                "add one to PATH_MAKERS in tests/security/test_garbage.py"
            )
        return PATH_MAKERS[target.name](client, self.user or self.link_user)


# --- What is sent ---------------------------------------------------------------------------


COMMON_FIELDS = ["login", "password", "email", "code", "next", "name", "q", "page", "id"]


def page_fields(client, path) -> tuple[list[Form], list[str]]:
    """The page's forms, and every field name on it (plus common ones) for the garbage."""
    response = client.get(path)
    forms = []
    if response.status_code == 200 and is_html(response):
        forms = page_forms(response.content.decode("utf-8", "replace"))
    names = []
    for form in forms:
        names += [f.name for f in form.fields if f.name not in names]
    names = [n for n in names if n != "csrfmiddlewaretoken"]
    return forms, names + [n for n in COMMON_FIELDS if n not in names]


def field_names(client, path) -> list[str]:
    return page_fields(client, path)[1]


HUGE = "x" * 100_000
WRONG_VALUES = [
    "-1",
    "99999999999999999999999999999999",
    "1e309",
    "NaN",
    "2024-02-30",
    "24:61",
    "../../../../etc/passwd",
    "<script>alert(1)</script>' OR 1=1 --",
    "💥 emoji ñ ü",
    "   ",
]


def garbage(fields):
    """(label, keyword arguments for client.post) for each kind of garbage."""
    yield "empty body", {}
    yield "100,000-character strings", {"data": {name: HUGE for name in fields}}
    yield (
        "100,000-character email",
        {"data": {name: HUGE + "@example.org" for name in fields}},
    )
    yield "NUL bytes", {"data": {name: "abc\x00def" for name in fields}}
    yield "NUL bytes in field names", {"data": {f"{name}\x00": "x" for name in fields}}
    for value in WRONG_VALUES:
        yield f"wrong type {value[:20]!r}", {"data": {name: value for name in fields}}
    yield "several values per field", {"data": {name: ["1", "two", ""] for name in fields}}
    yield (
        "unknown fields",
        {
            "data": {
                **{name: "x" for name in fields},
                "district": "999999",
                "district_id": "-1",
                "is_superuser": "on",
                "role": "superadmin",
                "__proto__": "{}",
                "csrfmiddlewaretoken": "not-a-token",
            }
        },
    )
    yield (
        "random bytes uploaded in every field",
        {
            "data": {
                **{
                    name: SimpleUploadedFile(f"{name}.csv", os.urandom(4096), "text/csv")
                    for name in fields
                },
                "file": SimpleUploadedFile("x.pdf", os.urandom(4096), "application/pdf"),
            }
        },
    )
    query = "&".join(f"{name}=%FF%FE%00%C0%AF" for name in fields).encode()
    yield (
        "invalid UTF-8 in a urlencoded body",
        {"data": query, "content_type": "application/x-www-form-urlencoded"},
    )
    yield (
        "raw latin-1 bytes declared as UTF-8",
        {
            "data": "&".join(f"{n}=caf\xe9" for n in fields).encode("latin-1"),
            "content_type": "application/x-www-form-urlencoded; charset=utf-8",
        },
    )
    yield (
        "UTF-8 body declared as UTF-16",
        {
            "data": "&".join(f"{n}=ñ" for n in fields).encode(),
            "content_type": "application/x-www-form-urlencoded; charset=utf-16",
        },
    )
    yield (
        "unknown charset",
        {"data": b"a=b", "content_type": "application/x-www-form-urlencoded; charset=klingon"},
    )
    yield (
        "multipart without a boundary",
        {"data": b"--x\r\n\r\nnothing", "content_type": "multipart/form-data"},
    )
    yield (
        "multipart with a broken body",
        {
            "data": b"--zz\r\nContent-Disposition: form-da",
            "content_type": "multipart/form-data; boundary=zz",
        },
    )
    yield (
        "JSON instead of a form",
        {"data": b'{"a": [1, {"b": null}]}', "content_type": "application/json"},
    )
    yield "binary body", {"data": os.urandom(2048), "content_type": "application/octet-stream"}


def query_garbage(fields):
    """The same kinds of garbage in the query string of a GET."""
    yield "GET with 100,000-character values", {"data": {name: HUGE for name in fields}}
    yield "GET with NUL bytes", {"data": {name: "a\x00b" for name in fields}}
    for value in WRONG_VALUES[:4]:
        yield f"GET with {value[:20]!r}", {"data": {name: value for name in fields}}
    yield "GET with several values", {"data": {name: ["1", "x"] for name in fields}}


# --- The walk -------------------------------------------------------------------------------


def _problem(label, method, path, response):
    detail = ""
    if getattr(response, "exc_info", None):
        detail = "".join(traceback.format_exception(*response.exc_info)[-6:])
    return f"{method} {path} with {label}: {response.status_code}\n{detail}"


PERSONAS = ["anonymous", "admin", "counselor-without-mfa"]
# The counselor is there to reach the account pages an admin never sees (enrolment);
# district pages are walked for every role by test_role_matrix already.
CASES = [
    (target, persona)
    for target in TARGETS
    for persona in PERSONAS
    if not (target.district_url and persona == "counselor-without-mfa")
]


def _send(client, method, path, kwargs):
    if isinstance(kwargs.get("data"), bytes):
        # Sent as is: client.post would re-encode the body in the declared charset.
        return client.generic(method, path, kwargs["data"], kwargs["content_type"])
    return getattr(client, method.lower())(path, **kwargs)


# --- Valid-looking values that a service refuses ----------------------------------------------

# A form field's name (its last part: contacts-0-id -> id, with the row kind) -> the kind
# of object its value names.
FIELD_OBJECTS = {
    "partner": "partner",
    "partners": "partner",
    "school": "school",
    "schools": "school",
    "contact": "contact",
    "mous": "mou",
    "template": "template",
    "contacts-id": "contact",
    "services-id": "service",
}


def _object_kind(field_name: str) -> str | None:
    parts = field_name.split("-")
    if len(parts) == 3:
        return FIELD_OBJECTS.get(f"{parts[0]}-{parts[2]}")
    return FIELD_OBJECTS.get(field_name)


REFUSALS = [
    "another district's objects in choice and id fields",
    "an unsubscribed contact",
    "an already-signed version",
    "another school's object, from a school-limited member",
    "a membership of another district in the address",
]


class Refusals:
    """Well-formed values naming things the person may not use: another district's objects,
    an unsubscribed contact, a version already signed, a school outside the person's own."""

    def __init__(self, district, other_district):
        self.district, self.other_district = district, other_district
        self._others: dict[str, int] | None = None
        self.markers = Markers(start=100_000)
        self.exercised: set[str] = set()

    def others(self) -> dict[str, int]:
        """One object of each kind in the other district (made once)."""
        if self._others is None:
            from partnerships.models import Service
            from schools.tenancy import tenant_context
            from tests.factories import ContactFactory, MOUFactory, SchoolFactory

            other = self.other_district
            contact = ContactFactory(district=other)
            with tenant_context(other):
                service = Service.objects.create(
                    district=other, partner=contact.partner, category="counseling"
                )
            template_id = OBJECT_MAKERS["template_id"](other)
            self._others = {
                "partner": contact.partner_id,
                "contact": contact.pk,
                "service": service.pk,
                "school": SchoolFactory(district=other).pk,
                "mou": MOUFactory(district=other, partner=contact.partner).pk,
                "template": template_id,
                "membership": MembershipFactory(district=other).pk,
            }
        return self._others

    def _base(self, form) -> dict:
        def text(field):
            return self.markers.new(field.name)

        today = timezone.localdate().isoformat()
        return form_data(form, text, today=today, other=lambda f: {"agree": "on"}.get(f.name))

    def requests(self, persona, target, path, forms):
        """(label, path, make the data) for each refusal that applies to the page's forms;
        making the data may set the refusal up (it is called where it is undone after)."""
        for form in forms:
            kinds = {f.name: _object_kind(f.name) for f in form.fields}
            base = self._base(form)
            if any(kinds.values()):
                others = {n: [str(self.others()[k])] for n, k in kinds.items() if k}
                yield REFUSALS[0], path, lambda base=base, others=others: {**base, **others}
            if "contact" in kinds:
                yield (
                    REFUSALS[1],
                    path,
                    lambda base=base: {
                        **base,
                        "contact": [str(self._unsubscribed_contact(persona))],
                    },
                )
            if "version" in kinds:
                yield (
                    REFUSALS[2],
                    path,
                    lambda base=base: {
                        **base,
                        "version": [str(self._signed_version(persona, path))],
                    },
                )
            schools = {"school", "schools"} & set(kinds)
            if schools and persona.kind == "admin":
                yield (
                    REFUSALS[3],
                    path,
                    lambda base=base, schools=schools: {
                        **base,
                        **dict.fromkeys(schools, [str(self._school_outside(persona))]),
                    },
                )
            if "membership_id" in target.arguments:
                url = target.district_url.build(
                    self.district.slug,
                    {**persona.values, "membership_id": self.others()["membership"]},
                )
                yield REFUSALS[4], url, lambda base=base: base

    def prepare(self, persona) -> None:
        """Make the page's forms appear: its partner gets a contact to send the listing to,
        its MOU waits for the district's signature (the partner signed)."""
        from partnerships.models import MOU, MOUVersion
        from schools.tenancy import tenant_context
        from tests.factories import ContactFactory, MOUSignatureFactory

        values = getattr(persona, "values", {}) if persona.user is not None else {}
        if values.get("partner_id"):
            ContactFactory(district=self.district, partner_id=values["partner_id"])
        if values.get("mou_id"):
            with tenant_context(self.district):
                MOU.objects.filter(pk=values["mou_id"]).update(status="partner_signed")
                mou_versions = MOUVersion.objects.filter(mou_id=values["mou_id"])
                version = mou_versions.order_by("-number").first()
            if version is not None:
                MOUSignatureFactory(district=self.district, version=version, party="partner")

    def _unsubscribed_contact(self, persona) -> int:
        from partnerships.models import Contact
        from schools.tenancy import tenant_context
        from tests.factories import ContactFactory

        partner_id = getattr(persona, "values", {}).get("partner_id")
        extra = {"partner_id": partner_id} if partner_id else {}
        contact = ContactFactory(district=self.district, **extra)
        with tenant_context(self.district):
            Contact.objects.filter(pk=contact.pk).update(unsubscribed_at=timezone.now())
        return contact.pk

    def _signed_version(self, persona, path) -> int:
        """Sign the current version of the page's MOU (as the partner) and name it."""
        from partnerships.models import MOUVersion
        from partnerships.services.mous.links import mou_link_claim_read
        from schools.tenancy import tenant_context
        from tests.factories import MOUSignatureFactory

        by_link = path.startswith("/p/")
        mou_id = None if by_link else getattr(persona, "values", {}).get("mou_id")
        if mou_id is None:
            claim = mou_link_claim_read(resolve(path).kwargs.get("token", ""))
            if claim is None:
                return 1
            mou_id = claim.mou_id
        with tenant_context(self.district):
            version = MOUVersion.objects.filter(mou_id=mou_id).order_by("-number").first()
        party = "partner" if by_link else "district"
        MOUSignatureFactory(district=self.district, version=version, party=party)
        return version.number

    def _school_outside(self, persona) -> int:
        """Limit the person to one school; return another school of the district."""
        from schools.models import Membership, MembershipSchool
        from schools.tenancy import tenant_context
        from tests.factories import SchoolFactory

        inside = SchoolFactory(district=self.district)
        outside = SchoolFactory(district=self.district)
        with tenant_context(self.district):
            membership = Membership.objects.get(district=self.district, user=persona.user)
            MembershipSchool.objects.get_or_create(
                district=self.district, membership=membership, school=inside
            )
        return outside.pk


# --- The walk -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona_kind", PERSONAS)
def test_no_garbage_produces_a_500(district, other_district, settings, persona_kind):
    """Every page, every kind of garbage, one signed-in session per person (reused: only
    what the garbage undid is restored before the next page)."""
    settings.ACCOUNT_RATE_LIMITS = False
    persona = Persona(persona_kind, district)
    refusals = Refusals(district, other_district)
    client = persona.client()
    problems = []

    if persona.kind != "counselor-without-mfa":
        refusals.others()  # made once, before the pages' own changes are undone
    for target in [t for t, p in CASES if p == persona_kind]:
        with _undone(client):  # what the page's garbage changed is undone after it
            client = _walk_page(persona, client, target, refusals, problems)

    assert not problems, "\n".join(problems)
    if persona.kind == "admin":  # the refusals reached the forms they are meant for
        assert refusals.exercised == set(REFUSALS), set(REFUSALS) - refusals.exercised


@contextmanager
def _undone(client):
    """Run a block, then roll the database back to before it: the objects it used up, the
    session it ended or changed, the password or authenticator a form changed. The client's
    cookies go back too, so it holds the session as it was."""
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies[name] = value


def _walk_page(persona, client, target, refusals, problems):
    """Every kind of garbage, then every refusal, to one page; returns the client.

    Each request is undone after it, so each meets the page's object (an MOU, a one-time
    link) as new, and the person still signed in, without making or signing in afresh."""
    client = persona.ready(client)
    path = persona.path(client, target)
    forms, fields = page_fields(client, path)

    requests = [("POST", *kind) for kind in garbage(fields)]
    requests += [("GET", *kind) for kind in query_garbage(fields)]
    for method, label, kwargs in requests:
        with _undone(client):
            response = _send(client, method, path, kwargs)
        if response.status_code >= 500:
            problems.append(_problem(f"{target.name}: {label}", method, path, response))

    refusals.prepare(persona)
    page = client.get(path, follow=True)
    forms = page_forms(page.content.decode("utf-8", "replace")) if is_html(page) else []
    here = page.request["PATH_INFO"]
    forms = [f for f in forms if f.method == "post" and (f.action or here) == path]
    for label, refused_path, data in refusals.requests(persona, target, path, forms):
        refusals.exercised.add(label)
        with _undone(client):  # the refusal's set-up too (a school limit, a signature)
            response = client.post(refused_path, data())
        if response.status_code >= 500:
            problems.append(_problem(f"{target.name}: {label}", "POST", refused_path, response))
        elif is_html(response):
            content = response.content.decode("utf-8", "replace")
            for number in sorted(unescaped_markers(content)):
                problems.append(
                    f"POST {refused_path} with {label}: <x-probe-{number}> came back "
                    f"unescaped ({refusals.markers.where[number]})"
                )

    return client


def test_the_walk_covers_district_account_and_two_factor_pages():
    names = {t.name for t in TARGETS}

    assert {"district_home", "account_login", "account_reset_password", "account_signup"} <= names
    assert {"mfa_activate_totp", "mfa_authenticate", "mfa_view_recovery_codes"} <= names
    assert all(not re.match(r"admin/", t.route) for t in TARGETS)
    assert {t.name for t in TARGETS if t.district_url} == {u.name for u in district_urls()}


def test_a_500_would_be_caught(client, district, settings):
    """The walk's own check: a view that raises is reported, not swallowed."""
    from django.urls import path as url_path

    def broken(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [url_path("boom/", broken)]})
    response = Client(raise_request_exception=False).post("/boom/", {"a": "b"})

    assert response.status_code == 500
    assert "RuntimeError" in _problem("x", "POST", "/boom/", response)
