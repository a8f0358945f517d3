"""Reads of the partnerships app; each takes the viewer and owns its joins.

One section per area (directory, mous, documents, funding, stories): append to your own
section. Access helpers look up AND authorise in one query and raise Http404 for both
"does not exist" and "not yours".
"""

from __future__ import annotations

# === Directory (partners, services, contacts, freshness, coverage) =========================


def freshness_days(district) -> int:
    """Days a listing stays fresh after it was verified (the district's setting)."""
    return district.directory_freshness_days


def directory_stale_before(district, now=None):
    """Listings verified before this moment (or never) are stale."""
    import datetime

    from django.utils import timezone

    return (now or timezone.now()) - datetime.timedelta(days=freshness_days(district))


def service_categories(district) -> list[tuple[str, str]]:
    """(code, label) of every service category: the shipped taxonomy, then the district's."""
    from partnerships.models import SERVICE_TAXONOMY, ServiceCategory

    shipped = [(code, str(label)) for code, label in SERVICE_TAXONOMY]
    known = {code for code, _label in shipped}
    own = [
        (category.code, category.name)
        for category in ServiceCategory.objects.for_district(district).order_by("name")
        if category.code not in known
    ]
    return shipped + own


def district_service_categories(district) -> list:
    """The categories the district added itself (ServiceCategory rows), by name."""
    from partnerships.models import ServiceCategory

    return list(ServiceCategory.objects.for_district(district).order_by("name"))


def access_service_category(membership, category_id: int):
    """One of the district's own service categories, or 404."""
    from django.shortcuts import get_object_or_404

    from partnerships.models import ServiceCategory

    return get_object_or_404(
        ServiceCategory.objects.for_district(membership.district_id), pk=category_id
    )


def partners_visible_to(membership):
    """Partners the membership may see: the district's, or a partner's own organisation only."""
    from partnerships.models import Partner

    partners = Partner.objects.for_district(membership.district_id)
    if membership.partner_id is not None:
        partners = partners.filter(pk=membership.partner_id)
    return partners


def access_partner(membership, partner_id: int):
    """A partner the membership may see, or 404 (one query; partners see only their own)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(partners_visible_to(membership), pk=partner_id)


def partner_contacts_with_email(membership, partner):
    """The partner's contacts who can receive email (a queryset, for form choices): with an
    address, and not unsubscribed (the same rule as services.unsubscribe.mailable)."""
    from partnerships.models import Contact

    return (
        Contact.objects.for_district(membership.district_id)
        .filter(partner=partner, unsubscribed_at__isnull=True)
        .exclude(email="")
        .order_by("name", "pk")
    )


def directory_languages(district) -> list[str]:
    """The languages the district's partners offer, for the language filter (one query)."""
    from django.db import connection

    from partnerships.models import Partner

    table = connection.ops.quote_name(Partner._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT lang FROM {table}, unnest(languages) AS lang "  # noqa: S608
            "WHERE district_id = %s AND lang <> '' ORDER BY lang",
            [district.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def directory_search(
    membership,
    *,
    query: str = "",
    category: str = "",
    language: str = "",
    school_id=None,
    delivery_mode: str = "",
    payment: str = "",
    accepting: bool = False,
    stale: bool = False,
):
    """The district's partners, filtered, by name, with their services prefetched.

    Every word of `query` must match the name, description or one of the partner's
    services. A page of the result costs the same few queries however many rows it has.
    """
    from django.db.models import Exists, OuterRef, Q

    from partnerships.models import Intake, PartnerSchool, Service

    partners = partners_visible_to(membership)
    services = Service.objects.for_district(membership.district_id).filter(
        partner_id=OuterRef("pk")
    )
    for word in query.split()[:8]:
        partners = partners.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Exists(services.filter(Q(name__icontains=word) | Q(description__icontains=word)))
        )
    if category:
        partners = partners.filter(Exists(services.filter(category=category)))
    if language:
        partners = partners.filter(languages__contains=[language])
    if school_id:
        partners = partners.filter(
            Exists(
                PartnerSchool.objects.for_district(membership.district_id).filter(
                    partner_id=OuterRef("pk"), school_id=school_id
                )
            )
        )
    if delivery_mode:
        partners = partners.filter(delivery_modes__contains=[delivery_mode])
    if payment:
        partners = partners.filter(payments__contains=[payment])
    if accepting:
        partners = partners.filter(intake=Intake.ACCEPTING)
    if stale:
        cutoff = directory_stale_before(membership.district)
        partners = partners.filter(
            Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=cutoff)
        )
    return partners.prefetch_related("services").order_by("name", "pk")


