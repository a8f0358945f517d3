"""Partner suggestions ranked by fit, each saying why it fits and what it lacks."""

from __future__ import annotations

import pytest

from partnerships.models import PartnerSchool, Service
from referrals.suggestions import partner_suggestions
from schools.tenancy import tenant_context
from tests.factories import MOUFactory, PartnerFactory, SchoolFactory

SERVICE = "counselling_individual"


def build(district, school, name, *, lacks=None, **fields):
    """A partner with everything the referral asks for, except what `lacks` names."""
    values = {
        "intake": "accepting",
        "languages": ["es-mx", "en"],
        "payments": ["medicaid"],
        "capacity": 3,
        "delivery_modes": ["on_site"],
        **fields,
    }
    if lacks == "accepting":
        values["intake"] = "waitlist"
    if lacks == "language":
        values["languages"] = ["en"]
    if lacks == "payment":
        values["payments"] = ["private"]
    if lacks == "capacity":
        values["capacity"] = 0
    partner = PartnerFactory(district=district, name=name, **values)
    with tenant_context(district):
        if lacks != "service":
            Service.objects.create(district=district, partner=partner, category=SERVICE)
        Service.objects.create(district=district, partner=partner, category="mentoring")
        if lacks != "school":
            PartnerSchool.objects.create(district=district, partner=partner, school=school)
    if lacks != "mou":
        MOUFactory(district=district, partner=partner, status="active")
    return partner


def suggest(membership, school, **overrides):
    criteria = {
        "school": school,
        "services": [SERVICE],
        "language": "es",
        "payment": ["medicaid"],
        "telehealth_ok": False,
        **overrides,
    }
    with tenant_context(membership.district):
        return partner_suggestions(membership, **criteria)


@pytest.fixture
def lincoln(district):
    return SchoolFactory(district=district, name="Lincoln Elementary")


@pytest.fixture
def counselor(member):
    return member("counselor")


def test_partners_are_ranked_by_fit_and_say_why(district, lincoln, counselor):
    # Names run against the ranking, so that the order is the ranking's, not the alphabet's.
    build(district, lincoln, "A lacks capacity", lacks="capacity")
    build(district, lincoln, "B lacks payment", lacks="payment")
    build(district, lincoln, "C lacks language", lacks="language")
    build(district, lincoln, "D lacks school", lacks="school")
    build(district, lincoln, "E lacks service", lacks="service")
    build(district, lincoln, "F lacks accepting", lacks="accepting")
    build(district, lincoln, "G lacks MOU", lacks="mou")
    build(district, lincoln, "H fits everything")

    suggestions = suggest(counselor, lincoln)

    assert [s.partner.name for s in suggestions] == [
        "H fits everything",
        "A lacks capacity",
        "B lacks payment",
        "C lacks language",
        "D lacks school",
        "F lacks accepting",
        "G lacks MOU",
        "E lacks service",
    ]
    scores = [s.score for s in suggestions]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    best = suggestions[0]
    assert best.fits == [
        "Offers Counseling, individual",
        "Speaks Spanish",
        "Accepts Medicaid",
        "Serves Lincoln Elementary",
        "MOU in force",
        "Accepting referrals",
        "Has capacity",
    ]
    assert best.lacks == []
    lacking = {s.partner.name: s.lacks for s in suggestions}
    assert lacking["A lacks capacity"] == ["No open places"]
    assert lacking["B lacks payment"] == ["Does not list Medicaid"]
    assert lacking["C lacks language"] == ["Does not list Spanish"]
    assert lacking["D lacks school"] == ["Does not list Lincoln Elementary"]
    assert lacking["E lacks service"] == ["Does not offer Counseling, individual"]
    assert lacking["F lacks accepting"] == ["Waitlist"]
    assert lacking["G lacks MOU"] == ["No MOU in force"]


def test_partners_not_taking_referrals_are_left_out(district, lincoln, counselor):
    build(district, lincoln, "Closed", intake="closed")
    build(district, lincoln, "Inactive", active=False)
    build(district, lincoln, "Open")

    assert [s.partner.name for s in suggest(counselor, lincoln)] == ["Open"]


def test_an_mou_not_in_force_does_not_count(district, lincoln, counselor):
    partner = build(district, lincoln, "Drafting", lacks="mou")
    MOUFactory(district=district, partner=partner, status="draft")
    MOUFactory(district=district, partner=partner, status="expired")
    expiring = build(district, lincoln, "Expiring", lacks="mou")
    MOUFactory(district=district, partner=expiring, status="expiring")

    by_name = {s.partner.name: s for s in suggest(counselor, lincoln)}

    assert "No MOU in force" in by_name["Drafting"].lacks
    assert "MOU in force" in by_name["Expiring"].fits


