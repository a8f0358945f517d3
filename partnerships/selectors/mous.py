"""Reads of MOUs: the list, the MOU page with its versions, comments and goals, templates,
the comparison of two versions, and who may read which version.

A partner sees only its own organization's MOUs, and only once they have left the
district (sent onwards: drafts never sent stay internal); an MOU sent back to draft after
it was sent (the partner asked for changes) stays in its list as "Changes requested". Of
those, the partner reads the versions sent to it.
"""

from __future__ import annotations

import datetime

from django.db.models import BooleanField, Count, Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation

from partnerships.models import (
    MOU,
    Goal,
    GoalProgress,
    MOUComment,
    MOUStatus,
    MOUTemplate,
    MOUVersion,
)
from partnerships.mou_rules import (
    MOUS_UNDER_WAY,
    PARTNER_VISIBLE_STATUSES,
    SHARED_FIELD_LABELS,
    STATE_CHANGES_REQUESTED,
    STATE_NOT_STARTED,
    TERM_LABELS,
    mou_display_state,
    mou_state_label,
    terms_of,
    text_diff,
    unfilled_placeholders,
    version_sections,
)
from partnerships.selectors.categories import service_labels
from partnerships.selectors.partner_filter import with_partner_named
from schools.models import Role
from schools.selectors import partners_in


def mou_url(district, mou_id: int) -> str:
    """The MOU's page: by its URL name once the MOU pages exist, else its known address."""
    try:
        return reverse("mou_detail", args=[district.slug, mou_id])
    except NoReverseMatch:
        return f"/{district.slug}/mous/{mou_id}/"


# Back in the district after being sent: the partner keeps seeing them ("Changes
# requested"), reading only the versions sent to it.
_BACK_IN_DISTRICT = (MOUStatus.DRAFT, MOUStatus.INTERNAL_REVIEW)


def sent_before() -> Exists:
    """On MOU: one of its versions was sent to the partner (MOUVersion.sent_at)."""
    return Exists(
        MOUVersion.objects.filter(
            district_id=OuterRef("district_id"), mou_id=OuterRef("pk"), sent_at__isnull=False
        )
    )


def mous_visible_to(membership):
    """The MOUs of the viewer's district; a partner sees only its own organization's, and
    only once they have left the district: sent onwards, or back in draft (or review)
    after being sent, when the partner asked for changes. Drafts never sent stay internal."""
    mous = MOU.objects.for_district(membership.district_id)
    if membership.role == Role.PARTNER:
        mous = mous.filter(partner_id=membership.partner_id).filter(
            Q(status__in=list(PARTNER_VISIBLE_STATUSES))
            | (Q(status__in=list(_BACK_IN_DISTRICT)) & sent_before())
        )
    return mous


# Badge tones of the display states (the statuses' own are registered in apps.py).
_STATE_TONES = {STATE_NOT_STARTED: "info", STATE_CHANGES_REQUESTED: "warning"}


def with_display_states(mous, today: datetime.date) -> list:
    """The MOUs (annotated `was_sent`, as mou_list does) with `state`, `state_label` and
    `state_tone` (None: the status's own tone) for the list: "Signed, starts on <date>",
    "Changes requested", else the status."""
    mous = list(mous)
    for mou in mous:
        sent = bool(getattr(mou, "was_sent", False))
        mou.state = mou_display_state(mou, today, sent_before=sent)
        mou.state_label = mou_state_label(mou, today, sent_before=sent)
        mou.state_tone = _STATE_TONES.get(mou.state)
    return mous


def mou_list(membership, *, status: str = "", partner_id=None, partner_name: str = ""):
    """The MOUs the viewer may see, filtered, newest change first, with the partner, the
    current version's number (`version_number`) and whether one was sent (`was_sent`).

    One query for a page of rows whatever their number: the version figures are
    subqueries per row (on the versions' (district, MOU, number) key), which PostgreSQL
    works out for the page's rows only, after the LIMIT; a GROUP BY over every version
    of the district came before it. `partner_name`: every word of it is in the partner's
    name, accents and case aside (core.search).
    """
    mous = mous_visible_to(membership)
    if status:
        mous = mous.filter(status=status)
    if partner_id:
        mous = mous.filter(partner_id=partner_id)
    mous = with_partner_named(mous, partner_name)
    versions = MOUVersion.objects.filter(
        district_id=OuterRef("district_id"), mou_id=OuterRef("pk")
    ).order_by("-number")
    # True, or NULL when none was sent: a scalar subquery with a LIMIT, which PostgreSQL
    # runs per page row (an EXISTS there it turns into a hash of every sent version).
    sent = versions.filter(sent_at__isnull=False).annotate(sent=Value(True)).values("sent")[:1]
    return (
        mous.select_related("partner")
        .annotate(
            version_number=Subquery(versions.values("number")[:1]),
            was_sent=Subquery(sent, output_field=BooleanField()),
        )
        .order_by("-updated_at", "-pk")
    )


