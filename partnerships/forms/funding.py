"""Forms of the funding pages: a funding source, and the year basis of the mix."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.picker import PickerForm, every_word
from partnerships.models import MOU, FundingKind, FundingSource, Partner

MAX_AMOUNT = Decimal("999999999999.99")  # the column holds 14 digits, 2 after the point


class FundingSourceForm(PickerForm, forms.ModelForm):
    """What a funding source is; partners and MOUs are the viewer's district's.

    Validated against the model too (its fields and constraints); services/funding.py
    saves, from cleaned_data.
    """

    # Declared where the form says more than the model: no empty choice, the column's
    # largest amount, a length limit on the text, the district's partners and MOUs.
    kind = forms.ChoiceField(label=_("Kind"), choices=FundingKind.choices)
    amount = forms.DecimalField(
        label=_("Amount (USD)"),
        min_value=0,
        max_value=MAX_AMOUNT,
        decimal_places=2,
        help_text=_("The whole amount for the period. For in-kind support, its estimated value."),
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

    # In a large district, partners and MOUs are pickers (core.picker): the MOUs found by
    # title or by their partner's name.
    pickers = {
        "partners": every_word("name_key__contains"),
        "mous": every_word("partner__name_key__contains", raw=("title__icontains",)),
    }

    class Meta:
        model = FundingSource
        fields = [
            "kind",
            "funder",
            "amount",
            "start_date",
            "end_date",
            "restrictions",
            "partners",
            "mous",
        ]
        labels = {"funder": _("Funder"), "start_date": _("Start date"), "end_date": _("End date")}
        help_texts = {
            "funder": _("Who provides it: the grant maker, the district budget line, the donor."),
            "end_date": _("The last day the money may be spent."),
        }
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, partners, mous, queries=None, pick=None, **kwargs):
        """`queries`: what was typed in each picker's search; `pick`: that picker only."""
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = partners
        self.fields["mous"].queryset = mous
        self.fields["mous"].label_from_instance = lambda mou: f"{mou.title} ({mou.partner.name})"
        self.set_up_pickers(queries, pick=pick)

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
