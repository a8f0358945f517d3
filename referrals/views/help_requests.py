"""Requests for help: the school's public form (no account) and the counselors' queue.

- `help_request_form` and `help_request_thanks` (under /r/, no account): the form of one
  school, in English or Spanish (?lang=, else the browser's language), with the crisis
  lines above it; the thank-you page after it. An unknown district or school is a 404.
  The URL names the district `slug`, not `district_slug`: the tenancy middleware would
  otherwise ask for a sign-in. Each view enters the school's district itself.
- `help_request_list` and `help_request_detail` (under /<district_slug>/): the queue of
  the member's schools (new first) and one request, where a counselor links it to a
  student, records the referral it became, or closes it with a reason.
"""

from __future__ import annotations

import re

from allauth.core.internal import ratelimit
from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.htmx import render_page_or_fragment
from core.mail import absolute_url
from referrals.models import AskerKind, HelpCloseReason, HelpRequestStatus
from referrals.services.help_requests import (
    CLOSE_NOTE_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    PHONE_MAX,
    HelpRequestsLimited,
    access_help_request,
    help_request_close,
    help_request_count,
    help_request_limited,
    help_request_link_student,
    help_request_list,
    help_request_mark_referred,
    help_request_schools,
    help_request_student_referrals,
    help_request_submit,
)
from referrals.suggestions import student_matches
from schools.access_log import access_log_record
from schools.capabilities import requires
from schools.models import District, School
from schools.selectors import students_visible_to
from schools.tenancy import work_in_district

PAGE_LANGUAGES = ("en", "es")
PAGE_SIZE = 50
HONEYPOT = "homepage"
_ID_MAX = 2**63 - 1


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: each message next to its field, the rest on top."""
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


# --- The public form -------------------------------------------------------------------------

_PHONE = re.compile(r"^\+?[0-9 ().\-/]+( ?(x|ext\.?) ?[0-9]{1,6})?$", re.IGNORECASE)


def _phone(value: str) -> None:
    """A phone number as people write it: digits with spaces, dashes, dots, brackets, a
    leading +, an extension; at least 7 digits."""
    digits = sum(character.isdigit() for character in value)
    if not _PHONE.match(value) or digits < 7:
        raise ValidationError(
            _("Enter a phone number, for example (555) 123-4567."), code="invalid"
        )


class HelpRequestForm(forms.Form):
    """What the person asking writes. The service checks it all again."""

    asker_kind = forms.ChoiceField(
        label=gettext_lazy("Who is asking?"),
        choices=AskerKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose who is asking."),
            "invalid_choice": gettext_lazy("Choose who is asking."),
        },
    )
    student_name = forms.CharField(
        label=gettext_lazy("Name of the student who needs help"),
        max_length=NAME_MAX,
        required=False,
        help_text=gettext_lazy("If you are that student, write your own name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    message = forms.CharField(
        label=gettext_lazy("What is happening?"),
        max_length=MESSAGE_MAX,
        help_text=gettext_lazy(
            "What you have noticed, and for how long. Only the school's counselors read this."
        ),
        error_messages={"required": gettext_lazy("Say what is happening.")},
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MESSAGE_MAX}),
    )
    asker_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=NAME_MAX,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    asker_email = forms.EmailField(
        label=gettext_lazy("Your email"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("We email you once, to say that your request arrived."),
        error_messages={"invalid": gettext_lazy("Enter an email address like name@example.com.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    asker_phone = forms.CharField(
        label=gettext_lazy("Your phone"),
        max_length=PHONE_MAX,
        required=False,
        validators=[_phone],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    # Hidden from people (and from screen readers, which are told to leave it empty);
    # scripts that fill every field fill it, and their post is thanked and dropped.
    homepage = forms.CharField(
        label=gettext_lazy("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in self.fields if name != HONEYPOT}


def _page_language(request) -> str:
    """?lang= when it names a page language; else the browser's (LocaleMiddleware); else
    English."""
    asked = request.GET.get("lang", "")
    if asked in PAGE_LANGUAGES:
        return asked
    browser = (getattr(request, "LANGUAGE_CODE", "") or "").split("-")[0]
    return browser if browser in PAGE_LANGUAGES else "en"


def _address(request) -> str | None:
    """The client's address as allauth's rate limits read it (behind TRUSTED_PROXY_COUNT
    proxies, from X-Forwarded-For; an IPv6 address by its /64)."""
    try:
        return ratelimit.get_ip(request)
    except Exception:  # a malformed forwarded header must not break the page
        return request.META.get("REMOTE_ADDR")


def _public_district(slug: str) -> District:
    district = District.objects.filter(slug=slug).first()
    if district is None:
        raise Http404
    return district


def _public_school(district: District, school_id: int) -> School:
    """The district's school (inside its district), or 404."""
    if not 0 < school_id <= _ID_MAX:
        raise Http404
    school = School.objects.for_district(district).filter(pk=school_id).first()
    if school is None:
        raise Http404
    school.district = district
    return school


