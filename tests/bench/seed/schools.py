"""Districts, schools, people (users, memberships, sign-in accounts), students, access log.

Two builders: `build` (everything but the log) runs first; `build_access_log` runs once
the partnerships exist (partner staff are members too), and writes a year of student page
views in time order across every district, as a real log would have been written.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import heapq
import math
from bisect import bisect_left

from psycopg.types.json import Jsonb

from schools.models import (
    GRADE_ORDER,
    AccessLog,
    District,
    Membership,
    MembershipSchool,
    Role,
    School,
    Student,
    User,
)
from tests.bench.seed import names
from tests.bench.seed.base import (
    LARGE,
    LARGE_SLUG,
    OTHER_DISTRICTS,
    OTHER_STUDENTS,
    SMALL,
    SMALL_SLUG,
    UTC,
    DistrictSeed,
    MemberSeed,
    SchoolSeed,
    Seed,
    ascii_slug,
    at_local,
    business_moment,
    copy_rows,
    cumulative,
    days_ago,
    lognormal_weights,
    new_ids,
    plan_sizes,
    scaled,
)

BENCH_PASSWORD = "bench-password-not-secret"
SIGNIN_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.PARTNER, Role.VIEWER)


def bench_email(role: str, slug: str) -> str:
    """The benchmark's sign-in account for `role` in district `slug`."""
    return f"{role}@{slug}.bench.test"


def bench_totp_secret(email: str) -> str:
    """The authenticator secret of a seeded administrator (derived from the address, so a
    benchmark can compute codes without reading the database)."""
    digest = hashlib.sha1(f"trellis-bench:{email}".encode(), usedforsecurity=False).digest()
    return base64.b32encode(digest).decode()


# --- The plan ------------------------------------------------------------------------------


def plan_districts(ctx: Seed) -> list[DistrictSeed]:
    """The districts of the run and their sizes (a pure function of seed and scale)."""
    rng = ctx.rng("plan")
    large_sizes = {key: scaled(value, ctx.scale, 1) for key, value in LARGE.items()}
    large_sizes.update(
        schools=max(3, large_sizes["schools"]),
        students=max(30, large_sizes["students"]),
        partners=max(3, large_sizes["partners"]),
        mous=max(4, large_sizes["mous"]),
        funding=max(2, large_sizes["funding"]),
        access_log=max(200, large_sizes["access_log"]),
    )
    districts = [
        DistrictSeed(
            slug=LARGE_SLUG,
            name="Lakeshore Unified School District",
            time_zone="America/Chicago",
            state="IL",
            city="Lakeshore",
            domain="lakeshoreusd.example.org",
            area_codes=("312", "773", "872"),
            self_consent_age=12,
            sizes=large_sizes,
        ),
        DistrictSeed(
            slug=SMALL_SLUG,
            name="Pine Hollow School District",
            time_zone="America/Denver",
            state="CO",
            city="Pine Hollow",
            domain="pinehollowsd.example.org",
            area_codes=("970",),
            self_consent_age=12,
            sizes=dict(SMALL),
        ),
    ]
    towns = list(names.TOWNS)
    rng.shuffle(towns)
    low, high = OTHER_STUDENTS
    for n in range(1, max(1, round(OTHER_DISTRICTS * ctx.scale)) + 1):
        town = towns[(n - 1) % len(towns)]
        state, zone, area_codes, consent_age = rng.choices(names.STATES, names.STATE_WEIGHTS)[0]
        pattern, abbreviation = rng.choice(names.DISTRICT_KINDS)
        students = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        districts.append(
            DistrictSeed(
                slug=f"bench-d{n:02d}",
                name=pattern.format(town=town),
                time_zone=zone,
                state=state,
                city=town,
                domain=f"{ascii_slug(town)}{abbreviation}.example.org",
                area_codes=area_codes,
                self_consent_age=consent_age,
                sizes=plan_sizes(students, ctx.scale),
            )
        )
    return districts


# --- Builder: districts, schools, people, students -----------------------------------------