def test_region_codes_speak_their_base_language(district, lincoln, counselor):
    build(district, lincoln, "Speaks es-MX", languages=["es-MX"])

    [mexican] = suggest(counselor, lincoln, language="es")
    [asked_with_region] = suggest(counselor, lincoln, language="es-us")

    assert "Speaks Spanish" in mexican.fits
    assert "Does not list Spanish (United States)" not in asked_with_region.lacks
    assert any(fit.startswith("Speaks Spanish") for fit in asked_with_region.fits)


def test_more_of_the_services_asked_for_ranks_higher(district, lincoln, counselor):
    build(district, lincoln, "One of two")
    both = build(district, lincoln, "Both of two")
    with tenant_context(district):
        Service.objects.create(district=district, partner=both, category="therapy")

    suggestions = suggest(counselor, lincoln, services=[SERVICE, "therapy"])

    assert [s.partner.name for s in suggestions] == ["Both of two", "One of two"]
    assert "Does not offer Therapy" in suggestions[1].lacks


def test_without_criteria_the_mou_and_intake_still_rank(district, lincoln, counselor):
    build(district, lincoln, "A waitlist", lacks="accepting")
    build(district, lincoln, "B no MOU", lacks="mou")
    build(district, lincoln, "C both")

    suggestions = suggest(
        counselor, None, services=[], language="", payment=[], telehealth_ok=False
    )

    assert [s.partner.name for s in suggestions] == ["C both", "A waitlist", "B no MOU"]
    assert suggestions[0].fits == ["MOU in force", "Accepting referrals", "Has capacity"]


def test_uninsured_families_fit_free_and_sliding_scale(district, lincoln, counselor):
    build(district, lincoln, "Sliding", payments=["sliding_scale"])
    build(district, lincoln, "Insurance only", payments=["private"])

    by_name = {s.partner.name: s for s in suggest(counselor, lincoln, payment=["uninsured"])}

    assert "Accepts Sliding scale" in by_name["Sliding"].fits
    assert "Does not list Free" in by_name["Insurance only"].lacks


def test_telehealth_counts_only_when_acceptable(district, lincoln, counselor):
    build(district, lincoln, "A on site")
    build(district, lincoln, "B telehealth", delivery_modes=["telehealth"])

    without = suggest(counselor, lincoln, telehealth_ok=False)
    with_ = suggest(counselor, lincoln, telehealth_ok=True)

    assert [s.partner.name for s in without] == ["A on site", "B telehealth"]
    assert [s.partner.name for s in with_] == ["B telehealth", "A on site"]
    assert "Offers telehealth" in with_[0].fits


def test_unknown_codes_are_ignored(district, lincoln, counselor):
    build(district, lincoln, "Open")

    [only] = suggest(counselor, lincoln, services=["nonsense"], language="'; --", payment=["x"])

    assert only.lacks == []


def test_another_districts_partners_are_never_suggested(
    district, other_district, lincoln, counselor
):
    theirs = SchoolFactory(district=other_district, name="Their School")
    build(other_district, theirs, "Their partner")
    build(district, lincoln, "Ours")

    assert [s.partner.name for s in suggest(counselor, lincoln)] == ["Ours"]


def test_at_most_the_limit_and_a_fixed_number_of_queries(
    district, lincoln, counselor, django_assert_max_num_queries
):
    for n in range(30):
        build(district, lincoln, f"Partner {n:02d}", lacks=["mou", "school", None][n % 3])

    with tenant_context(district), django_assert_max_num_queries(2):
        suggestions = partner_suggestions(
            counselor,
            school=lincoln,
            services=[SERVICE, "mentoring"],
            language="es",
            payment=["medicaid"],
            telehealth_ok=True,
        )

    assert len(suggestions) == 8
    assert all("MOU in force" in s.fits for s in suggestions)


def test_prefix_range_covers_exactly_the_words_that_start_with_the_prefix():
    from referrals.suggestions import prefix_range

    low, high = prefix_range("MAR")
    assert (low, high) == ("mar", "mas")
    assert low <= "martinez" < high and not (low <= "mas" < high)
    # The code point after U+D7FF is a surrogate, which cannot be stored: skip past them.
    assert prefix_range("a\ud7ff")[1] == "a\ue000"
