"""Electronic consent: the care team's request page, and the guardian's signed-link pages.

- `consent_request_new` (under /<district_slug>/): ask the guardian on the student's
  record to consent to what a referral would share.
- `econsent`, `econsent_code`, `econsent_sign` (under /r/, no account): the guardian reads
  the request in English or Spanish, asks for a one-time code by email, and signs with it.
  Each verifies its token and enters the request's district itself; a tampered link is the
  "not valid" page (404, in both languages), and a request that can no longer be signed
  says why (signed, replaced, expired, locked) and whom to ask.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from referrals.models import ConsentRequestState
from referrals.rules import IDENTIFIABLE_FIELD_LABELS, IDENTIFIABLE_FIELDS
from referrals.selectors import access_referral, consent_requests_for
from referrals.services.common import require_my_school
from referrals.services.consent_requests import (
    ConsentRequestClosed,
    consent_request_claim,
    consent_request_create,
    consent_request_for_claim,
    consent_request_initial,
    consent_request_send_code,
    consent_request_sign,
)
from schools.access_log import access_log_record, client_ip
from schools.capabilities import requires
from schools.tenancy import work_in_district

PAGE_LANGUAGES = ("en", "es")

# --- Forms -----------------------------------------------------------------------------------


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: each message next to its field, the rest on top."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


class ConsentRequestForm(forms.Form):
    """What the guardian is asked to consent to (the partner is the referral's)."""

    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Records to share"),
        choices=IDENTIFIABLE_FIELDS,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Only what the partner needs for this referral."),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The family reads this. Say it plainly."),
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("The last day the consent allows sharing."),
    )


class CodeForm(forms.Form):
    resend = forms.BooleanField(required=False, widget=forms.HiddenInput)


