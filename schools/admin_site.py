"""The platform staff's admin site: two-factor authentication required, every change audited.

Installed as the default admin site (schools.apps.TrellisAdminConfig), so every ModelAdmin
registered anywhere, ours or a library's, goes through the same two rules:

- a staff member without an enabled authenticator is sent to set one up before any admin
  page (allauth asks for the code at sign-in once one is enabled; see config/urls.py);
- every add, change and delete is written to the audit trail of each district it
  concerns (schools.services.audit), besides Django's own admin log, which is append-only
  for the runtime role (config/db.py) and keeps what concerns no district.
"""

from __future__ import annotations

import functools

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from schools.models import AuditEvent
from schools.services.audit import audit_staff_action


class AuditedAdminMixin:
    """Writes the admin's log entries to the districts' audit trails as well."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        audit_staff_action(
            by=request.user, action=AuditEvent.Action.STAFF_ADDED, objects=[obj], message=message
        )
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        audit_staff_action(
            by=request.user, action=AuditEvent.Action.STAFF_CHANGED, objects=[obj], message=message
        )
        return entry

    def log_deletions(self, request, queryset):
        # Called before the rows go: their districts can still be read.
        objects = list(queryset)
        entries = super().log_deletions(request, objects)
        audit_staff_action(by=request.user, action=AuditEvent.Action.STAFF_DELETED, objects=objects)
        return entries


class TrellisAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdminMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        """Every admin page (the permission check runs first): MFA, or off to set it up."""

        @functools.wraps(view)
        def requires_mfa(request, *args, **kwargs):
            if not is_mfa_enabled(request.user):
                messages.warning(
                    request,
                    _(
                        "Platform administration requires two-factor authentication. "
                        "Set it up to continue."
                    ),
                )
                return redirect("mfa_activate_totp")
            return view(request, *args, **kwargs)

        return super().admin_view(requires_mfa, cacheable)
