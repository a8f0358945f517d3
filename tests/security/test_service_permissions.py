"""Every service that takes the acting membership (`by=`) refuses, by itself, whoever may not act.

DESIGN: "services own permissions". Each service is called directly, without its view,
inside the acting member's district context (as a request would be):

- by a member of every role that may not take the action (the roles allowed are written
  by hand, from the product rules, as in expected_roles.py): refused with PermissionDenied
  or the domain's error, and nothing written in the district, nor any mail queued;
- where it takes an object, by a member allowed in *another* district, on this district's
  object: refused the same way (or "not found"), nothing written in either district;
- then by an allowed member, with the very same arguments: it succeeds. So each refusal
  above came from who acted, not from the arguments.

A service function taking `by=` with no entry in SERVICES fails the registry test.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from schools.tenancy import tenant_context
from tests.factories import (
    PDF_BYTES,
    ConsentFactory,
    ContactFactory,
    DistrictEmailFactory,
    FundingSourceFactory,
    InvitationFactory,
    MembershipFactory,
    MOUFactory,
    MOUVersionFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    SuccessStoryFactory,
)
from tests.security.expected_roles import (
    ADMIN,
    ADMINS,
    COORDINATOR,
    EVERYONE,
    OFFICE,
    PARTNER,
    READ_MOUS,
    SEE_STUDENTS,
)

SERVICE_PACKAGES = ("schools.services", "partnerships.services", "referrals.services")
REFUSALS = (PermissionDenied, ValidationError)
# Another district's object may also be "not found" (DESIGN: 404, not 403, across districts).
NOT_FOUND = (ObjectDoesNotExist, Http404)

# Take `by=` but decide nothing: they record what an already-authorized action did.
NOT_ACTIONS = {
    "schools.services.audit.audit_record": "writes the audit row of a service that checked",
    "schools.services.audit.audit_staff_action": "by= is platform staff in the Django admin",
}


@dataclass(frozen=True)
class Case:
    allowed: frozenset  # roles that may act (hand-written, from the rules)
    # (district, world) -> the arguments other than by (objects of `district`)
    arguments: Callable[[object, dict], dict]
    takes_object: bool = True  # False: the service acts only in the actor's own district
    note: str = ""
    extra: dict = field(default_factory=dict)


# --- What each case needs ---------------------------------------------------------------------


def _today():
    # Not for dates a service compares with the district's today (`d.today()` there): the
    # server's date is a day ahead of the district's for some hours of every day.
    return timezone.localdate()


def _weekday(district, days: int) -> datetime.date:
    """(helperd) The first weekday `days` after the district's today."""
    day = district.today() + datetime.timedelta(days=days)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def _closed_day(district):
    from schools.models import ClosedDay

    with tenant_context(district):
        return ClosedDay.objects.create(district=district, date=_weekday(district, 10))


def _roster_csv():
    rows = [
        "student_id,first_name,last_name,date_of_birth,grade,school",
        "X-1,Ana,Ruiz,2011-04-02,09,North High School",
    ]
    return SimpleUploadedFile("roster.csv", "\n".join(rows).encode(), content_type="text/csv")


def _pending_roster(district, world):
    from schools.services.students import roster_import_create

    with tenant_context(district):
        return roster_import_create(by=world[COORDINATOR], uploaded_file=_roster_csv())


def _mou(district, world, status, *, signed_by_partner=False):
    mou = MOUFactory(district=district, partner=world["partner_org"], status=status)
    version = MOUVersionFactory(district=district, mou=mou, number=1)
    if signed_by_partner:
        from tests.factories import MOUSignatureFactory

        MOUSignatureFactory(district=district, version=version, party="partner")
    return mou


def _template(district):
    from partnerships.models import MOUTemplate

    with tenant_context(district):
        count = MOUTemplate.objects.filter(district=district).count()
        return MOUTemplate.objects.create(
            district=district, name=f"Template {count + 1}", sections={}
        )


def _goal(district, world):
    from partnerships.models import Goal

    mou = _mou(district, world, "active")
    with tenant_context(district):
        return Goal.objects.create(
            district=district, mou=mou, description="Seen", target=10, unit="students", period="Y"
        )


