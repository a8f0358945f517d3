"""Referrals, their consents and the disclosure log, for the benchmark.

The large district holds 100,000 referrals (issue 14's speed target: the filtered list at
that size); the others as many in proportion to their students (two for every three).
Each is at a step of the loop that fits its age: recent ones are drafts or wait for the
partner's answer (some past it: overdue), older ones were accepted, scheduled, are in
service or closed with an outcome; some were declined (with a reason) or withdrawn. The
loop's fields agree with the model's constraints (a declined referral has its reason, a
closed one its outcome and date, a scheduled one its appointment, every sent one its
partner, its sending time and the day its answer is due). Of those sent, most carry
identifiable fields under a signed form (a consent and a disclosure each), a few go under
an emergency override, the rest are de-identified consultations. Referrals are made by
counselors of the student's school (or unlimited ones), after the student came onto the
roster and the member joined; one in twenty has since passed to a colleague (`owner`).
"""

from __future__ import annotations

import datetime
import uuid

from core.business_days import add_business_days
from referrals.models import Consent, Disclosure, EmergencyOverride, Referral
from referrals.rules import CONCERN_TAXONOMY
from tests.bench.seed.base import (
    LARGE,
    DistrictSeed,
    Seed,
    at_local,
    copy_rows,
    new_ids,
    weighted,
)

STAMPS = ["created_at", "updated_at"]
SHARE = ["name", "date_of_birth", "grade", "guardian_contact"]
FORM = b"%PDF-1.4\n% a scanned consent form stands here\n%%EOF\n"
_CONCERNS = [code for code, _label in CONCERN_TAXONOMY]
_URGENCY = [("routine", 0.75), ("urgent", 0.22), ("emergency", 0.03)]
_PAYMENT = [("medicaid", 0.45), ("private", 0.25), ("uninsured", 0.1), ("unknown", 0.2)]
_LANGUAGES = [("en", 0.72), ("es", 0.2), ("vi", 0.03), ("ar", 0.02), ("so", 0.02), ("zh", 0.01)]
# 100,000 in the large district (150,000 students).
REFERRALS_PER_STUDENT = 100_000 / LARGE["students"]
# Business days a partner has to answer (the district's default when no MOU says).
RESPONSE_DAYS = 5
# Where a referral stands, by how many days ago it was made.
_STATUS_BY_AGE = [
    (
        7,
        [
            ("draft", 0.22),
            ("sent", 0.45),
            ("accepted", 0.15),
            ("declined", 0.05),
            ("scheduled", 0.1),
            ("withdrawn", 0.03),
        ],
    ),
    (
        30,
        [
            ("draft", 0.06),
            ("sent", 0.12),
            ("accepted", 0.17),
            ("declined", 0.1),
            ("scheduled", 0.2),
            ("in_service", 0.25),
            ("closed", 0.05),
            ("withdrawn", 0.05),
        ],
    ),
    (
        None,
        [
            ("draft", 0.02),
            ("sent", 0.03),
            ("accepted", 0.04),
            ("declined", 0.1),
            ("scheduled", 0.03),
            ("in_service", 0.3),
            ("closed", 0.43),
            ("withdrawn", 0.05),
        ],
    ),
]
_DECLINE = [
    ("no_capacity", 0.45),
    ("not_eligible", 0.2),
    ("not_offered", 0.15),
    ("unreachable", 0.15),
    ("other", 0.05),
]
_OUTCOME = [
    ("completed", 0.55),
    ("family_declined", 0.12),
    ("unable_to_reach", 0.13),
    ("transferred", 0.08),
    ("moved", 0.07),
    ("other", 0.05),
]
# The loop's columns, in the order _loop returns them.
LOOP_FIELDS = [
    "status",
    "sent_at",
    "response_due_on",
    "accepted_at",
    "declined_at",
    "decline_reason",
    "appointment_on",
    "first_appointment_on",
    "no_shows",
    "closed_at",
    "outcome",
    "withdrawn_at",
]


