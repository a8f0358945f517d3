"""What partnerships puts in the home page's inbox (schools.inbox; registered in
PartnershipsConfig.ready): MOUs waiting for a review, a signature, changes or a renewal,
stories waiting for consent or review, and listings to verify.

Each provider costs one query and returns at most INBOX_LIMIT items, newest first. Who is
asked follows the capabilities and the MOU's workflow: the administrator reviews and signs
for the district, the partner's member signs for the partner, coordinators make the changes
asked for and prepare renewals.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partnerships.models import MOUComment, MOUStatus, MOUVersion
from partnerships.selectors.directory import directory_stale_before, partners_visible_to
from partnerships.selectors.mous import mou_url, mous_visible_to
from partnerships.selectors.stories import stories_visible_to
from partnerships.services.renewals import EXPIRING_WITHIN
from schools.inbox import INBOX_LIMIT, InboxItem, day_start


def _mous(request, statuses):
    return (
        mous_visible_to(request.membership)
        .filter(status__in=statuses)
        .select_related("partner")
        .order_by("-updated_at")[:INBOX_LIMIT]
    )


def _mou_item(request, mou, *, kind: str, detail: str = "", since=None, tone="info"):
    return InboxItem(
        kind=kind,
        title=mou.title,
        url=mou_url(request.district, mou.pk),
        since=since or mou.updated_at,
        detail=detail or mou.partner.name,
        tone=tone,
    )


def mous_to_review(request) -> list[InboxItem]:
    """MOUs a coordinator submitted for the administrator's review (mous.approve)."""
    return [
        _mou_item(request, mou, kind=_("MOU to review"))
        for mou in _mous(request, [MOUStatus.INTERNAL_REVIEW])
    ]


def mous_to_sign(request) -> list[InboxItem]:
    """MOUs waiting for the viewer's side to sign (mous.sign): the partner's member signs
    what was sent to the partner, the district's administrator what the partner signed."""
    if request.membership.partner_id is not None:
        status = MOUStatus.SENT  # mous_visible_to keeps to the partner's own MOUs
        detail = _("Read it and sign for your organization, or ask for changes.")
    else:
        status = MOUStatus.PARTNER_SIGNED
        detail = ""
    return [
        _mou_item(request, mou, kind=_("MOU to sign"), detail=detail)
        for mou in _mous(request, [status])
    ]


def mous_changes_asked(request) -> list[InboxItem]:
    """Drafts with a comment on their latest version by someone else (the administrator
    returned it, or the partner asked for changes) that nobody has acted on yet
    (mous.manage): a new version clears it."""
    latest_version = (
        MOUVersion.objects.filter(mou=OuterRef("pk")).order_by("-number").values("pk")[:1]
    )
    last_comment = (
        MOUComment.objects.filter(mou=OuterRef("pk"), version_id=OuterRef("latest_version"))
        .exclude(membership=request.membership)
        .order_by("-created_at")
    )
    mous = (
        mous_visible_to(request.membership)
        .filter(status=MOUStatus.DRAFT)
        .annotate(latest_version=Subquery(latest_version))
        .annotate(
            comment_at=Subquery(last_comment.values("created_at")[:1]),
            comment_by=Subquery(last_comment.values("author_name")[:1]),
        )
        .filter(comment_at__isnull=False)
        .select_related("partner")
        .order_by("-comment_at")[:INBOX_LIMIT]
    )
    return [
        _mou_item(
            request,
            mou,
            kind=_("Changes asked for"),
            detail=_("%(partner)s; asked by %(name)s")
            % {"partner": mou.partner.name, "name": mou.comment_by},
            since=mou.comment_at,
            tone="warning",
        )
        for mou in mous
    ]


def mous_to_renew(request) -> list[InboxItem]:
    """MOUs ending within the renewal notice (mous.manage): expiring, or still marked
    active when the hourly sweep has not passed yet. Waiting since the notice began."""
    today = request.district.today()
    notice = EXPIRING_WITHIN
    mous = (
        mous_visible_to(request.membership)
        .filter(
            Q(status=MOUStatus.EXPIRING)
            | Q(status=MOUStatus.ACTIVE, end_date__isnull=False, end_date__lte=today + notice)
        )
        .select_related("partner")
        .order_by("end_date")[:INBOX_LIMIT]
    )
    items = []
    for mou in mous:
        end = mou.end_date
        days_left = (end - today).days if end else None
        items.append(
            _mou_item(
                request,
                mou,
                kind=_("Renewal coming up"),
                detail=_("%(partner)s; ends on %(date)s")
                % {"partner": mou.partner.name, "date": formats.date_format(end)}
                if end
                else "",
                since=day_start(request.district, end - notice) if end else mou.updated_at,
                tone="danger" if days_left is not None and days_left <= 30 else "warning",
            )
        )
    return items


