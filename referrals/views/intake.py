"""The partner contact's pages behind the emailed link (no account): the summary, accept or
decline, the one-time code, then the loop's steps.

- `intake` (under /r/): the referral as the link's contact may read it. Before the code, a
  summary that identifies nobody (reference, school, concerns, urgency, services asked
  for) with Accept and Decline; after the code (`intake_code`), in this browser for
  INTAKE_VERIFIED_FOR, the student information the consent and the MOU allow, the other
  service details, the timeline, and the steps the partner may take (`intake_step`).
- Every request verifies the token, enters its district (as referrals.views.econsent
  does) and reads the referral, the contact and this browser's verification again: a
  page opened before the school withdrew the referral, or before the family revoked its
  consent, shows and accepts nothing afterwards.
- A tampered, cut or forged link, or one that no longer works for its contact (the
  contact removed, no longer the intake contact, no longer the referral's partner; the
  referral withdrawn) is the "not valid" page (404, in both languages); an expired one
  says so (410). Neither says anything about the referral.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache

from core.languages import language_name
from core.mail import recipient_language
from core.signed import BadLink, ExpiredLink
from partnerships.selectors.categories import service_labels
from referrals.forms import LoopStepForm
from referrals.loop import TRANSITIONS
from referrals.models import (
    INTAKE_CODE_ATTEMPTS_MAX,
    INTAKE_CODE_VALID_FOR,
    INTAKE_VERIFIED_FOR,
    ReferralStatus,
)
from referrals.rules import PAYMENT_CHOICES
from referrals.selectors import concern_labels, partner_visible_fields
from referrals.services.intake import (
    IntakeClaim,
    IntakeLocked,
    code_is_fresh,
    code_is_locked,
    intake_access,
    intake_check_code,
    intake_claim,
    intake_code_state,
    intake_consent_revoked,
    intake_renew,
    intake_send_code,
)
from referrals.services.loop import Actor, actions_for, referral_step
from referrals.views.loop import BUTTONS, QUIET_STEPS, referral_timeline
from referrals.views.referrals import _disclosed_values
from schools.access_log import access_log_record_contact
from schools.models import Student
from schools.tenancy import work_in_district

PAGE_LANGUAGES = ("en", "es")
# Steps a contact takes from the link before the code: answering needs no student details.
BEFORE_CODE = ("accept", "decline")
# Steps a partner takes (the school's "withdraw" is never one of them).
PARTNER_STEPS = tuple(action for action in TRANSITIONS if action != "withdraw")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("The 6-digit code from the email"),
        max_length=20,
        error_messages={"required": gettext_lazy("Enter the 6-digit code from the email.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )


class SendCodeForm(forms.Form):
    """Asking for a code has no field of its own: its refusals show at the top."""

    resend = forms.BooleanField(required=False, widget=forms.HiddenInput)


def step_form_for(action: str, data=None) -> LoopStepForm:
    """The loop's step form (a reason and an outcome start blank, see LoopStepForm)."""
    return LoopStepForm(data, action=action)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: each message next to its field, the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


# --- Entering the link -----------------------------------------------------------------------


def _invalid(request):
    """The "not valid" page, in both languages: nothing says which the reader reads."""
    return _robots(render(request, "referrals/intake/invalid.html", status=404))


def _expired(request, payload: dict):
    """An expired link: it says so, and offers to email a new link to the address the old
    one was sent to (if it would still work for them: intake_renew). The page reads the
    same whatever happened, so it tells a stranger holding an old link nothing."""
    asked = False
    if request.method == "POST" and request.POST.get("renew"):
        claim = IntakeClaim(payload["d"], payload["r"], payload["c"])
        with work_in_district(claim.district_id):
            intake_renew(claim)
        asked = True
    return _robots(render(request, "referrals/intake/expired.html", {"asked": asked}, status=410))


def _robots(response):
    # A link in a partner's mail is nobody's to index, whatever a crawler was given.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _language(request, access) -> str:
    asked = request.GET.get("lang", "")
    if asked in PAGE_LANGUAGES:
        return asked
    language = recipient_language(access.contact, access.district)
    return language if language in PAGE_LANGUAGES else "en"


def _with_access(request, token, handle):
    """Verify the link, enter its district, check that it still works for its contact, then
    `handle(page)` in the page's language."""
    try:
        claim = intake_claim(token)
    except ExpiredLink as expired:
        return _expired(request, expired.payload)
    except BadLink:
        return _invalid(request)
    with work_in_district(claim.district_id):
        access = intake_access(claim)
        if access is None:
            return _invalid(request)
        language = _language(request, access)
        with translation.override(language):
            page = Page(request, token, claim, access, language)
            try:
                response = handle(page)
            except (PermissionDenied, Http404):
                # The service refused the contact (the link stopped working under it).
                response = _invalid(request)
        response.headers["Content-Language"] = language
        return _robots(response)


