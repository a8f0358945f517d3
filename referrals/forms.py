"""Forms of the referral pages: the shape of what was typed. The rules live in
referrals.rules and referrals.services."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.languages import language_choices, normalize_code
from partnerships.selectors.categories import service_categories
from referrals.models import DeclineReason, Outcome
from referrals.rules import IDENTIFIABLE_FIELDS, PAYMENT_CHOICES, Urgency
from referrals.selectors import concern_categories

# The fields the suggestions are ranked on (the form reloads them when one changes).
FIT_FIELDS = ("services", "family_language", "payment", "telehealth_ok")


class ReferralForm(forms.Form):
    """A new referral: everything but the student and the partner, which the page picks
    (their ids are looked up within the district by the view, never by the form)."""

    # The page's own controls set these two (the student picker, the suggestions); the view
    # looks the ids up within the district. Declared so that refusals show beside them.
    student = forms.CharField(label=_("Student"), required=False)
    partner = forms.CharField(label=_("Receiving partner"), required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    protocol_seen = forms.BooleanField(
        label=_("I have followed the crisis protocol"), required=False
    )
    concerns = forms.MultipleChoiceField(
        label=_("Concerns"),
        help_text=_("Choose at least one."),
        widget=forms.CheckboxSelectMultiple,
    )
    services = forms.MultipleChoiceField(
        label=_("Services requested"), required=False, widget=forms.CheckboxSelectMultiple
    )
    family_language = forms.ChoiceField(label=_("Family's preferred language"), required=False)
    interpreter_needed = forms.BooleanField(label=_("Interpreter needed"), required=False)
    payment = forms.MultipleChoiceField(
        label=_("How the family pays"),
        choices=PAYMENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    telehealth_ok = forms.BooleanField(label=_("Telehealth is acceptable"), required=False)
    availability = forms.CharField(
        label=_("Availability"),
        required=False,
        max_length=500,
        help_text=_("When the student and family can meet, e.g. “after 3 pm, not Fridays”."),
    )
    shared_fields = forms.MultipleChoiceField(
        label=_("Student information to share"),
        choices=IDENTIFIABLE_FIELDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None chosen: a de-identified consultation, which needs no consent. Sharing any "
            "of these needs the family's signed consent before the referral is sent."
        ),
    )
    confidential_notes = forms.CharField(
        label=_("Confidential notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only your school's care team sees these."),
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    # Long lists (concerns, services) in columns: the whole form fits on fewer screens.
    choice_columns = True

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].choices = concern_categories(district)
        self.fields["services"].choices = service_categories(district)
        chosen = normalize_code(str(self["family_language"].value() or "")) or ""
        self.fields["family_language"].choices = [
            ("", _("Not recorded")),
            *language_choices(include=(chosen,) if chosen else ()),
        ]
        if not self.is_bound and not self.initial.get("submission_key"):
            self.initial["submission_key"] = uuid.uuid4()

    @property
    def emergency(self) -> bool:
        return str(self["urgency"].value() or "") == Urgency.EMERGENCY

    def clean(self):
        data = super().clean()
        if data.get("urgency") == Urgency.EMERGENCY and not data.get("protocol_seen"):
            self.add_error(
                "protocol_seen",
                _(
                    "This is an emergency: follow the crisis protocol above first, then "
                    "confirm that you have."
                ),
            )
        return data

    def referral_fields(self) -> dict:
        """What referral_create takes besides the student, school, partner and key."""
        data = self.cleaned_data
        return {
            "concerns": data["concerns"],
            "urgency": data["urgency"],
            "services": data["services"],
            "family_language": data["family_language"],
            "interpreter_needed": data["interpreter_needed"],
            "payment": data["payment"],
            "availability": data["availability"],
            "telehealth_ok": data["telehealth_ok"],
            "shared_fields": data["shared_fields"],
            "confidential_notes": data["confidential_notes"],
        }


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class LoopStepForm(forms.Form):
    """One step of the loop (referrals.loop.TRANSITIONS): only the fields its action asks
    for. The service checks the rules (dates, the order of steps) and says what is wrong."""

    # A blank first: a click on Decline or Close must not say "No capacity" unasked.
    reason = forms.ChoiceField(
        label=_("Why do you decline?"),
        choices=[("", _("Choose a reason")), *DeclineReason.choices],
        error_messages={"required": _("Choose why you decline.")},
    )
    appointment_on = forms.DateField(
        label=_("Date of the first appointment"),
        widget=DateInput,
        error_messages={"invalid": _("Give the date as month, day and year.")},
    )
    kept_on = forms.DateField(
        label=_("Date it was kept"),
        required=False,
        widget=DateInput,
        help_text=_("Leave empty if it was on the scheduled date."),
        error_messages={"invalid": _("Give the date as month, day and year.")},
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose an outcome")), *Outcome.choices],
        error_messages={"required": _("Choose how the referral ended.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by the school and the partner. No clinical details."),
    )

    # The fields each action shows (the note always).
    ACTION_FIELDS = {
        "accept": (),
        "decline": ("reason",),
        "schedule": ("appointment_on",),
        "kept": ("kept_on",),
        "missed": (),
        "update": (),
        "close": ("outcome",),
        "withdraw": (),
    }

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        keep = {*self.ACTION_FIELDS[action], "note"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if action == "update":
            self.fields["note"].required = True
            self.fields["note"].label = _("Update")
        if action == "withdraw":
            self.fields["note"].help_text = _("Why the school withdraws it (seen by the partner).")
        # Prefix by action: several step forms share one page.
        self.prefix = action

    def step_arguments(self) -> dict:
        """The service's keyword arguments from the cleaned data."""
        data = self.cleaned_data
        return {name: data.get(name) for name in self.fields if data.get(name) not in (None, "")}