def partner_page(membership, partner) -> dict:
    """What a partner's page shows: services, contacts, schools, MOUs and their goals.

    A fixed number of queries whatever the partner has. MOU links go to the MOU page.
    """
    from django.db.models import Prefetch

    from partnerships.models import (
        Contact,
        ContactRole,
        DeliveryMode,
        GoalProgress,
        MOUSchool,
        PartnerSchool,
        Payment,
        Service,
    )
    from schools.models import School

    district_id = membership.district_id
    labels = dict(service_categories(membership.district))
    services = list(
        Service.objects.for_district(district_id)
        .filter(partner=partner)
        .order_by("category", "name")
    )
    for service in services:
        service.category_label = labels.get(service.category, service.category)
    school_ids = (
        PartnerSchool.objects.for_district(district_id).filter(partner=partner).values("school_id")
    )
    schools = list(
        School.objects.for_district(district_id).filter(pk__in=school_ids).order_by("name")
    )
    mous = list(
        mous_visible_to(membership)  # a partner's own, and not drafts (still internal)
        .filter(partner=partner)
        .prefetch_related(
            "goals",
            Prefetch(
                "goals__progress",
                queryset=GoalProgress.objects.for_district(district_id).order_by("date", "pk"),
            ),
        )
        .order_by("-start_date", "-pk")
    )
    mou_schools = {}
    for link in (
        MOUSchool.objects.for_district(district_id).filter(mou__in=mous).select_related("school")
    ):
        mou_schools.setdefault(link.mou_id, []).append(link.school.name)
    goals = []
    for mou in mous:
        mou.url = mou_url(membership.district, mou.pk)
        mou.school_names = sorted(mou_schools.get(mou.pk, []))
        mou.service_labels = [labels.get(code, code) for code in mou.services]
        for goal in mou.goals.all():
            progress = list(goal.progress.all())
            goals.append({"mou": mou, "goal": goal, "latest": progress[-1] if progress else None})
    stale_before = directory_stale_before(membership.district)
    roles = dict(ContactRole.choices)
    contacts = list(
        Contact.objects.for_district(district_id).filter(partner=partner).order_by("name", "pk")
    )
    for contact in contacts:
        contact.role_labels = [roles.get(role, role) for role in contact.roles]
    modes, payments = dict(DeliveryMode.choices), dict(Payment.choices)
    return {
        "partner": partner,
        "services": services,
        "contacts": contacts,
        "delivery_labels": [modes.get(mode, mode) for mode in partner.delivery_modes],
        "payment_labels": [payments.get(p, p) for p in partner.payments],
        "schools": schools,
        "mous": mous,
        "goals": goals,
        "stale": partner.last_verified_at is None or partner.last_verified_at < stale_before,
        "freshness_days": freshness_days(membership.district),
    }


def partner_edit_rows(membership, partner) -> dict:
    """What the edit form starts from: the partner's school ids, services and contacts."""
    from partnerships.models import Contact, PartnerSchool, Service

    district_id = membership.district_id
    return {
        "school_ids": list(
            PartnerSchool.objects.for_district(district_id)
            .filter(partner=partner)
            .values_list("school_id", flat=True)
        ),
        "services": list(
            Service.objects.for_district(district_id)
            .filter(partner=partner)
            .order_by("category", "name", "pk")
        ),
        "contacts": list(
            Contact.objects.for_district(district_id).filter(partner=partner).order_by("name", "pk")
        ),
    }