def build(ctx: Seed) -> dict[str, int]:
    for district in ctx.districts:
        _district(ctx, district)
    return {}


def _district(ctx: Seed, district: DistrictSeed) -> None:
    rng = ctx.rng("referrals", district.slug)
    counselors = [m for m in district.members_with("counselor") if m.joined is not None]
    partners = [p for p in district.partners if p["categories"]]
    if not counselors or not partners or not district.students:
        return
    n = max(3, round(district.student_count * REFERRALS_PER_STUDENT))
    ids = new_ids(ctx.conn, Referral, n)
    schools = [s for s, students in district.students.items() if students]
    referrals, consents, overrides, disclosures = [], [], [], []
    consent_ids = iter(new_ids(ctx.conn, Consent, n))
    override_ids = iter(new_ids(ctx.conn, EmergencyOverride, n))
    for pk in ids:
        school_id = rng.choice(schools)
        student_id = rng.choice(district.students[school_id])
        mine = [c for c in counselors if c.school_ids is None or school_id in c.school_ids]
        member = rng.choice(mine or counselors)
        partner = rng.choice(partners)
        enrolled = datetime.datetime.fromtimestamp(district.student_since[student_id], datetime.UTC)
        since = max(ctx.today - datetime.timedelta(days=300), member.joined.date(), enrolled.date())
        days = rng.randint(0, max(0, (ctx.today - since).days))
        day = min(ctx.today, since + datetime.timedelta(days=days))
        at = at_local(district.zone, day, rng.randint(8, 15), rng.randint(0, 59))
        urgency = weighted(rng, _URGENCY)
        loop = _loop(rng, district, ctx.today, day, at)
        sent = loop[1] is not None  # sent_at: it reached the partner (now or before)
        # One in twenty has passed to a colleague who works with the school.
        owner = rng.choice(mine or counselors) if rng.random() < 0.05 else member
        drafted_alone = loop[0] == "draft" and rng.random() < 0.3  # "decide later"
        basis = (
            None
            if not sent
            else "emergency"
            if urgency == "emergency"
            else "consent"
            if rng.random() < 0.7
            else None
        )
        shared = SHARE[: rng.randint(1, 4)] if basis or rng.random() < 0.5 else []
        referrals.append(
            (
                pk,
                at,
                at,
                district.id,
                student_id,
                school_id,
                member.id,
                day,
                sorted(rng.sample(_CONCERNS, rng.randint(1, 3))),
                urgency,
                rng.sample(partner["categories"], 1),
                weighted(rng, _LANGUAGES),
                rng.random() < 0.1,
                [weighted(rng, _PAYMENT)],
                "",
                rng.random() < 0.5,
                None if drafted_alone else partner["id"],
                shared if (basis or not sent) else [],
                "",
                uuid.UUID(int=rng.getrandbits(128)),
                owner.id,
                *loop,
            )
        )
        if basis is None:
            continue
        consent_id = override_id = None
        if basis == "consent":
            consent_id = next(consent_ids)
            consents.append(
                (
                    consent_id,
                    at,
                    at,
                    district.id,
                    student_id,
                    partner["id"],
                    shared,
                    "Referral for services",
                    "guardian",
                    "Parent or guardian",
                    "guardian",
                    None,
                    "signed_form",
                    at - datetime.timedelta(days=2),
                    day + datetime.timedelta(days=365),
                    member.id,
                    FORM,
                    "consent.pdf",
                    "application/pdf",
                    "",
                    "",
                )
            )
        else:
            override_id = next(override_ids)
            overrides.append(
                (
                    override_id,
                    at,
                    at,
                    district.id,
                    pk,
                    "The student described a plan to harm themselves today.",
                    member.id,
                    at,
                )
            )
        disclosures.append(
            (
                at,
                at,
                district.id,
                student_id,
                partner["id"],
                pk,
                shared,
                at,
                member.id,
                basis,
                consent_id,
                override_id,
                partner["name"],
                "Referral for services",
                False,
            )
        )
    conn = ctx.conn
    fields = [
        "id",
        *STAMPS,
        "district_id",
        "student_id",
        "school_id",
        "referred_by_id",
        "referred_on",
        "concerns",
        "urgency",
        "services",
        "family_language",
        "interpreter_needed",
        "payment",
        "availability",
        "telehealth_ok",
        "partner_id",
        "shared_fields",
        "confidential_notes",
        "submission_key",
        "owner_id",
        *LOOP_FIELDS,
    ]
    ctx.count("referrals", copy_rows(conn, Referral, fields, referrals))
    fields = [
        "id",
        *STAMPS,
        "district_id",
        "student_id",
        "partner_id",
        "fields",
        "purpose",
        "consenter_kind",
        "consenter_name",
        "rule",
        "rule_age",
        "method",
        "signed_at",
        "valid_until",
        "recorded_by_id",
        "form",
        "form_name",
        "form_content_type",
        "verified_address",
        "user_agent",
    ]
    ctx.count("consents", copy_rows(conn, Consent, fields, consents))
    fields = [
        "id",
        *STAMPS,
        "district_id",
        "referral_id",
        "threat",
        "declared_by_id",
        "declared_at",
    ]
    ctx.count("emergency_overrides", copy_rows(conn, EmergencyOverride, fields, overrides))
    fields = [
        *STAMPS,
        "district_id",
        "student_id",
        "partner_id",
        "referral_id",
        "fields",
        "disclosed_at",
        "disclosed_by_id",
        "basis",
        "consent_id",
        "emergency_id",
        "recipient",
        "purpose",
        "part2",
    ]
    ctx.count("disclosures", copy_rows(conn, Disclosure, fields, disclosures))


