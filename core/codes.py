"""One-time codes sent by email (a guardian signing a consent, a partner's contact opening a
referral): how a code is made, typed, stored and checked, in one place.

A code is six digits from `secrets`. Only a django.contrib.auth hash of
"<bound to>:<code>" is stored, where `bound_to` names the row the code is for, so a hash
copied to another row proves nothing. People type codes with spaces or dashes; those are
dropped before checking.
"""

from __future__ import annotations

import re
import secrets

from django.contrib.auth.hashers import check_password, make_password

CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(bound_to: str, code: str) -> str:
    return make_password(f"{bound_to}:{code}")


def clean_code(value) -> str | None:
    """The code's digits (spaces and dashes people type are dropped), or None."""
    digits = re.sub(r"[\s-]", "", str(value or ""))
    return digits if re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits) else None


def code_matches(bound_to: str, digits: str, stored_hash: str) -> bool:
    return bool(stored_hash) and check_password(f"{bound_to}:{digits}", stored_hash)
