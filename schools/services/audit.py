"""The audit trail: changes to people's access in a district, and what platform staff
changed in the Django admin that concerns a district.

Rows are append-only in the database (the runtime role may insert, never update or
delete). Each function writes inside the caller's transaction, so an action and its
record commit or roll back together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from schools.models import AuditEvent, District, Membership, User
from schools.tenancy import tenant_context


def person_label(user: User) -> str:
    """How a person is named on the trail: their name and address (or the address alone)."""
    if user.full_name:
        return f"{user.full_name} <{user.email}>"[:200]
    return user.email[:200]


def audit_record(
    *, by: Membership | None, action: str, obj, about: str, detail: dict | None = None
) -> AuditEvent | None:
    """Record what a member did in their own district (call inside the service's
    transaction, in the district's context).

    `by` None is platform staff calling a service from the admin: the admin records it
    (see audit_staff_action), so nothing is written here.
    """
    if by is None:
        return None
    return AuditEvent.objects.create(
        district_id=by.district_id,
        user_id=by.user_id,
        membership=by,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=about[:200],
        detail=detail or {},
    )


def districts_concerned(obj) -> list[int]:
    """The districts an object belongs to: a district itself, a tenant row its district,
    a person (or a row of a person's, such as an email address or an authenticator)
    every district they are a member of. Empty for platform-wide rows."""
    if isinstance(obj, District):
        return [obj.pk] if obj.pk else []
    district_id = getattr(obj, "district_id", None)
    if district_id is not None:
        return [district_id]
    user_id = obj.pk if isinstance(obj, User) else getattr(obj, "user_id", None)
    if not isinstance(user_id, int):
        return []
    # The person's own membership rows are readable by their user id before any district
    # is chosen (the own_rows policy): the one narrow path that spans districts.
    with tenant_context(None, user=user_id):
        return sorted(
            set(Membership.objects.filter(user_id=user_id).values_list("district_id", flat=True))
        )


def audit_staff_action(*, by: User, action: str, objects: Iterable, message="") -> list:
    """Record what platform staff did in the admin, once in every district each object
    concerns, entering each district to insert (its row-level security checks the row).

    Objects that concern no district are left to Django's own admin log.
    `message` is the admin's change message (a list, as Django builds it, or text).
    """
    per_district: dict[int, list[AuditEvent]] = defaultdict(list)
    for obj in objects:
        for district_id in districts_concerned(obj):
            per_district[district_id].append(
                AuditEvent(
                    district_id=district_id,
                    user_id=by.pk,
                    membership=None,
                    action=action,
                    object_type=obj._meta.label_lower,
                    object_id=str(obj.pk),
                    object_repr=str(obj)[:200],
                    detail={"admin": message} if message else {},
                )
            )
    created = []
    for district_id, events in per_district.items():
        with tenant_context(district_id):
            created.extend(AuditEvent.objects.bulk_create(events))
    return created
