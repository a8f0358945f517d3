"""Forms read from a page, filled with valid values, and the marker check (security walks).

The garbage walk learns each page's fields here; the escaping walk also fills each form
from its own initial values and choices, with a marker in every text field, and looks for
the marker coming back unescaped.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from html.parser import HTMLParser


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or "select", "textarea", "button"
    value: str = ""
    checked: bool = False
    options: list = dc_field(default_factory=list)  # (value, label, selected) of a select


@dataclass
class Form:
    action: str  # as written in the page ("" posts to the page itself)
    method: str
    fields: list = dc_field(default_factory=list)


class _Forms(HTMLParser):
    """The forms of a page with their fields, initial values and choices (inputs outside
    any form are gathered in a last form of their own)."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.loose = Form(action="", method="post")
        self.current: Form | None = None
        self.field: Field | None = None  # an open textarea, select or option
        self.option: list | None = None

    def _form(self) -> Form:
        return self.current if self.current is not None else self.loose

    def handle_starttag(self, tag, attrs):
        attrs = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self.current = Form(attrs.get("action", ""), (attrs.get("method") or "get").lower())
            self.forms.append(self.current)
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower() if tag == "input" else tag
            field = Field(attrs["name"], kind, attrs.get("value", ""), "checked" in attrs)
            self._form().fields.append(field)
            if tag in ("select", "textarea"):
                self.field = field
        elif tag == "option" and self.field is not None and self.field.kind == "select":
            self.option = [attrs.get("value"), "", "selected" in attrs]

    def handle_data(self, data):
        if self.option is not None:
            self.option[1] += data
        elif self.field is not None and self.field.kind == "textarea":
            self.field.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "option" and self.option is not None:
            value, label, selected = self.option
            self.field.options.append((label.strip() if value is None else value, label, selected))
            self.option = None
        elif tag in ("select", "textarea"):
            if self.option is not None:
                self.handle_endtag("option")
            self.field = None

    def close(self):
        super().close()
        if self.loose.fields:
            self.forms.append(self.loose)


def page_forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.forms


# --- Markers ----------------------------------------------------------------------------------

# Free text a person types; what the escaping walk fills with markers.
TEXT_KINDS = {"text", "search", "tel", "textarea"}
_UNESCAPED = re.compile(r"<x-probe-(\d+)")
_ESCAPED = re.compile(r"&lt;x-probe-(\d+)")


class Markers:
    """Markers like `<x-probe-17>`, each remembered with where it was typed."""

    def __init__(self, start: int = 1):
        self._numbers = itertools.count(start)
        self.where: dict[int, str] = {}

    def new(self, where: str) -> str:
        number = next(self._numbers)
        self.where[number] = where
        return f"<x-probe-{number}>"


def unescaped_markers(html: str) -> set[int]:
    """Markers that appear as markup (a browser would make an element of them)."""
    return {int(n) for n in _UNESCAPED.findall(html)}


def escaped_markers(html: str) -> set[int]:
    return {int(n) for n in _ESCAPED.findall(html)}


def is_html(response) -> bool:
    return "html" in response.get("Content-Type", "")


# --- Filling a form with valid values ------------------------------------------------------


def _option_values(field: Field) -> list[str]:
    return [value for value, _label, _selected in field.options]


def form_data(form: Form, text, *, today: str, other=None) -> dict:
    """Valid values for a form, taken from its own initial values and choices.

    `text(field)` gives a text field's value (a marker); a select prefers an option whose
    label carries a marker (an object the walk made), then the chosen one, then the first
    real one; a group of checkboxes keeps its ticks, or ticks the first; `other(field)`
    may give any field's value instead (None: decide as above).
    """
    data: dict[str, list[str]] = {}
    seen_groups = set()
    names = [f.name for f in form.fields]
    for field in form.fields:
        value = other(field) if other is not None else None
        if value is not None:
            if field.name not in data:
                data[field.name] = value if isinstance(value, list) else [value]
            continue
        kind = field.kind
        if kind == "hidden":
            data.setdefault(field.name, []).append(field.value)
        elif kind in TEXT_KINDS:
            data[field.name] = [text(field)]
        elif kind == "email":
            data[field.name] = [field.value or f"probe-{abs(hash(field.name)) % 10**6}@example.org"]
        elif kind == "url":
            data[field.name] = [field.value or "https://example.org/"]
        elif kind == "number":
            data[field.name] = [field.value or "1"]
        elif kind == "date":
            data[field.name] = [field.value or today]
        elif kind == "time":
            data[field.name] = [field.value or "10:00"]
        elif kind == "password":
            data[field.name] = ["Probe-passphrase-4711-unique"]
        elif kind == "select":
            values = [v for v in _option_values(field) if v]
            marked = [v for v, label, _s in field.options if v and "<x-probe-" in label]
            chosen = [v for v, _label, selected in field.options if selected and v]
            data[field.name] = (marked[-1:] or chosen or values[:1]) or [""]
        elif kind in ("checkbox", "radio"):
            if field.name in seen_groups:
                continue
            seen_groups.add(field.name)
            group = [f for f in form.fields if f.name == field.name]
            ticked = [f.value or "on" for f in group if f.checked]
            if ticked:
                data[field.name] = ticked
            elif kind == "radio" or len(group) > 1:
                data[field.name] = [group[0].value or "on"]
        elif kind == "button" and names.count(field.name) > 1 and field.name not in data:
            data[field.name] = [field.value]  # the first of a choice of buttons
    return data
