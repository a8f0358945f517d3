"""The Django admin app with Trellis's site (INSTALLED_APPS names this instead of
django.contrib.admin). Kept apart from schools/apps.py: a module with two app configs
leaves Django unsure which one is the schools app's."""

from django.contrib.admin.apps import AdminConfig


class TrellisAdminConfig(AdminConfig):
    """Django's admin with Trellis's site: MFA required, every change audited."""

    default_site = "schools.admin_site.TrellisAdminSite"
