"""How to make one row of every tenant table, for the row-level security tests.

tests/security/test_row_level_security.py finds every table with a `district_id` column
in the database catalog and asks TABLE_MAKERS for a row of it in a given district; a
table without a maker fails that test and says so, as a URL argument without an object
maker fails the walks (tests/security/urls.py). A later app that adds a tenant table adds
its maker here.

Each maker takes a district and returns the primary key of one new row of its table in
that district, made with the factories where they exist.
"""

from __future__ import annotations

import datetime
import uuid
from datetime import timedelta

from django.utils import timezone

from schools.tenancy import tenant_context
from tests.factories import (
    ConcernCategoryFactory,
    ConsentFactory,
    ConsentRevocationFactory,
    ContactFactory,
    DisclosureFactory,
    DistrictEmailFactory,
    EmergencyOverrideFactory,
    FundingSourceFactory,
    InvitationFactory,
    MembershipFactory,
    MOUDocumentFactory,
    MOUFactory,
    MOUSignatureFactory,
    MOUVersionFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    SuccessStoryFactory,
    VerbalAgreementFactory,
)


def _create(district, model_path: str, **fields) -> int:
    """A row of a model that has no factory, made inside its district."""
    from django.apps import apps

    with tenant_context(district):
        return apps.get_model(model_path).objects.create(district=district, **fields).pk


def _history_event(event_table: str, make_tracked):
    """A change-history row (django-pghistory writes it by trigger): make the tracked row."""

    def make(district) -> int:
        from django.db import connection

        tracked_pk = make_tracked(district)
        with tenant_context(district), connection.cursor() as cursor:
            cursor.execute(
                f'SELECT pgh_id FROM "{event_table}" WHERE pgh_obj_id = %s '
                "ORDER BY pgh_id DESC LIMIT 1",
                [tracked_pk],
            )
            return cursor.fetchone()[0]

    return make


def _goal(district) -> int:
    return _create(
        district,
        "partnerships.Goal",
        mou=MOUFactory(district=district),
        description="Students seen",
        target=100,
        unit="students",
        period="2025-26",
    )


def _student_grant(district) -> int:
    """A guardian object grant on a student, made as guardian makes it (the district is the
    student's)."""
    from guardian.shortcuts import assign_perm

    student = StudentFactory(district=district)
    user = MembershipFactory(district=district).user
    with tenant_context(district):
        return assign_perm("schools.view_student", user, student).pk


def _membership(district) -> int:
    return MembershipFactory(district=district).pk


def _student(district) -> int:
    return StudentFactory(district=district).pk


def _partner(district) -> int:
    return PartnerFactory(district=district).pk


def _mou(district) -> int:
    return MOUFactory(district=district).pk


def _access_log(district) -> int:
    membership = MembershipFactory(district=district)
    return _create(
        district,
        "schools.AccessLog",
        membership=membership,
        user=membership.user,
        object_type="student",
        object_id="1",
        path=f"/{district.slug}/",
    )


def _audit_event(district) -> int:
    membership = MembershipFactory(district=district, role="admin")
    return _create(
        district,
        "schools.AuditEvent",
        membership=membership,
        user=membership.user,
        action="role_changed",
        object_type="schools.membership",
        object_id=str(membership.pk),
        object_repr=membership.user.email,
    )


def _mou_comment(district) -> int:
    version = MOUVersionFactory(district=district, mou__district=district)
    return _create(
        district,
        "partnerships.MOUComment",
        mou_id=version.mou_id,
        version=version,
        author_name="Reviewer",
        body="Please add the crisis protocol.",
    )


def _referral(district) -> int:
    return ReferralFactory(district=district).pk


def _consent(district) -> int:
    return ConsentFactory(district=district).pk


def _disclosure(district) -> int:
    return DisclosureFactory(district=district).pk


def _verbal_agreement(district) -> int:
    """A note about a referral to a partner: every key of the table set."""
    referral = ReferralFactory(district=district)
    return VerbalAgreementFactory(
        district=district, student=referral.student, partner=referral.partner, referral=referral
    ).pk


def emergency_disclosure(district) -> int:
    """A disclosure under an emergency override (basis "emergency"; no consent)."""
    override = EmergencyOverrideFactory(district=district)
    return DisclosureFactory(
        district=district,
        consent=None,
        student=override.referral.student,
        partner=override.referral.partner,
        referral=override.referral,
        basis="emergency",
        emergency=override,
        recipient=override.referral.partner.name,
        purpose=override.threat,
    ).pk


# --- Electronic consent requests (issue 13, engineer "econsent") -----------------------------


