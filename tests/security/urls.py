"""Every district URL of the project, and how to make an object for each URL argument.

Both security walks use this. A later app that adds a URL argument (`referral_id`,
`mou_id`, ...) registers a maker in OBJECT_MAKERS; until it does, the walks fail and
say which argument is missing, so no URL escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    DistrictEmailFactory,
    InvitationFactory,
    MembershipFactory,
    PartnerFactory,
    SchoolFactory,
    StudentFactory,
)


def _roster_import(district) -> int:
    from schools.models import RosterImport
    from schools.tenancy import tenant_context

    uploader = MembershipFactory(district=district, role="coordinator")
    with tenant_context(district):
        return RosterImport.objects.create(
            district=district, uploaded_by=uploader, filename="roster.csv", layout="simple"
        ).pk


def _viewers_partner(district):
    """The organisation of the district's partner-role member, if there is one, else a new
    partner: the role walk signs in a partner member first, and a partner may open only its
    own organisation's MOUs and stories (anything else is a 404, not the 200 it expects)."""
    from schools.models import Membership, Role
    from schools.tenancy import tenant_context

    with tenant_context(district):
        member = (
            Membership.objects.filter(district=district, role=Role.PARTNER)
            .select_related("partner")
            .order_by("-pk")
            .first()
        )
    return member.partner if member is not None else PartnerFactory(district=district)


def _shared_mou_version(district):
    """A version of an active MOU (partners see MOUs once sent; drafts stay internal)."""
    from tests.factories import MOUVersionFactory

    return MOUVersionFactory(
        district=district, mou__district=district, mou__partner=_viewers_partner(district)
    )


def _mou_document(district) -> int:
    from tests.factories import MOUDocumentFactory

    return MOUDocumentFactory(district=district, version=_shared_mou_version(district)).pk


def _directory_export(district) -> int:
    """A ready HSDS export of the district's directory as it is now (the export walk reads
    the zip)."""
    from partnerships.models import DirectoryExport
    from partnerships.services.hsds import hsds_export
    from schools.tenancy import tenant_context

    with tenant_context(district):
        return DirectoryExport.objects.create(
            district=district, status="ready", package=hsds_export(district)
        ).pk


def _funding(district) -> int:
    from tests.factories import FundingSourceFactory

    return FundingSourceFactory(district=district).pk


def _story(district) -> int:
    """A publishable story of the viewing partner's organisation: every role that may see
    stories sees this one (viewers see publishable stories only)."""
    from tests.factories import SuccessStoryFactory

    return SuccessStoryFactory(
        district=district, partner=_viewers_partner(district), ready=True, publishable=True
    ).pk


def _mou_template(district) -> int:
    from partnerships.models import MOUTemplate
    from schools.tenancy import tenant_context

    with tenant_context(district):
        count = MOUTemplate.objects.filter(district=district).count()
        return MOUTemplate.objects.create(
            district=district, name=f"Template {count + 1}", sections={}
        ).pk


def _goal(district) -> int:
    from partnerships.models import Goal
    from schools.tenancy import tenant_context

    mou_id = _shared_mou_version(district).mou_id
    with tenant_context(district):
        return Goal.objects.create(
            district=district,
            mou_id=mou_id,
            description="Students seen",
            target=100,
            unit="students",
            period="2025-26",
        ).pk


def _service_category(district) -> int:
    """One of the district's own service categories (a directory extension)."""
    from partnerships.models import ServiceCategory
    from schools.tenancy import tenant_context

    with tenant_context(district):
        count = ServiceCategory.objects.filter(district=district).count()
        return ServiceCategory.objects.create(
            district=district, code=f"local_{count + 1}", name=f"Local service {count + 1}"
        ).pk


# --- Referrals and consents (issue 13, engineer "pages") ------------------------------------


def _viewers_school(district):
    """The school of the district's latest school limit, if any (the role walk's
    school-limited counselor), else None: a limited member opens only its schools' rows."""
    from schools.models import MembershipSchool
    from schools.tenancy import tenant_context

    with tenant_context(district):
        limit = (
            MembershipSchool.objects.filter(district=district)
            .select_related("school")
            .order_by("-pk")
            .first()
        )
    return limit.school if limit is not None else None


