"""Languages as ISO 639 codes, shown by name in the reader's language.

Trellis stores a language as its ISO 639 code ("es", "hmn", "prs"), optionally with a
region or script as BCP 47 writes it ("es-MX", "zh-Hant"): on referrals, students and the
directory alike, so that "speaks the family's language" is a comparison of codes, not of
spellings. Names come from the Unicode CLDR through Babel, in the reader's interface
language ("Spanish" to one reader, "español" to another); a few languages spoken by US
school families that CLDR does not name have their names here, translated in the catalogue.

- `language_name(code)`: the name in the active language (the code itself when unknown),
  capitalized as a label; `in_text=True` for inside a sentence ("Habla vietnamita").
- `language_choices()`: the languages offered in pickers, English and Spanish first.
- `parse_language(text)`: a code from a code or a name in English, Spanish or the language
  itself ("Spanish", "Español", "es-MX"); None when it is neither. Used to migrate the
  directory's free text and to read imports.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from babel import Locale, UnknownLocaleError
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# An ISO 639-1 or 639-2/3 code, optionally with a region or script subtag.
CODE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
CODE_MAX = 12

# ISO 639's codes for no particular language (undetermined, multiple, no linguistic content,
# uncoded): CLDR names them, but they say nothing a letter could be written in.
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})

# Languages of US school families that CLDR does not name (or not in Spanish).
_OWN_NAMES = {
    "prs": _("Dari"),
    "kar": _("Karen"),
    "mam": _("Mam"),
    "ase": _("American Sign Language"),
    "cmn": _("Mandarin Chinese"),
}

# Offered in pickers: the languages most spoken by English learners' families in US public
# schools (NCES, "English Learners in Public Schools"), then others districts ask for.
COMMON = (
    "en", "es", "ar", "zh", "yue", "cmn", "vi", "so", "ru", "pt", "ht", "hmn", "ko", "tl",
    "ur", "uk", "ps", "prs", "fa", "fr", "ja", "sw", "ne", "bn", "my", "kar", "pa", "hi",
    "am", "ti", "pl", "mh", "chk", "km", "lo", "gu", "te", "ta", "tr", "rw", "rn", "quc",
    "mam", "nv", "ase", "de", "it", "yo", "ig", "ku", "ro", "sq", "bs", "hy", "he", "th",
    "mn", "sm", "to", "ff", "wo",
)  # fmt: skip


def normalize_code(value: str) -> str | None:
    """The code in lower case with "-" ("" for none), or None when it is not the shape of
    one (it may still name no language: see `is_known`)."""
    value = (value or "").strip().lower().replace("_", "-")
    if not value:
        return ""
    if len(value) > CODE_MAX or not CODE_RE.match(value):
        return None
    return value


@functools.lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def _reader() -> str:
    return (translation.get_language() or "en").split("-")[0]


def _capitalized(name: str) -> str:
    # Spanish writes language names in lower case; in a list or a label they start a phrase.
    return name[:1].upper() + name[1:]


def base_code(code: str) -> str:
    """The language without its region or script: "es-mx" -> "es" (compare families'
    and partners' languages by this)."""
    return (code or "").split("-")[0].strip().lower()


def bcp47(code: str) -> str:
    """The code as BCP 47 conventionally writes it, for files other systems read:
    "es-mx" -> "es-MX", "zh-hant" -> "zh-Hant" (case carries no meaning; we store lower)."""
    base, _sep, subtag = (code or "").partition("-")
    if not subtag:
        return base
    return f"{base}-{subtag.upper() if len(subtag) == 2 else subtag.title()}"


def is_known(code: str) -> bool:
    """The code's base language is one CLDR or this module names."""
    base = base_code(code)
    if base in _NOT_A_LANGUAGE:
        return False
    return base in _OWN_NAMES or base in _locale("en").languages


def validate_language_code(value: str) -> None:
    """A model and form validator: a code `is_known` names (already normalised)."""
    if value and (normalize_code(value) != value or not is_known(value)):
        raise ValidationError(
            _("Choose a language from the list (“%(value)s” is not an ISO 639 language code).")
            % {"value": str(value)[:40]},
            code="unknown_language",
        )


def language_name(code: str, language: str | None = None, *, in_text: bool = False) -> str:
    """The name of the language `code` in `language` (the active one by default).

    Capitalized, as a label or a list item starts ("Español"); `in_text` keeps the case
    the language writes inside a sentence ("Prefiere vietnamita", "Prefers Vietnamese").
    """
    code = normalize_code(code) or ""
    if not code:
        return ""
    reader = language or _reader()
    base, _sep, subtag = code.partition("-")
    if base in _OWN_NAMES:
        with translation.override(reader):
            name = str(_OWN_NAMES[base])
    else:
        name = _locale(reader).languages.get(base)
        if name is None:
            return code
    if subtag:
        locale = _locale(reader)
        detail = locale.territories.get(subtag.upper()) or locale.scripts.get(subtag.title())
        if detail:
            name = f"{name} ({detail})"
    return name if in_text else _capitalized(name)


def language_choices(language: str | None = None, *, include: tuple[str, ...] = ()) -> list:
    """(code, name) of the languages offered in pickers: English and Spanish first, then the
    rest by name in the reader's language; `include` adds codes already chosen elsewhere."""
    reader = language or _reader()
    codes = list(dict.fromkeys([*COMMON, *(c for c in include if c)]))
    first, rest = codes[:2], codes[2:]
    named = [(code, language_name(code, reader)) for code in rest]
    named.sort(key=lambda pair: pair[1].casefold())
    return [(code, language_name(code, reader)) for code in first] + named


def _key(text: str) -> str:
    """A name as compared: case, accents, apostrophes and spacing folded ("Kʼicheʼ",
    "K'iche'" and "kiche" differ, "Espanol" and "Español" do not)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\u02bc\u2019\u2018`´]", "'", text)
    return " ".join(text.casefold().split())


@functools.lru_cache(maxsize=1)
def _names_to_codes() -> dict[str, str]:
    index: dict[str, str] = {}
    for reader in ("en", "es"):
        for code, name in _locale(reader).languages.items():
            if "_" not in code and code not in _NOT_A_LANGUAGE:
                index.setdefault(_key(name), code)
        for code, name in _OWN_NAMES.items():
            with translation.override(reader):
                index.setdefault(_key(str(name)), code)
    for code in COMMON:
        if code in _locale("en").languages:
            native = _locale(code).languages.get(code) if code != "ase" else None
            if native:
                index.setdefault(_key(native), code)
    # Names people write that CLDR spells otherwise.
    spelled = {
        "farsi": "fa",
        "mandarin": "cmn",
        "chinese (mandarin)": "cmn",
        "chinese (cantonese)": "yue",
        "haitian": "ht",
        "creole": "ht",
        "kreyol": "ht",
        "kreyòl": "ht",
        "bengali": "bn",
        "asl": "ase",
        "sign language": "ase",
        "lengua de señas americana": "ase",
    }
    index.update({_key(name): code for name, code in spelled.items()})
    return index


@functools.lru_cache(maxsize=1)
def _regions() -> dict[str, str]:
    """Territory and script names in English and Spanish -> the subtag ("Mexico" -> "mx")."""
    index: dict[str, str] = {}
    for reader in ("en", "es"):
        for subtag, name in _locale(reader).territories.items():
            if (subtag.isalpha() and len(subtag) == 2) or subtag.isdigit():
                index.setdefault(_key(name), subtag.lower())
        for subtag, name in _locale(reader).scripts.items():
            index.setdefault(_key(name), subtag.lower())
    return index


def parse_language(text: str) -> str | None:
    """A language code from a code or a name ("Spanish", "español", "ES", "es_MX",
    "Spanish (Mexico)", as `language_name` writes it); None when the text is neither."""
    text = (text or "").strip()
    if not text:
        return None
    code = normalize_code(text)
    if code and is_known(code):
        return code
    found = _names_to_codes().get(_key(text))
    if found is not None:
        return found
    named = re.fullmatch(r"(.+?)\s*\((.+)\)", text)
    if named:
        base, subtag = parse_language(named.group(1)), _regions().get(_key(named.group(2)))
        if base and subtag and "-" not in base:
            return f"{base}-{subtag}"
    return None
