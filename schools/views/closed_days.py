"""The district's closed days: administrators add a day or a range (a break) and remove
them; the list is shown by school year, coming up first, then past."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from schools.capabilities import requires
from schools.services.closed_days import (
    NAME_MAX,
    RANGE_MAX_DAYS,
    closed_day_add,
    closed_day_list,
    closed_day_remove,
    closed_day_years,
    closed_days_add_range,
    find_closed_day,
    school_year_of,
)

ACTIONS = ("add", "range", "remove")
YEARS_SHOWN = range(1990, 2200)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _date_field(label, help_text=""):
    return forms.DateField(
        label=label,
        help_text=help_text,
        widget=DateInput,
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": gettext_lazy("Give a date."),
            "invalid": gettext_lazy("Give a real date, for example 2025-12-22."),
        },
    )


def _name_field(help_text):
    return forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX,
        required=False,
        help_text=help_text,
    )


class ClosedDayForm(forms.Form):
    date = _date_field(gettext_lazy("Date"))
    name = _name_field(gettext_lazy("What it is, for example “Thanksgiving” or “Snow day”."))


class ClosedRangeForm(forms.Form):
    first = _date_field(gettext_lazy("First day"))
    last = _date_field(gettext_lazy("Last day"))
    name = _name_field(gettext_lazy("For example “Winter break”."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["last"].help_text = _(
            "Every weekday from the first day to the last becomes a closed day; weekends are "
            "left out (they are never business days). At most %(count)s days at once."
        ) % {"count": RANGE_MAX_DAYS}


def _year(request, today) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return school_year_of(today)
    return year if year in YEARS_SHOWN else school_year_of(today)


def _redirect(district_slug, year: int):
    return redirect(reverse("closed_days", args=[district_slug]) + f"?year={year}")


@requires("district.settings")
def closed_days_view(request, district_slug):
    """The closed days of a school year; POST adds a day (action "add"), a range ("range")
    or removes one ("remove"). Problems are shown next to the field, with what was typed."""
    district, membership = request.district, request.membership
    today = district.today()
    day_form = ClosedDayForm(prefix="day")
    range_form = ClosedRangeForm(prefix="range")
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ACTIONS:
            messages.error(request, _("Nothing was changed: choose what to do on the page."))
            return _redirect(district_slug, school_year_of(today))
        if action == "remove":
            return _remove(request, district_slug, today)
        if action == "add":
            day_form = ClosedDayForm(request.POST, prefix="day")
            if day_form.is_valid():
                try:
                    day = closed_day_add(by=membership, **day_form.cleaned_data)
                except ValidationError as error:
                    day_form.add_error(None, error)
                else:
                    messages.success(
                        request,
                        _("%(date)s is now a closed day.")
                        % {"date": date_format(day.date, "DATE_FORMAT")},
                    )
                    return _redirect(district_slug, school_year_of(day.date))
        else:
            range_form = ClosedRangeForm(request.POST, prefix="range")
            if range_form.is_valid():
                try:
                    result = closed_days_add_range(by=membership, **range_form.cleaned_data)
                except ValidationError as error:
                    range_form.add_error(None, error)
                else:
                    _range_message(request, result)
                    return _redirect(
                        district_slug, school_year_of(range_form.cleaned_data["first"])
                    )
    year = _year(request, today)
    rows = list(closed_day_list(district, year=year))
    years = sorted(
        set(closed_day_years(district)) | {school_year_of(today), school_year_of(today) + 1},
        reverse=True,
    )
    context = {
        "day_form": day_form,
        "range_form": range_form,
        "year": year,
        "year_label": _school_year_label(year),
        "years": [{"year": y, "label": _school_year_label(y)} for y in years],
        "upcoming": [row for row in rows if row.date >= today],
        "past": [row for row in rows if row.date < today],
        "today": today,
    }
    return render(request, "schools/closed_days/list.html", context)


def _school_year_label(year: int) -> str:
    return f"{year}–{(year + 1) % 100:02d}"


def _remove(request, district_slug, today):
    day = find_closed_day(request.district, request.POST.get("closed_day"))
    if day is None or not closed_day_remove(by=request.membership, closed_day=day):
        messages.info(request, _("That day was not on the list any more."))
        return _redirect(district_slug, school_year_of(today))
    messages.success(
        request,
        _("%(date)s is a business day again (unless it falls on a weekend).")
        % {"date": date_format(day.date, "DATE_FORMAT")},
    )
    return _redirect(district_slug, school_year_of(day.date))


def _range_message(request, result) -> None:
    if result.added:
        text = ngettext(
            "%(count)s closed day was added.",
            "%(count)s closed days were added.",
            len(result.added),
        ) % {"count": len(result.added)}
    else:
        text = _("No day was added.")
    if result.already:
        text += " " + ngettext(
            "%(count)s was already on the list and kept its name.",
            "%(count)s were already on the list and kept their names.",
            len(result.already),
        ) % {"count": len(result.already)}
    if result.weekend_days:
        text += " " + ngettext(
            "%(count)s weekend day was left out.",
            "%(count)s weekend days were left out.",
            result.weekend_days,
        ) % {"count": result.weekend_days}
    messages.success(request, text)
