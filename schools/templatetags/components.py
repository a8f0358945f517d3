"""Helpers of the template components in templates/components/ ({% load components %}).

- `{% badge tone=... label=... %}`: a status as colour and words, never colour alone
  (written in Python rather than included: lists show one or more per row).
- `tone`: the badge tone of a status choice, from the tones each app registers, so a
  template never picks a colour with an if-chain:
      {% badge tone=mou.status|tone:"mou_status" label=mou.get_status_display %}
- `{% table %}`: a table in its scroll box (components/table.html) around the rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.template.base import token_kwargs
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

register = template.Library()

TONES = ("neutral", "info", "success", "warning", "danger")

# kind -> {choice value: tone}. An app registers its statuses from AppConfig.ready(), as it
# registers its navigation (schools never imports the apps above it).
_TONES_OF: dict[str, dict[str, str]] = {}


def register_tones(kind: str, choices, tones: Mapping[str, str]) -> None:
    """The tone of each value of `choices` (a TextChoices class); unlisted ones are neutral.

    A value that is not one of the choices, or a tone that is not one of TONES, stops the
    start-up: a badge must not silently lose its colour after a rename.
    """
    values = {str(value) for value in choices.values}
    unknown = {str(value) for value in tones} - values
    if unknown:
        raise ImproperlyConfigured(f"tones for {kind!r} name unknown choices: {sorted(unknown)}")
    wrong = {tone for tone in tones.values() if tone not in TONES}
    if wrong:
        raise ImproperlyConfigured(f"tones for {kind!r}: {sorted(wrong)} not in {TONES}")
    _TONES_OF[kind] = {str(value): tone for value, tone in tones.items()}


@register.filter
def tone(value, kind: str) -> str:
    """The badge tone of a status value of `kind`: neutral for a value the kind leaves out; a
    kind nobody registered is a mistake in the template."""
    try:
        tones = _TONES_OF[kind]
    except KeyError:
        raise template.TemplateSyntaxError(f"no tones are registered for {kind!r}") from None
    return tones.get(str(value), "neutral")


@register.simple_tag
def badge(label="", tone="neutral") -> SafeString:
    """A status as a badge: `<span class="badge badge--{tone}">{label}</span>`; tone one of
    TONES (neutral when empty or unknown), the label escaped unless already safe.

        {% badge tone=mou.status|tone:"mou_status" label=mou.get_status_display %}
        {% badge tone="success" label=_("Active") %}
    """
    tone = tone if tone in TONES else "neutral"
    return SafeString(f'<span class="badge badge--{tone}">{conditional_escape(label)}</span>')


class TableNode(template.Node):
    def __init__(self, nodelist, kwargs):
        self.nodelist = nodelist
        self.kwargs = kwargs

    def render(self, context):
        values = {key: value.resolve(context) for key, value in self.kwargs.items()}
        values["rows"] = self.nodelist.render(context)
        component = context.template.engine.get_template("components/table.html")
        return component.render(context.new(values))


@register.tag
def table(parser, token):
    """`{% table id="x-caption" caption=text %}<thead>…</thead><tbody>…</tbody>{% endtable %}`

    The rows go inside components/table.html; see that file for the options.
    """
    bits = token.split_contents()[1:]
    kwargs = token_kwargs(bits, parser)
    if bits:
        raise template.TemplateSyntaxError("{% table %} takes only name=value options")
    nodelist = parser.parse(("endtable",))
    parser.delete_first_token()
    return TableNode(nodelist, kwargs)
