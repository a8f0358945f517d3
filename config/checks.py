"""System checks for the parts of Trellis's configuration Django does not know about."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.database)
def runtime_role_cannot_bypass_row_security(app_configs, databases=None, **kwargs):
    """The web and worker role must be bound by row-level security (`check --database default`)."""
    if not databases or "default" not in databases:
        return []
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    problems = []
    if row and row[0]:
        problems.append(
            Warning(
                "DATABASE_URL connects as a superuser or a role with BYPASSRLS.",
                hint="Connect the web and workers as the runtime role (trellis_app).",
                id="trellis.W002",
            )
        )
    if settings.DATABASE_ROLE_NAMES["runtime"] == settings.DATABASE_ROLE_NAMES["owner"]:
        problems.append(
            Warning(
                "DATABASE_URL and DATABASE_OWNER_URL use the same role.",
                hint="Migrations run as the owner; the runtime role must own no table.",
                id="trellis.W003",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def email_is_delivered(app_configs, **kwargs):
    if settings.EMAIL_BACKEND == "config.mail.OutboxBackend":
        return [
            Warning(
                "EMAIL_URL is not set: mail is written to the local outbox, not delivered.",
                hint="Set EMAIL_URL, for example smtp://user:password@mail.example.org:587.",
                id="trellis.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def site_url_is_set(app_configs, **kwargs):
    if not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                "SITE_URL is not an https:// address: every link in mail is built on it "
                "(without it, mail with a link is refused).",
                hint="Set SITE_URL, for example https://trellis.example.org.",
                id="trellis.W004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def no_demo_districts(app_configs, **kwargs):
    """A demo district lets its administrators in without MFA: never in production."""
    if settings.DEMO_DISTRICTS:
        return [
            Error(
                f"TRELLIS_DEMO_DISTRICTS is set ({', '.join(settings.DEMO_DISTRICTS)}): "
                "administrators of those districts sign in without two-factor authentication.",
                hint="Unset TRELLIS_DEMO_DISTRICTS: only `./trellis run` sets it, for the demo.",
                id="trellis.E003",
            )
        ]
    return []


# --- Every district page declares its capability ----------------------------------------------


@register(Tags.urls)
def district_views_declare_capability(app_configs, **kwargs):
    """Every view under /<district_slug>/ names the capability it needs (`@requires`).

    The middleware lets in any active member of the district; the capability is what keeps
    a page to the roles that may see it, and the role walk (tests/security) reads it. No
    district page is exempt: one for every member declares `district.view`, which every
    role holds. (The pages outside a district, such as signed links and sign-in, are not
    walked: they carry no district_slug.)
    """
    from django.urls import get_resolver

    return district_capability_problems(get_resolver().url_patterns)


def district_capability_problems(patterns) -> list:
    """An Error for each district URL in `patterns` whose view declares no capability, or
    one the capability table does not know."""
    from schools.capabilities import CAPABILITIES

    problems = []
    for route, pattern in _district_patterns(patterns):
        name = pattern.name or route
        capability = getattr(pattern.callback, "capability", None)
        if capability is None:
            problems.append(
                Error(
                    f"The district URL {route!r} ({name}) has a view that declares no capability.",
                    hint="Decorate the view with @requires(...) from schools.capabilities "
                    "(district.view for a page every member may open).",
                    obj=pattern.callback,
                    id="trellis.E001",
                )
            )
        elif capability not in CAPABILITIES:
            problems.append(
                Error(
                    f"The district URL {route!r} ({name}) declares the unknown capability "
                    f"{capability!r}.",
                    hint="Use a capability of schools.capabilities.CAPABILITIES.",
                    obj=pattern.callback,
                    id="trellis.E002",
                )
            )
    return problems


def _district_patterns(patterns, prefix="", inside=False):
    """(route, URLPattern) of every pattern at or below one that captures district_slug."""
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        route = prefix + str(entry.pattern)
        here = inside or "district_slug" in entry.pattern.regex.groupindex
        if isinstance(entry, URLResolver):
            yield from _district_patterns(entry.url_patterns, route, here)
        elif isinstance(entry, URLPattern) and here:
            yield route, entry