def build(ctx: Seed) -> dict[str, int]:
    ctx.districts = plan_districts(ctx)
    _districts(ctx)
    for district in ctx.districts:
        rng = ctx.rng("schools", district.slug)
        _schools(ctx, rng, district)
        _staff(ctx, rng, district)
        _students(ctx, rng, district)
    return {key: ctx.counts[key] for key in ("districts", "schools", "users", "students")}


def _districts(ctx: Seed) -> None:
    rng = ctx.rng("districts")
    ids = new_ids(ctx.conn, District, len(ctx.districts))
    rows = []
    for district, pk in zip(ctx.districts, ids, strict=True):
        district.id = pk
        district.created_at = at_local(
            district.zone, days_ago(ctx.today, rng.randint(1900, 2200)), rng.randint(8, 16)
        )
        rows.append(
            (
                pk,
                district.created_at,
                district.created_at,
                district.name,
                district.slug,
                district.time_zone,
                "es" if district.state in ("NM",) and rng.random() < 0.3 else "en",
                False,
                district.self_consent_age,
                rng.choice([5, 5, 5, 3, 7, 10]),
                rng.choice([180, 180, 90, 365]),
                "",
                "",
            )
        )
    fields = [
        "id",
        "created_at",
        "updated_at",
        "name",
        "slug",
        "time_zone",
        "default_language",
        "mfa_required",
        "student_self_consent_age",
        "referral_response_days",
        "directory_freshness_days",
        "crisis_protocol",
        "crisis_protocol_es",
    ]
    ctx.count("districts", copy_rows(ctx.conn, District, fields, rows))


# Schools -----------------------------------------------------------------------------------


def _school_levels(n: int) -> list[tuple[str, str, str]]:
    """(level, lowest grade, highest grade) of a district's n schools, K-12 covered."""
    if n == 1:
        return [("k12", "KG", "12")]
    if n == 2:
        return [("elementary", "KG", "06"), ("high", "07", "12")]
    highs = max(1, round(n * 0.15))
    middles = max(1, round(n * 0.18))
    elementaries = n - highs - middles
    levels = []
    for i in range(elementaries):
        if elementaries >= 10 and i % 20 == 7:
            levels.append(("k8", "KG", "08"))
        else:
            levels.append(("elementary", "PK" if i % 3 == 0 else "KG", "05"))
    levels += [("middle", "06", "08")] * middles
    for i in range(highs):
        levels.append(
            ("alternative", "09", "12") if highs >= 4 and i == highs - 1 else ("high", "09", "12")
        )
    return levels


_LEVEL_NAMES = {
    "elementary": "{} Elementary School",
    "middle": "{} Middle School",
    "high": "{} High School",
    "k8": "{} School",
    "k12": "{} K-12 School",
    "alternative": "{} Academy",
}


def _schools(ctx: Seed, rng, district: DistrictSeed) -> None:
    levels = _school_levels(district.sizes["schools"])
    namesakes = list(names.NAMESAKES)
    rng.shuffle(namesakes)
    used: set[str] = set()
    lea = rng.randint(1_000_000, 5_999_999)
    ids = new_ids(ctx.conn, School, len(levels))
    rows = []
    for i, ((level, low, high), pk) in enumerate(zip(levels, ids, strict=True)):
        if level == "k12" or (level == "high" and i == len(levels) - 1 and len(levels) <= 3):
            base = district.city
        else:
            base = namesakes[i % len(namesakes)]
        name = _LEVEL_NAMES[level].format(base)
        prefixes = iter(names.COMPASS)
        while name in used:
            name = _LEVEL_NAMES[level].format(f"{next(prefixes)} {base}")
        used.add(name)
        grades = tuple(GRADE_ORDER[GRADE_ORDER.index(low) : GRADE_ORDER.index(high) + 1])
        district.schools.append(SchoolSeed(pk, name, level, low, high, grades))
        created = district.created_at + datetime.timedelta(days=rng.randint(1, 20))
        rows.append(
            (
                pk,
                created,
                created,
                name,
                low,
                high,
                f"{district.state}-{lea % 100000:05d}-{i + 1:04d}",
                f"{lea:07d}{i + 1:05d}",
                str(100 + i),
                district.id,
            )
        )
    fields = [
        "id",
        "created_at",
        "updated_at",
        "name",
        "lowest_grade",
        "highest_grade",
        "state_id",
        "nces_id",
        "sis_id",
        "district_id",
    ]
    ctx.count("schools", copy_rows(ctx.conn, School, fields, rows))


