"""How forms render: with the project's templates, each field as components/field.html."""

from __future__ import annotations

from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


class FormRenderer(TemplatesSetting):
    """`{{ form.field.as_field_group }}` is templates/components/field.html: label above,
    the problem in words, the control, help text under it, aria wiring from Django.

    TemplatesSetting renders through TEMPLATES, so our templates (and overrides of
    Django's widget templates) are found; Django's own come from "django.forms".

    A select is written here, in Python, with the markup of Django's select templates:
    those include a template per option, and a large district's filters (300 schools, a
    thousand partners) spent most of a list page's time in them.
    """

    field_template_name = "components/field.html"

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            html = select_html(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request=request)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True a bare name, False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _option(value, label, attrs: str) -> str:
    """django/forms/widgets/select_option.html, its attributes already written."""
    value, label = conditional_escape(str(value)), conditional_escape(label)
    return f'\n  <option value="{value}"{attrs}>{label}</option>'


def select_html(widget: dict) -> SafeString | None:
    """django/forms/widgets/select.html for the widget's context, or None when an option
    has a template of its own (then the templates render it)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(_option(option["value"], option["label"], _attrs(option["attrs"])))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return SafeString("".join(parts))  # every value and label escaped above


class QuickSelect(forms.Select):
    """A select of flat (value, label) choices written straight from them, for filters of a
    large district (300 schools, a thousand partners): even written in Python (above),
    Django's select first makes a dict per option (`optgroups`), a few milliseconds for a
    few hundred. The same HTML; the attributes the field component adds (id,
    aria-describedby, aria-invalid) come through `attrs`. Not for grouped choices."""

    def render(self, name, value, attrs=None, renderer=None):
        final = {**self.build_attrs(self.attrs, attrs), "name": name}
        chosen = {str(v) for v in self.format_value(value)}
        parts = []
        for option, label in self.choices:
            selected = str(option) in chosen
            if selected and not self.allow_multiple_selected:
                chosen = set()  # as Django's: the first option that matches, no other
            parts.append(_option(option, label, " selected" if selected else ""))
        return SafeString(f"<select{_attrs(final)}>{''.join(parts)}\n</select>")  # escaped
