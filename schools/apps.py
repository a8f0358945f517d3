from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    """The tenant and its people: District, School, Membership, User; tenancy; mail outbox."""

    name = "schools"

    def ready(self):
        from schools.models import OutgoingEmail, RosterImport
        from schools.navigation import register_home_panel, register_nav
        from schools.templatetags.components import register_tones
        from schools.views.home import schools_panel
        from schools.views.mail import mail_home_panel

        # Orders leave room between entries for apps above schools (see schools.navigation).
        register_nav(_("Home"), "district_home", "district.view", order=100)
        register_nav(_("People"), "people_list", "people.manage", order=200)
        register_nav(_("Students"), "student_list", "students.view", order=300)
        register_nav(_("Access log"), "access_log", "access_log.view", order=400)
        register_nav(_("Audit trail"), "audit_trail", "audit.view", order=500)
        register_nav(_("Mail delivery"), "mail_list", "mail.manage", order=1000)
        # The district's settings kept in Trellis: the district, its schools, its closed days
        # (issues 14 and 15); the settings pages have their own sub-navigation.
        register_nav(_("Settings"), "district_settings", "district.settings", order=1100)
        register_home_panel(
            "schools/mail/_home_panel.html", mail_home_panel, "mail.manage", order=50
        )
        register_home_panel(
            "schools/_home_schools.html", schools_panel, "district.view", order=900, reference=True
        )
        # (issue 15) The home page's inbox: apps add what waits for a person; schools its
        # invitations not yet accepted.
        from schools.inbox import invitations_not_accepted, register_inbox

        register_inbox("people.invitations", invitations_not_accepted, "people.manage")

        # Badge colours of statuses (templates read them with the `tone` filter).
        register_tones(
            "roster_import",
            RosterImport.Status,
            {"imported": "success", "pending": "warning", "cancelled": "neutral"},
        )
        register_tones(
            "email_status",
            OutgoingEmail.Status,
            {"queued": "info", "sending": "info", "sent": "success", "failed": "danger"},
        )
