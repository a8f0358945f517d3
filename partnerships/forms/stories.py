"""Forms of the success stories pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerships.models import Partner, SuccessStory
from schools.models import School


class StoryForm(forms.ModelForm):
    """A success story; validated against the model too, saved by services/stories.py."""

    # Declared where the form says more than the model: a length limit on the story, the
    # district's partners and schools with words for "none".
    story = forms.CharField(
        label=_("Story"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Tell what changed and how the partnership helped. Leave out names, exact ages, "
            "dates and anything else that could identify a student or family: an "
            "administrator reviews every story for this before it can be published."
        ),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.none(),
        required=False,
        empty_label=_("No partner"),
    )
    school = forms.ModelChoiceField(
        label=_("School"),
        queryset=School.objects.none(),
        required=False,
        empty_label=_("No school"),
    )

    class Meta:
        model = SuccessStory
        fields = ["title", "story", "partner", "school", "date"]
        labels = {"title": _("Title"), "date": _("Date")}
        help_texts = {"date": _("When it happened, roughly: a month is enough.")}
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, partners, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["school"].queryset = schools


class ConsentForm(forms.Form):
    given_by = forms.CharField(
        label=_("Who consented"),
        max_length=200,
        help_text=_(
            "Describe the person, for example “the student's mother” or “the student (17)”. "
            "Keep the signed consent form where your district keeps consent records."
        ),
    )
    given_on = forms.DateField(
        label=_("Date of consent"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_given_on(self):
        value = self.cleaned_data["given_on"]
        if value > self.today:
            raise forms.ValidationError(_("The date of consent cannot be in the future."))
        return value
