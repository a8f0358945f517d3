"""Forms of the meeting pages: a meeting or series, one occurrence, minutes, action items.

Times are typed on the district's clock (a date and two times) and leave the form as
aware UTC datetimes (`meeting_rules.in_zone`); the repeat choice becomes an RFC 5545 rule.
"""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.picker import PICK_ALL_UP_TO, PickerForm, every_word, ids
from core.search import Fold
from partnerships import meeting_rules
from partnerships.models import (
    DEFAULT_REMINDER_OFFSETS,
    MOU,
    ActionStatus,
    Contact,
    MeetingKind,
    Partner,
)
from partnerships.services.meetings import OFFSET_CHOICES
from schools.models import Membership, School
from schools.selectors import partners_in, search_members


def offset_label(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return _("%(count)s days before") % {"count": days} if days > 1 else _("1 day before")
    if minutes % 60 == 0:
        return _("%(count)s hours before") % {"count": minutes // 60}
    return _("%(count)s minutes before") % {"count": minutes}


REPEAT_CHOICES = [
    ("none", _("Does not repeat")),
    ("weekly", _("Every week, on the same weekday")),
    ("biweekly", _("Every 2 weeks, on the same weekday")),
    ("four_weeks", _("Every 4 weeks, on the same weekday")),
    ("monthly_weekday", _("Monthly, on the same weekday (such as the second Tuesday)")),
    ("monthly_day", _("Monthly, on the same date")),
    ("custom", _("Custom rule (RFC 5545)")),
]


# The picker fields of the meeting form and what their search reads (core.picker): the
# stored folded keys of partners, contacts and people (accents and case aside, as the
# directory and the members page), people's addresses too, schools' names folded on the
# fly (a district has hundreds at most).
PICKERS = {
    "partners": every_word("name_key__contains"),
    "schools": every_word("name_folded__contains", alias={"name_folded": Fold("name")}),
    "members": search_members,
    "contacts": every_word("search_key__contains", "partner__name_key__contains"),
}


class _Choices(forms.ModelMultipleChoiceField):
    def __init__(self, label, **kwargs):
        super().__init__(
            label=label,
            queryset=kwargs.pop("queryset", None) or Partner.objects.none(),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )


class ContactChoices(_Choices):
    def label_from_instance(self, contact):
        address = contact.email or _("no email address")
        return f"{contact.name} ({contact.partner.name}, {address})"


class MemberChoices(_Choices):
    def label_from_instance(self, membership):
        user = membership.user
        return f"{user.full_name or user.email} ({membership.get_role_display()})"


class WhenMixin:
    """A date, a start time and an end time on the district's clock, as UTC datetimes."""

    def _moments(self, zone):
        day = self.cleaned_data.get("date")
        start, end = self.cleaned_data.get("start_time"), self.cleaned_data.get("end_time")
        if not (day and start and end):
            return None, None
        starts = meeting_rules.in_zone(datetime.datetime.combine(day, start), zone)
        ends = meeting_rules.in_zone(datetime.datetime.combine(day, end), zone)
        if ends <= starts:
            self.add_error("end_time", _("The end must be after the start."))
            return None, None
        return starts, ends


class MeetingForm(PickerForm, WhenMixin, forms.Form):
    pickers = PICKERS

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    repeats = forms.ChoiceField(label=_("Repeats"), choices=REPEAT_CHOICES, initial="none")
    custom_rule = forms.CharField(
        label=_("Custom repeat rule"),
        required=False,
        max_length=250,
        help_text=_(
            "For a custom rule only, as calendar programs write it: FREQ=MONTHLY;BYDAY=2TU "
            "is the second Tuesday of each month."
        ),
    )
    until = forms.DateField(
        label=_("Repeats until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to repeat for two years; you can extend a series later."),
    )
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    online_url = forms.URLField(
        label=_("Online meeting link"),
        max_length=500,
        required=False,
        assume_scheme="https",
    )
    partners = _Choices(_("Partners"))
    schools = _Choices(_("Schools"))
    mou = forms.ModelChoiceField(
        label=_("MOU it reviews"), queryset=MOU.objects.none(), required=False
    )
    members = MemberChoices(_("District people invited"))
    contacts = ContactChoices(
        _("Partner contacts invited"),
        help_text=_(
            "For a partner none of whose contacts you choose, the contacts who receive "
            "meeting reminders are invited."
        ),
    )
    reminder_offsets = forms.TypedMultipleChoiceField(
        label=_("Reminders"),
        coerce=int,
        required=False,
        choices=[(minutes, offset_label(minutes)) for minutes in OFFSET_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(DEFAULT_REMINDER_OFFSETS),
    )
    agenda = forms.CharField(
        label=_("Agenda"), required=False, max_length=10000, widget=forms.Textarea({"rows": 5})
    )

    def __init__(self, *args, district, organizer=None, queries=None, pick=None, **kwargs):
        """`queries`: what was typed in each picker's search (PICKERS); `pick`: set up that
        picker only (the picker's own page, meeting_pick)."""
        super().__init__(*args, **kwargs)
        self.district = district
        self.fields["partners"].queryset = partners_in(district)
        self.fields["schools"].queryset = School.objects.for_district(district.pk).order_by("name")
        self.fields["mou"].queryset = (
            MOU.objects.for_district(district.pk).select_related("partner").order_by("title")
        )
        members = (
            Membership.objects.for_district(district.pk)
            .filter(active=True)
            .exclude(role="partner")
            .select_related("user")
            .order_by("user__full_name", "pk")
        )
        if organizer is not None:
            members = members.exclude(pk=organizer.pk)
        self.fields["members"].queryset = members
        self.fields["contacts"].queryset = (
            Contact.objects.for_district(district.pk)
            .select_related("partner")
            .order_by("partner__name", "name")
        )

        if pick == "mou":
            self.pickers = {}
        else:
            self.set_up_pickers(queries, pick=pick)
        if pick in (None, "mou"):
            self._set_up_mou()

    def _set_up_mou(self) -> None:
        """The MOU's choices: all of the district's when they are few; else those of the
        partners chosen (and the one chosen), which the page asks for again as partners
        are chosen (self.pickers["mou"])."""
        field = self.fields["mou"]
        mous = list(field.queryset[: PICK_ALL_UP_TO + 1])
        if len(mous) > PICK_ALL_UP_TO:
            partner_ids = ids(self["partners"].value())
            mou_ids = ids([self["mou"].value()])
            mous = list(field.queryset.filter(Q(partner_id__in=partner_ids) | Q(pk__in=mou_ids)))
            self.pickers["mou"] = {"partners": len(partner_ids)}  # not a picker: by partner
        field.widget.choices = [
            ("", field.empty_label),
            *[(mou.pk, field.label_from_instance(mou)) for mou in mous],
        ]

    def clean(self):
        data = super().clean()
        starts, ends = self._moments(self.district.time_zone)
        data["starts_at"], data["ends_at"] = starts, ends
        repeats = data.get("repeats") or "none"
        if repeats == "custom":
            rule = (data.get("custom_rule") or "").strip()
            if not rule:
                self.add_error("custom_rule", _("Write the rule, or choose another repeat."))
        elif data.get("date"):
            rule = meeting_rules.preset_rules(data["date"]).get(repeats, "")
        else:
            rule = ""
        until = data.get("until")
        if rule and until:
            if data.get("date") and until < data["date"]:
                self.add_error("until", _("The series must end on or after its first date."))
            elif "UNTIL=" not in rule.upper() and "COUNT=" not in rule.upper():
                rule = f"{rule};UNTIL={until:%Y%m%d}"
        data["recurrence"] = rule
        data["contacts"] = self._default_contacts(
            list(data.get("partners") or []), list(data.get("contacts") or [])
        )
        return data

    def _default_contacts(self, partners, contacts):
        """A partner none of whose contacts was chosen brings those who receive meeting
        reminders (Contact.reminders): the directory's choice is the default."""
        chosen_partners = {contact.partner_id for contact in contacts}
        missing = [partner.pk for partner in partners if partner.pk not in chosen_partners]
        if not missing:
            return contacts
        defaults = self.fields["contacts"].queryset.filter(partner_id__in=missing, reminders=True)
        return contacts + [contact for contact in defaults if contact not in contacts]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "kind": data["kind"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "recurrence": data["recurrence"],
            "location": data.get("location") or "",
            "online_url": data.get("online_url") or "",
            "partners": list(data.get("partners") or []),
            "schools": list(data.get("schools") or []),
            "mou": data.get("mou"),
            "members": list(data.get("members") or []),
            "contacts": list(data.get("contacts") or []),
            "reminder_offsets": list(data.get("reminder_offsets") or []),
            "agenda": data.get("agenda") or "",
        }


# Fields whose errors from the service belong to a field of this form under another name.
SERVICE_FIELD = {"starts_at": "start_time", "ends_at": "end_time", "recurrence": "custom_rule"}


class OccurrenceForm(WhenMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    online_url = forms.URLField(
        label=_("Online meeting link"), max_length=500, required=False, assume_scheme="https"
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.district = district

    def clean(self):
        data = super().clean()
        data["starts_at"], data["ends_at"] = self._moments(self.district.time_zone)
        return data


class RecordForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"), required=False, max_length=50000, widget=forms.Textarea({"rows": 8})
    )
    decisions = forms.CharField(
        label=_("Decisions"), required=False, max_length=20000, widget=forms.Textarea({"rows": 4})
    )


class ActionItemForm(forms.Form):
    what = forms.CharField(label=_("What"), max_length=300)
    owner = forms.ChoiceField(label=_("Owner"))
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, attendees, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = {}
        for attendee in attendees:
            if attendee.membership_id:
                key = f"m{attendee.membership_id}"
                user = attendee.membership.user
                self.owners[key] = (attendee.membership, None, user.full_name or user.email)
            else:
                key = f"c{attendee.contact_id}"
                contact = attendee.contact
                label = f"{contact.name} ({contact.partner.name})"
                self.owners[key] = (None, contact, label)
        self.fields["owner"].choices = [("", _("Choose an owner"))] + [
            (key, label) for key, (_m, _c, label) in self.owners.items()
        ]

    def owner_arguments(self) -> dict:
        membership, contact, _label = self.owners[self.cleaned_data["owner"]]
        return {"owner_membership": membership, "owner_contact": contact}


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)


class ActionFilterForm(forms.Form):
    """Filters of the action items page (GET); anything unknown is ignored."""

    owner = forms.ChoiceField(label=_("Owner"), required=False)
    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.none(),
        required=False,
        empty_label=_("Any partner"),
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("open", _("Open")),
            ("overdue", _("Overdue")),
            ("all", _("All")),
        ],
    )

    def __init__(self, *args, district, membership, owners=(), **kwargs):
        """`owners`: (value, label) of the people who own action items, "m<membership id>"
        or "c<contact id>" (selectors.meetings.action_item_owners)."""
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners_in(district)
        self.fields["owner"].choices = [("", _("Anyone")), ("me", _("Me")), *owners]