def _consent_request(district) -> int:
    """A signed request: every key of the table set (referral, consent, who asked)."""
    referral = ReferralFactory(district=district)
    consent = ConsentFactory(
        district=district,
        student=referral.student,
        partner=referral.partner,
        method="electronic",
        recorded_by=None,
        verified_address="guardian@example.org",
    )
    return _create(
        district,
        "referrals.ConsentRequest",
        student=referral.student,
        partner=referral.partner,
        referral=referral,
        fields=["name"],
        purpose="Counseling",
        valid_until=consent.valid_until,
        sent_to="guardian@example.org",
        requested_by=referral.referred_by,
        expires_at=timezone.now() + timedelta(days=14),
        status="signed",
        consent=consent,
        signed_at=timezone.now(),
    )


# --- The referral loop (issue 14) -----------------------------------------------------------


def _referral_step(district) -> int:
    """A step by a partner's contact from the emailed link: every key of the table set but
    `by` (one actor per step)."""
    referral = ReferralFactory(district=district)
    contact = ContactFactory(district=district, partner=referral.partner, roles=["intake"])
    return _create(
        district,
        "referrals.ReferralStep",
        referral=referral,
        kind="updated",
        by_contact=contact,
        note="Called the family.",
    )


def _intake_code(district) -> int:
    referral = ReferralFactory(district=district)
    contact = ContactFactory(district=district, partner=referral.partner, roles=["intake"])
    return _create(district, "referrals.IntakeCode", referral=referral, contact=contact)


def _help_request(district) -> int:
    """A request turned into a referral: every key of the table set."""
    referral = ReferralFactory(district=district)
    return _create(
        district,
        "referrals.HelpRequest",
        school=referral.school,
        asker_kind="teacher",
        message="A student seems withdrawn.",
        status="referred",
        student=referral.student,
        referral=referral,
        handled_by=referral.referred_by,
        handled_at=timezone.now(),
    )


# --- Meetings (issue 18) -----------------------------------------------------------------------

MEETING_START = datetime.datetime(2030, 1, 15, 15, 0, tzinfo=datetime.UTC)


def meeting(district) -> int:
    """A meeting of `district`, organized by one of its coordinators."""
    return _create(
        district,
        "partnerships.Meeting",
        title="Check-in",
        organizer=MembershipFactory(district=district, role="coordinator"),
        starts_at=MEETING_START,
        ends_at=MEETING_START + datetime.timedelta(hours=1),
    )


def contact_attendee(district) -> int:
    return _create(
        district,
        "partnerships.Attendee",
        meeting_id=meeting(district),
        contact=ContactFactory(district=district),
    )


def member_attendee(district) -> int:
    return _create(
        district,
        "partnerships.Attendee",
        meeting_id=meeting(district),
        membership=MembershipFactory(district=district),
    )


def _reminder(district) -> int:
    from partnerships.models import Attendee

    attendee_id = contact_attendee(district)
    with tenant_context(district):
        attendee = Attendee.objects.get(pk=attendee_id)
    return _create(
        district,
        "partnerships.Reminder",
        meeting_id=attendee.meeting_id,
        attendee_id=attendee_id,
        occurrence_start=MEETING_START,
        offset_minutes=1440,
        due_at=MEETING_START - datetime.timedelta(days=1),
    )


def _occurrence(district) -> int:
    return _create(
        district,
        "partnerships.MeetingOccurrence",
        meeting_id=meeting(district),
        occurrence_start=MEETING_START,
        minutes="We met.",
    )


def _action_item(district) -> int:
    return _create(
        district,
        "partnerships.ActionItem",
        meeting_id=meeting(district),
        what="Send the flyer",
        owner_membership=MembershipFactory(district=district),
        due_date=datetime.date(2030, 1, 31),
    )


def _meeting_email(district) -> int:
    return _create(
        district,
        "partnerships.MeetingEmail",
        meeting_id=meeting(district),
        kind="invitation",
        occurrence_start=MEETING_START,
    )


def _calendar_feed(district) -> int:
    return _create(
        district,
        "partnerships.CalendarFeed",
        membership=MembershipFactory(district=district),
        secret_hash=uuid.uuid4().hex,
    )


