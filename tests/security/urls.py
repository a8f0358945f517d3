"""Every district URL of the project, and how to make an object for each URL argument.

Both security walks use this. A later app that adds a URL argument (`referral_id`,
`mou_id`, ...) registers a maker in OBJECT_MAKERS; until it does, the walks fail and
say which argument is missing, so no URL escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    PartnerFactory,
    SchoolFactory,
    StudentFactory,
)

# URL argument -> function(district) returning the value for an object of that district.
OBJECT_MAKERS = {
    "student_id": lambda district: StudentFactory(district=district).pk,
    "membership_id": lambda district: MembershipFactory(district=district).pk,
    "invitation_id": lambda district: InvitationFactory(district=district).pk,
    "school_id": lambda district: SchoolFactory(district=district).pk,
    "partner_id": lambda district: PartnerFactory(district=district).pk,
}


@dataclass(frozen=True)
class DistrictURL:
    route: str  # e.g. "<slug:district_slug>/students/<int:student_id>/"
    name: str
    callback: object
    arguments: tuple[str, ...]  # URL arguments other than district_slug

    def build(self, district_slug: str, values: dict) -> str:
        path = self.route
        for converter in ("slug", "int", "str", "uuid", "path", ""):
            path = path.replace(f"<{converter}:district_slug>", district_slug)
        for argument in self.arguments:
            for converter in ("slug", "int", "str", "uuid", "path"):
                path = path.replace(f"<{converter}:{argument}>", str(values[argument]))
            path = path.replace(f"<{argument}>", str(values[argument]))
        return "/" + path


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def district_urls() -> list[DistrictURL]:
    """Every URL pattern under /<district_slug>/, with its other arguments."""
    import re

    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if "district_slug>" not in route:
            continue
        arguments = tuple(
            name for name in re.findall(r"<(?:\w+:)?(\w+)>", route) if name != "district_slug"
        )
        found.append(DistrictURL(route, pattern.name or route, pattern.callback, arguments))
    return found


def make_values(arguments, district) -> dict:
    missing = [a for a in arguments if a not in OBJECT_MAKERS]
    if missing:
        raise AssertionError(
            f"no object maker for URL argument(s) {missing}: add them to OBJECT_MAKERS "
            "in tests/security/urls.py"
        )
    return {argument: OBJECT_MAKERS[argument](district) for argument in arguments}
