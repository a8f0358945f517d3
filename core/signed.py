"""Reading the payload of a signed link: a good signature is not a good payload.

A link is signed with the secret key, so its payload is ours; but a payload made by an
older release, or signed with a leaked development key, may still carry anything JSON
can: a number past PostgreSQL's bigint (a database error, so a 500), a negative or zero
id, a string or a boolean where an id belongs. Every link reader takes its values through
these checks, and treats a ValueError like a bad signature: the "not valid" page.

`SignedLink` is the one way a link is signed and read: every kind of link declares its
salt, its age limit and its fields with their checks, and reading one returns only
checked values (or raises BadLink / ExpiredLink).
"""

from __future__ import annotations

import datetime
import re
import zlib
from collections.abc import Callable
from typing import Any

from django.core import signing
from django.urls import reverse

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


# --- Signed links -------------------------------------------------------------------------


class BadLink(Exception):
    """A link that is not valid: tampered with, signed for another purpose, cut short, or
    carrying a payload that fails its checks. Pages answer it with their "not valid" page."""


class ExpiredLink(BadLink):
    """The signature holds and the payload passes its checks, but the link is older than
    its age limit. `payload` (checked) says what it was for, so a page can say whom to ask."""

    def __init__(self, payload: dict):
        super().__init__("expired link")
        self.payload = payload


# A field's check: (payload, key) -> the value, or ValueError (payload_id, payload_int,
# functools.partial(payload_str, pattern=...)).
FieldCheck = Callable[[Any, str], Any]


class SignedLink:
    """One kind of signed link that leaves the product (in mail, mostly).

    `fields` names every value the payload carries, each with its check; `read` returns
    only those values, each checked, so nothing unchecked is ever used. Signed with
    django.core.signing under `salt` (one per kind of link: a token made for one purpose
    never passes for another).

    - `max_age`: the age limit (a timedelta); None for a link that never expires.
    - `timestamped`: False for a link whose age the database decides (an invitation row
      carries its expiry): the token is then `payload:signature` (signing.Signer), and
      the same payload always gives the same link. True (the default) is signing.dumps's
      `payload:timestamp:signature`.
    - `compress`: zlib, as signing.dumps(compress=True) does.
    - `url_name`: the URL that takes the token as its one argument (`path`, `url`).

    The token formats are exactly django.core.signing's, so links already sent keep
    working as long as the salt and these flags stay as they are.
    """

    def __init__(
        self,
        *,
        salt: str,
        fields: dict[str, FieldCheck],
        max_age: datetime.timedelta | None = None,
        timestamped: bool = True,
        compress: bool = False,
        url_name: str = "",
    ):
        if not salt:
            raise ValueError("a signed link needs a salt of its own")
        if not fields:
            raise ValueError("a signed link carries at least one field")
        if max_age is not None and not timestamped:
            raise ValueError("a link without a timestamp cannot have an age limit")
        self.salt = salt
        self.fields = dict(fields)
        self.max_age = max_age
        self.timestamped = timestamped
        self.compress = compress
        self.url_name = url_name

    def _signer(self) -> signing.Signer:
        return (signing.TimestampSigner if self.timestamped else signing.Signer)(salt=self.salt)

    def check(self, data) -> dict:
        """The declared fields of `data`, each through its check; BadLink if one fails."""
        try:
            return {key: check(data, key) for key, check in self.fields.items()}
        except (ValueError, TypeError, KeyError):
            raise BadLink("malformed payload") from None

    def make(self, **payload) -> str:
        """The token for `payload`, which must hold exactly the declared fields, valid."""
        if set(payload) != set(self.fields):
            raise TypeError(f"a link of this kind carries {sorted(self.fields)}")
        try:
            data = self.check(payload)
        except BadLink:
            raise ValueError("refusing to sign a payload that would not be read back") from None
        return self._signer().sign_object(data, compress=self.compress)

    def read(self, token: str) -> dict:
        """The checked payload of a genuine, unexpired token.

        Raises ExpiredLink (a BadLink) when only the age is wrong and the payload passes
        its checks; BadLink for everything else, including an expired token whose payload
        does not pass them.
        """
        if not isinstance(token, str):
            raise BadLink("not a token")
        options = {"max_age": self.max_age} if self.timestamped else {}
        try:
            data = self._signer().unsign_object(token, **options)
        except signing.SignatureExpired:
            raise ExpiredLink(self.check(self._unsign(token))) from None
        except _UNREADABLE:
            raise BadLink("bad signature") from None
        return self.check(data)

    def _unsign(self, token: str):
        try:
            return self._signer().unsign_object(token)
        except _UNREADABLE:
            raise BadLink("bad signature") from None

    def path(self, **payload) -> str:
        """The link's path on this site (`url_name` with the token)."""
        return reverse(self.url_name, args=[self.make(**payload)])

    def url(self, **payload) -> str:
        """The absolute link, always on settings.SITE_URL (core.mail.absolute_url)."""
        from core.mail import absolute_url

        return absolute_url(self.path(**payload))


# What a forged or damaged token can raise while being read: a bad signature, and, for a
# token signed with our key but not by us (an old release, a leaked development key), a
# payload that is not base64, zlib or JSON, or a timestamp that is not base 62.
_UNREADABLE = (signing.BadSignature, ValueError, TypeError, zlib.error)