# People ------------------------------------------------------------------------------------


def adult_name(rng) -> tuple[str, str]:
    last = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUMULATIVE)[0]
    return rng.choice(names.ADULT_FIRST), last


def add_people(ctx: Seed, rng, district: DistrictSeed, people: list[dict]) -> list[MemberSeed]:
    """Users, verified email addresses, memberships (and their school limits) for `people`.

    Each dict: role, name, email, optional school_ids, partner_id, active, crisis_responder,
    signin (the benchmark account), joined (a datetime). Administrators get an authenticator.
    """
    conn = ctx.conn
    user_ids = new_ids(conn, User, len(people))
    member_ids = new_ids(conn, Membership, len(people))
    users, addresses, memberships, limits, authenticators, made = [], [], [], [], [], []
    for person, user_id, member_id in zip(people, user_ids, member_ids, strict=True):
        joined = person["joined"]
        last_login = (
            None
            if person.get("signin")
            else business_moment(rng, district.zone, days_ago(ctx.today, rng.randint(1, 60)))
        )
        if last_login is not None and last_login < joined:
            last_login = None
        users.append(
            (
                user_id,
                ctx.password_hash,
                last_login,
                False,
                person["email"],
                person["name"],
                person.get("language", "en"),
                True,
                False,
                joined,
                district.slug,
            )
        )
        addresses.append((person["email"], True, True, user_id))
        active = person.get("active", True)
        deactivated = None
        if not active:
            deactivated = business_moment(
                rng, district.zone, days_ago(ctx.today, rng.randint(5, 200))
            )
            deactivated = max(deactivated, joined + datetime.timedelta(days=1))
        memberships.append(
            (
                member_id,
                joined,
                deactivated or joined,
                person["role"],
                active,
                person.get("crisis_responder", False),
                deactivated,
                district.id,
                person.get("partner_id"),
                user_id,
            )
        )
        for school_id in person.get("school_ids") or ():
            limits.append((joined, joined, district.id, member_id, school_id))
        if person["role"] == Role.ADMIN:
            authenticators.append((user_id, person["email"], joined))
        member = MemberSeed(
            id=member_id,
            user_id=user_id,
            role=person["role"],
            name=person["name"],
            email=person["email"],
            school_ids=tuple(person["school_ids"]) if person.get("school_ids") else None,
            partner_id=person.get("partner_id"),
            active=active,
            crisis_responder=person.get("crisis_responder", False),
            joined=joined,
        )
        district.members.append(member)
        if person.get("signin"):
            district.signin[person["role"]] = member
        made.append(member)
    user_fields = [
        "id",
        "password",
        "last_login",
        "is_superuser",
        "email",
        "full_name",
        "preferred_language",
        "is_active",
        "is_staff",
        "date_joined",
        "last_district_slug",
    ]
    ctx.count("users", copy_rows(conn, User, user_fields, users))
    from allauth.account.models import EmailAddress

    copy_rows(conn, EmailAddress, ["email", "verified", "primary", "user_id"], addresses)
    member_fields = [
        "id",
        "created_at",
        "updated_at",
        "role",
        "active",
        "crisis_responder",
        "deactivated_at",
        "district_id",
        "partner_id",
        "user_id",
    ]
    ctx.count("memberships", copy_rows(conn, Membership, member_fields, memberships))
    limit_fields = ["created_at", "updated_at", "district_id", "membership_id", "school_id"]
    ctx.count("membership_schools", copy_rows(conn, MembershipSchool, limit_fields, limits))
    if authenticators:
        _authenticators(ctx, authenticators)
    return made


