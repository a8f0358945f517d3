"""What each role may do: the one table views, templates and navigation ask.

Ask `can(membership, "referral.send")`, never the role name. Later issues add their
capabilities here; the role-by-capability test walks this table against real views.
"""

from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied

from schools.models import Role

_ALL_STAFF = {Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.VIEWER}

CAPABILITIES: dict[str, frozenset[str]] = {
    "district.view": frozenset(Role.values),
    "people.manage": frozenset({Role.ADMIN}),
    # The district's own settings kept in Trellis (its closed days, issue 14).
    "district.settings": frozenset({Role.ADMIN}),
    "students.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    "students.import": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "access_log.view": frozenset({Role.ADMIN}),
    "audit.view": frozenset({Role.ADMIN}),
    # The delivery of the district's mail, and trying again what was not delivered.
    "mail.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "partners.view": frozenset(_ALL_STAFF),
    "partners.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Partnerships. A partner sees only its own organization, MOUs and stories: the
    # access helpers in partnerships/selectors.py narrow what these let through.
    "partner.own": frozenset({Role.PARTNER}),
    "mous.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.PARTNER, Role.VIEWER}),
    "mous.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "mous.approve": frozenset({Role.ADMIN}),
    "mous.sign": frozenset({Role.ADMIN, Role.PARTNER}),
    "funding.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.VIEWER}),
    "funding.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    # Meetings (issue 18): staff see the district's meetings, a partner the meetings its
    # organization is part of (partnerships/selectors/meetings.py narrows it).
    "meetings.view": frozenset(
        {Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.PARTNER, Role.VIEWER}
    ),
    "meetings.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "stories.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.PARTNER, Role.VIEWER}),
    "stories.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "stories.review": frozenset({Role.ADMIN}),
    "referrals.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.PARTNER}),
    # Referrals and the consents behind them: the school's care team (RULES.md, "Consent to
    # disclose"). A partner receives referrals; it never records consent or sends one.
    "referrals.create": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    "referrals.send": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    # The filtered referral list as a CSV (issue 14): staff who work with students only.
    "referrals.export": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    # Moving a departing member's open referrals to a colleague (issue 14): the office.
    "referrals.reassign": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "consent.record": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    # A health or safety emergency (34 CFR 99.36) lets one referral go without consent.
    "emergency.declare": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    # The disclosure log of a student (34 CFR 99.32), and every emergency override.
    "disclosures.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR}),
    "overrides.view": frozenset({Role.ADMIN}),
    # Printing a student's record of disclosures for the family who asks to inspect it
    # (34 CFR 99.32(c)): an administrator answers such requests (issue 13).
    "disclosures.print": frozenset({Role.ADMIN}),
    "screening.manage": frozenset({Role.ADMIN, Role.COORDINATOR}),
    "reports.view": frozenset({Role.ADMIN, Role.COORDINATOR, Role.VIEWER}),
}


class CapabilityDenied(PermissionDenied):
    """Refused for want of a capability; carries the roles that hold it.

    The 403 page names those roles, so a person knows whom to ask. Still a
    PermissionDenied: every caller that catches refusals keeps working.
    """

    def __init__(self, capability: str):
        self.capability = capability
        self.roles = roles_holding(capability)
        super().__init__(f"needs the capability {capability!r}")


def roles_holding(capability: str) -> list[Role]:
    """The roles that hold `capability`, the least privileged first (the one to ask for)."""
    return [role for role in reversed(Role) if role in CAPABILITIES[capability]]


def require(membership, capability: str) -> None:
    """Raise CapabilityDenied unless the membership holds the capability (for services)."""
    if not can(membership, capability):
        raise CapabilityDenied(capability)


def can(membership, capability: str) -> bool:
    """True when the membership is active and its role holds the capability."""
    if membership is None or not membership.active:
        return False
    try:
        return membership.role in CAPABILITIES[capability]
    except KeyError:
        raise KeyError(f"unknown capability {capability!r}") from None


def requires(capability: str):
    """View decorator: 403 unless the request's membership holds `capability`.

    The capability is kept on the view (`view.capability`) so that the role matrix
    test can walk every district URL against the table above.
    """
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            require(getattr(request, "membership", None), capability)
            return view(request, *args, **kwargs)

        wrapper.capability = capability
        return wrapper

    return decorator