def mou_url(district, mou_id: int) -> str:
    """The MOU's page: by its URL name once the MOU pages exist, else its known address."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("mou_detail", args=[district.slug, mou_id])
    except NoReverseMatch:
        return f"/{district.slug}/mous/{mou_id}/"


# MOUs in these states count as delivering services (the coverage map).
COVERING_MOU_STATUSES = ("active", "expiring")


def coverage_map(membership) -> dict:
    """Schools x service categories; each cell the partners with an active MOU covering it.

    A partner covers (school, category) when one of its MOUs is active or expiring, names
    the category among its services and the school among its schools. Four queries.
    """
    from partnerships.models import MOU, MOUSchool
    from schools.models import School

    district_id = membership.district_id
    categories = service_categories(membership.district)
    schools = list(School.objects.for_district(district_id).order_by("name"))
    mous = {
        mou.pk: mou
        for mou in MOU.objects.for_district(district_id)
        .filter(status__in=COVERING_MOU_STATUSES)
        .select_related("partner")
        .only("id", "services", "partner__id", "partner__name")
    }
    cells: dict[tuple[int, str], dict] = {}
    links = (
        MOUSchool.objects.for_district(district_id)
        .filter(mou__district_id=district_id, mou__status__in=COVERING_MOU_STATUSES)
        .values_list("mou_id", "school_id")
    )
    for mou_id, school_id in links:
        mou = mous.get(mou_id)
        if mou is None:  # changed status between the two reads
            continue
        for code in mou.services:
            cells.setdefault((school_id, code), {})[mou.partner.pk] = mou.partner.name
    rows = []
    gaps = 0
    for school in schools:
        row = []
        for code, label in categories:
            partners = sorted(cells.get((school.pk, code), {}).items(), key=lambda p: p[1].lower())
            gaps += not partners
            row.append({"code": code, "label": label, "partners": partners})
        rows.append({"school": school, "cells": row})
    return {"categories": categories, "rows": rows, "gaps": gaps}


# --- MOUs -----------------------------------------------------------------------------------


def mous_visible_to(membership):
    """The MOUs of the viewer's district; a partner sees only its own organisation's, and
    only once they have left the district (sent onwards: drafts stay internal)."""
    from partnerships.models import MOU
    from partnerships.services.mous import PARTNER_VISIBLE_STATUSES
    from schools.models import Role

    mous = MOU.objects.for_district(membership.district_id)
    if membership.role == Role.PARTNER:
        mous = mous.filter(
            partner_id=membership.partner_id, status__in=list(PARTNER_VISIBLE_STATUSES)
        )
    return mous


def mou_list(membership, *, status: str = "", partner_id=None):
    """The MOUs the viewer may see, filtered, with partner and current version number.

    One query for the rows whatever their number (the version is an aggregate).
    """
    from django.db.models import Max

    mous = (
        mous_visible_to(membership)
        .select_related("partner")
        .annotate(version_number=Max("versions__number"))
        .order_by("-updated_at", "-pk")
    )
    if status:
        mous = mous.filter(status=status)
    if partner_id:
        mous = mous.filter(partner_id=partner_id)
    return mous


# The MOUs under way (on their way to being signed, or coming up for renewal): the home
# page's MOU panel counts them.
MOUS_UNDER_WAY = ("internal_review", "sent", "partner_signed", "expiring")


def mou_status_counts(membership, statuses=MOUS_UNDER_WAY) -> dict[str, int]:
    """How many of the MOUs the viewer may see are in each of `statuses` (one query; a
    status no MOU is in is left out)."""
    from django.db.models import Count

    return dict(
        mous_visible_to(membership)
        .filter(status__in=list(statuses))
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )


def mou_partner_choices(membership) -> list:
    """Partners to filter the MOU list by (staff only: a partner sees its own anyway)."""
    from partnerships.models import Partner
    from schools.models import Role

    if membership.role == Role.PARTNER:
        return []
    return list(
        Partner.objects.for_district(membership.district_id).order_by("name").only("pk", "name")
    )


def mou_partners_for_drafting(membership):
    """Active partners of the district, by name (a queryset, for the draft form)."""
    from partnerships.models import Partner

    return Partner.objects.for_district(membership.district_id).filter(active=True).order_by("name")


def access_mou(membership, mou_id):
    """An MOU the viewer may see, with its partner and district, or 404 (one query).

    Partners reach only their own organisation's MOUs, and not drafts.
    """
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        mous_visible_to(membership).select_related("partner", "district", "created_by__user"),
        pk=mou_id,
    )


def reads_as_partner(membership) -> bool:
    """True for a partner's member, and for nobody signed in (the partner's emailed link)."""
    from schools.models import Role

    return membership is None or membership.role == Role.PARTNER


def partner_may_read_version():
    """A filter on MOUVersion: the versions a partner may read.

    Those sent to it (sent_at), those signed (locked_at: only a sent version is signed),
    and the current version of an MOU past internal review: an MOU leaves the district only
    by being sent, and any change after that makes it a draft again, so its current
    version is the one sent. Versions saved between two sends stay internal.
    """
    from django.db.models import Exists, OuterRef, Q

    from partnerships.models import MOUVersion
    from partnerships.services.mous import PARTNER_VISIBLE_STATUSES

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
    from partnerships.models import MOUVersion

    versions = MOUVersion.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if for_partner:
        versions = versions.filter(partner_may_read_version())
    return list(
        versions.select_related("created_by__user")
        .prefetch_related("signatures")
        .order_by("-number")
    )


def mou_comments(mou, *, for_partner: bool) -> list:
    """Review comments, oldest first. A partner sees its own side's (the district's
    internal review notes stay internal)."""
    from django.db.models import Q

    from partnerships.models import MOUComment

    comments = MOUComment.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if for_partner:
        comments = comments.filter(Q(membership=None) | Q(membership__partner_id=mou.partner_id))
    return list(comments.select_related("version").order_by("created_at", "pk"))


def mou_goals(mou) -> list:
    """The MOU's goals with their progress entries (date order) and where they stand."""
    from django.db.models import Prefetch

    from partnerships.models import Goal, GoalProgress

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
    import datetime

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
    from django.http import Http404

    from partnerships.models import MOUVersion
    from partnerships.services.mous import (
        SHARED_FIELD_LABELS,
        current_version,
        service_labels,
        terms_of,
        version_sections,
    )

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
    labels = service_labels(mou.district)
    # A version saved without terms (made outside the services) shows the MOU's own.
    terms = shown.terms or terms_of(mou, mou.schools.all())
    return {
        "term_start": _iso_date(terms.get("start_date")),
        "term_end": _iso_date(terms.get("end_date")),
        "latest": latest,
        "version": shown,
        "versions": versions,
        "sections": version_sections(shown, labels),
        "signatures": list(shown.signatures.all()) if shown.pk else [],
        "terms": terms,
        "service_names": [labels.get(c, c) for c in terms.get("services", [])],
        "shared_field_names": [
            str(SHARED_FIELD_LABELS.get(c, c)) for c in terms.get("shared_fields", [])
        ],
        "comments": mou_comments(mou, for_partner=for_partner),
        "goals": mou_goals(mou),
    }