def _loop(rng, district: DistrictSeed, today, day, at) -> tuple:
    """The loop's fields (LOOP_FIELDS) of a referral made on `day` at `at`: a step that fits
    its age, with every date it implies in order and none after today."""
    age = (today - day).days
    status = weighted(
        rng, next(table for limit, table in _STATUS_BY_AGE if not limit or age < limit)
    )
    end = at_local(district.zone, today, 17, 0)

    def later(start, low, high, *, hour=True):
        moment = start + datetime.timedelta(days=rng.randint(low, high))
        if hour:
            moment += datetime.timedelta(minutes=rng.randint(0, 240))
        return min(moment, end)

    def on(moment):
        return moment.astimezone(district.zone).date()

    sent_at = due = accepted = declined = appointment = kept = closed = withdrawn = None
    reason = outcome = ""
    no_shows = 0
    if status == "withdrawn" and rng.random() < 0.5:
        withdrawn = later(at, 0, 10)  # withdrawn while still a draft
    elif status != "draft":
        sent_at = at
        due = add_business_days(day, RESPONSE_DAYS)
        if status == "withdrawn":
            withdrawn = later(at, 1, 14)
        elif status == "declined":
            declined = later(at, 0, 6)
            reason = weighted(rng, _DECLINE)
        elif status != "sent":
            accepted = later(at, 0, 5)
    if status in ("scheduled", "in_service", "closed") and accepted is not None:
        no_shows = 1 if rng.random() < 0.1 else 0
        first = on(later(accepted, 2, 20, hour=False))
        if status == "scheduled":
            appointment = max(first, today + datetime.timedelta(days=rng.randint(1, 21)))
        elif status == "in_service" or rng.random() < 0.8:
            appointment = kept = min(first, today)
    if status == "closed":
        # Most close after the service; some before a first appointment was ever kept.
        start = datetime.datetime.combine(kept, at.timetz()) if kept else accepted
        closed = later(start, 20 if kept else 3, 120)
        outcome = (
            weighted(rng, _OUTCOME)
            if kept
            else rng.choice(["family_declined", "unable_to_reach", "moved"])
        )
    return (
        status,
        sent_at,
        due,
        accepted,
        declined,
        reason,
        appointment,
        kept,
        no_shows,
        closed,
        outcome,
        withdrawn,
    )
