from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referrals and their loop, consents, disclosures, requests for help; the partner's
    side (the intake link, the inbox)."""

    name = "referrals"

    def ready(self):
        from referrals.models import ConsentRequestState, ReferralStatus
        from referrals.rules import Urgency
        from referrals.views.consents import (
            student_consents_section,
            student_disclosures_section,
            student_referrals_section,
        )
        from referrals.views.referrals import emergency_home_panel
        from schools.navigation import register_home_panel, register_nav
        from schools.templatetags.components import register_tones
        from schools.views.students import STUDENT_SECTIONS, register_student_section

        # After Students (300): referrals are about the students listed there.
        register_nav(_("Referrals"), "referral_list", "referrals.view", order=320)
        register_home_panel(
            "referrals/referrals/_home_emergencies.html",
            emergency_home_panel,
            "overrides.view",
            order=60,
        )

        # The student page's sections, in this order, once (ready() may run twice in tests).
        sections = [
            ("referrals/_student_referrals.html", "referrals.view", student_referrals_section),
            ("referrals/_student_consents.html", "consent.record", student_consents_section),
            (
                "referrals/_student_disclosures.html",
                "disclosures.view",
                student_disclosures_section,
            ),
        ]
        registered = {section.template for section in STUDENT_SECTIONS}
        for template, capability, context in sections:
            if template not in registered:
                register_student_section(template=template, capability=capability, context=context)

        # Badge colours of statuses (templates read them with the `tone` filter).
        register_tones(
            "referral_status",
            ReferralStatus,
            {
                "draft": "neutral",
                "sent": "info",
                "accepted": "success",
                "declined": "warning",
                "scheduled": "info",
                "in_service": "success",
                "closed": "neutral",
                "withdrawn": "neutral",
            },
        )
        register_tones(
            "referral_urgency",
            Urgency,
            {"routine": "neutral", "urgent": "warning", "emergency": "danger"},
        )
        # (pages2) A consent request on the referral page: expired and withdrawn are neutral.
        register_tones(
            "consent_request_state",
            ConsentRequestState,
            {"pending": "info", "signed": "success", "locked": "warning"},
        )
        # (lists) A member's open referrals in the people pages' open work (registers itself).
        from referrals.services import open_work  # noqa: F401

        # (help requests) The counselors' queue after Referrals (new requests are in the home
        # page's inbox, below), and the badge colours of a request's status.
        from referrals.views import help_requests as help_views

        register_nav(_("Requests for help"), "help_request_list", "referrals.create", order=330)
        register_tones(
            "help_request_status",
            help_views.HelpRequestStatus,
            {"new": "warning", "linked": "info", "referred": "success", "closed": "neutral"},
        )

        # (inbox) A partner member's inbox before Referrals, the summary of what waits in
        # each district they serve on their home page, and the scorecard on a partner's page.
        from partnerships.views.directory import register_partner_section
        from referrals.views.inbox import inbox_home_panel, partner_scorecard_section

        register_nav(_("Inbox"), "referral_inbox", "partner.own", order=310)
        register_home_panel(
            "referrals/inbox/_home_panel.html", inbox_home_panel, "partner.own", order=40
        )
        register_partner_section(
            template="referrals/scorecard/_partner_section.html",
            capability="referrals.view",
            context=partner_scorecard_section,
        )

        # (issue 15) What waits in the home page's inbox: the owner's declined and overdue
        # referrals, new requests for help, the partner's next steps.
        from referrals import inbox
        from schools.inbox import register_inbox

        register_inbox("referrals.declined", inbox.referrals_declined, "referrals.send")
        register_inbox("referrals.overdue", inbox.referrals_overdue, "referrals.send")
        register_inbox("referrals.help_requests", inbox.help_requests_new, "referrals.create")
        register_inbox("referrals.partner", inbox.referrals_for_partner, "partner.own")