def _authenticators(ctx: Seed, admins: list[tuple[int, str, datetime.datetime]]) -> None:
    """An authenticator app for each administrator, as allauth's TOTP.activate stores it
    (tests.factories.enable_totp), with a secret derived from the address."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import encrypt

    rows = [
        (
            user_id,
            Authenticator.Type.TOTP,
            Jsonb({"secret": encrypt(bench_totp_secret(email))}),
            joined,
        )
        for user_id, email, joined in admins
    ]
    fields = ["user_id", "type", "data", "created_at"]
    ctx.count("authenticators", copy_rows(ctx.conn, Authenticator, fields, rows))


def signin_person(ctx: Seed, district: DistrictSeed, role: str, **extra) -> dict:
    email = bench_email(role, district.slug)
    ctx.emails.add(email)
    return {
        "role": role,
        "name": f"Bench {Role(role).label}",
        "email": email,
        "signin": True,
        "joined": district.created_at + datetime.timedelta(days=2),
        **extra,
    }


def _staff(ctx: Seed, rng, district: DistrictSeed) -> None:
    """Counselors (two per school, most limited to it), coordinators, administrators,
    viewers, and the benchmark's sign-in accounts (partner staff come with the partners)."""
    schools = district.schools
    n = len(schools)
    people = [
        signin_person(ctx, district, role)
        for role in (Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.VIEWER)
    ]

    def person(role, **extra):
        first, last = adult_name(rng)
        joined = business_moment(
            rng,
            district.zone,
            max(
                district.created_at.date() + datetime.timedelta(days=3),
                # Most staff have been there for years; some joined this year.
                days_ago(
                    ctx.today,
                    rng.randint(400, 2000) if rng.random() < 0.85 else rng.randint(10, 400),
                ),
            ),
        )
        return {
            "role": role,
            "name": f"{first} {last}",
            "email": ctx.unique_email(f"{first}.{last}", district.domain),
            "language": "es" if last in names.HISPANIC_SURNAMES and rng.random() < 0.2 else "en",
            "joined": joined,
            "active": rng.random() > 0.03,
            **extra,
        }

    by_level: dict[str, list[SchoolSeed]] = {}
    for school in schools:
        by_level.setdefault(school.level, []).append(school)
    for school in schools:
        for k in range(2):
            draw = rng.random()
            if draw < 0.75 or n == 1:
                limited = (school.id,)
            elif draw < 0.9:
                sibling = rng.choice(by_level[school.level])
                limited = tuple(sorted({school.id, sibling.id}))
            else:
                limited = None  # a district counselor: every school
            people.append(person(Role.COUNSELOR, school_ids=limited, crisis_responder=k == 0))
    people += [person(Role.COORDINATOR) for _ in range(max(1, round(n / 25)))]
    people += [person(Role.ADMIN) for _ in range(1 + (n >= 10) + (n >= 100))]
    people += [person(Role.VIEWER) for _ in range(max(1, round(n / 10)))]
    add_people(ctx, rng, district, people)


# Students ----------------------------------------------------------------------------------

_GRADE_SHARE = {"PK": 0.4, "11": 0.96, "12": 0.92}
# Commonest first: the weight falls with the rank.
_BOYS_CUMULATIVE = cumulative(1 / (rank + 12) for rank in range(len(names.BOYS)))
_GIRLS_CUMULATIVE = cumulative(1 / (rank + 12) for rank in range(len(names.GIRLS)))
_HISPANIC_BOYS = [n for n in names.BOYS if n in names.HISPANIC_FIRST]
_HISPANIC_GIRLS = [n for n in names.GIRLS if n in names.HISPANIC_FIRST]
_SURNAMES, _SURNAME_WEIGHTS = zip(*names.SURNAMES, strict=True)
_SURNAME_CUMULATIVE = cumulative(_SURNAME_WEIGHTS)
_TAIL, _TAIL_WEIGHTS = zip(*names.LANGUAGE_TAIL, strict=True)
_SECOND_SURNAMES = sorted(names.HISPANIC_SURNAMES)


