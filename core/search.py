"""Search text that finds what people type: accents and case ignored, US and British
spellings of the same word made one.

The embedded PostgreSQL has neither `unaccent` nor `pg_trgm`, so the folding is ours:

- `fold(text)`: accents stripped (NFKD, combining marks dropped), case folded, a few
  letters without a decomposition spelled out ("ø" -> "o", "ß" -> "ss", "æ" -> "ae"). It is
  table-driven over the Latin, Greek and Cyrillic blocks and the same table is written into
  SQL by `Fold` (replace() / translate() / lower() in the "C" collation, all immutable), so
  a column PostgreSQL generates with `Fold` and the words Python folds agree character for
  character (tests/core/test_search.py checks it against the database). Characters
  outside those blocks are left as they are by both. Changing the table changes what new
  rows get but not the rows already stored: it needs a migration that drops and re-adds
  the generated keys, as schools/migrations/0016_student_search.py does.
- `normalize(text)`: `fold`, then every whole word of `SPELLINGS` (British forms) replaced
  by its US form: "counselling" -> "counseling", "programme" -> "program".
- `search_words(query)`: the words of what someone typed, normalized, for matching.

Student names are folded only (a name has no "British spelling"); the directory's text
(partner and service names and descriptions) is normalized.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import CharField, Func

# Letters that NFKD does not decompose, spelled with the letters people type instead.
_SPECIAL = {
    "ß": "ss",
    "ẞ": "ss",
    "æ": "ae",
    "Æ": "ae",
    "œ": "oe",
    "Œ": "oe",
    "ø": "o",
    "Ø": "o",
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "Ð": "d",
    "ł": "l",
    "Ł": "l",
    "ħ": "h",
    "Ħ": "h",
    "ŧ": "t",
    "Ŧ": "t",
    "þ": "th",
    "Þ": "th",
    "ı": "i",
    "ƒ": "f",
}

# Blocks the fold table covers: Latin-1 letters, Latin Extended-A/B, combining marks, Greek,
# Cyrillic, Latin Extended Additional (Vietnamese).
_BLOCKS = (
    (0x00C0, 0x024F),
    (0x0300, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x04FF),
    (0x1E00, 0x1EFF),
)


def _fold_char(char: str) -> str:
    text = char
    for _round in range(3):  # casefold can give back letters with marks: fold until stable
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = "".join(_SPECIAL.get(c, c) for c in text).casefold()
    return text


def _build_table() -> dict[str, str]:
    table = {chr(code): chr(code).lower() for code in range(ord("A"), ord("Z") + 1)}
    for first, last in _BLOCKS:
        for code in range(first, last + 1):
            char = chr(code)
            if unicodedata.category(char) == "Cn":
                continue
            folded = _fold_char(char)
            if folded != char:
                table[char] = folded
    return table


FOLD_TABLE: dict[str, str] = _build_table()
_TRANSLATE = str.maketrans(FOLD_TABLE)


def fold(text: str) -> str:
    """`text` without accents, in lower case (see the module's docstring)."""
    return (text or "").translate(_TRANSLATE)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fold_sql_template() -> str:
    """The SQL of `fold`: multi-letter folds with replace(), one-letter folds and dropped
    marks with one translate(), ASCII letters with lower() in the "C" collation (which
    touches nothing else, whatever the server's locale)."""
    sql = "%(expressions)s"
    single_from, single_to, dropped = [], [], []
    for char, folded in FOLD_TABLE.items():
        if "A" <= char <= "Z":
            continue
        if folded == "":
            dropped.append(char)
        elif len(folded) == 1:
            single_from.append(char)
            single_to.append(folded)
        else:
            sql = f"replace({sql}, {_sql_literal(char)}, {_sql_literal(folded)})"
    source = "".join(single_from) + "".join(dropped)
    sql = f"translate({sql}, {_sql_literal(source)}, {_sql_literal(''.join(single_to))})"
    return f'lower(({sql}) COLLATE "C")'


class Fold(Func):
    """SQL `fold(expression)`, immutable: usable in a generated column or an index."""

    template = _fold_sql_template()
    output_field = CharField(db_collation="C")


# The last word of a name of several words (after its last space or hyphen): "lopez" of
# "garcia lopez", "cruz" of "de la cruz", "jones" of "smith-jones"; NULL for a name of one
# word, so the index holds only the names that have one.
LAST_WORD_SQL = r"NULLIF(regexp_replace(%(expressions)s, '^.*[ -]', ''), %(expressions)s)"


class LastWord(Func):
    """SQL: the last word of a folded name of several words, else NULL (immutable)."""

    template = LAST_WORD_SQL
    output_field = CharField(db_collation="C")


# British spellings -> US, whole words, already folded. The product writes US English; a
# directory entry or a search may use either.
SPELLINGS: dict[str, str] = {
    "counselling": "counseling",
    "counselled": "counseled",
    "counsellor": "counselor",
    "counsellors": "counselors",
    "programme": "program",
    "programmes": "programs",
    "centre": "center",
    "centres": "centers",
    "organisation": "organization",
    "organisations": "organizations",
    "organise": "organize",
    "organised": "organized",
    "organising": "organizing",
    "behaviour": "behavior",
    "behaviours": "behaviors",
    "behavioural": "behavioral",
    "neighbour": "neighbor",
    "neighbours": "neighbors",
    "neighbourhood": "neighborhood",
    "neighbourhoods": "neighborhoods",
    "colour": "color",
    "honour": "honor",
    "labour": "labor",
    "favour": "favor",
    "defence": "defense",
    "licence": "license",
    "licenced": "licensed",
    "paediatric": "pediatric",
    "paediatrics": "pediatrics",
    "paediatrician": "pediatrician",
    "enrolment": "enrollment",
    "enrolments": "enrollments",
    "theatre": "theater",
    "catalogue": "catalog",
    "travelling": "traveling",
    "modelling": "modeling",
    "specialise": "specialize",
    "specialised": "specialized",
    "specialising": "specializing",
    "recognise": "recognize",
    "recognised": "recognized",
    "ageing": "aging",
    "analyse": "analyze",
    "fulfil": "fulfill",
    "mum": "mom",
    "mums": "moms",
}

_WORD = re.compile(r"[^\W_]+")


def _spell(match: re.Match) -> str:
    word = match.group(0)
    return SPELLINGS.get(word, word)


def normalize(text: str) -> str:
    """`fold(text)` with British spellings made US, word by word."""
    return _WORD.sub(_spell, fold(text))


def search_words(query: str, *, limit: int = 8) -> list[str]:
    """The words of `query` as `searchable` stores them: normalized, punctuation splitting
    words as it does in the stored text; at most `limit`, each at most 100 characters."""
    text = normalize((query or "").replace("\x00", ""))
    return [word[:100] for word in _WORD.findall(text)][:limit]


def name_words(query: str, *, limit: int = 8) -> list[str]:
    """The words of a typed name or id, folded: split at spaces only ("z-99", "o'brien"
    stay whole, as the keys they are compared with), at most `limit`, each at most 100
    characters (longer than any name: it matches nothing)."""
    words = (fold(word)[:100] for word in (query or "").replace("\x00", "").split())
    return [word for word in words if word][:limit]


def prefix_range(word: str) -> tuple[str, str]:
    """The keys that start with `word` (folded) are those in [low, high): high is low with
    its last character one code point on ("C" collation: code point order). Plain `>=` and
    `<` are leakproof, so under row-level security PostgreSQL still uses a (district, key)
    index for them, which it cannot do for LIKE."""
    low = fold(word)
    following = min(ord(low[-1]) + 1, 0x10FFFF)
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters PostgreSQL stores
        following = 0xE000
    return low, low[:-1] + chr(following)


def searchable(*parts: str) -> str:
    """What a search column stores for these texts: normalized, one space between words."""
    return " ".join(_WORD.findall(normalize(" ".join(part for part in parts if part))))
