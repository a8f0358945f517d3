"""What each role may do: the one table views, templates and navigation ask.

Ask `can(membership, "referral.send")`, never the role name. Later issues add their
capabilities here; the role-by-capability test walks this table against real views.
"""

from __future__ import annotations

from schools.models import Role

_ALL_STAFF = {Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.VIEWER}

CAPABILITIES: dict[str, frozenset[str]] = {
    "district.view": frozenset(Role.values),
    "people.manage": frozenset({Role.ADMIN}),
    "students.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    "partners.view": frozenset(_ALL_STAFF),
    "partners.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "referrals.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.PARTNER}),
    "screening.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "reports.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.VIEWER}),
}


def can(membership, capability: str) -> bool:
    """True when the membership is active and its role holds the capability."""
    if membership is None or not membership.active:
        return False
    try:
        return membership.role in CAPABILITIES[capability]
    except KeyError:
        raise KeyError(f"unknown capability {capability!r}") from None
