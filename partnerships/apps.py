from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnershipsConfig(AppConfig):
    """Partner, Service, Contact, MOU, Goal, FundingSource, Meeting, SuccessStory."""

    name = "partnerships"

    def ready(self):
        from partnerships.models import Intake, MOUStatus
        from partnerships.views.mous.lists import mou_home_panel
        from schools.navigation import register_home_panel, register_nav
        from schools.templatetags.components import register_tones

        # After schools' entries (100-500), in the order people have always seen them.
        register_nav(_("Partners"), "partner_list", "partners.view", order=600)
        register_nav(_("Coverage"), "partner_coverage", "partners.view", order=610)
        register_nav(_("Your organization"), "partner_own", "partner.own", order=620)
        register_nav(_("MOUs"), "mou_list", "mous.view", order=700)
        register_nav(_("Funding"), "funding_list", "funding.view", order=800)
        register_nav(_("Stories"), "story_list", "stories.view", order=900)
        register_home_panel(
            "partnerships/mous/_home_panel.html", mou_home_panel, "mous.view", order=500
        )

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