def mou_templates_of(membership) -> list:
    """The district's own MOU templates, by name (the shipped one is not a row)."""
    from partnerships.models import MOUTemplate

    return list(MOUTemplate.objects.for_district(membership.district_id).order_by("name"))


def access_mou_template(membership, template_id):
    """One of the district's MOU templates, or 404."""
    from django.shortcuts import get_object_or_404

    from partnerships.models import MOUTemplate

    return get_object_or_404(
        MOUTemplate.objects.for_district(membership.district_id), pk=template_id
    )


def access_goal(membership, goal_id):
    """A goal of an MOU the viewer may see, with its MOU, or 404."""
    from django.shortcuts import get_object_or_404

    from partnerships.models import Goal

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
    from django.http import Http404
    from django.utils import formats

    from partnerships.models import MOUVersion
    from partnerships.services.mous import (
        SHARED_FIELD_LABELS,
        TERM_LABELS,
        service_labels,
        text_diff,
        version_sections,
    )

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


# === Documents (MOU PDFs) ====================================================================


def pdf_language_for(membership) -> str:
    """The language a PDF asked for by this person is written in: theirs, else the
    district's, else the site's."""
    from django.conf import settings

    return (
        membership.user.preferred_language
        or membership.district.default_language
        or settings.LANGUAGE_CODE
    )


