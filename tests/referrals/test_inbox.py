"""The partner's inbox in each district it serves, and the summary of what waits in each
district on the partner member's home page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralStatus
from tests.factories import (
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    StudentFactory,
    UserFactory,
    enable_totp,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 11)  # a Wednesday


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(
        datetime.datetime.combine(TODAY, datetime.time(16, 0), tzinfo=datetime.UTC), tick=False
    )


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def inbox_url(district) -> str:
    return reverse("referral_inbox", args=[district.slug])


def sign_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def make(district, partner, status, **fields):
    sent_at = fields.pop("sent_at", timezone.now() - datetime.timedelta(days=3))
    return ReferralFactory(
        district=district,
        partner=partner,
        status=status,
        sent_at=None if status == ReferralStatus.DRAFT else sent_at,
        student=StudentFactory(district=district, first_name="Amara", last_name="Okafor"),
        **fields,
    )


@pytest.fixture
def waiting(district):
    """Riverbend's referrals in every step, and another partner's."""
    partner = PartnerFactory(district=district, name="Riverbend Counseling")
    S = ReferralStatus
    rows = {
        "overdue_old": make(district, partner, S.SENT, response_due_on=days(-5)),
        "overdue": make(district, partner, S.SENT, response_due_on=days(-1)),
        "to_answer": make(district, partner, S.SENT, response_due_on=days(2)),
        "to_schedule": make(district, partner, S.ACCEPTED, accepted_at=timezone.now()),
        "to_record": make(
            district, partner, S.SCHEDULED, accepted_at=timezone.now(), appointment_on=days(-2)
        ),
        "in_service": make(
            district,
            partner,
            S.IN_SERVICE,
            accepted_at=timezone.now(),
            first_appointment_on=days(-6),
        ),
        # Nothing to do yet, or nothing any more:
        "scheduled_later": make(
            district, partner, S.SCHEDULED, accepted_at=timezone.now(), appointment_on=days(4)
        ),
        "draft": make(district, partner, S.DRAFT),
        "declined": make(
            district, partner, S.DECLINED, declined_at=timezone.now(), decline_reason="other"
        ),
        "closed": make(
            district,
            partner,
            S.CLOSED,
            accepted_at=timezone.now(),
            closed_at=timezone.now(),
            outcome="completed",
        ),
        "withdrawn": make(district, partner, S.WITHDRAWN, withdrawn_at=timezone.now()),
    }
    other = PartnerFactory(district=district, name="Harbor Health")
    rows["others"] = make(district, other, S.SENT, response_due_on=days(-3))
    return partner, other, rows


def refs(response) -> list[int]:
    return [referral.pk for referral in response.context["page"].object_list]


# --- The trio -------------------------------------------------------------------------------------


def test_a_partner_member_sees_what_waits_for_its_partner_overdue_first(client, district, waiting):
    partner, _other, rows = waiting
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))

    response = client.get(inbox_url(district))

    assert response.status_code == 200
    assert refs(response) == [
        rows["overdue_old"].pk,  # overdue first, the longest overdue first
        rows["overdue"].pk,
        rows["to_record"].pk,  # then by due date: the appointment (two days ago)
        rows["to_answer"].pk,  # the answer due in two days
        rows["to_schedule"].pk,  # then those without a date, oldest sent first
        rows["in_service"].pk,
    ]
    html = response.content.decode()
    assert "Amara" not in html and "Okafor" not in html  # no student names
    assert f'href="/{district.slug}/referrals/{rows["overdue"].pk}/"' in html
    assert "2 answers are overdue" in html
    assert "Accept or decline" in html and "Schedule the first appointment" in html
    assert "Record the appointment: kept or missed" in html


def test_each_row_opens_the_referral_page_for_the_partner(client, district, waiting):
    partner, _other, rows = waiting
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))

    for key in ("overdue", "to_schedule", "to_record", "in_service"):
        page = client.get(reverse("referral_detail", args=[district.slug, rows[key].pk]))
        assert page.status_code == 200, key


def test_another_partners_member_sees_none_of_them(client, district, waiting):
    _partner, other, rows = waiting
    sign_in(client, MembershipFactory(district=district, role="partner", partner=other))

    response = client.get(inbox_url(district))

    assert refs(response) == [rows["others"].pk]


def test_another_districts_member_gets_404(client, district, other_district, waiting):
    their_partner = PartnerFactory(district=other_district)
    sign_in(
        client, MembershipFactory(district=other_district, role="partner", partner=their_partner)
    )

    assert client.get(inbox_url(district)).status_code == 404


@pytest.mark.parametrize("role", ["admin", "coordinator", "counselor"])
def test_staff_are_sent_to_the_referral_list(client, district, waiting, role):
    sign_in(client, MembershipFactory(district=district, role=role))

    response = client.get(inbox_url(district))

    assert response.status_code == 302
    assert response["Location"] == reverse("referral_list", args=[district.slug])


def test_a_viewer_is_refused(client, district, waiting):
    sign_in(client, MembershipFactory(district=district, role="viewer"))

    assert client.get(inbox_url(district)).status_code == 403


def test_the_inbox_is_read_only(client, district, waiting):
    partner, _other, _rows = waiting
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))

    assert client.post(inbox_url(district), {}).status_code == 405


# --- Size -----------------------------------------------------------------------------------------


def test_the_inbox_costs_the_same_queries_at_any_length_and_pages(
    client, district, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner = PartnerFactory(district=district)
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))
    make(district, partner, ReferralStatus.SENT, response_due_on=days(-1))
    client.get(inbox_url(district))
    with CaptureQueriesContext(connection) as few:
        client.get(inbox_url(district))
    for n in range(60):
        make(district, partner, ReferralStatus.SENT, response_due_on=days(n - 30))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(inbox_url(district))

    assert len(response.context["page"].object_list) == 50
    assert client.get(inbox_url(district) + "?page=2").context["page"].number == 2
    assert client.get(inbox_url(district) + "?page=abc").status_code == 200


def test_an_empty_inbox_says_so(client, district):
    partner = PartnerFactory(district=district)
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))

    assert "Nothing waits for you" in client.get(inbox_url(district)).content.decode()


# --- The home page ------------------------------------------------------------------------------


def test_the_home_page_sums_up_what_waits_in_each_district_the_partner_serves(
    client, district, other_district, waiting
):
    partner, _other, _rows = waiting
    user = UserFactory()
    MembershipFactory(district=district, role="partner", partner=partner, user=user)
    south_partner = PartnerFactory(district=other_district, name="Riverbend South")
    MembershipFactory(district=other_district, role="partner", partner=south_partner, user=user)
    make(other_district, south_partner, ReferralStatus.SENT, response_due_on=days(3))
    make(other_district, PartnerFactory(district=other_district), ReferralStatus.SENT)
    client.force_login(user)

    for here in (district, other_district):
        response = client.get(reverse("district_home", args=[here.slug]))
        panel = next(
            p["context"]
            for p in response.context["panels"]
            if p["template"] == "referrals/inbox/_home_panel.html"
        )
        by_slug = {row["district"].slug: row for row in panel["rows"]}
        assert set(by_slug) == {"north", "south"}
        north, south = by_slug["north"], by_slug["south"]
        assert (north["overdue"], north["to_answer"], north["to_schedule"]) == (2, 3, 1)
        assert (north["to_record"], north["in_service"], north["total"]) == (1, 1, 6)
        assert (south["overdue"], south["to_answer"], south["total"]) == (0, 1, 1)
        html = response.content.decode()
        assert f'href="{inbox_url(district)}"' in html
        assert f'href="{inbox_url(other_district)}"' in html
        assert "North Valley Unified inbox" in html and "South Coast Unified inbox" in html


def test_the_home_panel_costs_one_query_per_district(
    client, district, other_district, waiting, count_queries
):
    from django.test import RequestFactory

    from referrals.views.inbox import inbox_home_panel
    from schools.tenancy import tenant_context

    partner, _other, _rows = waiting
    user = UserFactory()
    MembershipFactory(district=district, role="partner", partner=partner, user=user)
    request = RequestFactory().get("/")
    request.user, request.district = user, district

    with tenant_context(district, user=user):
        one = count_queries(lambda: inbox_home_panel(request))
        south_partner = PartnerFactory(district=other_district)
        MembershipFactory(district=other_district, role="partner", partner=south_partner, user=user)
        for _ in range(5):
            make(other_district, south_partner, ReferralStatus.SENT, response_due_on=days(1))
        two = count_queries(lambda: inbox_home_panel(request))

    # The memberships, then per district: enter, count, restore.
    assert two - one == one - 1 == 3


def test_staff_and_a_partner_with_nothing_waiting_get_no_inbox_panel(client, district, waiting):
    sign_in(client, MembershipFactory(district=district, role="coordinator"))
    staff = client.get(reverse("district_home", args=[district.slug]))
    idle = PartnerFactory(district=district)
    sign_in(client, MembershipFactory(district=district, role="partner", partner=idle))
    quiet = client.get(reverse("district_home", args=[district.slug]))

    for response in (staff, quiet):
        templates = [p["template"] for p in response.context["panels"]]
        assert "referrals/inbox/_home_panel.html" not in templates


def test_a_partner_member_finds_the_inbox_in_the_navigation(client, district):
    partner = PartnerFactory(district=district)
    sign_in(client, MembershipFactory(district=district, role="partner", partner=partner))

    response = client.get(reverse("district_home", args=[district.slug]))

    assert "Inbox" in [str(item["label"]) for item in response.context["navigation"]]