def _public_context(district, school, language, page_name, **extra) -> dict:
    return {
        "link_district": district,
        "school": school,
        "language": language,
        "other_languages": [code for code in PAGE_LANGUAGES if code != language],
        "page_path": reverse(page_name, args=[district.slug, school.pk]),
        **extra,
    }


def _thanks(district, school, language):
    url = reverse("help_request_thanks", args=[district.slug, school.pk])
    return redirect(f"{url}?lang={language}")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def help_request_form_view(request, slug, school_id):
    """The school's form: GET shows it; POST saves one request (or, over the rate limit,
    shows it again with status 429 and saves nothing) and goes to the thank-you page."""
    district = _public_district(slug)
    language = _page_language(request)
    with work_in_district(district), translation.override(language):
        school = _public_school(district, school_id)
        form = HelpRequestForm(request.POST if request.method == "POST" else None)
        limited = None
        if request.method == "POST":
            address = _address(request)
            try:
                if help_request_limited(school, address):
                    raise HelpRequestsLimited("", code="rate_limited")
                if str(request.POST.get(HONEYPOT, "")).strip():
                    help_request_count(school, address)  # counted, thanked, dropped
                    return _thanks(district, school, language)
                if form.is_valid():
                    help_request_submit(
                        school=school,
                        language=language,
                        address=address,
                        **form.service_arguments(),
                    )
                    return _thanks(district, school, language)
            except HelpRequestsLimited:
                limited = True
            except ValidationError as error:
                _add_errors(form, error)
        context = _public_context(
            district, school, language, "help_request_form", form=form, limited=limited
        )
        response = render(
            request, "referrals/help/form.html", context, status=429 if limited else 200
        )
    response.headers["Content-Language"] = language
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def help_request_thanks_view(request, slug, school_id):
    """After a request was sent: that it arrived, and the crisis lines again. No promise."""
    district = _public_district(slug)
    language = _page_language(request)
    with work_in_district(district), translation.override(language):
        school = _public_school(district, school_id)
        context = _public_context(district, school, language, "help_request_thanks")
        response = render(request, "referrals/help/thanks.html", context)
    response.headers["Content-Language"] = language
    return response


# --- The counselors' queue -------------------------------------------------------------------


class HelpFilterForm(forms.Form):
    """Status and school filters above the queue (GET); a bad value is dropped."""

    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    school = forms.TypedChoiceField(
        label=gettext_lazy("School"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *HelpRequestStatus.choices]
        self.fields["school"].choices = [("", _("All schools"))] + [
            (school.pk, school.name) for school in schools
        ]

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or "", "school_id": data.get("school")}


def public_address(district, school, request=None) -> str:
    """The school's form on the public address of Trellis (SITE_URL), or, where that is not
    set (a development machine without it), on the address the page was opened on."""
    form_path = reverse("help_request_form", args=[district.slug, school.pk])
    try:
        return absolute_url(form_path)
    except ImproperlyConfigured:
        return request.build_absolute_uri(form_path) if request is not None else form_path


@requires("referrals.create")
@require_GET
def help_request_list_view(request, district_slug):
    """The requests for help of the member's schools: new first, then linked, referred and
    closed; filtered by status and school (htmx swaps the table); each school's public
    address under it."""
    membership = request.membership
    schools = help_request_schools(membership)
    filters = HelpFilterForm(request.GET, schools=schools)
    chosen = filters.filters()
    page = Paginator(help_request_list(membership, **chosen), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "filtered": any(chosen.values()),
        "page": page,
        "query": query.urlencode(),
        "addresses": [
            {"school": school, "url": public_address(request.district, school, request)}
            for school in schools
        ],
    }
    return render_page_or_fragment(request, "referrals/help/list.html", context)


class LinkStudentForm(forms.Form):
    student = forms.IntegerField(
        label=gettext_lazy("Student"),
        min_value=1,
        max_value=_ID_MAX,
        error_messages={
            "required": gettext_lazy("Find the student, then choose them."),
            "invalid": gettext_lazy("Choose a student of your schools."),
            "min_value": gettext_lazy("Choose a student of your schools."),
            "max_value": gettext_lazy("Choose a student of your schools."),
        },
    )


