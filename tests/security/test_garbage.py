"""No input produces a 500: garbage posted to every URL pattern of the project.

The walk enumerates the URL patterns themselves (district pages through
tests/security/urls.py, allauth's account and two-factor pages, everything else in
config/urls.py), so a page added later is covered the moment its pattern exists. Each
page is first opened to learn its form's field names; then each kind of garbage is sent
from a fresh session as three people: anonymous, a district administrator with an
authenticator, and a counselor without one (so that the enrolment form is reached).
Both signed-in people have just confirmed their password, so allauth's "confirm access"
step does not stop the garbage before the form.

Any status below 500 passes: a form with errors, a 4xx, a redirect. Rate limits are
off here so that the forms themselves, not allauth's 429, answer the garbage.

The Django admin (/admin/) is skipped: it is Django's own code, open only to platform
staff (superusers, never district members), and its object URLs would need an object of
every registered model; its sign-in goes through allauth's login, which is walked here.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PASSWORD, MembershipFactory, enable_totp
from tests.security.urls import district_urls, make_values

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


def _invitation_path(client, user):
    """A live invitation link (schools people): a fresh invitation in the person's district."""
    from schools.models import Membership
    from schools.services.people import invitation_link
    from schools.tenancy import tenant_context
    from tests.factories import InvitationFactory

    with tenant_context(user=user):  # a person may read their own memberships
        district = Membership.objects.select_related("district").filter(user=user).first().district
    return invitation_link(InvitationFactory(district=district), base_url="")


def _mou_review_path(name):
    """A live link for a partner to review an MOU sent to it (partnerships MOUs)."""

    def make(client, user):
        from partnerships.services.mous import mou_link_token
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
}

TARGETS = targets()


# --- Who sends it ---------------------------------------------------------------------------


class Persona:
    """A fresh signed-in (or anonymous) session for each kind of garbage."""

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

    def path(self, client, target: Target) -> str:
        if target.district_url is not None:
            values = make_values(target.arguments, self.district)
            return target.district_url.build(self.district.slug, values)
        if not target.arguments:
            return reverse(target.name) if not target.name.startswith(("^", "<")) else "/"
        if target.name not in PATH_MAKERS:
            raise AssertionError(
                f"no path maker for {target.route!r} (arguments {list(target.arguments)}): "
                "add one to PATH_MAKERS in tests/security/test_garbage.py"
            )
        return PATH_MAKERS[target.name](client, self.user or self.link_user)


# --- What is sent ---------------------------------------------------------------------------


class _FieldNames(HTMLParser):
    def __init__(self):
        super().__init__()
        self.names: dict[str, str] = {}  # name -> input type

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            kind = attrs.get("type", tag) if tag == "input" else tag
            self.names.setdefault(attrs["name"], kind or "text")


COMMON_FIELDS = ["login", "password", "email", "code", "next", "name", "q", "page", "id"]


def field_names(client, path) -> list[str]:
    response = client.get(path)
    parser = _FieldNames()
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        parser.feed(response.content.decode("utf-8", "replace"))
    names = [n for n in parser.names if n != "csrfmiddlewaretoken"]
    return names + [n for n in COMMON_FIELDS if n not in names]


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


@pytest.mark.parametrize(("target", "persona_kind"), CASES, ids=[f"{t.name}-{p}" for t, p in CASES])
def test_no_garbage_produces_a_500(district, settings, target, persona_kind):
    settings.ACCOUNT_RATE_LIMITS = False
    persona = Persona(persona_kind, district)
    client = persona.client()
    path = persona.path(client, target)
    fields = field_names(client, path)
    problems = []

    requests = [("POST", *kind) for kind in garbage(fields)]
    requests += [("GET", *kind) for kind in query_garbage(fields)]
    for method, label, kwargs in requests:
        if persona.lost(client):
            client = persona.client()  # the garbage signed the person out: start again
        if target.arguments:
            path = persona.path(client, target)  # the object or link may be used up
        response = _send(client, method, path, kwargs)
        if response.status_code >= 500:
            problems.append(_problem(label, method, path, response))

    assert not problems, "\n".join(problems)


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