def _category(district):
    from partnerships.models import ServiceCategory

    with tenant_context(district):
        count = ServiceCategory.objects.filter(district=district).count()
        return ServiceCategory.objects.create(
            district=district, code=f"local_{count + 1}", name=f"Local {count + 1}"
        )


def _hsds_package(district, world):
    from partnerships.services.hsds import hsds_export

    with tenant_context(district):
        return hsds_export(district)


def _funding_fields():
    return {
        "kind": "grant",
        "funder": "A foundation",
        "amount": Decimal("100"),
        "start_date": _today(),
        "end_date": _today() + datetime.timedelta(days=30),
    }


# --- Meetings (issue 18) ---------------------------------------------------------------------

_MEETING_START = datetime.datetime(2030, 1, 15, 15, 0, tzinfo=datetime.UTC)


def _meeting(district, world=None):
    from partnerships.models import Meeting
    from tests.security.tables import meeting

    meeting_id = meeting(district)
    with tenant_context(district):
        return Meeting.objects.select_related("district", "organizer__user").get(pk=meeting_id)


def _meeting_fields():
    return {
        "title": "Monthly check-in",
        "starts_at": _MEETING_START,
        "ends_at": _MEETING_START + datetime.timedelta(hours=1),
    }


def _occurrence(district, world=None):
    from partnerships.selectors.meetings import occurrence_of

    meeting = _meeting(district)
    with tenant_context(district):
        return occurrence_of(meeting, "20300115T150000Z")


def _everyone_invited(district, world):
    """A meeting every member of the world is invited to (each answers for themselves)."""
    from partnerships.models import Attendee

    meeting = _meeting(district)
    with tenant_context(district):
        for role in EVERYONE:
            Attendee.objects.create(district=district, meeting=meeting, membership=world[role])
    return meeting


def _action_item(district, world=None):
    from partnerships.models import ActionItem

    meeting = _meeting(district)
    with tenant_context(district):
        return ActionItem.objects.create(
            district=district,
            meeting=meeting,
            what="Send the flyer",
            owner_membership=MembershipFactory(district=district),
            due_date=datetime.date(2030, 1, 31),
        )


def _referral(district, world, **fields):
    return ReferralFactory(district=district, partner=world["partner_org"], **fields)


def _sent_referral(district, world, **fields):
    """A de-identified referral already sent to the world's partner (issue 14, lead)."""
    fields = {"status": "sent", "sent_at": timezone.now(), "shared_fields": [], **fields}
    return _referral(district, world, **fields)


def _consented_referral(district, world):
    """A draft carrying the student's name and grade, under the guardian's consent."""
    referral = _referral(district, world)
    ConsentFactory(district=district, student=referral.student, partner=referral.partner)
    return referral


def _consent_form():
    return SimpleUploadedFile("consent.pdf", PDF_BYTES, content_type="application/pdf")


def _help_request(district, **fields):
    """A new request for help to a school of the district (issue 14, engineer "helperc")."""
    from referrals.models import HelpRequest
    from tests.factories import SchoolFactory

    school = fields.pop("school", None) or SchoolFactory(district=district)
    with tenant_context(district):
        return HelpRequest.objects.create(
            district=district,
            school=school,
            asker_kind="teacher",
            message="She has stopped handing in work and sleeps in class.",
            **fields,
        )


def _help_request_linked(district, world) -> dict:
    """A request linked to its student, and the student's referral it became."""
    referral = _referral(district, world)
    help_request = _help_request(
        district, school=referral.school, student=referral.student, status="linked"
    )
    return {"help_request": help_request, "referral": referral}


