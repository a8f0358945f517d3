"""Who may open each district page and take each action: written by hand, from the rules.

This table is the independent expectation the role walk (test_role_matrix.py) holds the
product against. It is written from the product's rules (DESIGN.md "people who use it",
README "what is in it today", the issue texts of issues 3 and 4), NOT from
schools/capabilities.py and NOT from the capability a view declares: a view whose
@requires is changed to a weaker capability, or a capability that gains a role, makes
the walk fail here.

Every district URL name must have an entry, for GET and for POST (a page and the action
behind its form). A URL without one fails the walk; add it here when you add the page,
with the rule it follows.
"""

ADMIN = "admin"
COORDINATOR = "coordinator"
COUNSELOR = "counselor"
PARTNER = "partner"
VIEWER = "viewer"

EVERYONE = frozenset({ADMIN, COORDINATOR, COUNSELOR, PARTNER, VIEWER})
# District and school staff (everyone but an outside partner organisation).
STAFF = frozenset({ADMIN, COORDINATOR, COUNSELOR, VIEWER})
# "Coordinators and admins edit" (issue 4.6); coordinators keep the directory, draft MOUs,
# run funding and stories (DESIGN: coordinator).
OFFICE = frozenset({ADMIN, COORDINATOR})
# "Manage people and policy", approve MOUs, sign for the district, review stories,
# read the access log and the audit trail (DESIGN: administrator; issues 3.6, 3.7, 4.3, 4.5).
ADMINS = frozenset({ADMIN})
# Roles with a job that involves students by name: counselors follow their caseload,
# coordinators run screening and rosters, administrators oversee. A partner sees nothing
# without consent (referrals, not the student list); a viewer reads aggregates only.
SEE_STUDENTS = frozenset({ADMIN, COORDINATOR, COUNSELOR})
# MOUs are read by the district office, by the partner it is made with (its own only:
# "partners see only their own organisation, MOUs and stories") and by viewers (oversight).
# Counselors read the directory, not the agreements (issue 4.6).
READ_MOUS = frozenset({ADMIN, COORDINATOR, PARTNER, VIEWER})
# The two parties that sign an MOU: the partner first, then a district administrator
# ("partner comments or signs -> district signs", issue 4.3).
SIGNERS = frozenset({ADMIN, PARTNER})
# Funding is district business: the office edits it, viewers read it; counselors and
# partners have no part in it.
READ_FUNDING = frozenset({ADMIN, COORDINATOR, VIEWER})
# Meetings: every member reads the meetings they are part of (a partner only its own
# organization's, the selector narrows it); the office schedules them, keeps the minutes and
# the action items (DESIGN: coordinator "schedule check-ins"); partners "get meeting reminders".
READ_MEETINGS = EVERYONE
# Stories: the office writes them, partners read their own, viewers read publishable ones.
READ_STORIES = frozenset({ADMIN, COORDINATOR, PARTNER, VIEWER})


def _both(roles):
    """The same roles for the page (GET) and the action behind it (POST)."""
    return {"GET": frozenset(roles), "POST": frozenset(roles)}