def _split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """`total` split in proportion to `weights`, by largest remainder (sums exactly)."""
    whole = sum(weights.values())
    exact = {key: total * w / whole for key, w in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    rest = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[:rest]:
        counts[key] += 1
    return counts


def _birth_date(rng, grade: str, school_year: int) -> datetime.date | None:
    """A birth date for a child in `grade` during the school year starting in `school_year`:
    five by September 1 for kindergarten; a few held back a year or a year ahead."""
    if rng.random() < 0.01:
        return None  # not recorded (OneRoster 1.1 carries no birth date)
    years = GRADE_ORDER.index(grade) - 1  # KG = 0, PK = -1
    shift = rng.choices((0, 1, -1), (0.95, 0.04, 0.01))[0]
    start = datetime.date(school_year - 6 - years - shift, 9, 2)
    return start + datetime.timedelta(days=rng.randrange(365))


def student_rows(ctx: Seed, rng, district: DistrictSeed, ids: list[int]) -> list[tuple]:
    """The district's students, grade by grade, in the schools that teach each grade."""
    school_year = ctx.school_year_start
    grades = [g for g in GRADE_ORDER if any(g in s.grades for s in district.schools)]
    per_grade = _split(len(ids), {g: _GRADE_SHARE.get(g, 1.0) for g in grades})
    size = dict(
        zip(
            (s.id for s in district.schools),
            lognormal_weights(rng, len(district.schools), 0.35),
            strict=True,
        )
    )
    for school in district.schools:
        if school.level == "alternative":
            size[school.id] *= 0.15
        if school.level in ("k8", "k12"):
            size[school.id] *= 0.6
    year_began = datetime.date(school_year, 8, 10)
    on_trellis = district.created_at.date() + datetime.timedelta(days=14)
    local_ids = rng.sample(range(1_000_000, 9_999_999), len(ids))
    rows, n = [], 0
    for grade in grades:
        teaching = [s for s in district.schools if grade in s.grades]
        if grade == "PK":
            teaching = [s for s in teaching if s.lowest_grade == "PK"]
        placed = rng.choices(teaching, [size[s.id] for s in teaching], k=per_grade[grade])
        for school in placed:
            pk = ids[n]
            last = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUMULATIVE)[0]
            hispanic = last in names.HISPANIC_SURNAMES
            girl = rng.random() < 0.49
            if hispanic and rng.random() < 0.5:
                first = rng.choice(_HISPANIC_GIRLS if girl else _HISPANIC_BOYS)
            elif girl:
                first = rng.choices(names.GIRLS, cum_weights=_GIRLS_CUMULATIVE)[0]
            else:
                first = rng.choices(names.BOYS, cum_weights=_BOYS_CUMULATIVE)[0]
            if hispanic and rng.random() < 0.06:
                last = f"{last} {rng.choice(_SECOND_SURNAMES)}"
            preferred = names.NICKNAMES.get(first, "") if rng.random() < 0.25 else ""
            guardian_first = rng.choice(names.ADULT_FIRST)
            guardian_last = last if rng.random() < 0.82 else adult_name(rng)[1]
            email = ""
            if rng.random() < 0.85:
                local = ascii_slug(f"{guardian_first}.{guardian_last}", ".")
                if rng.random() < 0.5:
                    local += str(rng.randint(1, 99))
                email = f"{local}@{rng.choice(names.GUARDIAN_DOMAINS)}"
            phone = ""
            if rng.random() < 0.93:
                phone = f"{rng.choice(district.area_codes)}-555-01{rng.randint(0, 99):02d}"
            draw = rng.random()
            if hispanic:
                language = "es" if draw < 0.55 else "en"
            elif draw < 0.9:
                language = "en"
            else:
                language = rng.choices(_TAIL, _TAIL_WEIGHTS)[0]
            if rng.random() < 0.02:
                language = ""
            if rng.random() < 0.85:
                # In the district since some August (kindergarten at the earliest), on the
                # roster since Trellis came, or later.
                since = school_year - rng.randint(0, max(0, GRADE_ORDER.index(grade) - 1))
                enrolled = datetime.date(since, 8, 10) - datetime.timedelta(days=rng.randint(0, 5))
                enrolled = max(enrolled, on_trellis)
            else:  # joined during this school year
                enrolled = year_began + datetime.timedelta(days=rng.randint(0, 300))
            enrolled = min(enrolled, ctx.today - datetime.timedelta(days=1))
            created = business_moment(rng, district.zone, enrolled)
            updated = created
            if rng.random() < 0.2:
                changed = enrolled + datetime.timedelta(days=rng.randint(1, 120))
                yesterday = ctx.today - datetime.timedelta(days=1)
                updated = max(created, business_moment(rng, district.zone, min(changed, yesterday)))
            rows.append(
                (
                    pk,
                    created,
                    updated,
                    str(local_ids[n]),
                    first,
                    last,
                    preferred,
                    _birth_date(rng, grade, school_year),
                    grade,
                    f"{guardian_first} {guardian_last}",
                    email,
                    phone,
                    language,
                    rng.random() > 0.02,
                    district.id,
                    school.id,
                )
            )
            district.students.setdefault(school.id, []).append(pk)
            district.student_since[pk] = created.timestamp()
            n += 1
    return rows