# Fully qualified service name -> its cases (a service with several refusals has several).
SERVICES: dict[str, list[Case]] = {
    # --- People: administrators only ("manage people and policy") --------------------------
    "schools.services.people.invitation_create": [
        Case(
            ADMINS,
            lambda d, w: {
                "email": "new.person@example.org",
                "role": "counselor",
            },
            takes_object=False,
        )
    ],
    "schools.services.people.invitation_resend": [
        Case(ADMINS, lambda d, w: {"invitation": InvitationFactory(district=d)})
    ],
    "schools.services.people.invitation_revoke": [
        Case(ADMINS, lambda d, w: {"invitation": InvitationFactory(district=d)})
    ],
    "schools.services.people.membership_change": [
        Case(
            ADMINS,
            lambda d, w: {"membership": MembershipFactory(district=d), "role": "coordinator"},
        )
    ],
    "schools.services.people.membership_deactivate": [
        Case(ADMINS, lambda d, w: {"membership": MembershipFactory(district=d)})
    ],
    "schools.services.people.membership_reactivate": [
        Case(
            ADMINS,
            lambda d, w: {
                "membership": MembershipFactory(
                    district=d, active=False, deactivated_at=timezone.now()
                )
            },
        )
    ],
    # --- Rosters: the district office ----------------------------------------------------
    "schools.services.students.roster_import_create": [
        Case(OFFICE, lambda d, w: {"uploaded_file": _roster_csv()}, takes_object=False)
    ],
    "schools.services.students.roster_import_confirm": [
        Case(OFFICE, lambda d, w: {"roster_import": _pending_roster(d, w)})
    ],
    "schools.services.students.roster_import_cancel": [
        Case(OFFICE, lambda d, w: {"roster_import": _pending_roster(d, w)})
    ],
    # The confirmation, queued for the worker (which then runs roster_import_confirm).
    "schools.services.roster_queue.roster_import_queue": [
        Case(OFFICE, lambda d, w: {"roster_import": _pending_roster(d, w)})
    ],
    # --- Partner directory: the district office -----------------------------------------
    "partnerships.services.directory.partner_save": [
        Case(
            OFFICE, lambda d, w: {"partner": PartnerFactory(district=d), "fields": {"name": "New"}}
        )
    ],
    "partnerships.services.directory.partner_mark_verified": [
        Case(OFFICE, lambda d, w: {"partner": PartnerFactory(district=d)})
    ],
    # A partner's member confirms their own listing (issue 16): the partner is `by`'s own.
    "partnerships.services.directory.partner_listing_confirm_own": [
        Case(frozenset({PARTNER}), lambda d, w: {"changes": {}}, takes_object=False)
    ],
    "partnerships.services.directory.listing_verification_send": [
        Case(
            OFFICE,
            lambda d, w: (lambda contact: {"partner": contact.partner, "contact": contact})(
                ContactFactory(district=d)
            ),
        )
    ],
    "partnerships.services.directory.service_category_create": [
        Case(OFFICE, lambda d, w: {"name": "Peer tutoring"}, takes_object=False)
    ],
    "partnerships.services.directory.service_category_delete": [
        Case(OFFICE, lambda d, w: {"category": _category(d)})
    ],
    "partnerships.services.hsds.hsds_import": [
        Case(OFFICE, lambda d, w: {"data": _hsds_package(d, w)}, takes_object=False)
    ],
    # --- MOU documents: whoever reads the MOU (the partner its own) -------------------------
    # The directory as an HSDS package: whoever reads the directory (not partners).
    "partnerships.services.exports.directory_export_request": [
        Case(EVERYONE - {PARTNER}, lambda d, w: {}, takes_object=False)
    ],
    "partnerships.services.documents.mou_pdf_request": [
        Case(
            READ_MOUS,
            lambda d, w: {"version": MOUVersionFactory(district=d, mou=_mou(d, w, "active"))},
        )
    ],
    # --- Mail: the district office sends again what was not delivered ---------------------
    "schools.services.email.district_email_retry": [
        Case(OFFICE, lambda d, w: {"link": DistrictEmailFactory(district=d)})
    ],
    # --- Funding: the district office --------------------------------------------------
    "partnerships.services.funding.funding_save": [
        Case(OFFICE, lambda d, w: _funding_fields(), takes_object=False, note="new"),
        Case(
            OFFICE,
            lambda d, w: {"funding": FundingSourceFactory(district=d), **_funding_fields()},
            note="change",
        ),
    ],
    # --- Meetings (issue 18): the office schedules, keeps the record and the items ---------
    "partnerships.services.meetings.meeting_save": [
        Case(OFFICE, lambda d, w: _meeting_fields(), takes_object=False, note="new"),
        Case(OFFICE, lambda d, w: {"meeting": _meeting(d), **_meeting_fields()}, note="change"),
    ],
    "partnerships.services.meetings.meeting_cancel": [
        Case(OFFICE, lambda d, w: {"meeting": _meeting(d)})
    ],
    "partnerships.services.meetings.occurrence_change": [
        Case(
            OFFICE,
            lambda d, w: {
                "occurrence": _occurrence(d),
                "starts_at": _MEETING_START + datetime.timedelta(days=1),
                "ends_at": _MEETING_START + datetime.timedelta(days=1, hours=1),
            },
        )
    ],
    "partnerships.services.meetings.occurrence_cancel": [
        Case(OFFICE, lambda d, w: {"occurrence": _occurrence(d)})
    ],
    "partnerships.services.meetings.occurrence_record_save": [
        Case(
            OFFICE,
            lambda d, w: {"occurrence": _occurrence(d), "minutes": "We met.", "decisions": ""},
        )
    ],
    # Anyone invited answers for themselves; a member of another district is not invited.
    "partnerships.services.meetings.meeting_respond": [
        Case(EVERYONE, lambda d, w: {"meeting": _everyone_invited(d, w), "response": "accepted"})
    ],
    "partnerships.services.meetings.action_item_save": [
        Case(
            OFFICE,
            lambda d, w: {
                "meeting": _meeting(d),
                "what": "Send the flyer",
                "due_date": datetime.date(2030, 1, 31),
                "owner_membership": w[COORDINATOR],
            },
        )
    ],
    # The office, or the item's owner (here another member).
    "partnerships.services.meetings.action_item_set_status": [
        Case(OFFICE, lambda d, w: {"item": _action_item(d), "status": "done"})
    ],
    # --- MOUs -----------------------------------------------------------------------
    "partnerships.services.mous.drafting.mou_template_create": [
        Case(OFFICE, lambda d, w: {"name": "Our template", "sections": {}}, takes_object=False)
    ],
    "partnerships.services.mous.drafting.mou_template_update": [
        Case(OFFICE, lambda d, w: {"template": _template(d), "name": "Renamed", "sections": {}})
    ],
    "partnerships.services.mous.drafting.mou_create": [
        # The partner is the object: another district's partner is refused.
        Case(OFFICE, lambda d, w: {"partner": PartnerFactory(district=d), "title": "New MOU"})
    ],
    "partnerships.services.mous.drafting.mou_section_update": [
        Case(
            OFFICE,
            lambda d, w: {
                "mou": _mou(d, w, "draft"),
                "section": "purpose",
                "text": "New purpose.",
                "based_on": 1,
            },
        )
    ],
    "partnerships.services.mous.drafting.mou_terms_update": [
        Case(
            OFFICE,
            lambda d, w: {
                "mou": _mou(d, w, "draft"),
                "based_on": 1,
                "title": "Renamed MOU",
                "schools": [],
                "services": [],
                "start_date": None,
                "end_date": None,
                "response_days": 5,
                "shared_fields": [],
            },
        )
    ],
    "partnerships.services.mous.workflow.mou_submit": [
        Case(OFFICE, lambda d, w: {"mou": _mou(d, w, "draft")})
    ],
    "partnerships.services.mous.workflow.mou_approve": [
        Case(ADMINS, lambda d, w: {"mou": _mou(d, w, "internal_review")})
    ],
    "partnerships.services.mous.workflow.mou_return": [
        Case(ADMINS, lambda d, w: {"mou": _mou(d, w, "internal_review"), "comment": "Fix it"})
    ],
    "partnerships.services.mous.workflow.mou_withdraw": [
        Case(OFFICE, lambda d, w: {"mou": _mou(d, w, "sent")})
    ],
    "partnerships.services.mous.workflow.mou_link_resend": [
        Case(OFFICE, lambda d, w: {"mou": _mou(d, w, "sent")})
    ],
    "partnerships.services.mous.workflow.mou_partner_comment": [
        # The partner's review: its own organisation's member, nobody else.
        Case(
            frozenset({PARTNER}),
            lambda d, w: {
                "mou": _mou(d, w, "sent"),
                "version_number": 1,
                "author_name": "Pat Partner",
                "comment": "Please change the schedule.",
            },
        )
    ],
    "partnerships.services.mous.workflow.mou_sign": [
        # The partner signs first...
        Case(
            frozenset({PARTNER}),
            lambda d, w: {
                "mou": _mou(d, w, "sent"),
                "version_number": 1,
                "name": "Pat Partner",
                "title": "Director",
                "ip_address": "192.0.2.1",
            },
            note="partner signature",
        ),
        # ...then a district administrator (the district's signature).
        Case(
            ADMINS,
            lambda d, w: {
                "mou": _mou(d, w, "partner_signed", signed_by_partner=True),
                "version_number": 1,
                "name": "Ada Admin",
                "title": "Superintendent",
                "ip_address": "192.0.2.2",
            },
            note="district signature",
        ),
    ],
    "partnerships.services.mous.workflow.mou_terminate": [
        Case(ADMINS, lambda d, w: {"mou": _mou(d, w, "active"), "reason": "Funding ended"})
    ],
    "partnerships.services.mous.workflow.mou_transition": [
        Case(
            ADMINS,
            lambda d, w: {"mou": _mou(d, w, "active"), "to": "terminated", "comment": "Ended"},
        )
    ],
    "partnerships.services.mous.goals.goal_create": [
        Case(
            OFFICE,
            lambda d, w: {
                "mou": _mou(d, w, "active"),
                "description": "Students seen",
                "target": Decimal("50"),
                "unit": "students",
                "period": "2025-26",
            },
        )
    ],
    "partnerships.services.mous.goals.goal_progress_add": [
        Case(
            OFFICE,
            lambda d, w: {"goal": _goal(d, w), "date": d.today(), "value": Decimal("3")},
        )
    ],
    # --- Success stories: the office writes, an administrator reviews ------------------------
    "partnerships.services.stories.story_create": [
        Case(
            OFFICE,
            lambda d, w: {"title": "A good year", "story": "Weekly sessions.", "date": d.today()},
            takes_object=False,
        )
    ],
    "partnerships.services.stories.story_update": [
        Case(
            OFFICE,
            lambda d, w: {
                "story": SuccessStoryFactory(district=d),
                "title": "Retitled",
                "story_text": "New words.",
                "date": d.today(),
            },
        )
    ],
    "partnerships.services.stories.story_consent_record": [
        Case(
            OFFICE,
            lambda d, w: {
                "story": SuccessStoryFactory(district=d),
                "given_by": "The student's father",
                "given_on": d.today(),
            },
        )
    ],
    "partnerships.services.stories.story_consent_withdraw": [
        Case(OFFICE, lambda d, w: {"story": SuccessStoryFactory(district=d, ready=True)})
    ],
    "partnerships.services.stories.story_review": [
        Case(ADMINS, lambda d, w: {"story": SuccessStoryFactory(district=d)})
    ],
    # --- Referrals and consent: the school's care team (RULES.md, "Consent to disclose";
    # DESIGN: a partner "must never see anything without consent", a viewer reads aggregates)
    "referrals.services.referrals.referral_create": [
        # The student is the object: another district's is refused.
        Case(
            SEE_STUDENTS,
            lambda d, w: (
                lambda student: {
                    "student": student,
                    "school": student.school,
                    "partner": w["partner_org"],
                    "submission_key": uuid.uuid4(),
                    "concerns": ["anxiety"],
                    "shared_fields": ["name"],
                }
            )(StudentFactory(district=d)),
        )
    ],
    "referrals.services.referrals.referral_send": [
        Case(SEE_STUDENTS, lambda d, w: {"referral": _consented_referral(d, w)})
    ],
    "referrals.services.referrals.emergency_override_declare": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "referral": _referral(d, w),
                "threat": "The student said they plan to hurt themselves tonight.",
            },
        )
    ],
    "referrals.services.consents.consent_record_form": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "student": StudentFactory(district=d),
                "partner": w["partner_org"],
                "fields": ["name", "grade"],
                "purpose": "Counseling at school",
                "consenter_kind": "guardian",
                "consenter_name": "Maria Ruiz",
                "signed_on": d.today(),
                "valid_until": d.today() + datetime.timedelta(days=365),
                "form": _consent_form(),
            },
        )
    ],
    "referrals.services.consents.consent_revoke": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "consent": ConsentFactory(district=d, partner=w["partner_org"]),
                "revoked_by_name": "Maria Ruiz",
                "reason": "The family changed its mind.",
            },
        )
    ],
    "referrals.services.consents.verbal_agreement_record": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "student": StudentFactory(district=d),
                "partner": w["partner_org"],
                "note": "The father agreed on the phone; the signed form will follow.",
            },
        )
    ],
    # Electronic consent (issue 13, engineer "econsent"): asking the family is recording
    # consent, the care team's.
    "referrals.services.consent_requests.consent_request_create": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "referral": _referral(d, w),
                "fields": ["name", "grade"],
                "purpose": "Counseling at school",
                "valid_until": d.today() + datetime.timedelta(days=90),
            },
        )
    ],
    # Referral lists (issue 14, engineer "helperb"): a departing member's open referrals go
    # to a colleague, the district office's job.
    "referrals.services.open_work.caseload_reassign": [
        Case(
            OFFICE,
            lambda d, w: (
                lambda leaving: {
                    "membership": leaving,
                    "to": MembershipFactory(district=d, role="counselor"),
                    "note": "They left the district.",
                }
            )(_referral(d, w, status="draft").owner),
        )
    ],
    # Requests for help (issue 14, engineer "helperc"): the school's care team triages them
    # ("a counselor links it to the student, turns it into a referral, or closes it").
    "referrals.services.help_requests.help_request_link_student": [
        Case(
            SEE_STUDENTS,
            lambda d, w: (
                lambda help_request: {
                    "help_request": help_request,
                    "student": StudentFactory(district=d, school=help_request.school),
                }
            )(_help_request(d)),
        )
    ],
    "referrals.services.help_requests.help_request_mark_referred": [
        Case(SEE_STUDENTS, _help_request_linked)
    ],
    "referrals.services.help_requests.help_request_close": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "help_request": _help_request(d),
                "reason": "handled",
                "note": "Met with the family.",
            },
        )
    ],
    "partnerships.services.stories.story_publishable_set": [
        Case(
            OFFICE,
            lambda d, w: {
                "story": SuccessStoryFactory(district=d, ready=True),
                "publishable": True,
            },
        )
    ],
    # Closed days (issue 14, engineer "helperd"): "a list an admin keeps" (district policy).
    "schools.services.closed_days.closed_day_add": [
        Case(
            ADMINS,
            lambda d, w: {"date": _weekday(d, 20), "name": "Snow day"},
            takes_object=False,
        )
    ],
    "schools.services.closed_days.closed_days_add_range": [
        Case(
            ADMINS,
            lambda d, w: {
                "first": _weekday(d, 30),
                "last": _weekday(d, 30) + datetime.timedelta(days=9),
                "name": "Winter break",
            },
            takes_object=False,
        )
    ],
    "schools.services.closed_days.closed_day_remove": [
        Case(ADMINS, lambda d, w: {"closed_day": _closed_day(d)})
    ],
    # The district's settings and schools (issue 15, engineer "helpers15"): district policy,
    # kept by its administrators.
    "schools.services.district_settings.district_settings_update": [
        Case(ADMINS, lambda d, w: {"district": d, "referral_response_days": 9})
    ],
    "schools.services.schools.school_create": [
        Case(
            ADMINS,
            lambda d, w: {"name": "Lakeside Middle", "lowest_grade": "06", "highest_grade": "08"},
            takes_object=False,
        )
    ],
    "schools.services.schools.school_update": [
        Case(ADMINS, lambda d, w: {"school": SchoolFactory(district=d), "sis_id": "new-id"})
    ],
    "schools.services.schools.school_close": [
        Case(ADMINS, lambda d, w: {"school": SchoolFactory(district=d)})
    ],
    "schools.services.schools.school_reopen": [
        Case(ADMINS, lambda d, w: {"school": SchoolFactory(district=d, closed_on=_today())})
    ],
    # The referral loop (issue 14, lead): the referring school's care team reassigns an open
    # referral and sends a declined one to another partner.
    "referrals.services.loop.referral_reassign": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "referral": _sent_referral(d, w),
                "to": MembershipFactory(district=d, role="counselor"),
            },
        )
    ],
    "referrals.services.referrals.referral_resend": [
        Case(
            SEE_STUDENTS,
            lambda d, w: {
                "referral": _sent_referral(
                    d,
                    w,
                    status="declined",
                    decline_reason="no_capacity",
                    declined_at=timezone.now(),
                ),
                "partner": PartnerFactory(district=d, intake="accepting"),
            },
        )
    ],
}