def mou_status_counts(membership, statuses=MOUS_UNDER_WAY) -> dict[str, int]:
    """How many of the MOUs the viewer may see are in each of `statuses` (one query; a
    status no MOU is in is left out)."""
    return dict(
        mous_visible_to(membership)
        .filter(status__in=list(statuses))
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )


def mou_partners_for_drafting(membership):
    """Active partners of the district, by name (a queryset, for the draft form)."""
    return partners_in(membership.district_id).filter(active=True)


def access_mou(membership, mou_id):
    """An MOU the viewer may see, with its partner and district, or 404 (one query).

    Partners reach only their own organization's MOUs, and not drafts.
    """
    return get_object_or_404(
        mous_visible_to(membership).select_related("partner", "district", "created_by__user"),
        pk=mou_id,
    )


def reads_as_partner(membership) -> bool:
    """True for a partner's member, and for nobody signed in (the partner's emailed link)."""
    return membership is None or membership.role == Role.PARTNER


def partner_may_read_version():
    """A filter on MOUVersion: the versions a partner may read.

    Those sent to it (sent_at), those signed (locked_at: only a sent version is signed),
    and the current version of an MOU past internal review: an MOU leaves the district only
    by being sent, and any change after that makes it a draft again, so its current
    version is the one sent. Versions saved between two sends stay internal.
    """
    newer = MOUVersion.objects.filter(
        district_id=OuterRef("district_id"),
        mou_id=OuterRef("mou_id"),
        number__gt=OuterRef("number"),
    )
    return (
        Q(sent_at__isnull=False)
        | Q(locked_at__isnull=False)
        | (Q(mou__status__in=list(PARTNER_VISIBLE_STATUSES)) & ~Exists(newer))
    )


def mou_versions(mou, *, for_partner: bool = False) -> list:
    """Every version of the MOU, newest first, with author and signatures; for a partner,
    only the versions it may read (partner_may_read_version)."""
    versions = MOUVersion.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if for_partner:
        versions = versions.filter(partner_may_read_version())
    return list(
        versions.select_related("created_by__user")
        .prefetch_related("signatures")
        .order_by("-number")
    )


def current_version(mou: MOU) -> MOUVersion:
    """The MOU's latest version; an unsaved, empty "version 0" if it has none (an MOU made
    outside these services), so that pages and the first save still work."""
    latest = (
        MOUVersion.objects.filter(district_id=mou.district_id, mou_id=mou.pk)
        .order_by("-number")
        .first()
    )
    if latest is None:
        latest = MOUVersion(district_id=mou.district_id, mou=mou, number=0, sections={}, terms={})
    return latest


def mou_comments(mou, *, for_partner: bool) -> list:
    """Review comments, oldest first. A partner sees its own side's (the district's
    internal review notes stay internal)."""
    comments = MOUComment.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if for_partner:
        comments = comments.filter(Q(membership=None) | Q(membership__partner_id=mou.partner_id))
    return list(comments.select_related("version").order_by("created_at", "pk"))


