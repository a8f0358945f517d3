"""Paging long lists: a count that stops at a cap, and keyset ("seek") pages.

OFFSET makes PostgreSQL produce, and throw away, every row before the page, and a count
reads the whole list: at 150,000 students a page near the end took 500 ms, and every page
paid a count of the district. A keyset page starts just after (or before) the sort key of
the row at the edge of the page it came from, which the list's (district, key...) index
finds at once; the count reads at most `cap + 1` rows ("more than 1,000").

The list's queryset carries its order (`order_by`), all ascending or all descending, on
keys that are never NULL and end with the primary key, so that the order is total:
`("last_name", "first_name", "pk")`, `("-at", "-pk")`. The cursor in the links is the
last (or first) row's keys, checked when read: a cursor that is edited, truncated, made for
another list or order, or holds a value its column cannot, shows the first page.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import zlib
from dataclasses import dataclass, field

from django.db.models import F, OrderBy
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from core.signed import MAX_ID

COUNT_CAP = 1000
_MAX_KEY_TEXT = 500
_MAX_CURSOR = 4000


def capped_count(queryset, cap: int | None = None) -> tuple[int, bool]:
    """How many rows `queryset` has, reading at most cap + 1 of them (COUNT_CAP unless
    told): (n, False), or (cap, True) when there are more. One query: COUNT(*) over a
    LIMIT subquery."""
    cap = COUNT_CAP if cap is None else cap
    n = queryset.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


@dataclass
class KeysetPage:
    """One page of a keyset list, for components/keyset_pagination.html."""

    object_list: list
    count: int  # rows in the list, up to the cap
    count_is_capped: bool  # more rows than `count`
    start_index: int  # position of the first row (1-based; 0 when the page is empty)
    next_cursor: str = ""
    previous_cursor: str = ""
    per_page: int = field(default=50)

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)


def _keys(queryset) -> tuple[list, bool]:
    """The order's key expressions and whether it is descending (one direction for all)."""
    keys, directions = [], set()
    for item in queryset.query.order_by:
        if isinstance(item, str):
            descending = item.startswith("-")
            keys.append(F(item.lstrip("-")))
        elif isinstance(item, OrderBy):
            descending = item.descending
            keys.append(item.expression)
        else:
            descending = False
            keys.append(item)
        directions.add(descending)
    if not keys or len(directions) != 1:
        raise ValueError("a keyset list needs an order, in one direction")
    return keys, directions.pop()


def _kind(output_field) -> str:
    """What a key's values are: "int", "text" or "datetime" (nothing else is a key here)."""
    internal = output_field.get_internal_type()
    if internal in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField"):
        return "int"
    if internal in ("CharField", "TextField", "EmailField", "SlugField"):
        return "text"
    if internal == "DateTimeField":
        return "datetime"
    raise ValueError(f"a keyset list cannot page on a {internal}")


