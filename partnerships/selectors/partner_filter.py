"""The partner filter of the MOU and referral lists: part of a partner's name, typed (a
district has hundreds of partners: a drop-down of them all was a third of a page), or one
partner's id from a link (`?partner=<id>`), whose name the page then shows in the box."""

from __future__ import annotations

from core.search import name_words
from partnerships.models import Partner


def with_partner_named(rows, partner_name: str):
    """`rows` (a queryset of things with a `partner`) whose partner's name holds every word
    of `partner_name`, accents and case aside (core.search); all of them when it has none."""
    for word in name_words(partner_name):
        rows = rows.filter(partner__name_key__contains=word)  # Partner.name_key: folded
    return rows


def partner_name(membership, partner_id) -> str:
    """The name of the district's partner `partner_id`, or "" (one query)."""
    name = (
        Partner.objects.for_district(membership.district_id)
        .filter(pk=partner_id)
        .values_list("name", flat=True)
        .first()
    )
    return name or ""
