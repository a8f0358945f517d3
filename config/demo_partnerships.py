"""The demo's partnerships: MOUs in every status with real text, signatures, an executed
PDF and goals with progress; funding sources over two school years; success stories at
each step to publication.

Everything goes through the services people use (mou_create, mou_submit, mou_approve,
mou_sign, goal_create, funding_save, story_create...), so versions, signatures, comments
and history are real. Each MOU, funding source and story is found by its title (or funder
and start) on a rerun and then left as it is.
"""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

from partnerships.models import MOU, FundingSource, Partner, SuccessStory
from schools.models import Membership, Role, School

SIGNER_IP = "203.0.113.24"  # documentation range: a made-up address

# (partner, title, final status, schools, services, shared fields, start and end in days
# from today, partner signer (name, title; None: the partner's Trellis member), goals).
# A goal is (description, target, unit, period, [(days ago, value, note)]).
DEMO_MOUS = [
    (
        "Springfield Public Library",
        "Homework help at Washington Elementary",
        "draft",
        ["Washington Elementary School"],
        ["after_school"],
        [],
        (45, 410),
        None,
        [],
    ),
    (
        "Harbor Family Services",
        "Harbor Family Services family therapy program",
        "sent",
        ["Lincoln High School", "Roosevelt Middle School"],
        ["family_support", "counselling_individual"],
        ["name", "grade", "school", "guardian_contact", "referral_reason"],
        (20, 385),
        None,
        [],
    ),
    (
        "Springfield Community Health Center",
        "School-based health screenings",
        "partner_signed",
        ["Lincoln High School", "Roosevelt Middle School", "Washington Elementary School"],
        ["health_screening"],
        ["name", "date_of_birth", "grade", "school", "guardian_contact"],
        (14, 379),
        ("Dr. Lena Ortiz", "Medical director"),
        [],
    ),
    (
        "Harbor Family Services",
        "Harbor Family Services school-based counseling",
        "active",
        ["Lincoln High School", "Roosevelt Middle School"],
        ["counselling_individual", "family_support"],
        ["name", "grade", "school", "guardian_contact", "referral_reason", "screening_results"],
        (-120, 245),
        None,
        [
            (
                "Students who start counseling within 10 school days of referral",
                Decimal("80"),
                "percent",
                "School year",
                [(90, Decimal("62"), "First quarter"), (30, Decimal("74"), "Second quarter")],
            ),
            (
                "Students served",
                Decimal("60"),
                "students",
                "School year",
                [(90, Decimal("18"), ""), (30, Decimal("37"), "Waitlist cleared in October")],
            ),
        ],
    ),
    (
        "Springfield Boys & Girls Club",
        "After-school program partnership",
        "active",
        ["Roosevelt Middle School", "Washington Elementary School"],
        # With Harbor's and Casa de la Familia's MOUs: three partners support families at
        # Roosevelt, a coverage cell that counts them and opens to name them.
        ["after_school", "mentoring", "family_support"],
        ["name", "grade", "school"],
        (-60, 305),
        ("Keisha Moore", "Unit director"),
        [
            (
                "Students attending at least twice a week",
                Decimal("120"),
                "students",
                "Semester",
                [(45, Decimal("64"), ""), (10, Decimal("97"), "New site at Washington opened")],
            ),
        ],
    ),
    (
        "Casa de la Familia",
        "Family liaison program",
        "expiring",
        ["Roosevelt Middle School", "Washington Elementary School"],
        ["cultural_liaison", "family_support"],
        ["name", "school", "guardian_contact"],
        (-335, 30),
        ("María Fernández", "Directora de programas"),
        [
            (
                "Family meetings with a liaison present",
                Decimal("150"),
                "meetings",
                "School year",
                [(200, Decimal("48"), ""), (60, Decimal("121"), "")],
            ),
        ],
    ),
    (
        "Lotus Vietnamese Community Center",
        "Interpreting and cultural liaison pilot",
        "expired",
        ["Lincoln High School"],
        ["cultural_liaison"],
        ["name", "school", "guardian_contact"],
        (-420, -10),
        ("Thu Hà Lê", "Community liaison"),
        [],
    ),
    (
        "Pathways Counseling Collective",
        "Telehealth crisis counseling pilot",
        "terminated",
        ["Lincoln High School", "Roosevelt Middle School"],
        ["therapy", "crisis_intervention"],
        ["name", "grade", "school", "guardian_contact", "referral_reason"],
        (-200, 165),
        ("Dana Whitfield", "Practice manager"),
        [],
    ),
]
TERMINATION_REASON = (
    "Pathways closed its intake for school referrals this spring; both parties agreed to end "
    "the pilot early. Students in care finish their sessions."
)
# The one MOU whose executed PDF is rendered now (rendering takes a second or two).
PDF_FOR = "Harbor Family Services school-based counseling"


