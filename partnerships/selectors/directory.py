"""Reads of the partner directory: partners, their services and contacts, freshness, the
coverage map. Partners see only their own organization."""

from __future__ import annotations

import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.db import connection, models
from django.db.models import Exists, Func, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation

from core.languages import base_code
from core.search import search_words, searchable
from partnerships.models import (
    MOU,
    SERVICE_TAXONOMY,
    Contact,
    ContactRole,
    DeliveryMode,
    Goal,
    GoalProgress,
    Intake,
    MOUSchool,
    Partner,
    PartnerSchool,
    Payment,
    Service,
    ServiceCategory,
)
from partnerships.mou_rules import in_force_q
from partnerships.selectors.categories import service_categories
from partnerships.selectors.mous import mou_url, mous_visible_to
from schools.models import School


def freshness_days(district) -> int:
    """Days a listing stays fresh after it was verified (the district's setting)."""
    return district.directory_freshness_days


def directory_stale_before(district, now=None):
    """Listings verified before this moment (or never) are stale."""
    return (now or timezone.now()) - datetime.timedelta(days=freshness_days(district))


def partners_visible_to(membership):
    """Partners the membership may see: the district's, or a partner's own organization only."""
    partners = Partner.objects.for_district(membership.district_id)
    if membership.partner_id is not None:
        partners = partners.filter(pk=membership.partner_id)
    return partners


def access_partner(membership, partner_id: int):
    """A partner the membership may see, or 404 (one query; partners see only their own)."""
    return get_object_or_404(partners_visible_to(membership), pk=partner_id)


def partner_contacts_with_email(membership, partner):
    """The partner's contacts who can receive email (a queryset, for form choices): with an
    address, and not unsubscribed (the same rule as services.unsubscribe.mailable)."""
    return (
        Contact.objects.for_district(membership.district_id)
        .filter(partner=partner, unsubscribed_at__isnull=True)
        .exclude(email="")
        .order_by("name", "pk")
    )


def contacts_with_email(contacts) -> list:
    """Of contacts already read, those who can receive email: the rule of
    partner_contacts_with_email (and services.unsubscribe.mailable), without a query."""
    return [c for c in contacts if c.email and c.unsubscribed_at is None]


def directory_languages(district) -> list[str]:
    """The codes of the languages the district's partners offer, for the language filter
    (one query; the form names them in the reader's language)."""
    table = connection.ops.quote_name(Partner._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT lang FROM {table}, unnest(languages) AS lang "  # noqa: S608
            "WHERE district_id = %s AND lang <> '' ORDER BY lang",
            [district.pk],
        )
        return [row[0] for row in cursor.fetchall()]


class _BaseLanguages(Func):
    """A partner's languages without their regions: {es-mx, vi} -> {es, vi}."""

    template = "ARRAY(SELECT split_part(lang, '-', 1) FROM unnest(%(expressions)s) AS lang)"
    output_field = ArrayField(models.TextField())


def partners_speaking(partners, language: str):
    """The partners of `partners` (a queryset) that offer `language`, compared by base
    language: a partner listing "es" serves a family whose language is "es-mx", and one
    listing "es-mx" a family with "es"."""
    base = base_code(language)
    if not base:
        return partners
    return partners.alias(language_bases=_BaseLanguages("languages")).filter(
        language_bases__contains=[base]
    )


def _categories_named(district, words: list[str]) -> dict[str, list[str]]:
    """For each word, the codes of the service categories (shipped and the district's own)
    whose name, in the reader's language or in English, or code has a word starting with
    it. One query (the district's own categories)."""
    named = []
    for code, label in service_categories(district):
        with translation.override("en"):
            english = str(dict(SERVICE_TAXONOMY).get(code, ""))
        named.append((code, searchable(code.replace("_", " "), label, english).split()))
    return {
        word: [code for code, names in named if any(n.startswith(word) for n in names)]
        for word in words
    }


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

    Every word of `query` must start a word of the name, the description or one of the
    partner's services (Partner.search_text), or of the name of a service category the
    partner offers; accents and case are ignored and US and British spellings are one
    ("counseling" finds "counselling"). A page of the result costs the same few queries
    however many rows it has.
    """
    partners = partners_visible_to(membership)
    services = Service.objects.for_district(membership.district_id).filter(
        partner_id=OuterRef("pk")
    )
    words = search_words(query)
    if words:
        # The district's partners come from its index (district first); the words are
        # matched by full-text search on their folded text's stored words
        # (Partner.search_vector), each as a prefix. An index on the words could not serve
        # under row-level security: @@ is not leakproof.
        codes_by_word = _categories_named(membership.district, words)
        for word in words:
            matches = Q(search_vector=SearchQuery(f"{word}:*", search_type="raw", config="simple"))
            if codes_by_word[word]:
                matches |= Exists(services.filter(category__in=codes_by_word[word]))
            partners = partners.filter(matches)
    if category:
        partners = partners.filter(Exists(services.filter(category=category)))
    if language:
        partners = partners_speaking(partners, language)
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
    # Each goal's latest progress, and each MOU's school names, as subqueries of the rows
    # that show them (the page needs no more of either).
    progress = GoalProgress.objects.filter(
        district_id=OuterRef("district_id"), goal_id=OuterRef("pk")
    ).order_by("-date", "-pk")
    mous = list(
        mous_visible_to(membership)  # a partner's own, and not drafts (still internal)
        .filter(partner=partner)
        .annotate(
            school_names=ArraySubquery(
                MOUSchool.objects.filter(district_id=OuterRef("district_id"), mou_id=OuterRef("pk"))
                .order_by("school__name")
                .values("school__name")
            )
        )
        .prefetch_related(
            Prefetch(
                "goals",
                queryset=Goal.objects.for_district(district_id).annotate(
                    latest_value=Subquery(progress.values("value")[:1]),
                    latest_date=Subquery(progress.values("date")[:1]),
                ),
            )
        )
        .order_by("-start_date", "-pk")
    )
    goals = []
    for mou in mous:
        mou.url = mou_url(membership.district, mou.pk)
        mou.service_labels = [labels.get(code, code) for code in mou.services]
        for goal in mou.goals.all():
            latest = None
            if goal.latest_date is not None:
                latest = {"value": goal.latest_value, "date": goal.latest_date}
            goals.append({"mou": mou, "goal": goal, "latest": latest})
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


# --- The coverage map -------------------------------------------------------------------------


def coverage_map(membership) -> dict:
    """Schools x service categories; each cell the partners with an MOU in force covering it.

    A partner covers (school, category) when one of its MOUs is in force today
    (mou_rules.in_force_q: signed, and today within its term), names the category among
    its services and the school among its schools. Four queries; the rest is one pass over
    the (MOU, school) links read as tuples (a large district has tens of thousands of
    partner-cells: model instances and a sort per cell cost more than the queries).
    """
    district_id = membership.district_id
    today = membership.district.today()
    # Labels as text once: the page shows each many times over.
    categories = [(code, str(label)) for code, label in service_categories(membership.district)]
    schools = list(School.objects.for_district(district_id).order_by("name"))
    in_force = (
        MOU.objects.for_district(district_id)
        .filter(in_force_q(today))
        .values_list("id", "services", "partner_id", "partner__name")
    )
    # By partner name, so that each cell's partners come out in that order as they are met.
    mous = {
        mou_id: (services, partner_id, name)
        for mou_id, services, partner_id, name in sorted(
            in_force, key=lambda mou: (mou[3].lower(), mou[3], mou[2])
        )
    }
    rank = {mou_id: position for position, mou_id in enumerate(mous)}
    links = sorted(
        (
            MOUSchool.objects.for_district(district_id)
            .filter(in_force_q(today, prefix="mou"), mou__district_id=district_id)
            .values_list("mou_id", "school_id")
        ),
        key=lambda link: rank.get(link[0], -1),
    )
    cells: dict[tuple[int, str], dict] = {}
    for mou_id, school_id in links:
        mou = mous.get(mou_id)
        if mou is None:  # changed between the two reads
            continue
        services, partner_id, name = mou
        for code in services:
            cells.setdefault((school_id, code), {})[partner_id] = name
    rows = []
    gaps = 0
    for school in schools:
        row = []
        for code, label in categories:
            partners = list(cells.get((school.pk, code), {}).items())
            gaps += not partners
            row.append({"code": code, "label": label, "partners": partners})
        rows.append({"school": school, "cells": row})
    return {"categories": categories, "rows": rows, "gaps": gaps}


def coverage_version(district) -> str:
    """What the district's coverage map is drawn from (coverage_map, service_categories),
    as it stands today, in one statement: for each source table, its rows' count and a
    sum of a hash of where and by which transaction each row was written (ctid, xmin).
    Every insert, update and delete changes it, whatever wrote the row (a form, a
    queryset update, an import, psql): an update writes a new row version at a new place,
    in a new transaction or a later step of the same one. MOU schools are hashed by what
    they are, the pair of ids, and only those of the MOUs in force today (a large
    district's 16,000 of 52,000): the others' schools show nowhere until their MOU comes
    into force, which changes the MOU's row. 13 ms for the benchmark's large district on
    a slow machine, where drawing the map takes about 80."""
    in_force, in_force_params = (
        MOU.objects.for_district(district.pk)
        .filter(in_force_q(district.today()))
        .values("id")
        .query.sql_with_params()
    )
    parts, params = [], []
    for model in (MOU, MOUSchool, Partner, School, ServiceCategory):
        table = connection.ops.quote_name(model._meta.db_table)
        where = f"{table}.district_id = %s"
        params.append(district.pk)
        row = f"hashtext({table}.xmin::text || {table}.ctid::text)"
        if model is MOUSchool:
            # A link is its two ids and nothing else: hashed from the unique index alone
            # (reading the rows themselves took 17 ms).
            where += f" AND {table}.mou_id IN ({in_force})"
            params.extend(in_force_params)
            row = "hashint8((mou_id::bigint << 32) + school_id)"
        parts.append(
            f"(SELECT count(*) || '.' || coalesce(sum({row}), 0) "  # noqa: S608
            f"FROM {table} WHERE {where})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " || ':' || ".join(parts), params)
        return cursor.fetchone()[0]


def coverage_cell(membership, *, school_id, code: str) -> dict | None:
    """One cell of the coverage map whole: the partners with an MOU in force that covers
    `school_id` and names the category `code`, by name (as in the map). None when the
    school is not one of the district's or the category is not one of its categories.
    Three queries."""
    district_id = membership.district_id
    labels = dict(service_categories(membership.district))
    if code not in labels or not isinstance(school_id, int):
        return None
    school = School.objects.for_district(district_id).filter(pk=school_id).first()
    if school is None:
        return None
    covering = MOUSchool.objects.for_district(district_id).filter(
        in_force_q(membership.district.today(), prefix="mou"),
        mou__district_id=district_id,
        mou__partner_id=OuterRef("pk"),
        mou__services__contains=[code],
        school_id=school.pk,
    )
    partners = sorted(
        Partner.objects.for_district(district_id)
        .filter(Exists(covering))
        .values_list("pk", "name"),
        key=lambda partner: (partner[1].lower(), partner[1], partner[0]),
    )
    return {"school": school, "code": code, "label": str(labels[code]), "partners": partners}