STUDENT_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "local_id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "grade",
    "guardian_name",
    "guardian_email",
    "guardian_phone",
    "family_language",
    "active",
    "district_id",
    "school_id",
]


def _students(ctx: Seed, rng, district: DistrictSeed) -> None:
    ids = new_ids(ctx.conn, Student, district.sizes["students"])
    rows = student_rows(ctx, rng, district, ids)
    ctx.count("students", copy_rows(ctx.conn, Student, STUDENT_FIELDS, rows))


# --- Builder: a year of access log ---------------------------------------------------------


def _slot_weight(quarter: int) -> float:
    """How busy a quarter hour of the district's day is (0: midnight to 0:15)."""
    for until, weight in ((32, 0.3), (36, 1.0), (44, 1.3), (52, 0.6), (64, 1.0), (72, 0.4)):
        if quarter < until:
            return weight
    return 0.05  # the evening


# Local quarter hours in which pages are opened: 7:00 to 21:45.
_SLOTS = list(range(28, 88))
_SLOT_CUMULATIVE = cumulative(_slot_weight(q) for q in _SLOTS)
_AGENTS, _AGENT_WEIGHTS = zip(*names.USER_AGENTS, strict=True)


def day_weight(day: datetime.date) -> float:
    """How busy a day is: the school year's weekdays, little in summer, breaks, weekends."""
    if day.weekday() >= 5:
        return 0.03
    m, d = day.month, day.day
    if (m == 6 and d > 12) or m == 7 or (m == 8 and d < 12):
        return 0.08
    if (m == 12 and d >= 22) or (m == 1 and d <= 2):
        return 0.05
    if m == 11 and day.weekday() in (3, 4) and 22 <= d - (0 if day.weekday() == 3 else 1) <= 28:
        return 0.05  # Thanksgiving Thursday and Friday
    if m == 3 and 16 <= d <= 22:
        return 0.1  # spring break
    if (m == 8 and d >= 12) or m == 9:
        return 1.25  # the start of the year is busy
    return 1.0