def seed_mous(district) -> None:
    """Every MOU status, through the workflow (the in-review one is seed_demo's own)."""
    from partnerships.mou_rules import sample_answers
    from partnerships.selectors.mous import current_version
    from partnerships.services.mous.drafting import mou_create
    from partnerships.services.mous.goals import goal_create, goal_progress_add
    from partnerships.services.mous.workflow import (
        mou_approve,
        mou_mark_expired,
        mou_mark_expiring,
        mou_sign,
        mou_submit,
        mou_terminate,
    )

    coordinator = _member(district, Role.COORDINATOR)
    admin = _member(district, Role.ADMIN)
    if coordinator is None or admin is None:
        return
    partners = {p.name: p for p in Partner.objects.for_district(district)}
    schools = {s.name: s for s in School.objects.for_district(district)}
    titles = set(MOU.objects.for_district(district).values_list("title", flat=True))
    today = district.today()
    for (
        partner_name,
        title,
        status,
        school_names,
        services,
        shared,
        (start, end),
        signer,
        goals,
    ) in DEMO_MOUS:
        partner = partners.get(partner_name)
        if partner is None or title in titles:
            continue
        mou = mou_create(
            by=coordinator,
            partner=partner,
            title=title,
            schools=[schools[name] for name in school_names],
            services=services,
            start_date=today + timedelta(days=start),
            end_date=today + timedelta(days=end),
            shared_fields=shared,
            answers=sample_answers(district.default_language),  # the template's [choices]
        )
        if status == "draft":
            continue
        mou_submit(by=coordinator, mou=mou)
        mou_approve(by=admin, mou=mou)
        if status == "sent":
            continue
        number = current_version(mou).number
        member = _partner_member(district, partner) if signer is None else None
        if member is not None:  # the partner's Trellis member signs, signed in
            signer_by, name, signer_title = member, member.user.get_full_name(), "Director"
        else:  # a contact signs through the emailed link
            signer_by, (name, signer_title) = None, signer or (partner.name, "Director")
        mou_sign(
            by=signer_by,
            mou=mou,
            version_number=number,
            name=name,
            title=signer_title,
            ip_address=SIGNER_IP,
        )
        if status == "partner_signed":
            continue
        mou_sign(
            by=admin,
            mou=mou,
            version_number=number,
            name=admin.user.get_full_name(),
            title="Superintendent",
            ip_address=SIGNER_IP,
        )
        for description, target, unit, period, progress in goals:
            goal = goal_create(
                by=coordinator,
                mou=mou,
                description=description,
                target=target,
                unit=unit,
                period=period,
            )
            for days_ago, value, note in progress:
                goal_progress_add(
                    by=coordinator,
                    goal=goal,
                    date=today - timedelta(days=days_ago),
                    value=value,
                    note=note,
                )
        if title == PDF_FOR:
            _executed_pdf(admin, mou)
        if status == "expiring":
            mou_mark_expiring(mou)
        elif status == "expired":
            mou_mark_expired(mou)
        elif status == "terminated":
            mou_terminate(by=admin, mou=mou, reason=TERMINATION_REASON)


def _executed_pdf(admin: Membership, mou: MOU) -> None:
    """The signed version's PDF, asked for as the admin would and rendered now (the worker
    would find it ready), so the demo has an executed agreement to download."""
    from partnerships.selectors.mous import current_version
    from partnerships.services.documents import mou_pdf_render, mou_pdf_request

    document = mou_pdf_request(by=admin, version=current_version(mou))
    mou_pdf_render(document_id=document.pk)


def _school_year(today: datetime.date, back: int = 0) -> tuple[datetime.date, datetime.date]:
    """July 1 to June 30 of the school year `today` is in (`back` years earlier)."""
    year = (today.year if today.month >= 7 else today.year - 1) - back
    return datetime.date(year, 7, 1), datetime.date(year + 1, 6, 30)


