from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnershipsConfig(AppConfig):
    """Partner, Service, Contact, MOU, Goal, FundingSource, Meeting, SuccessStory."""

    name = "partnerships"

    def ready(self):
        from partnerships.models import Intake, MOUStatus, Response
        from partnerships.views.mous.lists import mou_home_panel
        from schools.navigation import register_home_panel, register_nav
        from schools.templatetags.components import register_tones

        # After schools' entries (100-500), in the order people have always seen them.
        register_nav(_("Partners"), "partner_list", "partners.view", order=600)
        register_nav(_("Coverage"), "partner_coverage", "partners.view", order=610)
        register_nav(_("Your organization"), "partner_own", "partner.own", order=620)
        register_nav(_("MOUs"), "mou_list", "mous.view", order=700)
        register_nav(_("Meetings"), "meeting_calendar", "meetings.view", order=750)
        register_nav(_("Funding"), "funding_list", "funding.view", order=800)
        register_nav(_("Stories"), "story_list", "stories.view", order=900)
        # The MOUs under way, counted by status: an overview (what waits for the viewer
        # is in the inbox), so it does not count as something needing them.
        register_home_panel(
            "partnerships/mous/_home_panel.html",
            mou_home_panel,
            "mous.view",
            order=500,
            reference=True,
        )

        # (issue 15) What waits in the home page's inbox, for the roles each concerns.
        from partnerships import inbox
        from schools.inbox import register_inbox

        register_inbox("mous.to_review", inbox.mous_to_review, "mous.approve")
        register_inbox("mous.to_sign", inbox.mous_to_sign, "mous.sign")
        register_inbox("mous.changes_asked", inbox.mous_changes_asked, "mous.manage")
        register_inbox("mous.to_renew", inbox.mous_to_renew, "mous.manage")
        register_inbox("stories.consent", inbox.stories_needing_consent, "stories.manage")
        register_inbox("stories.review", inbox.stories_to_review, "stories.review")
        register_inbox("partners.verify", inbox.listings_to_verify, "partners.manage")
        register_inbox("meetings.minutes", inbox.meetings_without_minutes, "meetings.manage")
        register_inbox("meetings.overdue", inbox.action_items_overdue, "meetings.view")

        # A partner contact's address refused by the mail server is marked on the contact.
        from partnerships.services.reminders import mark_refused_address
        from schools.services.email import email_failed

        email_failed.connect(mark_refused_address, dispatch_uid="partnerships.refused_address")

        # Badge colours of statuses (templates read them with the `tone` filter).
        register_tones(
            "mou_status",
            MOUStatus,
            {
                "draft": "neutral",
                "internal_review": "info",
                "sent": "info",
                "partner_signed": "info",
                "active": "success",
                "expiring": "warning",
                "expired": "neutral",
                "terminated": "danger",
            },
        )
        register_tones(
            "partner_intake",
            Intake,
            {"accepting": "success", "waitlist": "warning", "closed": "neutral"},
        )
        register_tones(
            "meeting_response",
            Response,
            {"invited": "neutral", "accepted": "success", "declined": "warning"},
        )