def _encode(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def _decode(value, kind: str):
    """A key value read from a cursor, as `kind`; else ValueError. The cursor is not
    signed (it is a place in a list the viewer may read anyway), so every value is checked:
    a value the column cannot hold would be a database error."""
    if kind == "int" and type(value) is int and -MAX_ID <= value <= MAX_ID:
        return value
    text = kind == "text" and isinstance(value, str) and len(value) <= _MAX_KEY_TEXT
    if text and "\x00" not in value:
        value.encode()  # a lone surrogate is no text PostgreSQL takes (UnicodeEncodeError)
        return value
    if kind == "datetime" and isinstance(value, str) and len(value) <= 40:
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            return moment
    raise ValueError("cursor: a key of the wrong kind")


class _Cursors:
    """The cursors of one list: base64 of JSON {"l": list, "k": keys, "f": forward,
    "i": position}; reading one checks every part, and any fault reads as no cursor."""

    def __init__(self, name: str, kinds: list[str]):
        self.name = name
        self.kinds = kinds

    def make(self, row, *, forward: bool, start: int) -> str:
        values = [_encode(getattr(row, f"seek_key_{i}")) for i in range(len(self.kinds))]
        data = {"l": self.name, "k": values, "f": forward, "i": start}
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def read(self, token: str):
        """(values, forward, start) of a cursor of this list, or None."""
        if len(token) > _MAX_CURSOR:
            return None
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("l") != self.name:
                return None
            values, forward, start = data["k"], data["f"], data["i"]
            if not isinstance(values, list) or len(values) != len(self.kinds):
                return None
            if type(forward) is not bool or type(start) is not int or not 1 <= start <= MAX_ID:
                return None
            values = [_decode(v, kind) for v, kind in zip(values, self.kinds, strict=True)]
            return values, forward, start
        except (ValueError, TypeError, KeyError, RecursionError, binascii.Error):
            return None


def _keyset(queryset, name: str):
    """The order's keys, its direction, the rows with their keys, and the list's cursors."""
    keys, descending = _keys(queryset)
    rows = queryset.annotate(**{f"seek_key_{i}": key for i, key in enumerate(keys)})
    kinds = [_kind(rows.query.annotations[f"seek_key_{i}"].output_field) for i in range(len(keys))]
    ordering = ",".join(str(item) for item in queryset.query.order_by)
    return keys, descending, rows, _Cursors(f"{name}:{zlib.crc32(ordering.encode()):08x}", kinds)


def cursor_after(queryset, *, name: str, position: int) -> str:
    """The cursor of a Next link to the page that starts after row `position` (1-based)
    of `queryset`, as the list `name` makes it (for the benchmark: a page deep in a list).
    One query, with an OFFSET."""
    _, _, rows, cursors = _keyset(queryset, name)
    return cursors.make(rows[position - 1], forward=True, start=position + 1)


def keyset_page(
    queryset,
    *,
    name: str,
    cursor: str | None = None,
    page: str | None = None,
    per_page: int = 50,
    cap: int | None = None,
) -> KeysetPage:
    """The page of `queryset` that `cursor` (from a previous page's link) points at, or the
    page number `page` within the capped count, or else the first page; with the capped
    count. `name` names the list (a cursor of one list means nothing to another).

    A page number (`?page=`, from links made before keyset pages) is honoured within the
    capped count; past it, the first page (an OFFSET there would read the whole list).
    Queries: the count, the page, and one more only when a cursor points past the end or
    before the start (rows deleted since): the first page then.
    """
    keys, descending, rows, cursors = _keyset(queryset, name)
    count, capped = capped_count(queryset, cap)

    def page_of(object_list, start, *, has_previous, has_next):
        return KeysetPage(
            object_list=object_list,
            count=count,
            count_is_capped=capped,
            start_index=start if object_list else 0,
            previous_cursor=cursors.make(
                object_list[0], forward=False, start=max(start - per_page, 1)
            )
            if has_previous and object_list
            else "",
            next_cursor=cursors.make(object_list[-1], forward=True, start=start + len(object_list))
            if has_next and object_list
            else "",
            per_page=per_page,
        )

    def first(offset=0):
        found = list(rows[offset : offset + per_page + 1])
        return page_of(
            found[:per_page], offset + 1, has_previous=offset > 0, has_next=len(found) > per_page
        )

    read = cursors.read(cursor) if cursor else None
    if read is None:
        number = _page_number(page)
        if number and (number - 1) * per_page < count:
            return first((number - 1) * per_page)
        return first()
    values, forward, start = read
    after = TupleLessThan if descending else TupleGreaterThan
    before = TupleGreaterThan if descending else TupleLessThan
    if forward:
        found = list(rows.filter(after(Tuple(*keys), values))[: per_page + 1])
        if not found:
            return first()
        return page_of(found[:per_page], start, has_previous=True, has_next=len(found) > per_page)
    found = list(rows.filter(before(Tuple(*keys), values)).reverse()[: per_page + 1])
    if len(found) <= per_page:  # the start of the list: show the first page, full
        return first()
    found = found[:per_page][::-1]
    return page_of(found, max(start, 2), has_previous=True, has_next=True)


def _page_number(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None