# (kind, funder, amount, school years back, restrictions, partners, MOU titles)
DEMO_FUNDING = [
    (
        "grant",
        "State School-Based Mental Health Grant",
        Decimal("250000.00"),
        0,
        "Licensed mental health services on school sites only; quarterly reports due.",
        ["Harbor Family Services"],
        ["Harbor Family Services school-based counseling"],
    ),
    (
        "district_budget",
        "District general fund (student services)",
        Decimal("85000.00"),
        0,
        "",
        ["Springfield Boys & Girls Club", "Casa de la Familia"],
        ["After-school program partnership", "Family liaison program"],
    ),
    (
        "billing",
        "Medi-Cal billing for school-based services",
        Decimal("42500.00"),
        0,
        "Billed per session for students enrolled in Medi-Cal.",
        ["Harbor Family Services"],
        [],
    ),
    (
        "donation",
        "Springfield Community Foundation",
        Decimal("15000.00"),
        0,
        "Weekend food bags and emergency family aid.",
        ["Valley Food Network", "Riverbend Housing Alliance"],
        [],
    ),
    (
        "in_kind",
        "Springfield Public Library (space and staff)",
        Decimal("12000.00"),
        0,
        "",
        ["Springfield Public Library"],
        [],
    ),
    (
        "grant",
        "State School-Based Mental Health Grant",
        Decimal("180000.00"),
        1,
        "Licensed mental health services on school sites only.",
        ["Harbor Family Services", "Pathways Counseling Collective"],
        ["Telehealth crisis counseling pilot"],
    ),
    (
        "district_budget",
        "District general fund (student services)",
        Decimal("70000.00"),
        1,
        "",
        ["Casa de la Familia", "Lotus Vietnamese Community Center"],
        ["Family liaison program", "Interpreting and cultural liaison pilot"],
    ),
    (
        "other",
        "County behavioral health partnership",
        Decimal("30000.00"),
        1,
        "Staff training in youth mental health first aid.",
        [],
        [],
    ),
]


def seed_funding(district) -> None:
    """Funding over this school year and last, of several kinds, linked to partners and MOUs."""
    from partnerships.services.funding import funding_save

    coordinator = _member(district, Role.COORDINATOR)
    if coordinator is None:
        return
    partners = {p.name: p for p in Partner.objects.for_district(district)}
    mous = {m.title: m for m in MOU.objects.for_district(district)}
    have = set(FundingSource.objects.for_district(district).values_list("funder", "start_date"))
    today = district.today()
    for kind, funder, amount, back, restrictions, partner_names, mou_titles in DEMO_FUNDING:
        start, end = _school_year(today, back)
        if (funder, start) in have:
            continue
        funding_save(
            by=coordinator,
            kind=kind,
            funder=funder,
            amount=amount,
            start_date=start,
            end_date=end,
            restrictions=restrictions,
            partners=[partners[name] for name in partner_names if name in partners],
            mous=[mous[title] for title in mou_titles if title in mous],
        )


# (title, story, partner, school, days ago, step: "published", "consented" or "new")
DEMO_STORIES = [
    (
        "A mentor, and a reason to stay after school",
        "A seventh grader who had stopped coming to class after lunch was matched with a "
        "mentor in October. By spring they met every week, joined the robotics team, and "
        "had not missed an afternoon in two months.",
        "Bright Futures Mentoring",
        "Roosevelt Middle School",
        75,
        "published",
    ),
    (
        "Counseling on campus, without a bus ride",
        "A family who could not get to a clinic across town found a therapist at school. "
        "The student's attendance went from 70% to 95% over the semester.",
        "Harbor Family Services",
        "Lincoln High School",
        30,
        "consented",
    ),
    (
        "Weekend food bags for a whole grade",
        "After a teacher noticed students hungry on Mondays, the food network started "
        "sending weekend bags home with every fourth grader who wanted one.",
        "Valley Food Network",
        "Washington Elementary School",
        12,
        "new",
    ),
]


def seed_stories(district) -> None:
    """One story published (consent, review, publishable), one with consent waiting for the
    administrator's review, one waiting for consent."""
    from partnerships.services.stories import (
        story_consent_record,
        story_create,
        story_publishable_set,
        story_review,
    )

    coordinator = _member(district, Role.COORDINATOR)
    admin = _member(district, Role.ADMIN)
    if coordinator is None or admin is None:
        return
    partners = {p.name: p for p in Partner.objects.for_district(district)}
    schools = {s.name: s for s in School.objects.for_district(district)}
    have = set(SuccessStory.objects.for_district(district).values_list("title", flat=True))
    today = district.today()
    for title, text, partner, school, days_ago, step in DEMO_STORIES:
        if title in have:
            continue
        story = story_create(
            by=coordinator,
            title=title,
            story=text,
            date=today - timedelta(days=days_ago),
            partner=partners.get(partner),
            school=schools.get(school),
        )
        if step == "new":
            continue
        story = story_consent_record(
            by=coordinator,
            story=story,
            given_by="The student's parent, in writing",
            given_on=today - timedelta(days=max(days_ago - 5, 0)),
        )
        if step == "consented":
            continue
        story = story_review(by=admin, story=story)
        story_publishable_set(by=coordinator, story=story, publishable=True)


def seed_partnerships(district) -> None:
    seed_mous(district)
    seed_funding(district)
    seed_stories(district)


def _member(district, role) -> Membership | None:
    return (
        Membership.objects.for_district(district)
        .filter(role=role, active=True)
        .select_related("user", "district")
        .order_by("pk")
        .first()
    )


def _partner_member(district, partner) -> Membership | None:
    return (
        Membership.objects.for_district(district)
        .filter(role=Role.PARTNER, partner=partner, active=True)
        .select_related("user", "district")
        .order_by("pk")
        .first()
    )