def mou_goals(mou) -> list:
    """The MOU's goals with their progress entries (date order) and where they stand."""
    goals = list(
        Goal.objects.for_district(mou.district_id)
        .filter(mou_id=mou.pk)
        .prefetch_related(
            Prefetch(
                "progress",
                queryset=GoalProgress.objects.select_related("recorded_by__user").order_by(
                    "date", "pk"
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    for goal in goals:
        entries = list(goal.progress.all())
        goal.entries = entries
        goal.current = entries[-1].value if entries else None
        goal.percent = (
            round(goal.current * 100 / goal.target)
            if goal.current is not None and goal.target
            else 0
        )
        goal.bar = min(100, goal.percent)  # the bar stops full; the words say how far past
    return goals


def _iso_date(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def mou_page(membership, mou, *, version_number=None) -> dict:
    """Everything the MOU page shows, in a fixed number of queries.

    `version_number` picks an older version to read (404 if there is none, or if a
    partner may not read it: see partner_may_read_version). `membership` None is the
    partner's emailed link.
    """
    for_partner = reads_as_partner(membership)
    versions = mou_versions(mou, for_partner=for_partner)
    if versions:
        latest = versions[0]
    elif for_partner:  # nothing sent yet: show nothing of the district's drafts
        latest = MOUVersion(district_id=mou.district_id, mou=mou, number=0, sections={}, terms={})
    else:
        latest = current_version(mou)  # (an empty "version 0")
    shown = latest
    if version_number is not None:
        shown = next((v for v in versions if str(v.number) == str(version_number)), None)
        if shown is None:
            raise Http404("No such version")
    # A version saved without terms (made outside the services) shows the MOU's own.
    terms = shown.terms or terms_of(mou, mou.schools.all())
    today = mou.district.today()
    sent = any(v.sent_at for v in versions) if versions else _was_sent(mou)
    state = mou_display_state(mou, today, sent_before=sent)
    # The document reads in its own language whatever the reader's: the section labels,
    # the placeholders' values and the text (written in it when drafted).
    with translation.override(mou.language or None):
        labels = service_labels(mou.district)
        sections = version_sections(shown, labels)
        document_terms = {
            "service_names": [labels.get(c, c) for c in terms.get("services", [])],
            "shared_field_names": [
                str(SHARED_FIELD_LABELS.get(c, c)) for c in terms.get("shared_fields", [])
            ],
        }
    return {
        "state": state,
        "state_label": mou_state_label(mou, today, sent_before=sent),
        "state_tone": _STATE_TONES.get(state),
        "document_language": mou.language,
        # Where bracketed placeholders are left in the current text (blocks submitting).
        "placeholders": unfilled_placeholders(version_sections(latest, labels))
        if not for_partner and latest.pk
        else [],
        "term_start": _iso_date(terms.get("start_date")),
        "term_end": _iso_date(terms.get("end_date")),
        "latest": latest,
        "version": shown,
        "versions": versions,
        "sections": sections,
        "signatures": list(shown.signatures.all()) if shown.pk else [],
        "terms": terms,
        **document_terms,
        "comments": mou_comments(mou, for_partner=for_partner),
        "goals": mou_goals(mou),
    }


def _was_sent(mou) -> bool:
    return MOUVersion.objects.filter(
        district_id=mou.district_id, mou_id=mou.pk, sent_at__isnull=False
    ).exists()


def mou_templates_of(membership) -> list:
    """The district's own MOU templates, by name (the shipped one is not a row)."""
    return list(MOUTemplate.objects.for_district(membership.district_id).order_by("name"))


def access_mou_template(membership, template_id):
    """One of the district's MOU templates, or 404."""
    return get_object_or_404(
        MOUTemplate.objects.for_district(membership.district_id), pk=template_id
    )


def access_goal(membership, goal_id):
    """A goal of an MOU the viewer may see, with its MOU, or 404."""
    return get_object_or_404(
        Goal.objects.for_district(membership.district_id)
        .filter(mou__in=mous_visible_to(membership).values("pk"))
        .select_related("mou"),
        pk=goal_id,
    )


def mou_compare(mou, first: int, second: int, *, for_partner: bool = False) -> dict:
    """Two versions side by side: each section's words removed and added, and the terms.

    Compares the text as people read it (placeholders filled from each version's terms).
    404 when either version does not exist, or is one a partner may not read.
    """
    found = MOUVersion.objects.for_district(mou.district_id).filter(
        mou_id=mou.pk, number__in=[first, second]
    )
    if for_partner:
        found = found.filter(partner_may_read_version())
    versions = {v.number: v for v in found.select_related("created_by__user")}
    if first not in versions or second not in versions:
        raise Http404("No such version")
    old, new = versions[first], versions[second]
    labels = service_labels(mou.district)
    sections = []
    for before, after in zip(
        version_sections(old, labels), version_sections(new, labels), strict=True
    ):
        left, right = text_diff(before.text, after.text)
        sections.append(
            {
                "key": before.key,
                "number": before.number,
                "heading": before.heading,
                "changed": before.text != after.text,
                "old": left,
                "new": right,
            }
        )

    def shown(terms, name):
        value = terms.get(name)
        if name == "schools":
            return ", ".join(s["name"] for s in value or [])
        if name == "services":
            return ", ".join(labels.get(c, c) for c in value or [])
        if name == "shared_fields":
            return ", ".join(str(SHARED_FIELD_LABELS.get(c, c)) for c in value or [])
        if name in ("start_date", "end_date"):
            date = _iso_date(value)
            return formats.date_format(date, "DATE_FORMAT") if date else ""
        return "" if value is None else str(value)

    terms = [
        {
            "label": label,
            "old": shown(old.terms, name),
            "new": shown(new.terms, name),
            "changed": shown(old.terms, name) != shown(new.terms, name),
        }
        for name, label in TERM_LABELS
    ]
    return {
        "old": old,
        "new": new,
        "sections": [section for section in sections if section["changed"]],
        "unchanged": [section for section in sections if not section["changed"]],
        "terms": terms,
        "terms_changed": any(row["changed"] for row in terms),
    }