# Table -> function(district) returning the primary key of a new row in that district.
TABLE_MAKERS = {
    "schools_school": lambda d: SchoolFactory(district=d).pk,
    "schools_student": _student,
    "schools_studentuserobjectpermission": _student_grant,
    "schools_studentevent": _history_event("schools_studentevent", _student),
    "schools_membership": _membership,
    "schools_membershipevent": _history_event("schools_membershipevent", _membership),
    "schools_membershipschool": lambda d: _create(
        d,
        "schools.MembershipSchool",
        membership=MembershipFactory(district=d),
        school=SchoolFactory(district=d),
    ),
    "schools_invitation": lambda d: InvitationFactory(district=d).pk,
    "schools_rosterimport": lambda d: _create(
        d,
        "schools.RosterImport",
        uploaded_by=MembershipFactory(district=d, role="coordinator"),
        filename="roster.csv",
        layout="simple",
    ),
    "schools_accesslog": _access_log,
    "schools_auditevent": _audit_event,
    "schools_districtemail": lambda district: DistrictEmailFactory(district=district).pk,
    "partnerships_partner": _partner,
    "partnerships_partnerevent": _history_event("partnerships_partnerevent", _partner),
    "partnerships_partnerschool": lambda d: _create(
        d,
        "partnerships.PartnerSchool",
        partner=PartnerFactory(district=d),
        school=SchoolFactory(district=d),
    ),
    "partnerships_servicecategory": lambda d: _create(
        d, "partnerships.ServiceCategory", code="local_probe", name="Local probe"
    ),
    "partnerships_service": lambda d: _create(
        d, "partnerships.Service", partner=PartnerFactory(district=d), category="therapy"
    ),
    "partnerships_contact": lambda d: ContactFactory(district=d).pk,
    "partnerships_moutemplate": lambda d: _create(
        d, "partnerships.MOUTemplate", name="Probe template", sections={}
    ),
    "partnerships_mou": _mou,
    "partnerships_mouevent": _history_event("partnerships_mouevent", _mou),
    "partnerships_mouschool": lambda d: _create(
        d, "partnerships.MOUSchool", mou=MOUFactory(district=d), school=SchoolFactory(district=d)
    ),
    "partnerships_mouversion": lambda d: MOUVersionFactory(district=d, mou__district=d).pk,
    "partnerships_mousignature": lambda d: MOUSignatureFactory(district=d).pk,
    "partnerships_moucomment": _mou_comment,
    "partnerships_moudocument": lambda d: MOUDocumentFactory(district=d).pk,
    "partnerships_directoryexport": lambda d: _create(d, "partnerships.DirectoryExport"),
    "partnerships_mourenewalnotice": lambda d: _create(
        d,
        "partnerships.MOURenewalNotice",
        mou=MOUFactory(district=d),
        days_before=30,
        end_date=timezone.localdate() + timedelta(days=30),
    ),
    "partnerships_goal": _goal,
    "partnerships_goalprogress": lambda d: _create(
        d,
        "partnerships.GoalProgress",
        goal_id=_goal(d),
        date=timezone.localdate(),
        value=12,
    ),
    "partnerships_fundingsource": lambda d: FundingSourceFactory(district=d).pk,
    "partnerships_fundingpartner": lambda d: _create(
        d,
        "partnerships.FundingPartner",
        funding=FundingSourceFactory(district=d),
        partner=PartnerFactory(district=d),
    ),
    "partnerships_fundingmou": lambda d: _create(
        d,
        "partnerships.FundingMOU",
        funding=FundingSourceFactory(district=d),
        mou=MOUFactory(district=d),
    ),
    "partnerships_successstory": lambda d: SuccessStoryFactory(district=d).pk,
    "partnerships_meeting": meeting,
    "partnerships_meetingpartner": lambda d: _create(
        d, "partnerships.MeetingPartner", meeting_id=meeting(d), partner=PartnerFactory(district=d)
    ),
    "partnerships_meetingschool": lambda d: _create(
        d, "partnerships.MeetingSchool", meeting_id=meeting(d), school=SchoolFactory(district=d)
    ),
    "partnerships_meetingoccurrence": _occurrence,
    "partnerships_attendee": contact_attendee,
    "partnerships_actionitem": _action_item,
    "partnerships_reminder": _reminder,
    "partnerships_meetingemail": _meeting_email,
    "partnerships_calendarfeed": _calendar_feed,
    "partnerships_actiondigest": lambda d: _create(
        d, "partnerships.ActionDigest", week=datetime.date(2030, 1, 14), owner=f"m{d.pk}"
    ),
    "referrals_concerncategory": lambda d: ConcernCategoryFactory(district=d).pk,
    "referrals_referral": _referral,
    "referrals_referralevent": _history_event("referrals_referralevent", _referral),
    "referrals_consent": _consent,
    "referrals_consentevent": _history_event("referrals_consentevent", _consent),
    "referrals_consentrevocation": lambda d: ConsentRevocationFactory(district=d).pk,
    "referrals_verbalagreement": _verbal_agreement,
    "referrals_emergencyoverride": lambda d: EmergencyOverrideFactory(district=d).pk,
    "referrals_disclosure": _disclosure,
    "referrals_disclosureevent": _history_event("referrals_disclosureevent", _disclosure),
    # Electronic consent requests (issue 13, engineer "econsent").
    "referrals_consentrequest": _consent_request,
    "referrals_consentrequestevent": _history_event(
        "referrals_consentrequestevent", _consent_request
    ),
    # The referral loop (issue 14).
    "referrals_referralstep": _referral_step,
    "referrals_referralreminder": lambda d: _create(
        d,
        "referrals.ReferralReminder",
        referral=ReferralFactory(district=d),
        audience="partner",
        due_on=timezone.localdate(),
    ),
    "referrals_intakecode": _intake_code,
    "referrals_helprequest": _help_request,
    "schools_closedday": lambda d: _create(
        d, "schools.ClosedDay", date=timezone.localdate(), name="Probe holiday"
    ),
}
