"""How forms render: with the project's templates, each field as components/field.html."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """`{{ form.field.as_field_group }}` is templates/components/field.html: label above,
    the problem in words, the control, help text under it, aria wiring from Django.

    TemplatesSetting renders through TEMPLATES, so our templates (and overrides of
    Django's widget templates) are found; Django's own come from "django.forms".
    """

    field_template_name = "components/field.html"
