"""The home page's inbox (issue 15): each kind of item reaches exactly the roles it
concerns, nothing of another district, newest first, at a fixed number of queries; and
"Nothing needs you yet" only when nothing does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partnerships.models import MOUComment
from referrals.models import HelpRequest
from schools.models import Role
from schools.tenancy import tenant_context
from tests.factories import (
    DistrictFactory,
    InvitationFactory,
    MembershipFactory,
    MOUFactory,
    MOUVersionFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    SuccessStoryFactory,
    enable_totp,
)

pytestmark = pytest.mark.django_db

ROLES = ["admin", "coordinator", "counselor", "viewer", "partner"]


def _people(district, partner):
    people = {
        role: MembershipFactory(district=district, role=role)
        for role in ["admin", "coordinator", "counselor", "viewer"]
    }
    people["partner"] = MembershipFactory(district=district, role=Role.PARTNER, partner=partner)
    return people


def _world(district, tag: str, stale_partners: int = 1) -> dict:
    """Something of every kind waiting in `district`; returns each item's mark (a text or
    a link that only that item puts on the page) with the roles that must see it."""
    partner = PartnerFactory(district=district, name=f"{tag} Harbor Family Services")
    people = _people(district, partner)
    today = district.today()
    school = SchoolFactory(district=district, name=f"{tag} Lincoln High")
    student = StudentFactory(district=district, school=school)
    marks = {}

    def mou(title, status, roles, **fields):
        made = MOUFactory(district=district, partner=partner, title=title, status=status, **fields)
        marks[title] = roles
        return made

    mou(f"{tag} MOU for review", "internal_review", {"admin"})
    mou(f"{tag} MOU the partner signed", "partner_signed", {"admin"})
    mou(f"{tag} MOU sent to the partner", "sent", {"partner"})
    mou(
        f"{tag} MOU coming up for renewal",
        "expiring",
        {"admin", "coordinator"},
        end_date=today + timedelta(days=40),
    )
    returned = mou(f"{tag} MOU returned with changes", "draft", {"coordinator"})
    version = MOUVersionFactory(district=district, mou=returned, number=1)
    with tenant_context(district):
        MOUComment.objects.create(
            district=district,
            mou=returned,
            version=version,
            membership=people["admin"],
            author_name="Alex Admin",
            body="Say who pays for the interpreter.",
        )
    # A draft never sent, an active MOU far from its end: nothing waits on them.
    mou(f"{tag} MOU still drafting", "draft", set())
    mou(f"{tag} MOU in force", "active", set())

    SuccessStoryFactory(district=district, title=f"{tag} Story without consent")
    marks[f"{tag} Story without consent"] = {"admin", "coordinator"}
    SuccessStoryFactory(
        district=district,
        title=f"{tag} Story to review",
        consent_given_by="Her mother",
        consent_at=timezone.now(),
    )
    marks[f"{tag} Story to review"] = {"admin"}
    SuccessStoryFactory(district=district, title=f"{tag} Story published", ready=True)
    marks[f"{tag} Story published"] = set()

    # The partner was never verified: its listing waits (one item with a count).
    for n in range(stale_partners - 1):
        PartnerFactory(district=district, name=f"{tag} unverified partner {n}")
    listings = (
        "1 partner listing needs" if stale_partners == 1 else f"{stale_partners} partner listings"
    )
    marks[listings] = {"admin", "coordinator"}

    invitation = InvitationFactory(district=district, email=f"{tag.lower()}.invitee@example.org")
    marks[invitation.email] = {"admin"}

    counselor = people["counselor"]

    def referral(roles, **fields):
        made = ReferralFactory(
            district=district,
            student=student,
            school=school,
            partner=partner,
            referred_by=counselor,
            owner=counselor,
            **fields,
        )
        marks[f'href="{reverse("referral_detail", args=[district.slug, made.pk])}"'] = roles
        return made

    now = timezone.now()
    referral(
        {"counselor"},
        status="declined",
        sent_at=now - timedelta(days=5),
        declined_at=now - timedelta(days=1),
        decline_reason="capacity",
    )
    # Overdue: the counselor has no answer, and the partner still has to give it.
    referral(
        {"counselor", "partner"},
        status="sent",
        sent_at=now - timedelta(days=12),
        response_due_on=today - timedelta(days=2),
    )
    referral({"partner"}, status="sent", sent_at=now, response_due_on=today + timedelta(days=5))
    referral(set(), status="draft")  # a draft waits on nobody's inbox

    with tenant_context(district):
        help_request = HelpRequest.objects.create(
            district=district,
            school=school,
            asker_kind="teacher",
            message="A student in my class has been crying in the hallway every day.",
        )
    url = reverse("help_request_detail", args=[district.slug, help_request.pk])
    marks[f'href="{url}"'] = {"admin", "coordinator", "counselor"}
    return {"people": people, "marks": marks}


@pytest.fixture
def worlds(db):
    ours = DistrictFactory(slug="north", name="North Valley Unified")
    theirs = DistrictFactory(slug="south", name="South Shore Unified")
    return ours, _world(ours, "North"), theirs, _world(theirs, "South", stale_partners=2)


def home(client, membership) -> str:
    if membership.role == Role.ADMIN and not membership.user.authenticator_set.exists():
        enable_totp(membership.user)
    client.force_login(membership.user)
    response = client.get(reverse("district_home", args=[membership.district.slug]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_each_item_reaches_exactly_the_roles_it_concerns_and_nothing_of_another_district(
    client, worlds, role
):
    ours, our_world, _theirs, their_world = worlds
    page = home(client, our_world["people"][role])

    for mark, roles in our_world["marks"].items():
        assert (mark in page) == (role in roles), (role, mark)
    for mark in their_world["marks"]:
        assert mark not in page, (role, mark)
    assert "South" not in page
    if role == "viewer":
        assert "Waiting for you" not in page
        assert "Nothing needs you yet" in page
    else:
        assert "Waiting for you" in page
        assert "Nothing needs you yet" not in page


def test_the_items_are_newest_first(client, worlds):
    ours, world, *_ = worlds
    admin = world["people"]["admin"]
    with tenant_context(ours):
        older = InvitationFactory(district=ours, email="older.invitee@example.org")
        type(older).objects.filter(pk=older.pk).update(
            created_at=timezone.now() - timedelta(days=30)
        )
    page = home(client, admin)
    # The invitation sent just now comes before the story written before it, and the one
    # sent a month ago after both.
    assert page.index("north.invitee@example.org") < page.index("older.invitee@example.org")
    assert page.index("North Story to review") < page.index("older.invitee@example.org")


def test_a_new_version_answers_the_changes_asked_for(client, worlds):
    ours, world, *_ = worlds
    coordinator = world["people"]["coordinator"]
    assert "North MOU returned with changes" in home(client, coordinator)
    mou = MOUVersionFactory._meta.model.objects  # the versions' manager
    with tenant_context(ours):
        returned = mou.get(mou__title="North MOU returned with changes").mou
        MOUVersionFactory(district=ours, mou=returned, number=2)
    assert "North MOU returned with changes" not in home(client, coordinator)


def test_a_declined_referral_sent_elsewhere_leaves_the_inbox(client, worlds):
    ours, world, *_ = worlds
    counselor = world["people"]["counselor"]
    page = home(client, counselor)
    assert "Referral declined" in page
    with tenant_context(ours):
        declined = ReferralFactory._meta.model.objects.select_related("student", "school").get(
            status="declined"
        )
    ReferralFactory(
        district=ours,
        student=declined.student,
        school=declined.school,
        referred_by=counselor,
        owner=counselor,
        resent_from=declined,
    )
    assert "Referral declined" not in home(client, counselor)


def test_the_inbox_costs_the_same_queries_however_much_waits(client, worlds):
    ours, world, *_ = worlds
    admin = world["people"]["admin"]
    home(client, admin)  # warm: sessions, MFA state

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            home(client, admin)
        return len(queries)

    before = count()
    partner = PartnerFactory(district=ours)
    for n in range(4):
        MOUFactory(
            district=ours, partner=partner, title=f"More review {n}", status="internal_review"
        )
        MOUFactory(
            district=ours, partner=partner, title=f"More signing {n}", status="partner_signed"
        )
        SuccessStoryFactory(district=ours, title=f"More story {n}")
        InvitationFactory(district=ours)
    assert count() == before


def test_a_counselor_with_nothing_waiting_is_told_so(client, db):
    district = DistrictFactory(slug="quiet", name="Quiet Valley")
    counselor = MembershipFactory(district=district, role="counselor")
    page = home(client, counselor)
    assert "Nothing needs you yet" in page
    assert "Waiting for you" not in page
