"""Reads of success stories: who sees which, the list by step, the newsletter export."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404

from partnerships.models import SuccessStory
from schools.models import MembershipSchool, Role, School
from schools.selectors import in_membership_schools, partners_in


def stories_visible_to(membership):
    """Success stories the membership may see.

    A partner sees only its own organization's, and a role that sees no students (viewer)
    any, only once publishable, since a story not yet reviewed may identify a student; a
    membership limited to some schools, those schools' stories and stories of no school.
    School limits are a subquery: looking up and authorizing stay one query.
    """
    stories = SuccessStory.objects.for_district(membership.district_id)
    if membership.role == Role.PARTNER:
        # Before consent and review a story is still the district's (it may identify a
        # student); the partner sees it once it is publishable.
        return stories.filter(partner_id=membership.partner_id, publishable=True)
    if not membership.sees_students:
        stories = stories.filter(publishable=True)
    return stories.filter(Q(school__isnull=True) | in_membership_schools(membership))


STORY_FILTERS = ("needs_consent", "needs_review", "ready", "publishable")


def story_list(membership, *, state: str = ""):
    """Stories the viewer may see, newest first, with partner, school and who did what:
    one query however many rows. `state` narrows to one step of the way to publication."""
    stories = (
        stories_visible_to(membership).select_related("partner", "school").order_by("-date", "-pk")
    )
    if state == "needs_consent":
        stories = stories.filter(consent_at__isnull=True)
    elif state == "needs_review":
        stories = stories.filter(reviewed_at__isnull=True)
    elif state == "ready":
        stories = stories.filter(
            Q(consent_at__isnull=False) & Q(reviewed_at__isnull=False), publishable=False
        )
    elif state == "publishable":
        stories = stories.filter(publishable=True)
    return stories


def access_story(membership, story_id):
    """A story the viewer may see, with partner, school and the people who recorded
    consent and reviewed it, or 404 (one query)."""
    return get_object_or_404(
        stories_visible_to(membership).select_related(
            "partner", "school", "consent_recorded_by__user", "reviewed_by__user"
        ),
        pk=story_id,
    )


def publishable_stories(membership) -> list:
    """The publishable stories the viewer may see, newest first (the newsletter export)."""
    return list(
        stories_visible_to(membership)
        .filter(publishable=True)
        .select_related("partner", "school")
        .order_by("-date", "-pk")
    )


def story_partner_choices(membership):
    return partners_in(membership.district_id)


def story_school_choices(membership):
    """Schools a story may be about: the membership's own when it is limited to some."""
    schools = School.objects.for_district(membership.district_id).order_by("name")
    limits = (
        MembershipSchool.objects.for_district(membership.district_id)
        .filter(membership_id=membership.pk)
        .values("school_id")
    )
    if limits.exists():
        schools = schools.filter(pk__in=limits)
    return schools
