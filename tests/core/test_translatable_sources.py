"""Every translatable string in the Python sources reaches the Spanish catalogue.

xgettext (what makemessages runs) does not read inside an f-string's replacement fields,
so `f"<td>{_('Gap')}</td>"` shows English in Spanish and the catalogue check only notices
when the string leaves the catalogue. This walks the sources' syntax trees for it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
SKIP_DIRS = {".venv", ".local", "tests", "node_modules", ".git"}


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def gettext_calls_in_fstrings(source: str) -> list[int]:
    """Line numbers of gettext calls written inside an f-string's replacement fields."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for value in node.values:
            if not isinstance(value, ast.FormattedValue):
                continue
            for inner in ast.walk(value.value):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in GETTEXT_NAMES
                ):
                    lines.append(inner.lineno)
    return lines


def test_the_check_finds_a_call_inside_an_fstring():
    assert gettext_calls_in_fstrings("x = f'<td>{_(\"Gap\")}</td>'") == [1]
    assert gettext_calls_in_fstrings("label = _('Gap')\nx = f'<td>{label}</td>'") == []


@pytest.mark.parametrize("path", list(_sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_gettext_call_inside_an_fstring(path):
    found = gettext_calls_in_fstrings(path.read_text())
    assert not found, (
        f"{path.relative_to(ROOT)} lines {found}: makemessages does not extract a string "
        "translated inside an f-string; translate it into a variable first"
    )