class Page:
    """One request's view of the link: who, what, and what this browser may see."""

    def __init__(self, request, token, claim, access, language):
        self.request = request
        self.token = token
        self.claim = claim
        self.access = access
        self.referral = access.referral
        self.contact = access.contact
        self.district = access.district
        self.language = language
        self.on_hold = intake_consent_revoked(self.referral)
        self.verified_until = None if self.on_hold else self._verified_until()

    # --- This browser's verification (server side, in the session) ---

    def _verified_until(self) -> datetime.datetime | None:
        if self.referral.status == ReferralStatus.DECLINED:
            return None  # declined: nothing of the student is the partner's to read
        value = self.request.session.get(self.claim.session_key)
        if type(value) is not int:
            return None
        until = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        return until if timezone.now() < until else None

    @property
    def verified(self) -> bool:
        return self.verified_until is not None

    def mark_verified(self) -> None:
        session = self.request.session
        session.cycle_key()  # a new session id once it opens student information
        until = timezone.now() + INTAKE_VERIFIED_FOR
        session[self.claim.session_key] = int(until.timestamp())
        self.verified_until = until

    # --- Addresses ---

    def url(self, name: str = "intake", *args) -> str:
        return f"{reverse(name, args=[self.token, *args])}?lang={self.language}"

    def back(self):
        return redirect(self.url())

    # --- What may be done ---

    def actions(self) -> list[str]:
        if self.on_hold:
            return []
        allowed = actions_for(Actor(contact=self.contact), self.referral)
        if not self.verified:
            allowed = [action for action in allowed if action in BEFORE_CODE]
        return [action for action in allowed if action in PARTNER_STEPS]

    # --- Rendering ---

    def render(self, *, status=200, step_form=None, code_form=None, send_form=None, **extra):
        context = self.context(step_form=step_form, code_form=code_form, send_form=send_form)
        context.update(extra)
        return render(self.request, "referrals/intake/page.html", context, status=status)

    def context(self, *, step_form=None, code_form=None, send_form=None) -> dict:
        referral = self.referral
        district = self.district
        concerns = concern_labels(district)
        services = service_labels(district)
        context = {
            "token": self.token,
            "link_district": district,
            "referral": referral,
            "contact": self.contact,
            "school_name": referral.school.name,
            "concerns": [concerns.get(code, code) for code in referral.concerns],
            "services": [services.get(code, code) for code in referral.services],
            "on_hold": self.on_hold,
            "verified": self.verified,
            "verified_until": self.verified_until,
            "language": self.language,
            "other_languages": [code for code in PAGE_LANGUAGES if code != self.language],
            "page_path": reverse("intake", args=[self.token]),
            "page_url": self.url(),
            "refused": None,
        }
        if self.on_hold:
            return context
        actions = self.actions()
        forms_ = []
        for action in actions:
            form = step_form if step_form is not None and step_form.action == action else None
            forms_.append(self._step(form or step_form_for(action)))
        if step_form is not None and step_form.action not in actions:
            context["refused"] = step_form  # its errors, at the top: its form is not shown
        context["steps"] = forms_
        if self.verified:
            context.update(self._verified_context())
        elif referral.status != ReferralStatus.DECLINED:
            context.update(self._code_context(code_form, send_form))
        return context

    def _step(self, form) -> dict:
        """A step's form, as the school's loop panel shows it (referrals.views.loop)."""
        action = form.action
        label = TRANSITIONS[action].label
        if action == "schedule" and self.referral.status == ReferralStatus.SCHEDULED:
            label = _("Change the appointment's date")
        return {
            "action": action,
            "label": label,
            "button": BUTTONS[action],
            "quiet": action in QUIET_STEPS,
            "form": form,
            "url": self.url("intake_step"),
        }

    def _code_context(self, code_form, send_form) -> dict:
        row = intake_code_state(self.referral, self.contact)
        return {
            "show_code": True,
            "code_locked": code_is_locked(row),
            "code_sent": code_is_fresh(row),
            "code_sent_at": row.code_sent_at if row else None,
            "code_minutes": int(INTAKE_CODE_VALID_FOR.total_seconds() // 60),
            "code_attempts_max": INTAKE_CODE_ATTEMPTS_MAX,
            "masked_address": _mask(self.contact.email),
            "code_form": code_form or CodeForm(),
            "send_form": send_form or SendCodeForm(),
            "code_url": self.url("intake_code"),
        }

    def _verified_context(self) -> dict:
        referral = self.referral
        district = self.district
        fields = partner_visible_fields(referral, district.today())
        # The school's timeline, as a partner reads it: two queries at any length.
        steps, members = referral_timeline(referral, partner_view=True)
        disclosed = []
        if fields:
            # Read only now: before the code the page never loads the student.
            referral.student = (
                Student.objects.for_district(district.pk)
                .select_related("school")
                .get(pk=referral.student_id)
            )
            disclosed = _disclosed_values(referral, fields)
            # The student's information is shown: the district's access log keeps who read
            # it (the contact: no account), as for a member.
            access_log_record_contact(
                request=self.request,
                contact=self.contact,
                object_type="referral",
                object_id=referral.pk,
                student=referral.student,
            )
        return {
            "disclosed": disclosed,
            "family_language": language_name(referral.family_language)
            if referral.family_language
            else "",
            "payment": [dict(PAYMENT_CHOICES).get(code, code) for code in referral.payment],
            "timeline": steps,
            # The counselor who sees the referral through (the school's contact for it).
            "owner": members.get(referral.owner_id, ""),
        }


def _mask(address: str) -> str:
    """i•••@example.org: the reader knows their own address; a forwarded link learns little."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


# --- The pages -------------------------------------------------------------------------------


@never_cache
def intake_view(request, token):
    """The referral: the summary, then (after the code) what the partner may read and do."""

    def handle(page: Page):
        if request.method not in ("GET", "HEAD"):
            return page.back()
        return page.render()

    return _with_access(request, token, handle)


@never_cache
def intake_code_view(request, token):
    """Email a one-time code to the contact's address (no `code` posted), or take the code
    typed (`code` posted): a right one opens the student information in this browser."""

    def handle(page: Page):
        if request.method != "POST":
            return page.back()
        if page.on_hold or page.referral.status == ReferralStatus.DECLINED:
            return page.render(status=403)
        if page.verified:
            return page.back()
        try:
            if "code" in request.POST:
                return _check_code(page)
            return _send_code(page)
        except IntakeLocked:
            return page.render(status=403)

    return _with_access(request, token, handle)


def _send_code(page: Page):
    form = SendCodeForm(page.request.POST)
    resend = form.is_valid() and form.cleaned_data["resend"]
    try:
        sent = intake_send_code(
            referral=page.referral, contact=page.contact, language=page.language, resend=resend
        )
    except ValidationError as error:
        _add_errors(form, error)
        return page.render(send_form=form)
    return page.render(just_sent=sent, asked=True)


def _check_code(page: Page):
    form = CodeForm(page.request.POST)
    if form.is_valid():
        try:
            intake_check_code(
                referral=page.referral, contact=page.contact, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            page.mark_verified()
            hours = int(INTAKE_VERIFIED_FOR.total_seconds() // 3600)
            messages.success(
                page.request,
                ngettext(
                    "Thank you. This browser shows the student information for %(count)s hour.",
                    "Thank you. This browser shows the student information for %(count)s hours.",
                    hours,
                )
                % {"count": hours},
            )
            return page.back()
    return page.render(code_form=form)


@never_cache
def intake_step_view(request, token):
    """One step of the loop from the link, named by the posted `step` (accept or decline at
    once; the others after the code). Refusals are shown on the form (200); success returns
    to the page."""

    def handle(page: Page):
        if request.method != "POST":
            return page.back()
        action = request.POST.get("step", "")
        if action not in PARTNER_STEPS:
            return page.render(status=400, bad_step=True)
        form = step_form_for(action, request.POST)
        if page.on_hold:
            return page.render(status=403)
        if action not in BEFORE_CODE and not page.verified:
            form.add_error(None, _("Enter the code from your email first."))
            return page.render(step_form=form, status=403)
        if form.is_valid():
            try:
                referral_step(
                    actor=Actor(contact=page.contact),
                    referral=page.referral,
                    action=action,
                    **form.step_arguments(),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                # Made text here: the page's language, not the one the response is stored in.
                messages.success(request, str(DONE[action]))
                return page.back()
        return page.render(step_form=form)

    return _with_access(request, token, handle)


DONE = {
    "accept": gettext_lazy("You accepted the referral. The school sees it in Trellis."),
    "decline": gettext_lazy("You declined the referral. The school sees it in Trellis."),
    "schedule": gettext_lazy("The first appointment is scheduled."),
    "kept": gettext_lazy("The first appointment is recorded as kept."),
    "missed": gettext_lazy("The missed appointment is recorded. Schedule a new one."),
    "update": gettext_lazy("Your update was added."),
    "close": gettext_lazy("The referral is closed. Thank you."),
}


urlpatterns: list = []
# Under /r/ (referrals.public_urls): the partner contact's signed link, no account.
public_urlpatterns = [
    path("intake/<str:token>/", intake_view, name="intake"),
    path("intake/<str:token>/code/", intake_code_view, name="intake_code"),
    path("intake/<str:token>/step/", intake_step_view, name="intake_step"),
]