class SignForm(forms.Form):
    """The code, the typed name and "I agree". The service (consent_request_sign) checks them
    again and counts wrong codes; the form only says what is missing, in the page's
    language, so a code is never tried without a name and an agreement."""

    code = forms.CharField(
        label=gettext_lazy("The 6-digit code from the email"),
        max_length=20,
        error_messages={"required": gettext_lazy("Enter the 6-digit code from the email.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )
    name = forms.CharField(
        label=gettext_lazy("Your full name"),
        max_length=200,
        error_messages={"required": gettext_lazy("Type your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=gettext_lazy("Typing your name is your signature."),
    )
    agree = forms.BooleanField(
        error_messages={"required": gettext_lazy("Tick the box to say that you agree.")}
    )

    def __init__(self, *args, consent_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agree"].label = _(
            "I am the parent or guardian of this student, and I agree that %(school)s may "
            "share the records listed above with %(partner)s for this purpose, until %(date)s."
        ) % {
            "school": consent_request.student.school.name,
            "partner": consent_request.partner.name,
            "date": _date(consent_request.valid_until),
        }


def _date(value) -> str:
    return date_format(value, "DATE_FORMAT")


# --- The care team's page --------------------------------------------------------------------


@requires("consent.record")
@never_cache
def consent_request_new(request, district_slug, referral_id):
    """Ask the guardian on the student's record, by email, to consent to this referral."""
    referral = access_referral(request.membership, referral_id)
    require_my_school(request.membership, referral.school_id)
    student = referral.student
    form = ConsentRequestForm(
        request.POST if request.method == "POST" else None,
        initial=consent_request_initial(referral),
    )
    if form.is_bound and form.is_valid():
        try:
            consent_request_create(by=request.membership, referral=referral, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("The consent request was emailed to the guardian on the student's record."),
            )
            return redirect(reverse("referral_detail", args=[district_slug, referral.pk]))
    access_log_record(
        request=request, object_type="referral", object_id=referral.pk, student=student
    )
    context = {
        "form": form,
        "referral": referral,
        "student": student,
        "partner": referral.partner,
        "guardian_email": (student.guardian_email or "").strip(),
        "earlier": _with_states(consent_requests_for(request.membership, referral)),
    }
    return render(request, "referrals/econsent/request_form.html", context)


# A request's state as a badge: colour and words (the words are the state's label).
STATE_TONES = {
    ConsentRequestState.PENDING: "info",
    ConsentRequestState.SIGNED: "success",
    ConsentRequestState.LOCKED: "danger",
    ConsentRequestState.EXPIRED: "neutral",
    ConsentRequestState.CANCELLED: "neutral",
}


def _with_states(consent_requests) -> list[dict]:
    """Each request with its state, computed once, and the state's badge."""
    rows = []
    for consent_request in consent_requests:
        state = ConsentRequestState(consent_request.state())
        rows.append({"request": consent_request, "label": state.label, "tone": STATE_TONES[state]})
    return rows


# --- The guardian's pages (signed link, no account) ------------------------------------------


def _language(request, consent_request=None) -> str:
    asked = request.GET.get("lang", "")
    if asked in PAGE_LANGUAGES:
        return asked
    return consent_request.language if consent_request is not None else "en"


def _invalid(request):
    """The "not valid" page, in both languages: nothing says which the reader reads."""
    return render(request, "referrals/econsent/invalid.html", status=404)


def _with_request(request, token, handle):
    """Verify the link, enter its district, find the request, then, in the page's language,
    `handle(consent_request, language)` (or the page saying why it can no longer be
    signed)."""
    claim = consent_request_claim(token)
    if claim is None:
        return _invalid(request)
    with work_in_district(claim.district_id):
        consent_request = consent_request_for_claim(claim)
        if consent_request is None:
            return _invalid(request)
        language = _language(request, consent_request)
        with translation.override(language):
            try:
                state = consent_request.state()
                if state != ConsentRequestState.PENDING:
                    raise ConsentRequestClosed(state)
                response = handle(consent_request, language)
            except ConsentRequestClosed as closed:
                response = _closed(request, token, consent_request, closed.state, language)
        response.headers["Content-Language"] = language
        return response


# Each closed state's answer: gone for good (expired, replaced), refused (locked), or the
# signed request's own page (a second click, a reload).
_CLOSED_STATUS = {
    ConsentRequestState.SIGNED: 200,
    ConsentRequestState.CANCELLED: 410,
    ConsentRequestState.EXPIRED: 410,
    ConsentRequestState.LOCKED: 403,
}


def _context(request, token, consent_request, language, **extra) -> dict:
    return {
        "token": token,
        "consent_request": consent_request,
        "link_district": consent_request.district,
        "school": consent_request.student.school,
        "student_short": _short_name(consent_request.student),
        "records": [IDENTIFIABLE_FIELD_LABELS.get(code, code) for code in consent_request.fields],
        "masked_address": _mask(consent_request.sent_to),
        "language": language,
        "other_languages": [code for code in PAGE_LANGUAGES if code != language],
        # The language toggle opens the request's page (not the form it was posted from).
        "page_path": reverse("econsent", args=[token]),
        **extra,
    }


def _closed(request, token, consent_request, state, language, *, just_signed=False):
    context = _context(
        request, token, consent_request, language, state=state, just_signed=just_signed
    )
    status = 200 if just_signed else _CLOSED_STATUS.get(state, 410)
    return render(request, "referrals/econsent/closed.html", context, status=status)


def _page(request, token, consent_request, language, *, code_form=None, sign_form=None, **extra):
    context = _context(
        request,
        token,
        consent_request,
        language,
        code_form=code_form or CodeForm(),
        sign_form=sign_form or SignForm(consent_request=consent_request),
        code_sent=bool(consent_request.code_hash),
        **extra,
    )
    status = 400 if (code_form and code_form.errors) or (sign_form and sign_form.errors) else 200
    return render(request, "referrals/econsent/page.html", context, status=status)


def _short_name(student) -> str:
    """The child's first name and last initial: enough for a family with several children at
    the school to know which, without the full name on a page anyone with the link opens."""
    first = student.preferred_name or student.first_name
    return f"{first} {student.last_name[:1]}." if student.last_name else first


def _mask(address: str) -> str:
    """g•••@example.org: the reader knows their own address; a forwarded link learns little."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def _back_to_page(token, language):
    return redirect(f"{reverse('econsent', args=[token])}?lang={language}")


@never_cache
def econsent_view(request, token):
    """The request: who asks, for what, the family's rights; then a code, then signing."""

    def handle(consent_request, language):
        if request.method not in ("GET", "HEAD"):
            return _back_to_page(token, language)
        return _page(request, token, consent_request, language)

    return _with_request(request, token, handle)


@never_cache
def econsent_code_view(request, token):
    """Email a one-time code to the address on the student's record, in the page's language."""

    def handle(consent_request, language):
        if request.method != "POST":
            return _back_to_page(token, language)
        code_form = CodeForm(request.POST)
        resend = code_form.is_valid() and code_form.cleaned_data["resend"]
        try:
            sent = consent_request_send_code(
                consent_request=consent_request, language=language, resend=resend
            )
        except ValidationError as error:
            _add_errors(code_form, error)  # on top: the form has no field of its own to show
            return _page(request, token, consent_request, language, code_form=code_form)
        return _page(request, token, consent_request, language, just_sent=sent, asked=True)

    return _with_request(request, token, handle)


@never_cache
def econsent_sign_view(request, token):
    """Sign with the code, a typed name and "I agree": one consent, or the errors in words."""

    def handle(consent_request, language):
        if request.method != "POST":
            return _back_to_page(token, language)
        form = SignForm(request.POST, consent_request=consent_request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                consent_request_sign(
                    consent_request=consent_request,
                    code=data["code"],
                    signer_name=data["name"],
                    agree=data["agree"],
                    ip_address=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                consent_request.refresh_from_db(fields=["status", "signed_at", "consent"])
                return _closed(
                    request,
                    token,
                    consent_request,
                    ConsentRequestState.SIGNED,
                    language,
                    just_signed=True,
                )
        return _page(request, token, consent_request, language, sign_form=form)

    return _with_request(request, token, handle)


urlpatterns = [
    path(
        "referrals/<int:referral_id>/consent-request/",
        consent_request_new,
        name="consent_request_new",
    ),
]
# Under /r/ (referrals.public_urls): the guardian's signed link, no account.
public_urlpatterns = [
    path("consent/<str:token>/", econsent_view, name="econsent"),
    path("consent/<str:token>/code/", econsent_code_view, name="econsent_code"),
    path("consent/<str:token>/sign/", econsent_sign_view, name="econsent_sign"),
]
