"""Reads of the schools app; each takes the viewer and owns its joins."""

from __future__ import annotations

from django.http import Http404

from schools.models import Membership


def memberships_of(user) -> list[Membership]:
    """The active memberships of a person, with their districts, for the switcher."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.active()
        .filter(user=user)
        .select_related("district")
        .order_by("district__name")
    )


def access_membership(user, district_slug: str) -> Membership:
    """The person's active membership in the district at `district_slug`, or 404.

    404 both when the district does not exist and when the person is not a member,
    so nobody learns which districts exist.
    """
    membership = (
        Membership.objects.active()
        .select_related("district", "user")
        .filter(user=user, district__slug=district_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such district")
    return membership


def schools_in(district) -> list:
    """The district's schools, by name."""
    from schools.models import School

    return list(School.objects.for_district(district).order_by("name"))
