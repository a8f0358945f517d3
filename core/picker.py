"""Pickers: a form's long list of checkboxes (partners, contacts, people, MOUs) shown as the
chosen ones and the matches of a typed name, once the list is longer than PICK_ALL_UP_TO.

A large district has a thousand partners, two thousand MOUs, three thousand contacts: every
one as a checkbox made a form a megabyte that took a second to write, and nobody scrolls a
thousand checkboxes. A form with pickers:

    class MeetingForm(PickerForm, forms.Form):
        pickers = {"partners": every_word("name_key__contains"), ...}
        def __init__(self, *args, queries=None, pick=None, **kwargs):
            super().__init__(*args, **kwargs)
            ...  # the fields' querysets
            self.set_up_pickers(queries, pick=pick)

Its template includes components/picker_field.html for each field in `form.pickers`
(set up: the field is long) and `{{ field.as_field_group }}` otherwise. The page's own
view answers the search as typed (htmx, `?field=<name>&<name>_q=...` with the checked
values) with components/picker_choices.html, and a "Find" button (`find=<name>`) without
JavaScript: see picker_arguments() and partnerships/views/funding.py.

Validation still reads the field's whole queryset: a picker changes what is shown only.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q

from core.search import fold
from core.signed import MAX_ID

PICK_ALL_UP_TO = 40
PICK_MATCHES = 20
MAX_WORDS = 8


def every_word(*folded: str, raw: tuple[str, ...] = (), alias: dict | None = None):
    """A picker's search: every typed word found by one of the lookups, `folded` ones given
    the word folded (a stored folded key, core.search), `raw` ones as typed (`icontains`).
    `alias`: expressions the lookups name, added to the queryset first."""

    def search(queryset, query: str):
        words = [word[:100] for word in query.replace("\x00", "").split()][:MAX_WORDS]
        if not words:
            return queryset.none()
        if alias:
            queryset = queryset.alias(**alias)
        for word in words:
            matches = Q()
            for lookup in folded:
                matches |= Q(**{lookup: fold(word)})
            for lookup in raw:
                matches |= Q(**{lookup: word})
            queryset = queryset.filter(matches)
        return queryset

    return search


def ids(values) -> list[int]:
    """The ids among a field's values as the page sent them (anything else left out)."""
    found = []
    for value in values or ():
        value = str(getattr(value, "pk", value))
        if value.isdigit() and 0 < int(value) <= MAX_ID:
            found.append(int(value))
    return found


def picker_arguments(form_class, request, initial=None) -> dict:
    """The data, initial values and searches (`queries`) of a picker form for `request`:
    bound to what was posted, except after "Find" without JavaScript (`find=<picker>`),
    when the form is shown again as it was filled, unbound (nothing checked yet), with
    every picker's matches."""
    post = request.POST if request.method == "POST" else None
    if post is None:
        return {"data": None, "initial": initial, "queries": {}}
    queries = {name: post.get(f"{name}_q", "") for name in form_class.pickers}
    if post.get("find") not in form_class.pickers:
        return {"data": post, "initial": initial, "queries": queries}
    several = {
        name
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
    }
    posted = {name: post.getlist(name) if name in several else post.get(name) for name in post}
    return {"data": None, "initial": posted, "queries": queries}


class PickerForm:
    """A form mixin: `pickers` (field name -> search, every_word()) and set_up_pickers()."""

    pickers: dict = {}

    def set_up_pickers(self, queries=None, *, pick=None) -> None:
        """Give each picker field the choices the page shows: all of them when they are few;
        else the chosen ones (checked) and the matches of what was typed (`queries`: field
        name -> text). Afterwards `self.pickers` holds, for each field that is a picker, what
        was searched and how it went (query, chosen, matches, more). `pick`: that field only
        (the search as typed)."""
        searches, self.pickers = type(self).pickers, {}
        for name in searches if pick is None else [pick]:
            self._set_up_picker(name, searches[name], str((queries or {}).get(name) or ""))

    def _set_up_picker(self, name: str, search, query: str) -> None:
        field = self.fields[name]
        first = list(field.queryset[: PICK_ALL_UP_TO + 1])
        if len(first) <= PICK_ALL_UP_TO:
            field.widget.choices = [(item.pk, field.label_from_instance(item)) for item in first]
            return
        chosen_ids = ids(self[name].value())
        chosen = list(field.queryset.filter(pk__in=chosen_ids)) if chosen_ids else []
        query = query.strip()[:100]
        matches = list(search(field.queryset.exclude(pk__in=chosen_ids), query)[:PICK_MATCHES])
        field.widget.choices = [
            (item.pk, field.label_from_instance(item)) for item in [*chosen, *matches]
        ]
        self.pickers[name] = {
            "query": query,
            "chosen": len(chosen),
            "matches": len(matches),
            "more": len(matches) == PICK_MATCHES,
        }