def _services_taking_by() -> set[str]:
    found = set()
    for package_name in SERVICE_PACKAGES:
        package = importlib.import_module(package_name)
        # Every module, also in subpackages (partnerships.services.mous.workflow).
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            module = importlib.import_module(info.name)
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ != module.__name__ or name.startswith("_"):
                    continue
                if "by" in inspect.signature(function).parameters:
                    found.add(f"{module.__name__}.{name}")
    return found


def test_every_service_taking_by_has_a_permission_case():
    found = _services_taking_by()
    missing = sorted(found - set(SERVICES) - set(NOT_ACTIONS))
    stale = sorted((set(SERVICES) | set(NOT_ACTIONS)) - found)

    assert "partnerships.services.mous.workflow.mou_sign" in found  # the introspection works
    assert missing == [], (
        f"services taking by= without a permission case: {missing}; add them to SERVICES "
        "in tests/security/test_service_permissions.py"
    )
    assert stale == [], f"SERVICES names services that no longer exist: {stale}"


# --- Running a case ---------------------------------------------------------------------------


def _service(qualified: str):
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _tenant_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in ("schools", "partnerships", "referrals")
        and not model._meta.proxy
        and any(f.attname == "district_id" for f in model._meta.concrete_fields)
    ]


def _snapshot(district) -> dict:
    """Every row of the district in every tenant table, and the size of the mail outbox."""
    from schools.models import OutgoingEmail

    with tenant_context(district):
        state = {
            model._meta.label: list(
                model._base_manager.filter(district_id=district.pk).order_by("pk").values()
            )
            for model in _tenant_models()
        }
    state["outbox"] = OutgoingEmail.objects.count()
    return state