def mou_pdf_panel(membership, mou) -> dict:
    """The PDF panel of an MOU: every version (newest first) with its latest PDF, if any.

    Two queries, whatever the number of versions; the PDF bytes are never loaded here.
    `preparing` is true while a PDF is queued (the panel then polls); `outdated` marks a
    ready PDF made before the version's latest signature (prepare it again to show it).
    A partner sees only the versions sent to it; each version's PDF is the newest in the
    viewer's `language` if there is one.
    """
    from django.db.models import Case, Count, Max, When

    from partnerships.models import MOUDocument, MOUVersion

    versions = MOUVersion.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    versions = list(
        versions.annotate(
            signature_count=Count("signatures"),
            # when the last signature was recorded: a PDF made before it lacks it
            last_signed_at=Max("signatures__created_at"),
        )
        .only("pk", "number", "created_at", "locked_at")
        .order_by("-number")
    )
    # Per version, the newest PDF in the viewer's language, else the newest in any.
    language = pdf_language_for(membership) if membership is not None else ""
    latest = {
        document.version_id: document
        for document in MOUDocument.objects.for_district(mou.district_id)
        .filter(version__mou_id=mou.pk)
        .defer("pdf")
        .annotate(other_language=Case(When(language=language, then=0), default=1))
        .order_by("version_id", "other_language", "-created_at", "-pk")
        .distinct("version_id")
    }
    rows = []
    for version in versions:
        document = latest.get(version.pk)
        outdated = bool(
            document is not None
            and document.status == MOUDocument.Status.READY
            and version.last_signed_at is not None
            and document.updated_at < version.last_signed_at
        )
        rows.append(
            {
                "version": version,
                "document": document,
                "signed": version.signature_count >= 2,
                "outdated": outdated,
            }
        )
    preparing = any(
        row["document"] is not None and row["document"].status == MOUDocument.Status.QUEUED
        for row in rows
    )
    return {"mou": mou, "rows": rows, "preparing": preparing, "language": language}


def access_mou_version(membership, version_id):
    """A version of an MOU the viewer may see (partners: their own, not drafts, and only
    versions sent to them), with its MOU, or 404 (one query)."""
    from django.shortcuts import get_object_or_404

    from partnerships.models import MOUVersion

    versions = MOUVersion.objects.for_district(membership.district_id).filter(
        mou__in=mous_visible_to(membership)
    )
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    return get_object_or_404(versions.select_related("mou"), pk=version_id)


def access_mou_document(membership, document_id):
    """A PDF of an MOU version the viewer may see (access_mou_version's rule), with its
    version and MOU, or 404 (one query)."""
    from django.shortcuts import get_object_or_404

    from partnerships.models import MOUDocument, MOUVersion

    versions = MOUVersion.objects.for_district(membership.district_id).filter(
        mou__in=mous_visible_to(membership)
    )
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    return get_object_or_404(
        MOUDocument.objects.for_district(membership.district_id)
        .filter(version__in=versions)
        .select_related("version__mou"),
        pk=document_id,
    )


def mou_actions(membership, mou) -> dict:
    """What the viewer may do with the MOU now (buttons shown); the services decide again."""
    from partnerships.services.mous import EDITABLE_STATUSES
    from schools.capabilities import can
    from schools.models import Role

    status = mou.status
    manage = can(membership, "mous.manage")
    own_partner = membership.role == Role.PARTNER and membership.partner_id == mou.partner_id
    return {
        "edit": manage and status in EDITABLE_STATUSES,
        "submit": manage and status == "draft",
        "approve": can(membership, "mous.approve") and status == "internal_review",
        "withdraw": manage and status in ("sent", "partner_signed"),
        "resend": manage and status == "sent",
        "partner_review": own_partner and can(membership, "mous.sign") and status == "sent",
        "district_sign": can(membership, "mous.sign")
        and membership.role != Role.PARTNER
        and status == "partner_signed",
        "terminate": can(membership, "mous.approve") and status in ("active", "expiring"),
        "goals": manage,
        "manage": manage,
    }


# === Funding ==================================================================================

# The mix shows at most this many years either side of the current one.
FUNDING_MIX_YEARS_AROUND = 5


