"""The partner's scorecard, against a fixture computed by hand, and where it is shown: on
the partner's page for staff who see referrals and for the partner's own members."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from referrals.models import ReferralStatus
from referrals.scorecard import partner_scorecard
from schools.models import ClosedDay
from schools.tenancy import tenant_context
from tests.factories import (
    MembershipFactory,
    MOUFactory,
    PartnerFactory,
    ReferralFactory,
    enable_totp,
)

pytestmark = pytest.mark.django_db

CLOSED = datetime.date(2026, 2, 11)  # a Wednesday the district is closed
TODAY = datetime.date(2026, 2, 27)
UTC = datetime.UTC


def chicago(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """`hour` o'clock in Chicago (the factories' district zone, UTC-6 in February)."""
    return datetime.datetime.combine(day, datetime.time(hour + 6, 0), tzinfo=UTC)


def d(day: int) -> datetime.date:
    return datetime.date(2026, 2, day)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(chicago(TODAY), tick=False)


def referral(district, partner, **fields):
    return ReferralFactory(district=district, partner=partner, **fields)


@pytest.fixture
def fixture(district):
    """Six referrals received by Riverbend in February 2026, and four that do not count.

    ref  sent          answered                    due     kept    no-shows  status
    A    Mon 9 (late   accepted Thu 12             Tue 17  Mon 16  1         closed
         evening:
         Tue 10 UTC)
    B    Fri 6         accepted Fri 13             Fri 13  Fri 20  0         in service
    C    Mon 2         accepted Tue 3              Mon 9   -       1         scheduled
    D    Tue 3         declined Wed 11: capacity   Tue 10  -       0         declined (late)
    E    Thu 5         declined Fri 6: eligible    Thu 12  -       0         declined
    F    Mon 16        -                           Mon 23  -       0         sent

    Business days to accept (Wed 11 closed): A 2 (Tue 10, Thu 12), B 4 (Mon 9, Tue 10,
    Thu 12, Fri 13), C 1: median 2. Days to first appointment: A 7, B 14: median 10.5.
    No-shows 2 of 2 kept + 2 missed: 50%. Closed with an outcome: A, of A, B, C: 33%.
    Answered in time: A, B, C, E of five answered: 80%.
    """
    partner = PartnerFactory(district=district, name="Riverbend Counseling")
    with tenant_context(district):
        ClosedDay.objects.create(district=district, date=CLOSED, name="Closed")
    rows = {
        "A": referral(
            district,
            partner,
            status=ReferralStatus.CLOSED,
            # 21:00 on Monday the 9th in Chicago is already Tuesday in UTC.
            sent_at=datetime.datetime(2026, 2, 10, 3, 0, tzinfo=UTC),
            accepted_at=chicago(d(12)),
            response_due_on=d(17),
            first_appointment_on=d(16),
            no_shows=1,
            closed_at=chicago(d(26)),
            outcome="completed",
        ),
        "B": referral(
            district,
            partner,
            status=ReferralStatus.IN_SERVICE,
            sent_at=chicago(d(6)),
            accepted_at=chicago(d(13), hour=17),
            response_due_on=d(13),
            first_appointment_on=d(20),
        ),
        "C": referral(
            district,
            partner,
            status=ReferralStatus.SCHEDULED,
            sent_at=chicago(d(2)),
            accepted_at=chicago(d(3)),
            response_due_on=d(9),
            appointment_on=d(28),
            no_shows=1,
        ),
        "D": referral(
            district,
            partner,
            status=ReferralStatus.DECLINED,
            sent_at=chicago(d(3)),
            declined_at=chicago(d(11)),
            decline_reason="no_capacity",
            response_due_on=d(10),
        ),
        "E": referral(
            district,
            partner,
            status=ReferralStatus.DECLINED,
            sent_at=chicago(d(5)),
            declined_at=chicago(d(6)),
            decline_reason="not_eligible",
            response_due_on=d(12),
        ),
        "F": referral(
            district,
            partner,
            status=ReferralStatus.SENT,
            sent_at=chicago(d(16)),
            response_due_on=d(23),
        ),
    }
    # Not counted: withdrawn after acceptance, a draft, another partner's, another district's.
    referral(
        district,
        partner,
        status=ReferralStatus.WITHDRAWN,
        sent_at=chicago(d(2)),
        accepted_at=chicago(d(2)),
        withdrawn_at=chicago(d(4)),
        no_shows=3,
    )
    referral(district, partner, status=ReferralStatus.DRAFT)
    referral(
        district,
        PartnerFactory(district=district),
        status=ReferralStatus.DECLINED,
        sent_at=chicago(d(2)),
        declined_at=chicago(d(3)),
        decline_reason="other",
    )
    return partner, rows


def scorecard(district, partner, **kwargs):
    with tenant_context(district):
        return partner_scorecard(district, partner, **kwargs)


def test_every_figure_matches_the_hand_computed_fixture(district, fixture):
    partner, _rows = fixture

    card = scorecard(district, partner)

    assert card.received == 6
    assert card.accepted == 3
    assert card.declined == 2
    assert (card.answered, card.answered_in_time, card.in_time_percent) == (5, 4, 80)
    assert card.median_days_to_accept == 2
    assert card.median_days_to_first_appointment == 10.5
    assert (card.appointments_kept, card.no_shows) == (2, 2)
    assert card.no_show_rate == 0.5 and card.no_show_percent == 50
    assert card.closed_with_outcome == 1 and card.closed_percent == 33
    assert card.declines == [
        ("no_capacity", "No capacity", 1),
        ("not_eligible", "Not eligible", 1),
        ("not_offered", "Service not offered", 0),
        ("unreachable", "Family unreachable", 0),
        ("other", "Other", 0),
    ]
    assert (card.response_days, card.response_days_from_mou) == (5, False)  # the district's


def test_the_closed_day_is_not_a_business_day_to_accept(district, fixture):
    partner, _rows = fixture
    with tenant_context(district):
        ClosedDay.objects.filter(district=district).delete()

    # Without the closed day: A 3, B 5, C 1.
    assert scorecard(district, partner).median_days_to_accept == 3


def test_since_counts_only_referrals_sent_from_that_day(district, fixture):
    partner, _rows = fixture

    card = scorecard(district, partner, since=d(5))

    assert card.received == 4  # A, B, E, F
    assert (card.accepted, card.declined) == (2, 1)
    assert card.median_days_to_accept == 3  # A 2, B 4


def test_the_target_is_the_mous_response_time_when_it_sets_one(district, fixture):
    partner, _rows = fixture
    MOUFactory(district=district, partner=partner, status="active", response_days=3)

    card = scorecard(district, partner)

    assert (card.response_days, card.response_days_from_mou) == (3, True)


def test_a_partner_without_referrals_has_an_empty_scorecard(district):
    partner = PartnerFactory(district=district)

    card = scorecard(district, partner)

    assert card.received == 0
    assert card.median_days_to_accept is None and card.no_show_rate is None
    assert card.closed_share is None and card.in_time_share is None


def test_the_scorecard_costs_the_same_few_queries_whatever_the_data(
    district, fixture, count_queries
):
    partner, _rows = fixture

    few = count_queries(lambda: scorecard(district, partner))
    for day in range(2, 20):
        referral(
            district,
            partner,
            status=ReferralStatus.IN_SERVICE,
            sent_at=chicago(d(day)),
            accepted_at=chicago(d(day + 1)),
            first_appointment_on=d(day + 5),
        )
    many = count_queries(lambda: scorecard(district, partner))

    assert few == many <= 6  # context, aggregate, dates, closed days, MOU, restore


# --- Where it is shown --------------------------------------------------------------------------


def signed_in(client, district, role, **kwargs):
    membership = MembershipFactory(district=district, role=role, **kwargs)
    if role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def detail(client, district, partner):
    return client.get(reverse("partner_detail", args=[district.slug, partner.pk]))


@pytest.mark.parametrize("role", ["admin", "coordinator", "counselor"])
def test_staff_who_see_referrals_read_the_scorecard_on_the_partners_page(
    client, district, fixture, role
):
    partner, _rows = fixture
    signed_in(client, district, role)

    html = detail(client, district, partner).content.decode()

    assert "Referral scorecard" in html
    assert "80% (4 of 5)" in html  # answered in time
    assert "2 business days" in html  # median to accept
    assert "10.5 days" in html  # median to first appointment
    assert "50% (2 missed, 2 kept)" in html
    assert "33% (1 of 3)" in html
    assert "No capacity: 1" in html and "Not eligible: 1" in html
    assert "Service not offered" not in html  # reasons nobody gave are left out
    assert "Answer target: 5 business days" in html
    assert "out of first appointments kept or missed" in html  # how it is counted


def test_a_viewer_does_not_see_the_scorecard(client, district, fixture):
    partner, _rows = fixture
    signed_in(client, district, "viewer")

    response = detail(client, district, partner)

    assert response.status_code == 200
    assert "Referral scorecard" not in response.content.decode()


def test_the_partners_own_members_read_its_scorecard(client, district, fixture):
    partner, _rows = fixture
    signed_in(client, district, "partner", partner=partner)

    html = client.get(reverse("partner_own", args=[district.slug])).content.decode()

    assert "Referral scorecard" in html and "80% (4 of 5)" in html


def test_another_partners_member_never_sees_this_scorecard(client, district, fixture):
    partner, _rows = fixture
    signed_in(client, district, "partner")  # a member of another organisation

    own = client.get(reverse("partner_own", args=[district.slug])).content.decode()

    assert detail(client, district, partner).status_code == 403
    assert "80% (4 of 5)" not in own
    assert "No referrals yet. The scorecard fills in as referrals are sent to this partner." in own


def test_the_section_is_left_out_for_another_partners_member(rf, district, fixture):
    from referrals.views.inbox import partner_scorecard_section

    partner, _rows = fixture
    request = rf.get("/")
    request.district = district
    request.membership = MembershipFactory(district=district, role="partner")

    assert partner_scorecard_section(request, partner) is None


def test_another_districts_member_gets_404(client, district, other_district, fixture):
    partner, _rows = fixture
    signed_in(client, other_district, "coordinator")

    assert detail(client, district, partner).status_code == 404
    assert (
        client.get(reverse("partner_detail", args=[other_district.slug, partner.pk])).status_code
        == 404
    )


def test_a_partner_without_referrals_shows_the_empty_state(client, district):
    partner = PartnerFactory(district=district)
    signed_in(client, district, "coordinator")

    html = detail(client, district, partner).content.decode()

    assert "No referrals yet. The scorecard fills in as referrals are sent to this partner." in html
