"""The district's settings and schools, kept by its administrators (issue 15): the page
of the district's own settings and policy, and the schools (add, change, close, reopen).
The closed days (schools.views.closed_days) are the third page under Settings."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from timezone_field import TimeZoneFormField

from schools.capabilities import requires
from schools.models import District, Grade, School
from schools.services.district_settings import (
    CRISIS_PROTOCOL_MAX,
    EDITABLE_FIELDS,
    district_settings_update,
)
from schools.services.schools import (
    FIELDS as SCHOOL_FIELDS,
)
from schools.services.schools import (
    find_school,
    school_close,
    school_create,
    school_list,
    school_reopen,
    school_update,
)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _bounded(field_name: str):
    """The min and max of a District number field, from its validators."""
    field = District._meta.get_field(field_name)
    bounds = {}
    for validator in field.validators:
        code = getattr(validator, "code", "")
        if code in ("min_value", "max_value"):
            bounds[code] = validator.limit_value
    return bounds["min_value"], bounds["max_value"]


def _number_field(name: str, help_text):
    low, high = _bounded(name)
    return forms.IntegerField(
        label=capfirst(District._meta.get_field(name).verbose_name),
        min_value=low,
        max_value=high,
        help_text=help_text,
        error_messages={
            "required": gettext_lazy("Give a number."),
            "invalid": gettext_lazy("Give a whole number."),
        },
    )


class DistrictSettingsForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    time_zone = TimeZoneFormField(
        label=gettext_lazy("Time zone"),
        help_text=gettext_lazy("Dates and times in Trellis are on this clock."),
        error_messages={"invalid_choice": gettext_lazy("Choose a time zone from the list.")},
    )
    default_language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("For people who have not chosen a language yet."),
    )
    mfa_required = forms.BooleanField(
        label=gettext_lazy("Require two-factor authentication for everyone"),
        required=False,
        help_text=gettext_lazy(
            "Administrators always need it; this asks it of every role, partners included."
        ),
    )
    student_self_consent_age = _number_field(
        "student_self_consent_age",
        gettext_lazy(
            "From this age a student may consent to mental health care on their own, as your "
            "state's law allows (for example 12 in California, 13 in Washington). 18: no minor "
            "consents alone."
        ),
    )
    referral_response_days = _number_field(
        "referral_response_days",
        gettext_lazy(
            "Business days a partner has to answer a referral. Referrals already sent keep "
            "the date they were given."
        ),
    )
    directory_freshness_days = _number_field(
        "directory_freshness_days",
        gettext_lazy("A partner listing not checked for this many days is shown as stale."),
    )
    crisis_protocol = forms.CharField(
        label=gettext_lazy("Crisis protocol (English)"),
        required=False,
        max_length=CRISIS_PROTOCOL_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "What staff must do in a mental health emergency, shown before an emergency "
            "referral is logged. Leave it blank to show Trellis's general text."
        ),
    )
    crisis_protocol_es = forms.CharField(
        label=gettext_lazy("Crisis protocol (Spanish)"),
        required=False,
        max_length=CRISIS_PROTOCOL_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "lang": "es"}),
        help_text=gettext_lazy("Shown to people reading Trellis in Spanish; blank: the English."),
    )


@requires("district.settings")
def district_settings(request, district_slug):
    """The district's settings and policy; POST saves them (problems next to each field,
    with what was typed)."""
    district = request.district
    initial = {key: getattr(district, key) for key in EDITABLE_FIELDS}
    form = DistrictSettingsForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            district_settings_update(by=request.membership, district=district, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The district's settings were saved."))
            return redirect("district_settings", district_slug)
    return render(
        request,
        "schools/settings/district.html",
        {"form": form, "settings_section": "district"},
    )


# --- Schools ------------------------------------------------------------------------------


class SchoolForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    lowest_grade = forms.ChoiceField(label=gettext_lazy("Lowest grade"), choices=Grade.choices)
    highest_grade = forms.ChoiceField(label=gettext_lazy("Highest grade"), choices=Grade.choices)
    state_id = forms.CharField(
        label=gettext_lazy("State school id"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("The id your state gives the school."),
    )
    nces_id = forms.CharField(
        label=gettext_lazy("NCES id"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("The federal school id: digits only, 12 at most."),
    )
    sis_id = forms.CharField(
        label=gettext_lazy("SIS id"),
        max_length=64,
        required=False,
        help_text=gettext_lazy(
            "The school's id in your student information system: roster imports find the "
            "school by it (or by the state id)."
        ),
    )


def _school(request, school_id) -> School:
    school = find_school(request.district, school_id)
    if school is None:
        raise Http404
    return school


@requires("district.settings")
def school_list_view(request, district_slug):
    schools = list(school_list(request.district))
    return render(
        request,
        "schools/settings/schools.html",
        {"schools": schools, "settings_section": "schools"},
    )


@requires("district.settings")
def school_new(request, district_slug):
    form = SchoolForm(
        _posted(request), initial={"lowest_grade": Grade.K, "highest_grade": Grade.G12}
    )
    if form.is_bound and form.is_valid():
        try:
            school = school_create(by=request.membership, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": school.name})
            return redirect("school_list", district_slug)
    return render(
        request,
        "schools/settings/school_form.html",
        {"form": form, "school": None, "settings_section": "schools"},
    )


@requires("district.settings")
def school_edit(request, district_slug, school_id):
    school = _school(request, school_id)
    initial = {key: getattr(school, key) for key in SCHOOL_FIELDS}
    form = SchoolForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            school = school_update(by=request.membership, school=school, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": school.name})
            return redirect("school_list", district_slug)
    return render(
        request,
        "schools/settings/school_form.html",
        {"form": form, "school": school, "settings_section": "schools"},
    )


@requires("district.settings")
def school_close_view(request, district_slug, school_id):
    """POST closes the school; a GET goes back to the list."""
    school = _school(request, school_id)
    if request.method != "POST":
        return redirect("school_list", district_slug)
    school = school_close(by=request.membership, school=school)
    messages.success(
        request,
        _("%(name)s is closed. Its students and referrals stay in Trellis.")
        % {"name": school.name},
    )
    return redirect("school_list", district_slug)


@requires("district.settings")
def school_reopen_view(request, district_slug, school_id):
    """POST reopens the school; a GET goes back to the list."""
    school = _school(request, school_id)
    if request.method != "POST":
        return redirect("school_list", district_slug)
    school = school_reopen(by=request.membership, school=school)
    messages.success(request, _("%(name)s is open again.") % {"name": school.name})
    return redirect("school_list", district_slug)