def _changes(before: dict, after: dict) -> list[str]:
    return [key for key in before if before[key] != after[key]]


def _attempt(service, by, arguments):
    """Call the service as `by` in by's district; the exception it raised, or None."""
    try:
        with tenant_context(by.district), transaction.atomic():
            service(by=by, **arguments)
    except Exception as error:
        return error
    return None


def _member(district, role, partner_org):
    extra = {"partner": partner_org} if role == PARTNER else {}
    return MembershipFactory(district=district, role=role, **extra)


@pytest.fixture
def world(district, other_district):
    """A member of every role in the district (the partner of one organisation), and one
    allowed member of every role in the other district."""
    partner_org = PartnerFactory(district=district, name="Riverbend Counseling")
    ContactFactory(district=district, partner=partner_org, email="lead@riverbend.example.org")
    other_org = PartnerFactory(district=other_district, name="Southside Family Services")
    members = {role: _member(district, role, partner_org) for role in EVERYONE}
    members["partner_org"] = partner_org
    members["other"] = {role: _member(other_district, role, other_org) for role in EVERYONE}
    return members


CASES = [
    pytest.param(name, index, id=name.rpartition(".")[2] + (f"-{case.note}" if case.note else ""))
    for name, cases in SERVICES.items()
    for index, case in enumerate(cases)
]


