from django.urls import path

from schools.views import (
    access_log,
    audit,
    closed_days,
    home,
    invitations,
    mail,
    people,
    settings,
    students,
)

urlpatterns = [
    path("", home.district_home, name="district_home"),
    path("people/", people.people_list, name="people_list"),
    path("people/invite/", people.people_invite, name="people_invite"),
    path("people/<int:membership_id>/", people.person_change, name="person_change"),
    path(
        "people/<int:membership_id>/deactivate/",
        people.person_deactivate,
        name="person_deactivate",
    ),
    path(
        "people/<int:membership_id>/reactivate/",
        people.person_reactivate,
        name="person_reactivate",
    ),
    path(
        "people/invitations/<int:invitation_id>/resend/",
        invitations.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "people/invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("students/", students.student_list, name="student_list"),
    path("students/<int:student_id>/", students.student_detail, name="student_detail"),
    path("students/import/", students.roster_import, name="roster_import"),
    path(
        "students/import/template.csv",
        students.roster_import_template,
        name="roster_import_template",
    ),
    path(
        "students/import/<int:import_id>/",
        students.roster_import_detail,
        name="roster_import_detail",
    ),
    path(
        "students/import/<int:import_id>/progress/",
        students.roster_import_progress,
        name="roster_import_progress",
    ),
    path("access-log/", access_log.access_log, name="access_log"),
    path("audit-trail/", audit.audit_trail, name="audit_trail"),
    path("mail/", mail.mail_list, name="mail_list"),
    path("mail/<int:link_id>/retry/", mail.mail_retry, name="mail_retry"),
    path("settings/", settings.district_settings, name="district_settings"),
    path("settings/schools/", settings.school_list_view, name="school_list"),
    path("settings/schools/new/", settings.school_new, name="school_new"),
    path("settings/schools/<int:school_id>/", settings.school_edit, name="school_edit"),
    path(
        "settings/schools/<int:school_id>/close/",
        settings.school_close_view,
        name="school_close",
    ),
    path(
        "settings/schools/<int:school_id>/reopen/",
        settings.school_reopen_view,
        name="school_reopen",
    ),
    path("settings/closed-days/", closed_days.closed_days_view, name="closed_days"),
]
