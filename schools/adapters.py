"""django-allauth hooks: invitation-only sign-up, mail through the worker, and a per-account
sign-in throttle that slows guessing down instead of locking the owner out."""

import hashlib
import math
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.core.internal import ratelimit
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from core.mail import absolute_url, recipient_language, send_templated
from schools.services.email import email_queue

# Per-account throttle (OWASP: slow down, do not lock out). From the THRESHOLD-th failure
# within MEMORY seconds, the account refuses every attempt for a delay that starts at
# FIRST_DELAY and doubles with each further failure, up to MAX_DELAY. One address counts at
# most THRESHOLD times: a single attacker delays the account once, briefly, and is then
# stopped by the per-address limit (ACCOUNT_RATE_LIMITS["login_failed"]); only failures from
# many addresses make the delay grow.
THROTTLE_THRESHOLD = 5
THROTTLE_FIRST_DELAY = 30
THROTTLE_MAX_DELAY = 15 * 60
THROTTLE_MEMORY = 60 * 60


def _on_site(url: str) -> str:
    """allauth's link with its path (and query) kept, on SITE_URL."""
    parts = urlsplit(url)
    return absolute_url(parts.path + (f"?{parts.query}" if parts.query else ""))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf8")).hexdigest()


def _signed_in_recently(request) -> bool:
    """The person proved who they are (password, code) within the reauthentication window."""
    if request is None or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    methods = account_settings.REAUTHENTICATION_METHODS
    recent = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
    return any(r.get("method") in methods and r.get("at", 0) > recent for r in records)


def _throttle_delay(failures: int) -> int:
    if failures < THROTTLE_THRESHOLD:
        return 0
    return min(THROTTLE_FIRST_DELAY * 2 ** (failures - THROTTLE_THRESHOLD), THROTTLE_MAX_DELAY)


class AccountAdapter(DefaultAccountAdapter):
    # --- Sign-in throttle ------------------------------------------------------------------

    def _throttle_key(self, request, **credentials) -> str:
        login = self._get_login_attempts_cache_key(request, **credentials)
        return f"signin-throttle:{_digest(login)}"

    def _throttle_address(self, request) -> str:
        # The address exactly as allauth's per-address limit reads it: behind
        # TRUSTED_PROXY_COUNT proxies, from X-Forwarded-For; IPv6 by its /64.
        return _digest(ratelimit.get_ip(request))

    def pre_authenticate(self, request, **credentials):
        super().pre_authenticate(request, **credentials)  # the per-address limit
        if not account_settings.RATE_LIMITS:
            return
        state = cache.get(self._throttle_key(request, **credentials)) or {}
        wait = state.get("until", 0) - time.time()
        if wait > 0:
            # Nothing was tried against the password: do not count this against the address,
            # so the owner waiting out the delay does not also lock their own address.
            self._rollback_login_failed_rl_usage()
            seconds = math.ceil(wait)
            raise forms.ValidationError(
                ngettext(
                    "Too many attempts: try again in %(seconds)d second.",
                    "Too many attempts: try again in %(seconds)d seconds.",
                    seconds,
                )
                % {"seconds": seconds},
                code="too_many_login_attempts",
            )

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and account_settings.RATE_LIMITS:
            # The right password ends the episode: the owner is not kept on a growing delay.
            cache.delete(self._throttle_key(request, **credentials))
        return user

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        if not account_settings.RATE_LIMITS:
            return
        key = self._throttle_key(request, **credentials)
        address = self._throttle_address(request)
        now = time.time()
        notify = False
        with ratelimit.cache_lock(key) as locked:
            if not locked:
                return  # skipping one count only makes the throttle gentler, never stricter
            state = cache.get(key) or {}
            failures = [f for f in state.get("failures", []) if f[0] > now - THROTTLE_MEMORY]
            if not failures:
                state = {}
            if sum(1 for _, a in failures if a == address) >= THROTTLE_THRESHOLD:
                return  # this address has had its share; its own limit deals with it
            failures.append((now, address))
            state["failures"] = failures
            delay = _throttle_delay(len(failures))
            if delay:
                state["until"] = now + delay
                notify = not state.get("notified")
                state["notified"] = True
            cache.set(key, state, THROTTLE_MEMORY)
        if notify:
            self._send_throttle_notice(request, **credentials)

    def _delete_login_attempts_cached_email(self, request, **credentials):
        # A completed password reset lifts the account's throttle. Not calling allauth here
        # on purpose: with no per-account rate configured, its "clear" would wipe the
        # resetting address's own failure count, letting an attacker reset their own
        # password to go on guessing at others from the same address.
        cache.delete(self._throttle_key(request, **credentials))

    def _send_throttle_notice(self, request, **credentials):
        """Tell the owner, once per episode, that someone is guessing their password.

        Unknown addresses get no mail (and the same answer on the page): nothing reveals
        whether an account exists. The mail names no address and no password.
        """
        from schools.models import District, User

        login = credentials.get("email") or credentials.get("username") or ""
        user = User.objects.filter(email__iexact=login, is_active=True).first()
        if user is None:
            return
        district = (
            District.objects.filter(slug=user.last_district_slug).first()
            if user.last_district_slug
            else None
        )
        context = {
            "attempted_at": timezone.now(),
            # On SITE_URL like every link in mail (core.mail), not the address the failed
            # attempts came in on.
            "reset_link": absolute_url(reverse("account_reset_password")),
        }
        # In the zone of the district they opened last (UTC if none), in their language.
        send_templated(
            "schools/email/sign-in-throttled",
            to=user.email,
            context=context,
            language=recipient_language(user, district),
            district=district,
        )

    # --- Reauthentication -----------------------------------------------------------------

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        # allauth counts only a confirmation made after signing in, so a person sent to
        # enroll in two-factor right after typing the password was asked for it again. A
        # sign-in within the same window (ACCOUNT_REAUTHENTICATION_TIMEOUT) counts as one.
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not _signed_in_recently(allauth_context.request)

    # --- Sign-up and mail ------------------------------------------------------------------

    def is_open_for_signup(self, request):
        # Invitation only: people join a district when an administrator invites them.
        return False

    # allauth builds these links on the request's address; Trellis builds every link in
    # mail on SITE_URL (core.mail), so the same mail carries the same link however it came.
    def get_reset_password_from_key_url(self, key):
        return _on_site(super().get_reset_password_from_key_url(key))

    def get_email_confirmation_url(self, request, emailconfirmation):
        return _on_site(super().get_email_confirmation_url(request, emailconfirmation))

    def send_mail(self, template_prefix, email, context):
        # Without django.contrib.sites allauth's "site name" is empty ("Hello from !").
        site = context.get("current_site")
        context = {
            **context,
            "current_site": SimpleNamespace(name="Trellis", domain=getattr(site, "domain", "")),
        }
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mime in getattr(message, "alternatives", [])
                if mime == "text/html"
            ),
            "",
        )
        email_queue(
            to=list(message.to),
            subject=message.subject,
            body_text=message.body,
            body_html=html,
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        )
