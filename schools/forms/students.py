"""Forms of the students pages: the list filters, the roster upload, the access log search."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import QuickSelect
from schools.models import Grade


class StudentFilterForm(forms.Form):
    """Search and filters of the students list; bad values are reported, never a 500."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, preferred name or student id."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # QuickSelect: a large district has hundreds of schools.
    school = forms.TypedChoiceField(
        label=_("School"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False, widget=QuickSelect)

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", _("All schools"))] + [
            (school.pk, school.name) for school in schools
        ]
        self.fields["grade"].choices = [("", _("All grades")), *Grade.choices]

    def filters(self) -> dict:
        """The valid filters (an invalid one is dropped and shown as an error)."""
        data = {}
        if self.is_bound:
            self.is_valid()  # an invalid value is left out of cleaned_data
            data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "school_id": data.get("school"),
            "grade": data.get("grade") or "",
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("A CSV file saved as UTF-8, up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
        error_messages={
            "required": _("Choose the roster file to upload."),
            "empty": _("The file is empty."),
            "invalid": _("No file was received. Choose the file again."),
        },
    )


class AccessLogFilterForm(forms.Form):
    student = forms.CharField(
        label=_("Student"),
        required=False,
        max_length=100,
        help_text=_("Student id, or part of a name."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=254,
        help_text=_("Email address, or part of it."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _plausible(self, name):
        day = self.cleaned_data.get(name)
        if day and not 2000 <= day.year <= 2999:
            raise forms.ValidationError(_("Enter a date between the years 2000 and 2999."))
        return day

    def clean_since(self):
        return self._plausible("since")

    def clean_until(self):
        return self._plausible("until")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> dict:
        data = {}
        if self.is_bound:
            self.is_valid()  # an invalid value is left out of cleaned_data
            data = self.cleaned_data
        return {
            "student": data.get("student") or "",
            "person": data.get("person") or "",
            "since": data.get("since"),
            "until": data.get("until") if "until" not in self.errors else None,
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())
