"""The home page's inbox: what waits for the person signed in, newest first (issue 15).

A registry in the way of the home panels and the open-work providers: schools never names a
higher app's models or pages. Each app registers, from its AppConfig.ready(), a provider
for each kind of thing that can wait for someone (an MOU to sign, a story to review, a
referral to answer), with the capability a membership needs to be asked:

    register_inbox("mous.to_sign", mous_to_sign, "mous.sign")

`provider(request)` returns the items waiting for `request.membership` in the request's
district, at most INBOX_LIMIT of them, newest first, in a fixed number of queries (every
home page runs every provider the viewer may see). An item says what waits, links to the
page where it is done, and says since when it waits: the inbox shows the newest first.
Many items of one kind (listings to verify) may be one item with a count.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from schools.capabilities import CAPABILITIES, can

# The most items the home page shows (and a provider need return).
INBOX_LIMIT = 25


@dataclass(frozen=True)
class InboxItem:
    kind: str  # what waits, in a few words ("MOU to sign"), translated
    title: str  # the thing itself (the MOU's title, a referral's number)
    url: str  # the page where it is done
    since: datetime.datetime  # when it started waiting (aware): newest first
    detail: str = ""  # one line more: the partner, a due date
    tone: str = "info"  # the badge's tone: "danger" when overdue, "warning" when soon


@dataclass(frozen=True)
class InboxProvider:
    key: str
    provider: Callable  # (request) -> list[InboxItem]
    capability: str


INBOX_PROVIDERS: list[InboxProvider] = []


def register_inbox(key: str, provider: Callable, capability: str) -> InboxProvider:
    """Add a provider of inbox items (from an AppConfig.ready()); the same one twice is a
    no-op, another under the same key an error."""
    if capability not in CAPABILITIES:
        raise ImproperlyConfigured(f"unknown capability {capability!r}")
    entry = InboxProvider(key, provider, capability)
    for existing in INBOX_PROVIDERS:
        if existing.key == key:
            if existing == entry:
                return existing
            raise ImproperlyConfigured(f"inbox provider {key!r} registered twice")
    INBOX_PROVIDERS.append(entry)
    return entry


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]  # the newest, at most INBOX_LIMIT
    more: bool  # some were left out

    def __bool__(self) -> bool:
        return bool(self.items)


def inbox_for(request) -> Inbox:
    """Everything waiting for the request's membership that the providers it may see
    report, newest first."""
    items: list[InboxItem] = []
    for entry in INBOX_PROVIDERS:
        if can(request.membership, entry.capability):
            items.extend(entry.provider(request))
    items.sort(key=lambda item: item.since, reverse=True)
    return Inbox(items[:INBOX_LIMIT], len(items) > INBOX_LIMIT)


def day_start(district, day: datetime.date) -> datetime.datetime:
    """The start of `day` in the district's time zone (for items that wait since a date)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=district.time_zone)


# --- The schools app's own items ---------------------------------------------------------------


def invitations_not_accepted(request) -> list[InboxItem]:
    """Invitations sent and not yet accepted (nor withdrawn), for who manages people: an
    expired one needs sending again. One query."""
    from schools.models import Invitation

    invitations = (
        Invitation.objects.for_district(request.district)
        .filter(accepted_at=None, revoked_at=None)
        .order_by("-created_at")[:INBOX_LIMIT]
    )
    url = reverse("people_list", args=[request.district.slug]) + "#invitations-heading"
    now = timezone.now()
    items = []
    for invitation in invitations:
        expired = invitation.is_expired
        if expired:
            detail = _("Expired: send it again or withdraw it.")
        else:
            days = max(1, (invitation.expires_at - now).days)
            detail = ngettext(
                "%(role)s; the link works for %(days)d more day.",
                "%(role)s; the link works for %(days)d more days.",
                days,
            ) % {"role": invitation.get_role_display(), "days": days}
        items.append(
            InboxItem(
                kind=_("Invitation not accepted"),
                title=invitation.email,
                url=url,
                since=invitation.created_at,
                detail=detail,
                tone="warning" if expired else "neutral",
            )
        )
    return items