@pytest.mark.parametrize(("name", "index"), CASES)
def test_service_refuses_weaker_roles_and_other_districts(
    district, other_district, world, name, index
):
    case = SERVICES[name][index]
    service = _service(name)
    arguments = case.arguments(district, world)
    refused = sorted(EVERYONE - case.allowed)
    wrong = []

    before = (_snapshot(district), _snapshot(other_district))
    for role in refused:
        error = _attempt(service, world[role], arguments)
        if not isinstance(error, REFUSALS):
            wrong.append(f"a {role} was not refused ({error!r})")
    if case.takes_object:
        outsider = world["other"][ADMIN if ADMIN in case.allowed else sorted(case.allowed)[0]]
        error = _attempt(service, outsider, arguments)
        if not isinstance(error, REFUSALS + NOT_FOUND):
            wrong.append(f"another district's {outsider.role} was not refused ({error!r})")
    after = (_snapshot(district), _snapshot(other_district))
    written = _changes(before[0], after[0]) + _changes(before[1], after[1])
    if written:
        wrong.append(f"a refused call wrote to {written}")

    # The same arguments work for a role the rules allow: the refusals came from the role.
    allowed = ADMIN if ADMIN in case.allowed else sorted(case.allowed)[0]
    error = _attempt(service, world[allowed], arguments)
    if error is not None:
        wrong.append(f"the allowed {allowed} failed too ({error!r}): fix the case's arguments")

    assert wrong == [], f"{name}: " + "; ".join(wrong)
