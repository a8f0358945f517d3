"""Reading the payload of a signed link: a good signature is not a good payload.

A link is signed with the secret key, so its payload is ours; but a payload made by an
older release, or signed with a leaked development key, may still carry anything JSON
can: a number past PostgreSQL's bigint (a database error, so a 500), a negative or zero
id, a string or a boolean where an id belongs. Every link reader takes its values through
these checks, and treats a ValueError like a bad signature: the "not valid" page.
"""

from __future__ import annotations

import re

# Database ids are bigint; 0 and negative numbers are never ids.
MAX_ID = 2**63 - 1


def payload_id(data, key: str) -> int:
    """data[key] as a database id (an int, not a bool, within 1..2**63-1); else ValueError."""
    value = _get(data, key)
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise ValueError(f"signed payload: {key} is not an id")
    return value


def payload_int(data, key: str, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    """data[key] as a whole number within [minimum, maximum] (an int, not a bool)."""
    value = _get(data, key)
    if type(value) is not int or not minimum <= value <= maximum:
        raise ValueError(f"signed payload: {key} is out of range")
    return value


def payload_str(data, key: str, *, pattern: str) -> str:
    """data[key] as a string that matches `pattern` as a whole; else ValueError."""
    value = _get(data, key)
    if not isinstance(value, str) or re.fullmatch(pattern, value) is None:
        raise ValueError(f"signed payload: {key} has not the expected form")
    return value


def _get(data, key: str):
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"signed payload: no {key}")
    return data[key]