def _viewers_student(district):
    school = _viewers_school(district)
    if school is None:
        return StudentFactory(district=district)
    return StudentFactory(district=district, school=school)


def _referral(district) -> int:
    """A referral sent to the viewing partner's organisation (a partner sees only those), of
    a student of the viewer's school: every role that may see referrals sees this one."""
    from django.utils import timezone

    from tests.factories import ReferralFactory

    return ReferralFactory(
        district=district,
        student=_viewers_student(district),
        partner=_viewers_partner(district),
        status="sent",
        sent_at=timezone.now(),
    ).pk


def _consent(district) -> int:
    from tests.factories import ConsentFactory

    return ConsentFactory(district=district, student=_viewers_student(district)).pk


# --- Requests for help (issue 14, engineer "helperc") -----------------------------------------


def _help_request(district) -> int:
    """A new request for help to the viewer's school (a school-limited counselor triages only
    its schools' requests)."""
    from referrals.models import HelpRequest
    from schools.tenancy import tenant_context

    school = _viewers_school(district) or SchoolFactory(district=district)
    with tenant_context(district):
        return HelpRequest.objects.create(
            district=district,
            school=school,
            asker_kind="parent",
            student_name="Sam Rivera",
            message="My son has not slept well for weeks and will not talk about school.",
        ).pk


# --- Meetings (issue 18) -----------------------------------------------------------------------

# Every walked meeting starts here, so that an occurrence key names its first occurrence.
MEETING_START = "20300115T150000Z"


def _meeting(district) -> int:
    """A meeting with the viewing partner's organization (a partner sees only those)."""
    from partnerships.models import MeetingPartner
    from schools.tenancy import tenant_context
    from tests.security.tables import meeting

    meeting_id = meeting(district)
    with tenant_context(district):
        MeetingPartner.objects.create(
            district=district, meeting_id=meeting_id, partner=_viewers_partner(district)
        )
    return meeting_id


def _action_item(district) -> int:
    import datetime

    from partnerships.models import ActionItem
    from schools.tenancy import tenant_context

    meeting_id = _meeting(district)
    with tenant_context(district):
        return ActionItem.objects.create(
            district=district,
            meeting_id=meeting_id,
            what="Send the flyer",
            owner_membership=MembershipFactory(district=district),
            due_date=datetime.date(2030, 1, 31),
        ).pk


# URL argument -> function(district) returning the value for an object of that district.
OBJECT_MAKERS = {
    "student_id": lambda district: StudentFactory(district=district).pk,
    "membership_id": lambda district: MembershipFactory(district=district).pk,
    "invitation_id": lambda district: InvitationFactory(district=district).pk,
    "link_id": lambda district: DistrictEmailFactory(district=district).pk,
    "school_id": lambda district: SchoolFactory(district=district).pk,
    "partner_id": lambda district: PartnerFactory(district=district).pk,
    "import_id": _roster_import,
    "version_id": lambda district: _shared_mou_version(district).pk,
    "document_id": _mou_document,
    "export_id": _directory_export,  # the HSDS export in the background
    "funding_id": _funding,
    "story_id": _story,
    "mou_id": lambda district: _shared_mou_version(district).mou_id,
    "template_id": _mou_template,
    "goal_id": _goal,
    "category_id": lambda district: _service_category(district),
    "section": lambda district: "purpose",  # an MOU section key (MOU_SECTIONS), not a row
    "referral_id": _referral,  # issue 13 (pages)
    "consent_id": _consent,  # issue 13 (pages)
    "help_request_id": _help_request,  # issue 14 (helperc)
    # issue 14 (helpere): a step of the loop; "update" is open at every step the referral
    # makers leave (sent), and its empty POST is refused on the form (200), not as a method.
    "action": lambda district: "update",
    # (issue 16) The rows a partner's form adds in place: its services or its contacts.
    "rows": lambda district: "services",
    # (issue 18) A meeting with the viewer's organization, its first occurrence, an item.
    "meeting_id": _meeting,
    "key": lambda district: MEETING_START,
    "item_id": _action_item,
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
