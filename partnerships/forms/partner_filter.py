"""The partner filter of the MOU and referral lists (see partnerships.selectors.partner_filter)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.signed import MAX_ID


class PartnerFilterForm(forms.Form):
    """A list's filters with a partner: `partner_name` typed, or `partner` (an id, from a
    link; the page shows its name in the box with show_partner_name). A bad value is
    dropped, as every list filter's."""

    partner_name = forms.CharField(
        label=_("Partner"),
        required=False,
        max_length=100,
        help_text=_("Part of the partner's name."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    partner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def partner_filters(self) -> dict:
        """The partner's part of the list selector's arguments (after is_valid())."""
        data = getattr(self, "cleaned_data", {})
        return {
            "partner_id": data.get("partner"),
            "partner_name": (data.get("partner_name") or "").strip(),
        }

    def show_partner_name(self, name: str) -> None:
        """Fill the partner box with the name of the partner chosen by id (from a link)."""
        self.data = self.data.copy()
        self.data["partner_name"] = name
