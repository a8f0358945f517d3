"""Forms of the partner directory: filters, a partner with its services and contacts, the
district's categories, the emailed confirmation link, the HSDS upload."""

from __future__ import annotations

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.forms import QuickSelect
from core.languages import (
    base_code,
    is_known,
    language_choices,
    language_name,
    normalize_code,
    parse_language,
)
from partnerships.models import (
    Contact,
    ContactRole,
    DeliveryMode,
    Intake,
    Partner,
    PartnerKind,
    Payment,
    Service,
    ServiceCategory,
)
from partnerships.services.directory import PUBLIC_FIELDS  # the public listing, in order

LANGUAGES_MAX = 30


def _label(name: str) -> str:
    return capfirst(Partner._meta.get_field(name).verbose_name)


# --- The directory's filters ------------------------------------------------------------------


class DirectoryFilterForm(forms.Form):
    """Search and filters of the directory; a bad value is dropped and shown, never a 500."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name, description or service."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # QuickSelect: a large district's directory offers 300 schools to filter by.
    category = forms.ChoiceField(label=_("Service"), required=False, widget=QuickSelect)
    language = forms.ChoiceField(label=_("Language spoken"), required=False, widget=QuickSelect)
    school = forms.TypedChoiceField(
        label=_("School served"), required=False, coerce=int, widget=QuickSelect
    )
    delivery = forms.ChoiceField(label=_("Delivery"), required=False, widget=QuickSelect)
    payment = forms.ChoiceField(label=_("Fees and insurance"), required=False, widget=QuickSelect)
    accepting = forms.BooleanField(label=_("Accepting referrals now"), required=False)
    stale = forms.BooleanField(label=_("Needs verification"), required=False)

    def __init__(self, data=None, *args, categories=(), languages=(), schools=(), **kwargs):
        if data is not None and data.get("language"):
            data = data.copy()  # "es-MX" from a link is the "es-mx" of the choices
            data["language"] = normalize_code(data["language"]) or data["language"]
        super().__init__(data, *args, **kwargs)
        self.fields["category"].choices = [("", _("Any service")), *categories]
        self.fields["language"].choices = [("", _("Any language"))] + _filter_languages(
            languages, (self.data or {}).get("language", "")
        )
        self.fields["school"].choices = [("", _("Any school"))] + [(s.pk, s.name) for s in schools]
        self.fields["delivery"].choices = [("", _("Any way")), *DeliveryMode.choices]
        self.fields["payment"].choices = [("", _("Any")), *Payment.choices]

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q") or "",
            "category": data.get("category") or "",
            "language": data.get("language") or "",
            "school_id": data.get("school") or None,
            "delivery_mode": data.get("delivery") or "",
            "payment": data.get("payment") or "",
            "accepting": bool(data.get("accepting")),
            "stale": bool(data.get("stale")),
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())


def _filter_languages(codes, asked: str) -> list[tuple[str, str]]:
    """The filter's languages by name: each language the district's partners offer, once
    (a region variant is its language: "es-mx" is Spanish), and a code asked for in the
    URL (a referral's "es-mx") so that the search keeps it."""
    bases = dict.fromkeys(base_code(code) for code in codes if code)
    asked = normalize_code(asked) or ""
    if asked and is_known(asked) and asked not in bases:
        bases[asked] = None
    named = [(code, language_name(code)) for code in bases]
    return sorted(named, key=lambda pair: pair[1].casefold())


# --- A partner's listing ------------------------------------------------------------------------


def parse_languages(value: str) -> tuple[list[str], list[str]]:
    """ "Oromo, tir; Klingon" -> (["om", "ti"], ["Klingon"]): the codes of the languages
    named (without repeats), and the names that are no language."""
    codes, unknown = [], []
    for part in re.split(r"[,;\n]", value or ""):
        name = " ".join(part.split())
        if not name:
            continue
        code = parse_language(name)
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


class _ListingForm(forms.ModelForm):
    """The public part of a listing: what the partner's contact may also correct.

    Validated against the Partner model too (its fields and constraints); services save,
    from cleaned_data (listing_values()). Declared fields say more than the model: choices
    without an empty one, the bounds shown in the page, languages typed as one line.
    """

    choice_columns = True  # long checkbox lists (languages, schools) in columns

    website = forms.URLField(
        label=_label("website"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_("For example https://example.org"),
    )
    languages = forms.MultipleChoiceField(
        label=_label("languages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose languages from the list.")},
    )
    other_languages = forms.CharField(
        label=_("Other languages"),
        required=False,
        max_length=500,
        help_text=_(
            "Languages not in the list: their names or ISO 639 codes, separated by commas "
            "(for example: Oromo, Tigrinya)."
        ),
    )
    delivery_modes = forms.MultipleChoiceField(
        label=_("How services are delivered"),
        required=False,
        choices=DeliveryMode.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    payments = forms.MultipleChoiceField(
        label=_label("payments"),
        required=False,
        choices=Payment.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    min_age = forms.IntegerField(
        label=_label("min_age"), required=False, min_value=0, max_value=120
    )
    max_age = forms.IntegerField(
        label=_label("max_age"), required=False, min_value=0, max_value=120
    )
    intake = forms.ChoiceField(
        label=_("New referrals"), choices=Intake.choices, widget=forms.RadioSelect
    )
    capacity = forms.IntegerField(
        label=_("Open places"),
        required=False,
        min_value=0,
        max_value=100000,
        help_text=_("How many more students they can take now. Leave empty if unknown."),
    )

    class Meta:
        model = Partner
        fields = list(PUBLIC_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "phone": forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}),
            "eligibility": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "eligibility": _(
                "Grades, insurance or residency requirements, anything else that decides who "
                "can come."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # In the reader's language; a code already on the listing is offered even when it
        # is not one of the common ones (it came from "other languages" or an import).
        stored = tuple(self.initial.get("languages") or ())
        self.fields["languages"].choices = language_choices(include=stored)

    def clean_other_languages(self):
        codes, unknown = parse_languages(self.cleaned_data.get("other_languages", ""))
        if unknown:
            raise forms.ValidationError(
                _(
                    "Trellis does not know “%(name)s” as a language. Write its name in English "
                    "or Spanish, or its ISO 639 code."
                )
                % {"name": unknown[0][:50]}
            )
        return codes

    def clean(self):
        data = super().clean()
        if "languages" in data and "other_languages" in data:
            languages = list(dict.fromkeys([*data["languages"], *data["other_languages"]]))
            if len(languages) > LANGUAGES_MAX:
                self.add_error(
                    "languages",
                    _("List at most %(count)s languages.") % {"count": LANGUAGES_MAX},
                )
            data["languages"] = languages
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("The oldest age served cannot be below the youngest."))
        return data

    def listing_values(self) -> dict:
        """The public listing's fields this form has, cleaned."""
        data = self.cleaned_data
        values = {name: data[name] for name in PUBLIC_FIELDS if name in self.fields}
        for name in ("description", "phone", "address", "city", "state", "postal_code"):
            if name in values:
                values[name] = values[name].strip()
        return values

    @staticmethod
    def listing_initial(partner: Partner) -> dict:
        initial = {name: getattr(partner, name) for name in PUBLIC_FIELDS}
        initial["languages"] = list(partner.languages)
        return initial


class PartnerForm(_ListingForm):
    kind = forms.ChoiceField(label=_label("kind"), choices=PartnerKind.choices)
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools served"),
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(
        label=_("Active partner"),
        required=False,
        help_text=_("Untick when the district no longer works with them; the listing is kept."),
    )

    field_order = [
        "name",
        "kind",
        "description",
        "website",
        "email",
        "phone",
        "address",
        "city",
        "state",
        "postal_code",
        "schools",
        "languages",
        "other_languages",
        "delivery_modes",
        "payments",
        "min_age",
        "max_age",
        "eligibility",
        "intake",
        "capacity",
        "active",
    ]

    class Meta(_ListingForm.Meta):
        fields = ["name", "kind", *PUBLIC_FIELDS, "schools", "active"]

    # The form's sections, each saved on its own (the add-partner page is the first).
    ORGANIZATION = ("name", "kind", "description", "website", "email", "phone", "address")
    ORGANIZATION += ("city", "state", "postal_code", "active")
    SECTIONS = ("organization", "offer")

    def __init__(self, *args, schools=None, creating: bool, section: str, **kwargs):
        super().__init__(*args, **kwargs)
        if section not in self.SECTIONS:
            raise ValueError(f"not a section of the partner's form: {section!r}")
        for name in list(self.fields):
            if (name in self.ORGANIZATION) != (section == "organization"):
                del self.fields[name]
        if "schools" in self.fields:
            self.fields["schools"].queryset = schools
        if creating:
            self.fields.pop("active", None)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def service_arguments(self) -> dict:
        """partner_save's arguments for this section: its fields (and schools), no others."""
        fields = self.listing_values()
        for name in ("name", "kind", "active"):
            if name in self.fields:
                fields[name] = self.cleaned_data[name]
        if "schools" not in self.fields:
            return {"fields": fields}
        return {"fields": fields, "school_ids": [s.pk for s in self.cleaned_data["schools"]]}

    @staticmethod
    def initial_for(partner: Partner, school_ids) -> dict:
        initial = _ListingForm.listing_initial(partner)
        initial.update(name=partner.name, kind=partner.kind, active=partner.active)
        initial["schools"] = list(school_ids)
        return initial


class ServiceForm(forms.ModelForm):
    """A row of the partner's services; validated against the model, saved by services."""

    field_order = ["id"]
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("Category"))
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Service
        fields = ["category", "name", "description"]
        labels = {"name": _("Name")}
        help_texts = {"name": _("Leave empty to use the category's name.")}

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category")), *categories]

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "id": data.get("id"),
            "delete": bool(data.get("DELETE")),
            "category": data.get("category", ""),
            "name": (data.get("name") or "").strip(),
            "description": (data.get("description") or "").strip(),
        }