EXPECTED: dict[str, dict[str, frozenset]] = {
    # --- The district ----------------------------------------------------------------
    "district_home": _both(EVERYONE),  # every member lands here
    # --- People (issue 3.6: "People management pages for admins") ----------------------
    "people_list": _both(ADMINS),
    "people_invite": _both(ADMINS),  # "an administrator invites a person" (README)
    "person_change": _both(ADMINS),
    "person_deactivate": _both(ADMINS),
    "person_reactivate": _both(ADMINS),
    "invitation_resend": _both(ADMINS),
    "invitation_revoke": _both(ADMINS),
    # --- Students (issue 3.6) ----------------------------------------------------------
    "student_list": _both(SEE_STUDENTS),
    "student_detail": _both(SEE_STUDENTS),
    # Rosters are district data kept by the office; a counselor is school staff.
    "roster_import": _both(OFFICE),
    "roster_import_template": _both(OFFICE),
    "roster_import_detail": _both(OFFICE),
    "roster_import_progress": _both(OFFICE),  # the confirmed import, written in the background
    # --- Oversight (README: "Administrators search the access log and read the audit trail")
    "access_log": _both(ADMINS),
    "audit_trail": _both(ADMINS),
    # Mail the district sends (to partners, invitees): the office follows its delivery and
    # sends again what failed (issue 11: "failed rows can be retried ... by a coordinator").
    "mail_list": _both(OFFICE),
    "mail_retry": _both(OFFICE),
    # --- Partner directory (issue 4.1, 4.6: "counselors read the directory") ------------
    "partner_list": _both(STAFF),
    "partner_detail": _both(STAFF),
    "partner_coverage": _both(STAFF),
    "partner_export": _both(STAFF),  # the directory they may read, as a package
    # ...made in the background: its progress page and the zip, for the same readers.
    "partner_export_progress": _both(STAFF),
    "partner_export_download": _both(STAFF),
    "partner_create": _both(OFFICE),
    "partner_edit": _both(OFFICE),
    "partner_edit_row": _both(OFFICE),  # a row of the form above, added in place (issue 16)
    "partner_import": _both(OFFICE),
    "partner_import_confirm": _both(OFFICE),
    "partner_verification_send": _both(OFFICE),  # "a coordinator can send ... a signed link"
    "partner_verified": _both(OFFICE),
    "service_category_list": _both(OFFICE),  # "a shipped taxonomy the district can extend"
    "service_category_delete": _both(OFFICE),
    # A partner's own organisation page: partner staff only (staff use the directory).
    "partner_own": _both({PARTNER}),
    "partner_own_confirm": _both({PARTNER}),  # confirms their own listing (issue 16)
    # Their old (British) addresses redirect to them (issue 16).
    "partner_own_old": _both({PARTNER}),
    "partner_own_confirm_old": _both({PARTNER}),
    # --- MOUs (issue 4.3) ----------------------------------------------------------------
    "mou_list": _both(READ_MOUS),
    "mou_detail": _both(READ_MOUS),
    "mou_compare": _both(READ_MOUS),  # "any two versions can be compared"
    "mou_pdfs": _both(READ_MOUS),  # the PDF of any version, for whoever reads the MOU
    "mou_pdf_prepare": _both(READ_MOUS),
    "mou_pdf_download": _both(READ_MOUS),
    # "a coordinator drafts from one and edits section by section"
    "mou_create": _both(OFFICE),
    "mou_templates": _both(OFFICE),
    "mou_template_create": _both(OFFICE),
    "mou_template_edit": _both(OFFICE),
    "mou_terms": _both(OFFICE),
    "mou_section": _both(OFFICE),
    "mou_submit": _both(OFFICE),  # draft -> internal review
    "mou_withdraw": _both(OFFICE),  # take back from the partner to draft
    "mou_resend": _both(OFFICE),  # send the partner's link again
    "mou_goal_create": _both(OFFICE),
    "mou_goal_progress": _both(OFFICE),
    # "internal review (admin approves or returns with comments)"
    "mou_approve": _both(ADMINS),
    "mou_return": _both(ADMINS),
    # Ending an agreement early is a policy decision, the administrator's.
    "mou_terminate": _both(ADMINS),
    # Signing: the partner, then a district administrator.
    "mou_sign": _both(SIGNERS),
    # The partner's "comments instead of signing" page. The rule gives it to the partner;
    # the URL belongs to the signers, and an administrator reaching it is sent back to the
    # MOU with "not waiting for your review" (the service refuses anyone else: see
    # test_service_permissions.py), so it is not a 403 for them.
    "mou_partner_comment": _both(SIGNERS),
    # --- Funding (issue 4.4) -------------------------------------------------------------
    "funding_list": _both(READ_FUNDING),
    "funding_detail": _both(READ_FUNDING),
    "funding_new": _both(OFFICE),
    "funding_pick": _both(OFFICE),  # the funding form's pickers, as a name is typed
    "funding_edit": _both(OFFICE),
    # --- Success stories (issue 4.5) -----------------------------------------------------
    # --- Meetings (issue 18) -------------------------------------------------------------
    "meeting_calendar": _both(READ_MEETINGS),
    "meeting_new": _both(OFFICE),
    "meeting_pick": _both(OFFICE),  # the meeting form's pickers, as a name is typed
    "meeting_detail": _both(READ_MEETINGS),
    "meeting_edit": _both(OFFICE),
    "meeting_cancel": _both(OFFICE),
    "meeting_answer": _both(READ_MEETINGS),  # a member invited answers for themselves
    # Its minutes are read by all who see the meeting, written by the office.
    "meeting_occurrence": {"GET": READ_MEETINGS, "POST": OFFICE},
    "meeting_occurrence_cancel": _both(OFFICE),
    "action_item_list": _both(READ_MEETINGS),
    "action_item_new": _both(OFFICE),
    # The office, or the member who owns the item (the walk's item is someone else's).
    "action_item_status": _both(OFFICE),
    "calendar_feed_manage": _both(READ_MEETINGS),  # each member's own feed address
    "story_list": _both(READ_STORIES),
    "story_detail": _both(READ_STORIES),
    "story_export": _both(READ_STORIES),  # the newsletter snippet of publishable stories
    "story_new": _both(OFFICE),
    "story_edit": _both(OFFICE),
    "story_consent": _both(OFFICE),
    "story_publish": _both(OFFICE),
    "story_review": _both(ADMINS),  # "de-identification review by an admin"
    # --- Referral and consent pages (issue 13, engineer "pages") ---------------------------
    # Referrals are read by the school's care team and by the partner they were sent to
    # (its own only); viewers read aggregates, never a referral (DESIGN: partner staff
    # "receive referrals addressed to them"; a viewer sees no student).
    "referral_list": _both(SEE_STUDENTS | {PARTNER}),
    "referral_detail": _both(SEE_STUDENTS | {PARTNER}),
    # Sending, consent and emergencies are the care team's: a partner receives referrals,
    # it never records consent or sends one (RULES.md, "Consent to disclose").
    "referral_send": _both(SEE_STUDENTS),
    "referral_emergency": _both(SEE_STUDENTS),
    "consent_new": _both(SEE_STUDENTS),
    "consent_form": _both(SEE_STUDENTS),
    "consent_revoke": _both(SEE_STUDENTS),
    "verbal_agreement_new": _both(SEE_STUDENTS),
    # "Trellis ... lists every use [of an emergency override] for admins" (RULES.md).
    "emergency_overrides": _both(ADMINS),
    # "An admin prints the family's record of disclosures as a PDF" (issue 13).
    "student_disclosures_pdf": _both(ADMINS),
    # --- Electronic consent (issue 13, engineer "econsent") --------------------------------
    # Asking a family for consent by email is recording consent: the care team's, never a
    # partner's or a viewer's (RULES.md, "Consent to disclose").
    "consent_request_new": _both(SEE_STUDENTS),
    # --- Logging a referral (issue 13, engineer "logging") ---------------------------------
    # "A counselor logs a referral in under a minute" (DESIGN): the care team. The student
    # search and the suggestions show students by name, so they are the care team's too.
    # The two fragments are GET-only: the care team's POST is refused as a method (405),
    # everyone else's with 403, like the student list.
    "referral_new": _both(SEE_STUDENTS),
    "referral_student_search": _both(SEE_STUDENTS),
    "referral_suggestions": _both(SEE_STUDENTS),
    # --- Referral lists (issue 14, engineer "helperb") -------------------------------------
    # The CSV of the filtered list names students: the care team exports it ("CSV export for
    # roles allowed to"), never a partner or a viewer. GET only: the care team's POST is 405.
    "referral_list_csv": _both(SEE_STUDENTS),
    # A departing member's open referrals go to a colleague: the district office's job
    # (issue 14: "can be reassigned in one step"; DESIGN: coordinators and administrators
    # run the partnership, counselors follow their own caseload).
    "caseload_reassign": _both(OFFICE),
    # --- The loop on the referral page (issue 14, engineer "helpere") ----------------------
    # "Partners ... accept or decline, ... schedule, record the first appointment, update and
    # close"; the school's care team records what the partner says and withdraws: a step is
    # the care team's and the receiving partner's (the service narrows it to their side).
    "referral_step": _both(SEE_STUDENTS | {PARTNER}),
    # Sending a declined referral to another partner and changing whose caseload it is are
    # the referring school's ("the school ... re-sent to another partner"; a counselor's
    # caseload), never the partner's or a viewer's.
    "referral_resend": _both(SEE_STUDENTS),
    "referral_reassign": _both(SEE_STUDENTS),
    # --- Requests for help (issue 14, engineer "helperc") ----------------------------------
    # "It lands in the counselors' queue to triage. A counselor links it to the student,
    # turns it into a referral, or closes it": the school's care team, who read what the
    # family wrote about a child. Never a partner (nothing is consented) or a viewer
    # (aggregates only). The queue is GET only: the care team's POST is 405.
    "help_request_list": _both(SEE_STUDENTS),
    "help_request_detail": _both(SEE_STUDENTS),
    # --- Closed days and the partner's inbox (issue 14, engineer "helperd") ----------------
    # "Skipping weekends and the district's closed days (a list an admin keeps)": policy,
    # the administrator's (DESIGN: "manage people and policy").
    "closed_days": _both(ADMINS),
    # The district's settings and its schools (issue 15: "administrators set their district
    # up without the Django admin"): district policy, the administrator's.
    "district_settings": _both(ADMINS),
    "school_list": _both(ADMINS),
    "school_new": _both(ADMINS),
    "school_edit": _both(ADMINS),
    "school_close": _both(ADMINS),
    "school_reopen": _both(ADMINS),
    # "Partner members also get an inbox inside each district they serve": the partner's;
    # the care team, who have the referral list instead, are sent there (a redirect, so let
    # in); a viewer sees no referral. GET only: a partner's POST is 405.
    "referral_inbox": _both(SEE_STUDENTS | {PARTNER}),
}