class ReferForm(forms.Form):
    referral = forms.TypedChoiceField(
        label=gettext_lazy("Referral"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose the referral this request became."),
            "invalid_choice": gettext_lazy("Choose one of this student's referrals."),
        },
    )

    def __init__(self, *args, referrals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.referrals = {referral.pk: referral for referral in referrals}
        self.fields["referral"].choices = [
            (referral.pk, _referral_label(referral)) for referral in referrals
        ]


def _referral_label(referral) -> str:
    partner = referral.partner.name if referral.partner else _("no partner chosen yet")
    return _("%(reference)s to %(partner)s, %(status)s, referred on %(date)s") % {
        "reference": referral.reference,
        "partner": partner,
        "status": referral.get_status_display().lower(),
        "date": date_format(referral.referred_on, "DATE_FORMAT"),
    }


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is it closed?"),
        choices=HelpCloseReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose why the request is closed."),
            "invalid_choice": gettext_lazy("Choose why the request is closed."),
        },
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=CLOSE_NOTE_MAX,
        help_text=gettext_lazy(
            "For your colleagues. The person who asked is not told that it was closed."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


ACTIONS = ("link", "refer", "close")


def _act(request, help_request, action, forms_):
    """Run the chosen step; True when it was done (else its form carries the errors)."""
    membership = request.membership
    form = forms_[action]
    if not form.is_valid():
        return False
    try:
        if action == "link":
            student = (
                students_visible_to(membership)
                .filter(pk=form.cleaned_data["student"])
                .select_related("school")
                .first()
            )
            help_request_link_student(by=membership, help_request=help_request, student=student)
            messages.success(
                request,
                _("Request %(reference)s is linked to %(student)s.")
                % {"reference": help_request.reference, "student": student.display_name},
            )
        elif action == "refer":
            referral = form.referrals.get(form.cleaned_data["referral"])
            help_request_mark_referred(by=membership, help_request=help_request, referral=referral)
            messages.success(
                request,
                _("Request %(reference)s is recorded as referral %(referral)s.")
                % {"reference": help_request.reference, "referral": referral.reference},
            )
        else:
            help_request_close(
                by=membership,
                help_request=help_request,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
            messages.success(
                request,
                _("Request %(reference)s is closed.") % {"reference": help_request.reference},
            )
    except ValidationError as error:
        _add_errors(form, error)
        return False
    return True


@requires("referrals.create")
@require_http_methods(["GET", "HEAD", "POST"])
def help_request_detail_view(request, district_slug, help_request_id):
    """One request: what was written, who asked and how to reach them; then, while it is
    open, find and link the student, record the referral it became, or close it. Viewing a
    request linked to a student is written to the access log."""
    membership = request.membership
    help_request = access_help_request(membership, help_request_id)
    referrals = help_request_student_referrals(membership, help_request)
    posted = request.POST if request.method == "POST" else None
    action = posted.get("action", "") if posted is not None else ""
    forms_ = {
        "link": LinkStudentForm(posted if action == "link" else None),
        "refer": ReferForm(posted if action == "refer" else None, referrals=referrals),
        "close": CloseForm(posted if action == "close" else None),
    }
    action_error = None
    if posted is not None:
        if action not in ACTIONS:
            action_error = _("Choose what to do with the request: link, record or close it.")
        elif _act(request, help_request, action, forms_):
            return redirect(reverse("help_request_detail", args=[district_slug, help_request.pk]))
    is_open = help_request.status in (HelpRequestStatus.NEW, HelpRequestStatus.LINKED)
    # The student search: what was typed, else (while no student is linked) the name the
    # person asking wrote, so the likely match is already listed.
    if "q" in request.GET:
        query = str(request.GET.get("q", "")).strip()[:100]
    elif help_request.student_id is None:
        query = help_request.student_name[:100]
    else:
        query = ""
    results = student_matches(membership, query) if is_open and query else None
    if help_request.student_id is not None:
        access_log_record(
            request=request,
            object_type="help_request",
            object_id=help_request.pk,
            student=help_request.student,
        )
    context = {
        "help_request": help_request,
        "is_open": is_open,
        "link_form": forms_["link"],
        "refer_form": forms_["refer"],
        "close_form": forms_["close"],
        "acted_form": forms_.get(action),
        "action_error": action_error,
        "query": query,
        "results": results,
        "referrals": referrals,
        "new_referral_url": (
            f"{reverse('referral_new', args=[district_slug])}?student={help_request.student_id}"
            if help_request.student_id
            else ""
        ),
    }
    return render(request, "referrals/help/detail.html", context)


urlpatterns = [
    path("help-requests/", help_request_list_view, name="help_request_list"),
    path(
        "help-requests/<int:help_request_id>/",
        help_request_detail_view,
        name="help_request_detail",
    ),
]
# Under /r/ (referrals.public_urls): the school's public form, no account.
public_urlpatterns = [
    path("help/<slug:slug>/<int:school_id>/", help_request_form_view, name="help_request_form"),
    path(
        "help/<slug:slug>/<int:school_id>/thanks/",
        help_request_thanks_view,
        name="help_request_thanks",
    ),
]
