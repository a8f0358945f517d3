"""Forms for the people pages and the invitation link.

They check the shape of the input (an email address, a known role, schools and partner
of this district); who may hold which role is decided in schools.services.people.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from schools.models import Role, User
from schools.selectors import partners_in, schools_of_district

ROLE_DESCRIPTIONS = {
    Role.ADMIN: _("Manages people and district policy, sees impact reports."),
    Role.COORDINATOR: _("Keeps the partner directory, MOUs, meetings and screening."),
    Role.COUNSELOR: _("Refers students and follows their caseload."),
    Role.PARTNER: _("Staff of a partner organization: sees only referrals sent to it."),
    Role.VIEWER: _("Reads reports and the partner directory; sees no students."),
}


class MemberFilterForm(forms.Form):
    """The search box and role filter above the members table (GET)."""

    q = forms.CharField(
        label=_("Search by name or email"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )

    def filters(self) -> dict:
        """The valid filters; a malformed one is ignored rather than refused."""
        self.is_valid()
        return {
            "query": self.cleaned_data.get("q", ""),
            "role": self.cleaned_data.get("role", ""),
        }


class MembershipForm(forms.Form):
    """Role, schools, partner organization and crisis-responder flag of one person."""

    role_descriptions = ROLE_DESCRIPTIONS  # shown under each role's radio button

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, widget=forms.RadioSelect)
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave every box unticked for all of the district's schools."),
    )
    partner = forms.ModelChoiceField(
        label=_("Partner organization"),
        queryset=None,
        required=False,
        empty_label=_("None"),
        help_text=_("Required for the Partner role, and only for it."),
    )
    crisis_responder = forms.BooleanField(
        label=_("Crisis responder"),
        required=False,
        help_text=_(
            "Receives risk alerts at once and must acknowledge them. For administrators, "
            "coordinators and counselors."
        ),
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools_of_district(
            district, keep=self.initial.get("schools") or ()
        )
        self.fields["partner"].queryset = partners_in(district)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "role": data["role"],
            "schools": list(data["schools"] or []),
            "partner": data["partner"],
            "crisis_responder": data["crisis_responder"],
        }


class InvitationForm(MembershipForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("The invitation is sent here; it is the address they sign in with."),
    )

    field_order = ["email", "role", "schools", "partner", "crisis_responder"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def service_arguments(self) -> dict:
        return {"email": self.cleaned_data["email"], **super().service_arguments()}


class AcceptInvitationForm(forms.Form):
    """A new person's name and password, checked by Django's password validators."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"

    def clean_full_name(self):
        name = self.cleaned_data["full_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            person = User(email=self.email, full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(first, user=person)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data