def _views(ctx: Seed, index: int, district: DistrictSeed) -> list[tuple]:
    """(time, membership, user, student, ip, agent) of the district's page views, in order.

    Counselors (and a few coordinators and administrators) open the pages of students they
    may see; each has a caseload, so some students are opened often and most rarely.
    """
    rng = ctx.rng("access_log", district.slug)
    zone = district.zone
    days = [ctx.today - datetime.timedelta(days=k) for k in range(365, 0, -1)]
    day_cumulative = cumulative(day_weight(day) for day in days)
    # Local midnight of each day in UTC seconds (the offset at noon: DST changes at 2 a.m.).
    midnight = [at_local(zone, day, 12).timestamp() - 12 * 3600 for day in days]

    everyone = [pk for ids in district.students.values() for pk in ids]
    rng.shuffle(everyone)
    by_school = {}
    for school_id, ids in district.students.items():
        ids = list(ids)
        rng.shuffle(ids)
        by_school[school_id] = ids
    school_pos = {s.id: i for i, s in enumerate(district.schools)}
    second = 20 + index % 200

    start, total = midnight[0], day_cumulative[-1]
    viewers, weights = [], []
    role_weight = {Role.COUNSELOR: 1.0, Role.COORDINATOR: 0.3, Role.ADMIN: 0.1}
    for member in district.members_with(Role.COUNSELOR, Role.COORDINATOR, Role.ADMIN):
        if member.school_ids is None:
            pool, home = everyone, None
        else:
            pool = [pk for school_id in member.school_ids for pk in by_school.get(school_id, ())]
            home = school_pos[member.school_ids[0]]
        if not pool:
            continue
        # Views only from the day the person joined: the share of the year's work before it.
        first_day = max(0, math.ceil((member.joined.timestamp() - start) / 86400))
        if first_day >= len(days):
            continue
        before = day_cumulative[first_day - 1] if first_day else 0.0
        on_site = (
            f"10.{second}.255.{10 + member.id % 200}"
            if home is None
            else f"10.{second}.{home // 200}.{10 + home % 200}"
        )
        off_site = f"{rng.choice(('198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"
        agent = rng.choices(range(len(_AGENTS)), _AGENT_WEIGHTS)[0]
        viewers.append((member, pool, rng.randrange(len(pool)), on_site, off_site, agent, before))
        weight = math.exp(rng.gauss(0, 0.6)) * role_weight[member.role]
        if member is district.signin.get(Role.COUNSELOR):
            weight = 2.0
        weights.append(weight * (total - before) / total)
    if not viewers:
        return []

    n = district.sizes["access_log"]
    picks = rng.choices(range(len(viewers)), weights, k=n)
    slot_picks = rng.choices(_SLOTS, cum_weights=_SLOT_CUMULATIVE, k=n)
    since = district.student_since
    random = rng.random
    rows = []
    for v, q in zip(picks, slot_picks, strict=True):
        member, pool, offset, on_site, off_site, agent, before = viewers[v]
        day = bisect_left(day_cumulative, before + random() * (total - before))
        ts = midnight[day] + q * 900 + random() * 900
        size = len(pool)
        # Most views are of the viewer's caseload, the rest of anyone they may see; never
        # of a student before they were on the roster.
        for _attempt in range(8):
            reach = max(5, size // 8) if random() < 0.8 else size
            student = pool[(offset + int(reach * random() ** 1.5)) % size]
            if since[student] <= ts:
                break
        else:
            ts = since[student] + 3600 + random() * 3600
        ip = off_site if q >= 68 or random() < 0.1 else on_site
        rows.append((ts, index, member.id, member.user_id, student, ip, agent))
    rows.sort()
    return rows


def build_access_log(ctx: Seed) -> dict[str, int]:
    """A year of student page views in every district, written in time order."""
    streams = [_views(ctx, i, d) for i, d in enumerate(ctx.districts)]
    slugs = [d.slug for d in ctx.districts]
    ids = [d.id for d in ctx.districts]
    rng = ctx.rng("access_log", "request_ids")
    bits = rng.getrandbits
    fromtimestamp = datetime.datetime.fromtimestamp

    def rows():
        for ts, index, member_id, user_id, student, ip, agent in heapq.merge(*streams):
            at = fromtimestamp(ts, UTC)
            yield (
                at,
                at,
                "view",
                "student",
                str(student),
                f"/{slugs[index]}/students/{student}/",
                ip,
                _AGENTS[agent],
                f"{bits(128):032x}",
                at,
                user_id,
                ids[index],
                member_id,
                student,
            )

    fields = [
        "created_at",
        "updated_at",
        "action",
        "object_type",
        "object_id",
        "path",
        "ip_address",
        "user_agent",
        "request_id",
        "at",
        "user_id",
        "district_id",
        "membership_id",
        "student_id",
    ]
    ctx.count("access_log", copy_rows(ctx.conn, AccessLog, fields, rows()))
    return {"access_log": ctx.counts["access_log"]}