def stories_needing_consent(request) -> list[InboxItem]:
    """Stories written and not yet consented to publish (stories.manage)."""
    stories = (
        stories_visible_to(request.membership)
        .filter(consent_at__isnull=True)
        .order_by("-created_at")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("Story waiting for consent"),
            title=story.title,
            url=reverse("story_detail", args=[request.district.slug, story.pk]),
            since=story.created_at,
            detail=_("Record the family's or the person's consent before it can be published."),
            tone="neutral",
        )
        for story in stories
    ]


def stories_to_review(request) -> list[InboxItem]:
    """Stories with consent, waiting for the administrator's de-identification review
    (stories.review)."""
    stories = (
        stories_visible_to(request.membership)
        .filter(consent_at__isnull=False, reviewed_at__isnull=True)
        .order_by("-consent_at")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("Story to review"),
            title=story.title,
            url=reverse("story_detail", args=[request.district.slug, story.pk]),
            since=story.consent_at,
            detail=_("Check that it identifies nobody, then mark it reviewed."),
        )
        for story in stories
    ]


def listings_to_verify(request) -> list[InboxItem]:
    """Active partners whose listing was not verified within the district's freshness
    days, as one item with their number (partners.manage). It waits since the newest of
    them went stale (verified + freshness days, or added and never verified)."""
    district = request.district
    fresh_for = datetime.timedelta(days=district.directory_freshness_days)
    stale = partners_visible_to(request.membership).filter(
        Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=directory_stale_before(district)),
        active=True,
    )
    found = stale.aggregate(
        count=Count("pk"),
        verified=Max(
            ExpressionWrapper(F("last_verified_at") + fresh_for, output_field=DateTimeField())
        ),
        never=Max("created_at", filter=Q(last_verified_at__isnull=True)),
    )
    if not found["count"]:
        return []
    since = max(moment for moment in (found["verified"], found["never"]) if moment is not None)
    count = found["count"]
    return [
        InboxItem(
            kind=_("Listings to verify"),
            title=ngettext(
                "%(count)d partner listing needs checking",
                "%(count)d partner listings need checking",
                count,
            )
            % {"count": count},
            url=reverse("partner_list", args=[district.slug]) + "?stale=on",
            since=since,
            detail=ngettext(
                "Not confirmed with the partner in the last %(days)d day.",
                "Not confirmed with the partner in the last %(days)d days.",
                district.directory_freshness_days,
            )
            % {"days": district.directory_freshness_days},
            tone="warning",
        )
    ]


# --- Meetings (issue 18) -----------------------------------------------------------------------


def meetings_without_minutes(request) -> list[InboxItem]:
    """Meetings the viewer organized that ended more than a week ago (within 60 days) and
    have no minutes yet (meetings.manage): two queries, the meetings and their records."""
    from django.utils import timezone

    from partnerships.meeting_rules import MINUTES_DUE
    from partnerships.models import Meeting
    from partnerships.selectors.meetings import occurrences, records_by_meeting

    now = timezone.now()
    after, before = now - datetime.timedelta(days=60), now - MINUTES_DUE
    meetings = list(
        Meeting.objects.for_district(request.membership.district_id)
        .filter(
            organizer=request.membership,
            cancelled_at__isnull=True,
            starts_at__lt=now - MINUTES_DUE,
        )
        .select_related("district")
        .order_by("-starts_at")[:INBOX_LIMIT]
    )
    records = records_by_meeting(meetings, after, before)
    items = []
    for meeting in meetings:
        window = occurrences(meeting, after, before, records=records[meeting.pk])
        for occurrence in window:
            if occurrence.cancelled or occurrence.has_minutes:
                continue
            if occurrence.ends_at > now - MINUTES_DUE:
                continue
            items.append(
                InboxItem(
                    kind=_("Minutes to write"),
                    title=meeting.title,
                    url=reverse(
                        "meeting_occurrence",
                        args=[request.district.slug, meeting.pk, occurrence.key],
                    ),
                    since=occurrence.ends_at,
                    detail=formats.date_format(
                        timezone.localtime(occurrence.starts_at), "DATE_FORMAT"
                    ),
                    tone="warning",
                )
            )
    return sorted(items, key=lambda item: item.since, reverse=True)[:INBOX_LIMIT]


def action_items_overdue(request) -> list[InboxItem]:
    """Action items the viewer owns that are past their due date (one query)."""
    from partnerships.selectors.meetings import open_action_items

    today = request.district.today()
    items = (
        open_action_items(request.membership)
        .filter(owner_membership=request.membership, due_date__lt=today)
        .order_by("-due_date")[:INBOX_LIMIT]
    )
    return [
        InboxItem(
            kind=_("Action item overdue"),
            title=item.what,
            url=reverse("action_item_list", args=[request.district.slug]) + "?owner=me",
            since=day_start(request.district, item.due_date),
            detail=item.meeting.title,
            tone="danger",
        )
        for item in items
    ]