class ContactForm(forms.ModelForm):
    """A row of the partner's contacts; validated against the model, saved by services."""

    choice_columns = True  # its roles line up as the listing's lists do
    field_order = ["id"]
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        required=False,
        choices=ContactRole.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    preferred_language = forms.ChoiceField(
        label=_("Preferred language"),
        required=False,
        help_text=_(
            "Mail from Trellis is written in it when it is English or Spanish, else in the "
            "district's language."
        ),
        error_messages={"invalid_choice": _("Choose a language from the list.")},
    )

    class Meta:
        model = Contact
        fields = ["name", "title", "email", "phone", "preferred_language", "roles", "reminders"]
        labels = {
            "name": _("Name"),
            "title": _("Job title"),
            "email": _("Email"),
            "phone": _("Phone"),
            "preferred_language": _("Preferred language"),
            "reminders": _("Send this person meeting reminders"),
        }
        widgets = {"phone": forms.TextInput(attrs={"type": "tel"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.initial.get("preferred_language") or ""
        self.fields["preferred_language"].choices = [
            ("", _("Not given")),
            *language_choices(include=(stored,)),
        ]

    def clean(self):
        data = super().clean()
        if data.get("reminders") and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Add an email address to send this person reminders."))
        return data

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "id": data.get("id"),
            "delete": bool(data.get("DELETE")),
            "name": (data.get("name") or "").strip(),
            "title": (data.get("title") or "").strip(),
            "email": data.get("email") or "",
            "phone": (data.get("phone") or "").strip(),
            "preferred_language": (data.get("preferred_language") or "").strip(),
            "roles": list(data.get("roles") or []),
            "reminders": bool(data.get("reminders")),
        }


class _RowFormSet(forms.BaseFormSet):
    """Rows of a partner's services or contacts. Blank extra rows are ignored."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = self.delete_label

    def rows(self) -> list[dict]:
        rows = []
        for form in self.forms:
            if not form.has_changed() and not form.initial:
                continue
            row = form.row()
            if row["id"] is None and row["delete"]:
                continue
            rows.append(row)
        return rows


class _ServiceRows(_RowFormSet):
    delete_label = _("Remove this service")


class _ContactRows(_RowFormSet):
    delete_label = _("Remove this contact")


ServiceFormSet = forms.formset_factory(
    ServiceForm, formset=_ServiceRows, extra=1, can_delete=True, max_num=100, absolute_max=100
)
ContactFormSet = forms.formset_factory(
    ContactForm, formset=_ContactRows, extra=1, can_delete=True, max_num=100, absolute_max=100
)


def service_initial(services) -> list[dict]:
    return [
        {"id": s.pk, "category": s.category, "name": s.name, "description": s.description}
        for s in services
    ]


def contact_initial(contacts) -> list[dict]:
    return [
        {
            "id": c.pk,
            "name": c.name,
            "title": c.title,
            "email": c.email,
            "phone": c.phone,
            "preferred_language": c.preferred_language,
            "roles": list(c.roles),
            "reminders": c.reminders,
        }
        for c in contacts
    ]


# --- Categories, the confirmation link, the public listing, the import ---------------------------


class ServiceCategoryForm(forms.ModelForm):
    class Meta:
        model = ServiceCategory
        fields = ["name"]
        labels = {"name": _("New category")}
        help_texts = {"name": _("For example: Tutoring, Legal aid, Transportation.")}


class VerificationRequestForm(forms.Form):
    """Whom to email the listing's link: one of `contacts` (a list the page has read)."""

    contact = forms.TypedChoiceField(
        label=_("Send the link to"),
        coerce=int,
        help_text=_(
            "They can confirm or correct the listing without an account. "
            "The link works for 30 days."
        ),
        error_messages={
            "required": _("Choose a contact who can receive email."),
            "invalid_choice": _("Choose a contact who can receive email."),
        },
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self._contacts = {contact.pk: contact for contact in contacts}
        self.fields["contact"].choices = [
            (contact.pk, f"{contact.name} <{contact.email}>") for contact in contacts
        ]

    def clean_contact(self):
        return self._contacts[self.cleaned_data["contact"]]


class PublicListingForm(_ListingForm):
    """The listing as the partner's contact sees it through the emailed link."""

    verifier_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        help_text=_("Recorded as the person who confirmed the listing."),
    )

    field_order = ["verifier_name"]


class HSDSUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Directory file"),
        help_text=_(
            "A zip file in the HSDS 3 format (CSV files and datapackage.json), up to 10 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
        error_messages={
            "required": _("Choose the zip file to upload."),
            "empty": _("The file is empty."),
            "invalid": _("No file was received. Choose the file again."),
        },
    )
