"""Referrals, their consents and the disclosure log, for the benchmark.

About one student in twenty-five is referred in a year (the large district: 6,000
referrals). A quarter are drafts; of those sent, most carry identifiable fields under a
signed form (a consent and a disclosure each), a few go under an emergency override, the
rest are de-identified consultations. Referrals are made by counselors of the student's
school (or unlimited ones), after the student came onto the roster and the member joined.
"""

from __future__ import annotations

import datetime
import uuid

from referrals.models import Consent, Disclosure, EmergencyOverride, Referral
from referrals.rules import CONCERN_TAXONOMY
from tests.bench.seed.base import DistrictSeed, Seed, at_local, copy_rows, new_ids, weighted

STAMPS = ["created_at", "updated_at"]
SHARE = ["name", "date_of_birth", "grade", "guardian_contact"]
FORM = b"%PDF-1.4\n% a scanned consent form stands here\n%%EOF\n"
_CONCERNS = [code for code, _label in CONCERN_TAXONOMY]
_URGENCY = [("routine", 0.75), ("urgent", 0.22), ("emergency", 0.03)]
_PAYMENT = [("medicaid", 0.45), ("private", 0.25), ("uninsured", 0.1), ("unknown", 0.2)]
_LANGUAGES = [("en", 0.72), ("es", 0.2), ("vi", 0.03), ("ar", 0.02), ("so", 0.02), ("zh", 0.01)]


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
    n = max(3, district.student_count // 25)
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
        sent = rng.random() < 0.75
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
                partner["id"],
                shared if (basis or not sent) else [],
                "",
                "sent" if sent else "draft",
                at if sent else None,
                uuid.UUID(int=rng.getrandbits(128)),
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
        "status",
        "sent_at",
        "submission_key",
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
