"""Forms of the funding pages: a funding source, and the year basis of the mix."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, FundingKind, Partner

MAX_AMOUNT = Decimal("999999999999.99")  # the column holds 14 digits, 2 after the point


class FundingSourceForm(forms.Form):
    """What a funding source is; partners and MOUs are the viewer's district's."""

    kind = forms.ChoiceField(label=_("Kind"), choices=FundingKind.choices)
    funder = forms.CharField(
        label=_("Funder"),
        max_length=200,
        help_text=_("Who provides it: the grant maker, the district budget line, the donor."),
    )
    amount = forms.DecimalField(
        label=_("Amount (USD)"),
        min_value=0,
        max_value=MAX_AMOUNT,
        decimal_places=2,
        help_text=_("The whole amount for the period. For in-kind support, its estimated value."),
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("End date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day the money may be spent."),
    )
    restrictions = forms.CharField(
        label=_("Restrictions"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What it may and may not pay for, reporting duties, matching requirements."),
    )
    partners = forms.ModelMultipleChoiceField(
        label=_("Partners it pays for"),
        queryset=Partner.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    mous = forms.ModelMultipleChoiceField(
        label=_("MOUs it pays for"),
        queryset=MOU.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, partners, mous, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = partners
        self.fields["mous"].queryset = mous
        self.fields["mous"].label_from_instance = lambda mou: f"{mou.title} ({mou.partner.name})"

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must be on or after the start date."))
        return data


class MixBasisForm(forms.Form):
    """Which years the funding mix is counted in (GET); a bad value falls back to school years."""

    basis = forms.ChoiceField(
        label=_("Count by"),
        required=False,
        choices=[("school", _("School year (July to June)")), ("calendar", _("Calendar year"))],
    )

    def basis_value(self) -> str:
        if not self.is_bound or not self.is_valid():
            return "school"
        return self.cleaned_data.get("basis") or "school"
