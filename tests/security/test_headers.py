"""Security headers, cookies and CSRF; pages the Content-Security-Policy would break.

The policy allows only our own files: no inline script, no inline style. The markup walk
opens every page of the project (the same URL walk as the garbage test) and fails on
anything the browser would block; the browser test listens for the violations themselves.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.config.helpers import PRODUCTION_ENV, manage
from tests.e2e.axe import assert_accessible
from tests.factories import PASSWORD, MembershipFactory, StudentFactory, enable_totp
from tests.schools.auth_steps import MFA_URL, sign_in_with_password, totp_code
from tests.security.test_garbage import (
    TARGETS,
    Persona,
    _invitation_path,
    _reset_password_path,
)

EXPECTED_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'self'"},
    "object-src": {"'none'"},
}


def policy(response) -> dict[str, set[str]]:
    parsed = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        parsed[name] = set(sources)
    return parsed


@pytest.fixture
def pages(client, member, other_district):
    """name -> response: a district page, the sign-in page, the health check, a 404."""
    counselor = member("counselor")
    anonymous = Client()
    responses = {
        "sign-in": anonymous.get("/accounts/login/"),
        "healthz": anonymous.get("/healthz"),
    }
    client.force_login(counselor.user)
    responses["district home"] = client.get(f"/{counselor.district.slug}/")
    responses["another district (404)"] = client.get(f"/{other_district.slug}/")
    return responses


def test_every_response_carries_the_security_headers(pages):
    for name, response in pages.items():
        assert response.status_code in (200, 404), name
        assert policy(response) == EXPECTED_POLICY, name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", name


def test_the_policy_never_allows_inline_or_eval(pages):
    header = pages["district home"]["Content-Security-Policy"]

    assert "unsafe" not in header
    assert "*" not in header


# --- Caching: nothing signed-in or personal stays in the browser -------------------------


def cache_directives(response) -> set[str]:
    return {d.strip().lower() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def assert_not_kept(response, name):
    directives = cache_directives(response)
    assert {"no-store", "private"} <= directives, f"{name}: {response.get('Cache-Control')!r}"
    assert "public" not in directives, name


def test_signed_in_pages_student_pages_and_fragments_are_not_kept(client, member):
    counselor = member("counselor")
    student = StudentFactory(district=counselor.district)
    client.force_login(counselor.user)
    base = f"/{counselor.district.slug}"

    responses = {
        "district home": client.get(f"{base}/"),
        "student list": client.get(f"{base}/students/"),
        "student page": client.get(f"{base}/students/{student.pk}/"),
        "htmx fragment": client.get(
            f"{base}/students/", {"q": student.last_name}, headers={"HX-Request": "true"}
        ),
        "choose district": client.get("/"),
        "a 404 to a signed-in person": client.get(f"{base}/students/0/"),
    }

    for name, response in responses.items():
        assert response.status_code in (200, 302, 404), name
        assert_not_kept(response, name)
    assert student.last_name.encode() in responses["htmx fragment"].content


def test_anonymous_pages_with_personal_data_are_not_kept(district):
    person = MembershipFactory(district=district, role="viewer").user
    anonymous = Client()

    invitation = anonymous.get(_invitation_path(anonymous, person))
    reset = anonymous.get(_reset_password_path(anonymous, person))

    assert invitation.status_code == 200
    assert_not_kept(invitation, "invitation link")
    assert reset.status_code == 200
    assert_not_kept(reset, "password reset link")


def test_static_files_stay_cacheable_for_signed_in_people(client, member):
    client.force_login(member("counselor").user)

    response = client.get("/static/css/trellis.css")

    assert response.status_code == 200
    assert "no-store" not in cache_directives(response)


def test_signing_out_clears_the_sites_data_in_the_browser(client, member):
    counselor = member("counselor")
    client.force_login(counselor.user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert_not_kept(response, "sign-out")


def test_only_signing_out_clears_the_sites_data(client, member):
    counselor = member("counselor")
    client.force_login(counselor.user)

    page = client.get(f"/{counselor.district.slug}/")
    anonymous_post = Client().post("/accounts/logout/")

    assert "Clear-Site-Data" not in page
    assert "Clear-Site-Data" not in anonymous_post


# --- Production settings -------------------------------------------------------------------

PRODUCTION_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS",
    "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
]


@pytest.fixture(scope="module")
def production_settings():
    """The security settings exactly as config/settings.py computes them in production."""
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {PRODUCTION_SETTINGS!r}}}))"
    )
    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV, clean=True)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


def test_production_settings_are_strict(production_settings):
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000


def test_in_production_cookies_are_secure_and_http_is_redirected(
    member, settings, production_settings
):
    for name, value in production_settings.items():
        setattr(settings, name, value)
    counselor = member("counselor")
    behind_proxy = {"X-Forwarded-Proto": "https"}  # TLS ends at the proxy
    client = Client(headers=behind_proxy)

    plain = Client().get("/accounts/login/")
    client.get("/accounts/login/")
    response = sign_in_with_password(client, counselor.user)

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    assert response.status_code == 302
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert client.cookies[settings.CSRF_COOKIE_NAME]["secure"]


# --- CSRF ---------------------------------------------------------------------------------


def test_every_post_without_the_token_is_refused(district, settings):
    """Every URL of the project, posted by a signed-in administrator without the token.

    Checked by behaviour, not by the csrf_exempt flag: upload views are exempt on the
    outside (to install a size-capped upload handler first) and check inside.
    """
    settings.ACCOUNT_RATE_LIMITS = False  # one fresh session per page
    persona = Persona("admin", district)
    accepted = []
    for target in TARGETS:
        signed_in = persona.client()
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = signed_in.cookies
        path = persona.path(signed_in, target)
        status = strict.post(path, {"name": "x"}).status_code
        if status != 403:
            accepted.append(target.name)

    # The one exception, by design: RFC 8058 one-click unsubscribe is POSTed by the mail
    # provider with no session and no token; the signed link authorizes it, and all it can
    # do is stop mail to the contact it names (tests/partnerships/test_unsubscribe.py).
    assert accepted == ONE_CLICK_WITHOUT_TOKEN


ONE_CLICK_WITHOUT_TOKEN = ["contact_unsubscribe"]


def test_a_form_posted_without_the_token_is_refused(member):
    counselor = member("counselor")
    client = Client(enforce_csrf_checks=True)

    refused = client.post("/accounts/login/", {"login": counselor.user.email, "password": PASSWORD})

    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session


def test_htmx_requests_carry_the_token_from_the_page(member):
    counselor = member("counselor")
    client = Client(enforce_csrf_checks=True)
    client.force_login(counselor.user)
    home = f"/{counselor.district.slug}/"
    body = _BodyAttributes()
    body.feed(client.get(home).content.decode())
    token = json.loads(body.attributes["hx-headers"])["X-CSRFToken"]

    without = client.post(home, headers={"HX-Request": "true"})
    with_token = client.post(home, headers={"HX-Request": "true", "X-CSRFToken": token})

    assert without.status_code == 403
    assert with_token.status_code != 403


class _BodyAttributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attributes = {}

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.attributes = dict(attrs)


# --- Markup the policy would block -------------------------------------------------------


class _Blocked(HTMLParser):
    """Collects what a strict Content-Security-Policy blocks, and POST forms without a token."""

    DATA_SCRIPTS = {"application/json", "application/ld+json"}

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._script_inline = False
        self._form_open = None  # the <form> tag of a POST form not yet seen with a token

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes:
            self.problems.append(f'style="" on <{tag}>')
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            data = attributes.get("type", "").lower() in self.DATA_SCRIPTS
            self._script_inline = not attributes.get("src") and not data
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self._form_open = attributes.get("action") or "(this page)"
        if tag == "input" and attributes.get("name") == "csrfmiddlewaretoken":
            self._form_open = None

    def handle_endtag(self, tag):
        if tag == "form" and self._form_open:
            self.problems.append(f"POST form to {self._form_open} without a CSRF token")
            self._form_open = None
        if tag == "script":
            self._script_inline = False

    def handle_data(self, data):
        if self._script_inline and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


def blocked(response) -> list[str]:
    parser = _Blocked()
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser.problems


@pytest.mark.parametrize("persona_kind", ["anonymous", "admin", "counselor-without-mfa"])
def test_no_page_has_inline_script_style_or_an_unprotected_form(district, settings, persona_kind):
    settings.ACCOUNT_RATE_LIMITS = False  # one fresh session per page
    persona = Persona(persona_kind, district)
    problems, pages = [], 0
    for target in TARGETS:
        client = persona.client()
        path = persona.path(client, target)
        response = client.get(path)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            pages += 1
            problems += [f"{path}: {problem}" for problem in blocked(response)]

    assert not problems, "\n".join(problems)
    assert pages >= 10, "the walk opened too few pages to mean anything"


def test_the_two_factor_challenge_has_no_inline_script_or_style(client, member):
    admin = member("admin")
    enable_totp(admin.user)
    sign_in_with_password(client, admin.user)

    response = client.get(MFA_URL)

    assert response.status_code == 200
    assert blocked(response) == []


def test_the_markup_check_would_catch_what_the_policy_blocks():
    class Page:
        content = (
            b'<p style="color:red">x</p><script>alert(1)</script><a onclick="x()">y</a>'
            b'<form method="post"><input name="a"></form>'
            b'<script type="application/json">{"ok": true}</script><script src="/s.js"></script>'
        )

    assert blocked(Page()) == [
        'style="" on <p>',
        "inline <script>: 'alert(1)'",
        "onclick= handler on <a>",
        "POST form to (this page) without a CSRF token",
    ]


# --- In the browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_the_browser_reports_no_policy_violation_from_sign_in_to_district_home(page):
    admin = MembershipFactory(role="admin", district__slug="north", district__name="North")
    secret = enable_totp(admin.user)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(admin.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert violations == [], "sign-in page"
    page.get_by_label("Code").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/north/")
    assert violations == [], "two-factor page"

    # htmx is loaded from our own files and sends the CSRF token from <body hx-headers>.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.evaluate("htmx.ajax('POST', location.pathname, {source: document.body, swap: 'none'})")
    assert posted.value.status != 403
    assert posted.value.request.headers.get("x-csrftoken")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert violations == [], "district home"

    # axe-core is injected through the DevTools protocol: the page's policy does not apply.
    assert_accessible(page)
    page.goto("/accounts/login/")
    assert_accessible(page)
    assert violations == [], "while axe ran"

    # The listener hears a real violation: an inline style attribute is refused.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    page.wait_for_timeout(200)
    assert any("style-src" in text for text in violations), violations


@pytest.mark.browser
def test_htmx_keeps_no_page_snapshots_and_back_asks_the_server(browser, live_server, member):
    from tests.e2e.helpers import signed_in_page

    counselor = member("counselor")
    student = StudentFactory(district=counselor.district, last_name="Okafor")
    page = signed_in_page(browser, live_server.url, counselor.user)
    students = f"/{counselor.district.slug}/students/"
    page.goto(students)

    # The search pushes its address into the history (an htmx request, not a page load).
    with page.expect_response(lambda r: "q=okaf" in r.url):
        page.get_by_role("searchbox", name="Search").press_sequentially("okaf", delay=40)
    page.wait_for_url(re.compile(r"[?&]q=okaf"))
    page.get_by_role("link", name=f"Okafor, {student.first_name}").click()
    page.wait_for_url(f"**/students/{student.pk}/")
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None

    with page.expect_response(lambda r: students in r.url and "q=okaf" in r.url) as back:
        page.go_back()
    assert back.value.status == 200  # from the server, not from a snapshot
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None


# --- Every signed-in page: the header walk (issue 8, item 7) ------------------------------


def test_every_signed_in_district_page_carries_the_security_headers(district):
    """Every district URL (tests/security/urls.py), opened by one administrator: whatever
    the answer (page, redirect, 404, 405, a download), it is not kept and not framed."""
    from tests.security.test_exports import walk_district_as_admin

    problems, seen = [], 0
    for name, path, response in walk_district_as_admin(district):
        seen += 1
        directives = cache_directives(response)
        checks = {
            "status below 500": response.status_code < 500,
            "Cache-Control no-store, private": {"no-store", "private"} <= directives,
            "not public": "public" not in directives,
            "Content-Security-Policy": bool(response.get("Content-Security-Policy")),
            "X-Frame-Options DENY": response.get("X-Frame-Options") == "DENY",
            "X-Content-Type-Options nosniff": response.get("X-Content-Type-Options") == "nosniff",
        }
        problems += [f"{name} {path}: {check}" for check, ok in checks.items() if not ok]

    assert not problems, "\n".join(problems)
    assert seen >= 30, "the walk opened too few pages to mean anything"
