"""Forms of the MOU pages: the shape of what was typed. Rules live in partnerships.mou_rules
and services/mous/."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from partnerships.forms.partner_filter import PartnerFilterForm
from partnerships.models import MOU, Goal, GoalProgress, MOUStatus, MOUTemplate
from partnerships.mou_rules import MAX_SECTION_CHARS, MOU_SECTIONS, SHARED_FIELDS
from partnerships.selectors.categories import service_labels
from schools.selectors import schools_of_district

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MOUFilterForm(PartnerFilterForm):
    """Status and partner filters above the MOU list (GET); a bad value is dropped."""

    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All statuses")), *MOUStatus.choices]

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"status": data.get("status") or "", **self.partner_filters()}


class MOUTermsForm(forms.ModelForm):
    """The structured terms of an MOU: title, schools, services, term, response time, data.

    Validated against the model too (its fields and constraints); services/mous/ saves, from
    cleaned_data (terms()).
    """

    # Declared where the form says more than the model: the district's schools and
    # services, the data fields by name, the response time's own bounds in the page.
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools covered"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    services = forms.MultipleChoiceField(
        label=_("Services"), required=False, widget=forms.CheckboxSelectMultiple
    )
    response_days = forms.IntegerField(
        label=_("Referral response time (business days)"),
        min_value=1,
        max_value=60,
        help_text=_("The partner answers every referral within this many business days."),
    )
    shared_fields = forms.MultipleChoiceField(
        label=_("Student data the partner may receive"),
        required=False,
        choices=SHARED_FIELDS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only with the family's signed consent, and only these fields. Choose the fewest "
            "the partner needs."
        ),
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = MOU
        fields = [
            "title",
            "schools",
            "services",
            "start_date",
            "end_date",
            "response_days",
            "shared_fields",
        ]
        labels = {"title": _("Title"), "start_date": _("Start date"), "end_date": _("End date")}
        widgets = {"start_date": _DATE, "end_date": _DATE}

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools_of_district(
            district, keep=self.initial.get("schools") or ()
        )
        self.fields["services"].choices = list(service_labels(district).items())

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must be on or after the start date."))
        return data

    def terms(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "schools": list(data["schools"] or []),
            "services": list(data["services"] or []),
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "response_days": data["response_days"],
            "shared_fields": list(data["shared_fields"] or []),
        }


class MOUDraftForm(MOUTermsForm):
    """A new MOU: the partner, the template to start from, and the terms."""

    field_order = ["partner", "template", "language", "title"]

    partner = forms.ModelChoiceField(label=_("Partner"), queryset=None, empty_label=_("Choose…"))
    template = forms.ChoiceField(
        label=_("Start from"),
        required=False,
        help_text=_("The text of each section; you edit it section by section afterwards."),
    )
    language = forms.ChoiceField(
        label=_("Language of the MOU"),
        choices=settings.LANGUAGES,
        required=False,  # left out: the district's default language
        help_text=_(
            "The MOU is written, signed and printed in this language, whatever language "
            "each reader uses Trellis in."
        ),
    )

    class Meta(MOUTermsForm.Meta):
        fields = ["partner", *MOUTermsForm.Meta.fields]

    def __init__(self, *args, district, partners, templates, **kwargs):
        super().__init__(*args, district=district, **kwargs)
        self.fields["partner"].queryset = partners
        self.templates = {str(t.pk): t for t in templates}
        self.fields["template"].choices = [("", _("Trellis standard MOU"))] + [
            (pk, t.name) for pk, t in self.templates.items()
        ]
        self.fields["response_days"].initial = district.referral_response_days
        self.fields["language"].initial = district.default_language or settings.LANGUAGE_CODE

    def chosen_template(self):
        return self.templates.get(self.cleaned_data.get("template") or "")


class SectionForm(forms.Form):
    """One section's text, with the version number the editor started from."""

    text = forms.CharField(
        label=_("Section text"),
        required=False,
        max_length=MAX_SECTION_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Placeholders such as {district}, {partner}, {schools}, {services}, {start_date}, "
            "{end_date}, {response_days} and {shared_fields} are filled from the MOU's terms."
        ),
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput)


class TemplateForm(forms.ModelForm):
    """A district's MOU template: a name and one text per section (the model keeps the
    sections as one JSON value: its fields are the form's own)."""

    class Meta:
        model = MOUTemplate
        fields = ["name"]
        labels = {"name": _("Name")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, heading in MOU_SECTIONS:
            self.fields[key] = forms.CharField(
                label=heading,
                required=False,
                max_length=MAX_SECTION_CHARS,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 8}),
            )

    def sections(self) -> dict:
        return {key: self.cleaned_data.get(key, "") for key, _heading in MOU_SECTIONS}

    def section_fields(self):
        return [self[key] for key, _heading in MOU_SECTIONS]


class CommentForm(forms.Form):
    """An administrator's reasons for returning a draft, or a note when taking one back."""

    comment = forms.CharField(
        label=_("Comments"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = required


class TerminateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for ending the MOU early"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Kept with the MOU and shown on its page."),
    )


class PartnerCommentForm(forms.Form):
    """The partner's request for changes (through the link, they also give their name)."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    comment = forms.CharField(
        label=_("What would you like to change?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class SignForm(forms.Form):
    """A signature: who, as what, and that they agree to this exact version."""

    name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("Your position, for example Executive Director."),
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    agree = forms.BooleanField(
        label=_("I have read this version and agree to sign it on behalf of my organization.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class GoalForm(forms.ModelForm):
    """A measurable goal of an MOU; validated against the model, saved by services/mous/goals."""

    target = forms.DecimalField(label=_("Target"), min_value=0.01, max_digits=12, decimal_places=2)

    class Meta:
        model = Goal
        fields = ["description", "target", "unit", "period"]
        labels = {"description": _("Goal"), "unit": _("Unit"), "period": _("Period")}
        help_texts = {
            "description": _(
                "What will be measured, e.g. Students who start services within 10 days."
            ),
            "unit": _("e.g. students, sessions, %."),
            "period": _("e.g. 2025–26 school year."),
        }


class ProgressForm(forms.ModelForm):
    """Where a goal stands on a date; validated against the model, saved by services."""

    value = forms.DecimalField(
        label=_("Value reached"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("The total so far, not the increase since the last entry."),
    )

    class Meta:
        model = GoalProgress
        fields = ["date", "value", "note"]
        labels = {"date": _("Date"), "note": _("Note")}
        widgets = {"date": _DATE}


class CompareForm(forms.Form):
    a = forms.TypedChoiceField(label=_("Older version"), coerce=int)
    b = forms.TypedChoiceField(label=_("Newer version"), coerce=int)

    def __init__(self, *args, numbers, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, _("Version %(number)s") % {"number": n}) for n in numbers]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices
