"""Partners (services, contacts, schools served), their staff, MOUs with their versions,
schools, signatures, renewal notices and goals, a template, and funding sources.

Each partner's MOUs form a history: agreements one after the other, the older ones
expired (now and then terminated), the latest active, expiring, lapsed, terminated, or a
renewal on its way (draft, in review, sent, signed by the partner). Statuses agree with
the dates as the nightly sweep would leave them (active MOUs end more than 60 days out;
expiring ones have the renewal notices they are owed), versions and signatures with the
statuses (a signed version is locked; the partner signs first).
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.utils import translation
from psycopg.types.json import Jsonb

from core.search import searchable
from partnerships.models import (
    MOU,
    SERVICE_TAXONOMY,
    Contact,
    FundingMOU,
    FundingPartner,
    FundingSource,
    Goal,
    MOURenewalNotice,
    MOUSchool,
    MOUSignature,
    MOUStatus,
    MOUTemplate,
    MOUVersion,
    Partner,
    PartnerSchool,
    Service,
    ServiceCategory,
)
from partnerships.mou_rules import (
    COVERING_MOU_STATUSES,
    PARTNER_VISIBLE_STATUSES,
    SHARED_FIELDS,
    default_template_sections,
)
from schools.models import Role
from tests.bench.seed import names
from tests.bench.seed.base import (
    DistrictSeed,
    Seed,
    ascii_slug,
    business_moment,
    copy_rows,
    days_ago,
    new_ids,
    weighted,
)
from tests.bench.seed.schools import add_people, adult_name, signin_person

STAMPS = ["created_at", "updated_at"]
DAY = datetime.timedelta(days=1)
SIGNED = (
    MOUStatus.PARTNER_SIGNED,
    MOUStatus.ACTIVE,
    MOUStatus.EXPIRING,
    MOUStatus.EXPIRED,
    MOUStatus.TERMINATED,
)
# The latest MOU of a partner; those before it expired (or now and then were terminated).
LATEST_STATUS = [
    (MOUStatus.ACTIVE, 48),
    (MOUStatus.EXPIRING, 10),
    (MOUStatus.EXPIRED, 8),
    (MOUStatus.TERMINATED, 7),
    (MOUStatus.DRAFT, 10),
    (MOUStatus.INTERNAL_REVIEW, 6),
    (MOUStatus.SENT, 7),
    (MOUStatus.PARTNER_SIGNED, 4),
]
CHAIN_LENGTHS = [(0, 10), (1, 35), (2, 28), (3, 15), (4, 8), (5, 4)]
TERM_PHRASES = {
    "mental_health": "school-based mental health services",
    "social_services": "family support services",
    "healthcare": "school health services",
    "youth": "mentoring and youth development",
    "faith_cultural": "family and cultural liaison services",
    "other": "student support services",
}
DISTRICT_SIGNER_TITLES = [
    "Superintendent",
    "Assistant Superintendent",
    "Director of Student Services",
    "Chief of Student Support",
]


def build(ctx: Seed) -> dict[str, int]:
    with translation.override("en"):
        template = default_template_sections()
    for district in ctx.districts:
        rng = ctx.rng("partnerships", district.slug)
        categories = _categories(ctx, rng, district)
        chains = _plan_chains(ctx, rng, district)
        _partners(ctx, rng, district, categories, chains)
        plans = [
            {**term, "partner": partner}
            for partner, chain in zip(district.partners, chains, strict=True)
            for term in chain
        ]
        _partner_people(ctx, rng, district, plans)
        _mous(ctx, rng, district, plans, template)
        _template(ctx, rng, district, template)
        _funding(ctx, rng, district)
    keys = ("partners", "services", "contacts", "mous", "mou_versions", "funding_sources")
    return {key: ctx.counts.get(key, 0) for key in keys}


def _stamp(ctx: Seed, rng, district: DistrictSeed, earliest: int, latest: int):
    moment = business_moment(rng, district.zone, days_ago(ctx.today, rng.randint(latest, earliest)))
    return max(moment, district.created_at + DAY)


# --- Directory -----------------------------------------------------------------------------


def _categories(ctx: Seed, rng, district: DistrictSeed) -> list[str]:
    """The district's own categories (ServiceCategory rows); the big district has them all."""
    k = len(names.DISTRICT_CATEGORIES) if district.slug == "bench-large" else rng.randint(0, 2)
    own = rng.sample(names.DISTRICT_CATEGORIES, k)
    rows = []
    for code, name in own:
        at = _stamp(ctx, rng, district, 400, 30)
        rows.append((at, at, code, name, district.id))
    fields = [*STAMPS, "code", "name", "district_id"]
    ctx.count("service_categories", copy_rows(ctx.conn, ServiceCategory, fields, rows))
    return [code for code, _name in own]


def _partner_name(rng, district: DistrictSeed, kind: str, used: set[str]) -> str:
    suffixes = names.PARTNER_SUFFIXES[kind]
    for attempt in range(50):
        draw = rng.random()
        if draw < 0.6:
            prefix = rng.choice(names.PARTNER_PREFIXES)
        elif draw < 0.8:
            prefix = district.city
        else:
            prefix = adult_name(rng)[1]
        name = f"{prefix} {rng.choice(suffixes)}"
        if attempt > 20:
            name = f"{name} of {district.city}"
        if attempt > 40:
            name = f"{name} {attempt}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("no partner name left")  # 50 draws: never in practice


def _age_range(rng) -> tuple[int | None, int | None]:
    return rng.choice([(5, 18), (3, 21), (11, 18), (14, 21), (None, None), (0, 18), (12, None)])


def _partners(
    ctx: Seed, rng, district: DistrictSeed, own_categories: list[str], chains: list[list[dict]]
) -> None:
    ids = new_ids(ctx.conn, Partner, len(chains))
    school_ids = [s.id for s in district.schools]
    shipped = {code for code, _label in SERVICE_TAXONOMY}
    used: set[str] = set()
    partners, served, services, contacts = [], [], [], []
    for pk, chain in zip(ids, chains, strict=True):
        kind = weighted(rng, names.PARTNER_KINDS)
        name = _partner_name(rng, district, kind, used)
        domain = f"{ascii_slug(name)[:40]}.example.org"
        created = _stamp(ctx, rng, district, 1000, 20)
        if chain:  # in the directory before its first MOU was drafted
            first = chain[0]["start"] or ctx.today
            listed = first - datetime.timedelta(days=rng.randint(130, 300))
            created = min(created, business_moment(rng, district.zone, listed))
            created = max(created, district.created_at + DAY)
        area = rng.choice(district.area_codes)
        languages = ["en"] + (["es"] if rng.random() < 0.6 else [])
        if rng.random() < 0.15:
            languages.append(rng.choices(*zip(*names.LANGUAGE_TAIL, strict=True))[0])
        clinical = kind in ("mental_health", "healthcare")
        modes = [
            m
            for m, p in (
                ("on_site", 0.7),
                ("telehealth", 0.5 if clinical else 0.1),
                ("at_partner", 0.5),
            )
            if rng.random() < p
        ] or ["on_site"]
        if clinical:
            payments = [
                p
                for p, q in (
                    ("medicaid", 0.75),
                    ("private", 0.5),
                    ("sliding_scale", 0.4),
                    ("free", 0.15),
                )
                if rng.random() < q
            ]
        else:
            payments = ["free"] if rng.random() < 0.85 else ["sliding_scale"]
        min_age, max_age = _age_range(rng)
        verified_at, verified_by = None, ""
        contact_names = [adult_name(rng) for _ in range(rng.choices((1, 2, 3), (45, 35, 20))[0])]
        if rng.random() < 0.9:
            age = rng.randint(1, 150) if rng.random() < 0.7 else rng.randint(150, 700)
            verified_at = max(
                created, business_moment(rng, district.zone, days_ago(ctx.today, age))
            )
            verified_by = " ".join(contact_names[0])
        partners.append(
            (
                pk,
                created,
                verified_at or created,
                name,
                district.id,
                rng.random() > 0.05,
                f"{rng.randint(100, 9899)} {rng.choice(names.STREETS)} "
                f"{rng.choice(names.STREET_KINDS)}"
                if rng.random() < 0.85
                else "",
                None if rng.random() < 0.5 else rng.randint(0, 40),
                district.city,
                modes,
                _description(kind, district),
                "" if rng.random() < 0.8 else f"Families living in or near {district.city}.",
                f"info@{domain}" if rng.random() < 0.8 else "",
                weighted(rng, [("accepting", 70), ("waitlist", 20), ("closed", 10)]),
                kind,
                languages,
                verified_at,
                verified_by,
                max_age,
                min_age,
                payments,
                f"{area}-555-01{rng.randint(0, 99):02d}",
                f"{rng.randint(10000, 99999)}",
                district.state,
                f"https://www.{domain}",
            )
        )
        # Schools served: most partners a handful, a few the whole district.
        draw = rng.random()
        count = (
            rng.randint(1, 2)
            if draw < 0.3
            else rng.randint(3, 10)
            if draw < 0.7
            else rng.randint(10, 40)
            if draw < 0.92
            else len(school_ids)
        )
        mine = sorted(rng.sample(school_ids, min(count, len(school_ids))))
        served += [(created, created, district.id, pk, school_id) for school_id in mine]
        # Services: 1 to 5, in the categories this kind of organisation offers.
        pool = list(names.CATEGORIES_BY_KIND[kind])
        if own_categories and rng.random() < 0.15:
            pool.append(rng.choice(own_categories))
        cats = rng.sample(
            pool, min(len(pool), rng.choices((1, 2, 3, 4, 5), (25, 30, 25, 12, 8))[0])
        )
        for category in cats:
            label = (
                rng.choice(names.SERVICE_NAMES.get(category, [""])) if category in shipped else ""
            )
            description = f"{label or 'Services'} for students and families." if label else ""
            services.append((created, created, category, label, description, district.id, pk))
        for i, (first, last) in enumerate(contact_names):
            role = ["leadership", "intake", "billing"][i] if i < 3 else "intake"
            roles = [role] if rng.random() < 0.8 else sorted({role, "intake"})
            unsubscribed = None
            if rng.random() < 0.02:
                unsubscribed = business_moment(
                    rng, district.zone, days_ago(ctx.today, rng.randint(1, 200))
                )
                unsubscribed = max(unsubscribed, created + DAY)
            contacts.append(
                (
                    created,
                    created,
                    f"{first} {last}",
                    rng.choice(names.CONTACT_TITLES[role]),
                    f"{ascii_slug(first + '.' + last, '.')}@{domain}"
                    if rng.random() < 0.85
                    else "",
                    f"{area}-555-01{rng.randint(0, 99):02d}" if rng.random() < 0.7 else "",
                    "es" if last in names.HISPANIC_SURNAMES and rng.random() < 0.2 else "",
                    roles,
                    rng.random() < 0.5,
                    district.id,
                    pk,
                    unsubscribed,
                )
            )
        district.partners.append(
            {
                "id": pk,
                "name": name,
                "kind": kind,
                "categories": cats,
                "school_ids": mine,
                "contacts": [(f"{first} {last}") for first, last in contact_names],
                "domain": domain,
                "created_at": created,
            }
        )
    partner_fields = [
        "id",
        *STAMPS,
        "name",
        "district_id",
        "active",
        "address",
        "capacity",
        "city",
        "delivery_modes",
        "description",
        "eligibility",
        "email",
        "intake",
        "kind",
        "languages",
        "last_verified_at",
        "last_verified_by",
        "max_age",
        "min_age",
        "payments",
        "phone",
        "postal_code",
        "state",
        "website",
        "search_text",
    ]
    # Partner.search_text, as Partner.save() and Partner.refresh_search() keep it: the
    # name, the description and the services' names and descriptions.
    service_texts: dict[int, list[str]] = {}
    for row in services:
        service_texts.setdefault(row[6], []).extend((row[3], row[4]))
    partners = [
        (*row, searchable(row[3], row[10], *service_texts.get(row[0], ()))) for row in partners
    ]
    conn = ctx.conn
    ctx.count("partners", copy_rows(conn, Partner, partner_fields, partners))
    link = [*STAMPS, "district_id", "partner_id", "school_id"]
    ctx.count("partner_schools", copy_rows(conn, PartnerSchool, link, served))
    service_fields = [*STAMPS, "category", "name", "description", "district_id", "partner_id"]
    ctx.count("services", copy_rows(conn, Service, service_fields, services))
    contact_fields = [
        *STAMPS,
        "name",
        "title",
        "email",
        "phone",
        "preferred_language",
        "roles",
        "reminders",
        "district_id",
        "partner_id",
        "unsubscribed_at",
    ]
    ctx.count("contacts", copy_rows(conn, Contact, contact_fields, contacts))


_DESCRIPTIONS = {
    "mental_health": "Licensed clinicians offering counseling and therapy for children, teens "
    "and families in {city} schools and at our clinic.",
    "social_services": "Help with food, housing and emergencies for families in {city}.",
    "healthcare": "Primary care, screenings and behavioral health for young people.",
    "youth": "Mentors and after-school programs that keep young people connected.",
    "faith_cultural": "A community center that supports families in their own language.",
    "other": "Community services for students and families in {city}.",
}


def _description(kind: str, district: DistrictSeed) -> str:
    return _DESCRIPTIONS[kind].format(city=district.city)


# --- MOUs ----------------------------------------------------------------------------------


def _next_july_first(day: datetime.date) -> datetime.date:
    july = datetime.date(day.year, 7, 1)
    return july if july > day else datetime.date(day.year + 1, 7, 1)


def _last_july_first(day: datetime.date) -> datetime.date:
    july = datetime.date(day.year, 7, 1)
    return july if july <= day else datetime.date(day.year - 1, 7, 1)


def _years(day: datetime.date, years: int) -> datetime.date:
    if day.month == 2 and day.day == 29:
        day = day - DAY
    return day.replace(year=day.year + years)


def _chain(rng, today: datetime.date, length: int, status: str | None = None) -> list[dict]:
    """One partner's MOUs, oldest first: status, term and termination."""
    status = status or weighted(rng, LATEST_STATUS)
    terminated_at = None
    if status == MOUStatus.ACTIVE:
        start = _last_july_first(today)
        if rng.random() < 0.3:
            start = _years(start, -1)  # a two-year agreement
        end = _years(start, 1) - DAY
        while end <= today + datetime.timedelta(days=60):
            end = _years(end, 1)
    elif status == MOUStatus.EXPIRING:
        end = today + datetime.timedelta(days=rng.randint(1, 59))
        start = _years(end, -1) + DAY
    elif status == MOUStatus.EXPIRED:
        end = today - datetime.timedelta(days=rng.randint(5, 300))
        start = _years(end, -1) + DAY
    elif status == MOUStatus.TERMINATED:
        start = _last_july_first(today - datetime.timedelta(days=45))
        end = _years(start, 1) - DAY
        terminated_at = start + datetime.timedelta(days=rng.randint(30, (today - start).days))
    else:  # a renewal or a first agreement on its way
        start = _next_july_first(today + datetime.timedelta(days=rng.randint(0, 60)))
        end = _years(start, 1) - DAY
    latest = {"status": status, "start": start, "end": end, "terminated_on": terminated_at}
    if status == MOUStatus.DRAFT and rng.random() < 0.1:
        latest.update(start=None, end=None)  # dates not agreed yet
    chain = [latest]
    next_start = start or _next_july_first(today)
    for _ in range(length - 1):
        end = next_start - DAY
        start = _years(end, -1) + DAY
        if end >= today:
            # The agreement now in force, while its renewal is drafted and signed.
            days_left = (end - today).days
            status = MOUStatus.ACTIVE if days_left > 60 else MOUStatus.EXPIRING
            terminated = None
        elif rng.random() < 0.08:
            status = MOUStatus.TERMINATED
            terminated = start + datetime.timedelta(days=rng.randint(30, 300))
        else:
            status, terminated = MOUStatus.EXPIRED, None
        chain.append({"status": status, "start": start, "end": end, "terminated_on": terminated})
        next_start = start
    return chain[::-1]


def _plan_chains(ctx: Seed, rng, district: DistrictSeed) -> list[list[dict]]:
    """Each partner's chain of MOUs, as many in all as the district's size asks."""
    target = district.sizes["mous"]
    lengths = [weighted(rng, CHAIN_LENGTHS) for _ in range(district.sizes["partners"])]
    total = sum(lengths)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    k = 0
    while total != target and k < 20 * len(order):
        i = order[k % len(order)]
        if total < target and lengths[i] < 6:
            lengths[i] += 1
            total += 1
        elif total > target and lengths[i] > 0:
            lengths[i] -= 1
            total -= 1
        k += 1
    chains = [_chain(rng, ctx.today, length) if length else [] for length in lengths]
    # However small the district, one MOU in force (for the partner account, the coverage).
    if not any(t["status"] in COVERING_MOU_STATUSES for chain in chains for t in chain):
        i = next((i for i, length in enumerate(lengths) if length), 0)
        chains[i] = _chain(rng, ctx.today, max(1, lengths[i]), MOUStatus.ACTIVE)
    return chains


def _partner_people(ctx: Seed, rng, district: DistrictSeed, plans: list[dict]) -> None:
    """Staff of partner organisations with MOUs they can see: a member or two for some,
    and the benchmark's sign-in partner account in the partner with the most MOUs."""
    visible: dict[int, int] = {}
    in_force: set[int] = set()
    for plan in plans:
        if plan["status"] in PARTNER_VISIBLE_STATUSES:
            visible[plan["partner"]["id"]] = visible.get(plan["partner"]["id"], 0) + 1
        if plan["status"] in COVERING_MOU_STATUSES:
            in_force.add(plan["partner"]["id"])
    if not visible:  # a tiny district: still a partner account to sign in with
        first = next((p["partner"]["id"] for p in plans), district.partners[0]["id"])
        visible[first] = 0
    best = max(visible, key=lambda pk: (pk in in_force, visible[pk], -pk))
    people = [signin_person(ctx, district, Role.PARTNER, partner_id=best)]
    by_id = {p["id"]: p for p in district.partners}
    for partner_id in visible:
        if rng.random() >= 0.3:
            continue
        partner = by_id[partner_id]
        for _ in range(rng.choice((1, 1, 2))):
            first, last = adult_name(rng)
            people.append(
                {
                    "role": Role.PARTNER,
                    "name": f"{first} {last}",
                    "email": ctx.unique_email(f"{first}.{last}", partner["domain"]),
                    "partner_id": partner_id,
                    "joined": partner["created_at"] + datetime.timedelta(days=rng.randint(1, 60)),
                    "active": rng.random() > 0.05,
                }
            )
    add_people(ctx, rng, district, people)


def _moments(rng, district: DistrictSeed, first: datetime.date, count: int, limit) -> list:
    """`count` moments in order from `first`, a few days apart, none after `limit`."""
    days, day = [], first
    for _ in range(count):
        days.append(min(day, limit))
        day += datetime.timedelta(days=rng.randint(1, 12))
    moments = sorted(business_moment(rng, district.zone, d) for d in days)
    return moments


def _edit(rng, sections: dict) -> dict:
    """The next version: one or two sections changed as negotiations change them."""
    sections = dict(sections)
    for _ in range(rng.choice((1, 1, 2))):
        for section, old, new in rng.sample(names.SECTION_EDITS, len(names.SECTION_EDITS)):
            if old in sections[section]:
                sections[section] = sections[section].replace(old, new, 1)
                break
        else:
            sections["services"] += (
                "\n\nThe Partner will also attend the monthly student support team meeting "
                "at each school it serves."
            )
    return sections


SHARED = [code for code, _label in SHARED_FIELDS]


def _mous(ctx: Seed, rng, district: DistrictSeed, plans: list[dict], template: dict) -> None:
    conn, today = ctx.conn, ctx.today
    mou_ids = new_ids(conn, MOU, len(plans))
    version_counts = [rng.choices((1, 2, 3, 4), (35, 35, 20, 10))[0] for _ in plans]
    version_ids = iter(new_ids(conn, MOUVersion, sum(version_counts)))
    school_names = {s.id: s.name for s in district.schools}
    coordinators = [m for m in district.members if m.role == Role.COORDINATOR] or district.members
    admins = district.members_with(Role.ADMIN) or [district.signin[Role.ADMIN]]
    partner_members: dict[int, list] = {}
    for member in district.members_with(Role.PARTNER):
        partner_members.setdefault(member.partner_id, []).append(member)
    mous, schools, versions, signatures, notices, goals = [], [], [], [], [], []
    for plan, pk, n_versions in zip(plans, mou_ids, version_counts, strict=True):
        partner, status = plan["partner"], plan["status"]
        start, end = plan["start"], plan["end"]
        # Drafting began a month or three before the term (recently for what is on its way).
        if start is None or start > today:
            began = today - datetime.timedelta(days=rng.randint(3, 80))
        else:
            began = start - datetime.timedelta(days=rng.randint(30, 100))
        began = max(began, partner["created_at"].date())
        signed = status in SIGNED
        steps = n_versions + (1 if status not in ("draft", "internal_review") else 0)
        steps += 2 if signed and status != MOUStatus.PARTNER_SIGNED else 1 if signed else 0
        limit = min(today - DAY, start) if signed and start and start <= today else today - DAY
        limit = max(limit, began)
        moments = _moments(rng, district, began, steps, limit)
        by = rng.choice(coordinators)
        covered = partner["school_ids"]
        if rng.random() < 0.3:
            covered = sorted(rng.sample(covered, rng.randint(1, len(covered))))
        services = sorted(
            rng.sample(partner["categories"], rng.randint(1, len(partner["categories"])))
        )
        shared = [f for f in SHARED if f not in ("screening_results",) or rng.random() < 0.3]
        if rng.random() < 0.3:
            shared.remove("date_of_birth")
        response_days = rng.choice([5, 5, 5, 3, 7, 10])
        term = f"{start.year}–{str(start.year + 1)[2:]}" if start else ""
        title = f"{partner['name']}: {TERM_PHRASES[partner['kind']]} {term}".strip()
        terms = {
            "title": title,
            "district": district.name,
            "partner": partner["name"],
            "schools": [
                {"id": s, "name": school_names[s]}
                for s in sorted(covered, key=school_names.__getitem__)
            ],
            "services": services,
            "start_date": start.isoformat() if start else None,
            "end_date": end.isoformat() if end else None,
            "response_days": response_days,
            "shared_fields": shared,
            "self_consent_age": district.self_consent_age,
        }
        sections = template
        sent_at = moments[n_versions] if steps > n_versions else None
        last_version = None
        for number in range(1, n_versions + 1):
            if number > 1:
                sections = _edit(rng, sections)
            last_version = next(version_ids)
            created = moments[number - 1]
            is_last = number == n_versions
            # Earlier versions were sometimes sent, then changed after the partner's comments.
            sent = sent_at
            if not is_last:
                resent = signed and rng.random() < 0.3
                sent = min(created + DAY, moments[number]) if resent else None
            locked = moments[n_versions + 1] if is_last and signed else None
            versions.append(
                (
                    last_version,
                    created,
                    locked or sent or created,
                    number,
                    Jsonb(sections),
                    Jsonb(terms),
                    locked,
                    by.id,
                    district.id,
                    pk,
                    sent,
                )
            )
        updated = moments[-1]
        if signed:
            partner_at = moments[n_versions + 1]
            members = partner_members.get(partner["id"])
            signer = rng.choice(members) if members and rng.random() < 0.3 else None
            signatures.append(
                (
                    partner_at,
                    partner_at,
                    "partner",
                    signer.name if signer else partner["contacts"][0],
                    "Executive Director",
                    partner_at,
                    f"203.0.113.{rng.randint(1, 254)}",
                    district.id,
                    signer.id if signer else None,
                    last_version,
                )
            )
            if status != MOUStatus.PARTNER_SIGNED:
                admin = rng.choice(admins)
                district_at = moments[n_versions + 2]
                signatures.append(
                    (
                        district_at,
                        district_at,
                        "district",
                        admin.name,
                        rng.choice(DISTRICT_SIGNER_TITLES),
                        district_at,
                        f"10.{20 + len(district.slug) % 200}.255.{10 + admin.id % 200}",
                        district.id,
                        admin.id,
                        last_version,
                    )
                )
        terminated_at, reason = None, ""
        if status == MOUStatus.TERMINATED:
            terminated_at = business_moment(rng, district.zone, plan["terminated_on"])
            reason = rng.choice(names.TERMINATION_REASONS)
            updated = max(updated, terminated_at)
        elif status in (MOUStatus.EXPIRED, MOUStatus.EXPIRING) and end:
            # The nightly sweep moved it on the day (60 days before the end, or after it).
            moved = end + DAY if status == MOUStatus.EXPIRED else end - datetime.timedelta(days=60)
            updated = max(updated, business_moment(rng, district.zone, min(moved, today - DAY)))
        mous.append(
            (
                pk,
                moments[0],
                updated,
                title,
                status,
                services,
                start,
                end,
                response_days,
                shared,
                reason,
                terminated_at,
                by.id,
                district.id,
                partner["id"],
                "en",  # the document's language (the bench's districts write in English)
            )
        )
        schools += [(moments[0], moments[0], district.id, pk, s) for s in covered]
        if status == MOUStatus.EXPIRING:
            days_left = (end - today).days
            for days_before in (60, 30):
                if days_left <= days_before:
                    due = min(end - datetime.timedelta(days_before), today - DAY)
                    at = business_moment(rng, district.zone, due)
                    notices.append((at, at, days_before, end, at, district.id, pk))
        if status in (*COVERING_MOU_STATUSES, MOUStatus.EXPIRED):
            for text, target, unit, period in rng.sample(names.GOALS, rng.randint(0, 3)):
                amount = Decimal(round(target * rng.uniform(0.6, 1.4)))
                goals.append((moments[0], moments[0], text, amount, unit, period, district.id, pk))
        district.mous.append(
            {
                "id": pk,
                "partner_id": partner["id"],
                "status": status,
                "start": start,
                "end": end,
                "school_ids": covered,
                "services": services,
                "version_id": last_version,
            }
        )
    mou_fields = [
        "id",
        *STAMPS,
        "title",
        "status",
        "services",
        "start_date",
        "end_date",
        "response_days",
        "shared_fields",
        "terminated_reason",
        "terminated_at",
        "created_by_id",
        "district_id",
        "partner_id",
        "language",
    ]
    ctx.count("mous", copy_rows(conn, MOU, mou_fields, mous))
    link = [*STAMPS, "district_id", "mou_id", "school_id"]
    ctx.count("mou_schools", copy_rows(conn, MOUSchool, link, schools))
    version_fields = [
        "id",
        *STAMPS,
        "number",
        "sections",
        "terms",
        "locked_at",
        "created_by_id",
        "district_id",
        "mou_id",
        "sent_at",
    ]
    ctx.count("mou_versions", copy_rows(conn, MOUVersion, version_fields, versions))
    signature_fields = [
        *STAMPS,
        "party",
        "name",
        "title",
        "signed_at",
        "ip_address",
        "district_id",
        "membership_id",
        "version_id",
    ]
    ctx.count("mou_signatures", copy_rows(conn, MOUSignature, signature_fields, signatures))
    notice_fields = [*STAMPS, "days_before", "end_date", "sent_at", "district_id", "mou_id"]
    ctx.count("mou_renewal_notices", copy_rows(conn, MOURenewalNotice, notice_fields, notices))
    goal_fields = [*STAMPS, "description", "target", "unit", "period", "district_id", "mou_id"]
    ctx.count("goals", copy_rows(conn, Goal, goal_fields, goals))


def _template(ctx: Seed, rng, district: DistrictSeed, template: dict) -> None:
    """The district's own starting text: the shipped one, with its usual answers filled in."""
    sections = _edit(rng, _edit(rng, template))
    at = _stamp(ctx, rng, district, 400, 100)
    row = (at, at, f"{district.name} standard MOU", Jsonb(sections), district.id)
    fields = [*STAMPS, "name", "sections", "district_id"]
    ctx.count("mou_templates", copy_rows(ctx.conn, MOUTemplate, fields, [row]))


# --- Funding -------------------------------------------------------------------------------

_AMOUNTS = {
    "grant": (20_000, 2_500_000),
    "district_budget": (50_000, 800_000),
    "donation": (1_000, 50_000),
    "in_kind": (5_000, 120_000),
    "billing": (10_000, 500_000),
    "other": (5_000, 200_000),
}
_RESTRICTIONS = [
    "",
    "",
    "",
    "Tier 2 and Tier 3 services only.",
    "Only for students in grades 6 to 12.",
    "May not pay for food or gift cards.",
    "Reports due each quarter; unspent funds return to the funder.",
]


def _funding(ctx: Seed, rng, district: DistrictSeed) -> None:
    n = district.sizes["funding"]
    ids = new_ids(ctx.conn, FundingSource, n)
    partner_ids = [p["id"] for p in district.partners]
    current = [m for m in district.mous if m["status"] in COVERING_MOU_STATUSES]
    rows, to_partners, to_mous = [], [], []
    for pk in ids:
        kind, funder = rng.choice(names.FUNDERS)
        low, high = _AMOUNTS[kind]
        amount = Decimal(round(math.exp(rng.uniform(math.log(low), math.log(high))) / 100) * 100)
        start = datetime.date(ctx.school_year_start - rng.choice((0, 0, 1, 1, 2, 3)), 7, 1)
        end = _years(start, rng.choice((1, 1, 2, 3, 5))) - DAY
        at = _stamp(ctx, rng, district, max(30, (ctx.today - start).days + 60), 20)
        rows.append(
            (
                pk,
                at,
                at,
                kind,
                funder.format(city=district.city),
                amount,
                start,
                end,
                rng.choice(_RESTRICTIONS),
                district.id,
            )
        )
        for partner_id in sorted(rng.sample(partner_ids, min(len(partner_ids), rng.randint(0, 6)))):
            to_partners.append((at, at, district.id, pk, partner_id))
        picks = rng.sample(current, min(len(current), rng.randint(0, 4)))
        for mou_id in sorted(m["id"] for m in picks):
            to_mous.append((at, at, district.id, pk, mou_id))
    fields = [
        "id",
        *STAMPS,
        "kind",
        "funder",
        "amount",
        "start_date",
        "end_date",
        "restrictions",
        "district_id",
    ]
    conn = ctx.conn
    ctx.count("funding_sources", copy_rows(conn, FundingSource, fields, rows))
    link = [*STAMPS, "district_id", "funding_id", "partner_id"]
    ctx.count("funding_partners", copy_rows(conn, FundingPartner, link, to_partners))
    link = [*STAMPS, "district_id", "funding_id", "mou_id"]
    ctx.count("funding_mous", copy_rows(conn, FundingMOU, link, to_mous))
