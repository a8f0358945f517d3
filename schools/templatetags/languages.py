"""Languages by name in the reader's language ({% load languages %}).

Trellis stores languages as ISO 639 codes (core/languages.py); a template shows them
with these filters, never the code itself:
    {{ student.family_language|language_name }}      "Spanish", or "Español" to a Spanish reader
    {{ partner.languages|language_names }}           "English, Spanish"
    {{ code|language_name_in_text }}                 inside a sentence: "vietnamita"
"""

from __future__ import annotations

from django import template

from core.languages import language_name as _language_name

register = template.Library()


@register.filter
def language_name(code) -> str:
    """The language's name in the active language (the code itself when none is known)."""
    return _language_name(str(code or ""))


@register.filter
def language_name_in_text(code) -> str:
    """The name as written inside a sentence: "Prefiere vietnamita", "Prefers Vietnamese"."""
    return _language_name(str(code or ""), in_text=True)


@register.filter
def language_names(codes) -> str:
    """The names of a list of codes, in the list's order, joined with commas."""
    return ", ".join(name for name in (_language_name(str(c)) for c in codes or ()) if name)