def funding_sources(membership):
    """The district's funding sources, latest start first, with the partners and MOUs they
    pay for prefetched: three queries however many rows."""
    from django.db.models import Prefetch

    from partnerships.models import MOU, FundingSource, Partner

    district_id = membership.district_id
    return (
        FundingSource.objects.for_district(district_id)
        .prefetch_related(
            Prefetch(
                "partners",
                queryset=Partner.objects.for_district(district_id).order_by("name"),
            ),
            Prefetch(
                "mous",
                queryset=MOU.objects.for_district(district_id)
                .select_related("partner")
                .order_by("title"),
            ),
        )
        .order_by("-start_date", "funder", "pk")
    )


def access_funding(membership, funding_id):
    """A funding source of the viewer's district, with its partners and MOUs, or 404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(funding_sources(membership), pk=funding_id)


def funding_partner_choices(membership):
    from partnerships.models import Partner

    return Partner.objects.for_district(membership.district_id).order_by("name")


def funding_mou_choices(membership):
    from partnerships.models import MOU

    return (
        MOU.objects.for_district(membership.district_id)
        .select_related("partner")
        .order_by("title", "pk")
    )


def funding_year_of(day, basis: str) -> int:
    """The year a day counts in: its calendar year, or the school year (July to June)
    named by the year it starts in."""
    if basis == "calendar":
        return day.year
    return day.year if day.month >= 7 else day.year - 1


def funding_year_bounds(year: int, basis: str):
    import datetime

    if basis == "calendar":
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return datetime.date(year, 7, 1), datetime.date(year + 1, 6, 30)


def funding_year_label(year: int, basis: str) -> str:
    if basis == "calendar":
        return str(year)
    return f"{year}–{str(year + 1)[-2:]}"


def funding_spread(source, basis: str, *, first_year: int, last_year: int) -> dict:
    """How much of a source falls in each year from first_year to last_year: the amount
    is spread evenly over the days of its period, in cents. When the whole period lies in
    the range the parts add up to the amount exactly (the last year takes the rounding)."""
    from decimal import ROUND_HALF_UP, Decimal

    start, end = source.start_date, source.end_date
    total_days = (end - start).days + 1
    cent = Decimal("0.01")
    first = max(funding_year_of(start, basis), first_year)
    last = min(funding_year_of(end, basis), last_year)
    parts: dict[int, Decimal] = {}
    for year in range(first, last + 1):
        year_start, year_end = funding_year_bounds(year, basis)
        days = (min(end, year_end) - max(start, year_start)).days + 1
        if days > 0:
            parts[year] = (source.amount * days / total_days).quantize(cent, ROUND_HALF_UP)
    whole = funding_year_of(start, basis) >= first_year and funding_year_of(end, basis) <= last_year
    if whole and parts:
        last_key = max(parts)
        parts[last_key] = source.amount - sum(v for k, v in parts.items() if k != last_key)
    return parts


def funding_mix(sources, *, basis: str, today) -> dict:
    """Amount by kind per year (school or calendar), for the chart and its table.

    Years span the sources' periods, kept within FUNDING_MIX_YEARS_AROUND of the current
    year. Pure computation over `sources` (no query).
    """
    from decimal import Decimal

    from partnerships.models import FundingKind

    current = funding_year_of(today, basis)
    window_first = current - FUNDING_MIX_YEARS_AROUND
    window_last = current + FUNDING_MIX_YEARS_AROUND
    amounts: dict[tuple[int, str], Decimal] = {}
    for source in sources:
        for year, amount in funding_spread(
            source, basis, first_year=window_first, last_year=window_last
        ).items():
            amounts[(year, source.kind)] = amounts.get((year, source.kind), Decimal(0)) + amount
    present = {kind for _year, kind in amounts}
    kinds_used = [(code, label) for code, label in FundingKind.choices if code in present]
    years_used = sorted({year for year, _kind in amounts})
    years = []
    if years_used:
        for year in range(years_used[0], years_used[-1] + 1):
            parts = [
                {"kind": code, "label": label, "amount": amounts.get((year, code), Decimal(0))}
                for code, label in kinds_used
            ]
            years.append(
                {
                    "year": year,
                    "label": funding_year_label(year, basis),
                    "parts": parts,
                    "total": sum((p["amount"] for p in parts), Decimal(0)),
                    "current": year == current,
                }
            )
    totals = [
        {
            "kind": code,
            "label": label,
            "amount": sum((amounts.get((y["year"], code), Decimal(0)) for y in years), Decimal(0)),
        }
        for code, label in kinds_used
    ]
    return {
        "basis": basis,
        "years": years,
        "kinds": kinds_used,
        "totals": totals,
        "grand_total": sum((t["amount"] for t in totals), Decimal(0)),
    }


def funding_expiring(sources, *, today, within_days: int = 90) -> list:
    """Sources whose period ends between today and `within_days` from now, soonest first."""
    import datetime

    until = today + datetime.timedelta(days=within_days)
    ending = [s for s in sources if today <= s.end_date <= until]
    for source in ending:
        source.days_left = (source.end_date - today).days
    return sorted(ending, key=lambda s: (s.end_date, s.funder))


# === Stories ==================================================================================


def stories_visible_to(membership):
    """Success stories the membership may see.

    A partner sees only its own organisation's, and a role that sees no students (viewer)
    any, only once publishable, since a story not yet reviewed may identify a student; a
    membership limited to some schools, those schools' stories and stories of no school.
    School limits are a subquery: looking up and authorising stay one query.
    """
    from django.db.models import Exists, OuterRef, Q

    from partnerships.models import SuccessStory
    from schools.models import MembershipSchool, Role

    stories = SuccessStory.objects.for_district(membership.district_id)
    if membership.role == Role.PARTNER:
        # Before consent and review a story is still the district's (it may identify a
        # student); the partner sees it once it is publishable.
        return stories.filter(partner_id=membership.partner_id, publishable=True)
    if not membership.sees_students:
        stories = stories.filter(publishable=True)
    limits = MembershipSchool.objects.for_district(membership.district_id).filter(
        membership_id=membership.pk
    )
    return stories.filter(
        ~Exists(limits)
        | Q(school__isnull=True)
        | Q(Exists(limits.filter(school_id=OuterRef("school_id"))))
    )


STORY_FILTERS = ("needs_consent", "needs_review", "ready", "publishable")


def story_list(membership, *, state: str = ""):
    """Stories the viewer may see, newest first, with partner, school and who did what:
    one query however many rows. `state` narrows to one step of the way to publication."""
    from django.db.models import Q

    stories = (
        stories_visible_to(membership).select_related("partner", "school").order_by("-date", "-pk")
    )
    if state == "needs_consent":
        stories = stories.filter(consent_at__isnull=True)
    elif state == "needs_review":
        stories = stories.filter(reviewed_at__isnull=True)
    elif state == "ready":
        stories = stories.filter(
            Q(consent_at__isnull=False) & Q(reviewed_at__isnull=False), publishable=False
        )
    elif state == "publishable":
        stories = stories.filter(publishable=True)
    return stories


def access_story(membership, story_id):
    """A story the viewer may see, with partner, school and the people who recorded
    consent and reviewed it, or 404 (one query)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        stories_visible_to(membership).select_related(
            "partner", "school", "consent_recorded_by__user", "reviewed_by__user"
        ),
        pk=story_id,
    )


def publishable_stories(membership) -> list:
    """The publishable stories the viewer may see, newest first (the newsletter export)."""
    return list(
        stories_visible_to(membership)
        .filter(publishable=True)
        .select_related("partner", "school")
        .order_by("-date", "-pk")
    )


def story_partner_choices(membership):
    from partnerships.models import Partner

    return Partner.objects.for_district(membership.district_id).order_by("name")


def story_school_choices(membership):
    """Schools a story may be about: the membership's own when it is limited to some."""
    from schools.models import MembershipSchool, School

    schools = School.objects.for_district(membership.district_id).order_by("name")
    limits = (
        MembershipSchool.objects.for_district(membership.district_id)
        .filter(membership_id=membership.pk)
        .values("school_id")
    )
    if limits.exists():
        schools = schools.filter(pk__in=limits)
    return schools
