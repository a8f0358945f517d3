"""What the layout and the home page show, filled by each app from its AppConfig.ready().

Two registries, in the way of the student-page sections (schools/views/students.py) and
the open-work providers (schools/services/people.py): schools never names a higher app's
URL or template; a higher app registers its own entries and panels, and each is shown
only to a membership holding its capability.

- `register_nav(label, url_name, capability, order=...)`: an entry of the main navigation,
  a page under `/<district_slug>/` reversed with the district's slug.
- `register_home_panel(template, context, capability, order=...)`: a panel of the district
  home page. `context(request)` returns the panel's template context, or None to leave
  it out; it should cost a fixed number of queries, since every home page runs it.

Entries and panels are shown by `order`, lowest first, then in the order registered.
Registering the same one twice (a second ready()) is a no-op; another with the same URL
name or template is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from schools.capabilities import CAPABILITIES, can


@dataclass(frozen=True)
class NavEntry:
    label: str  # lazily translated
    url_name: str  # reversed with the district's slug as its only argument
    capability: str
    order: int


@dataclass(frozen=True)
class HomePanel:
    template: str  # rendered with the context function's result as `panel`
    context: Callable  # (request) -> dict | None
    capability: str
    order: int
    # Reference (the district's schools) rather than work waiting for the person: the
    # home page says "Nothing needs you yet" when only such panels are shown.
    reference: bool = False


NAVIGATION: list[NavEntry] = []
HOME_PANELS: list[HomePanel] = []


def _known(capability: str) -> None:
    if capability not in CAPABILITIES:
        raise ImproperlyConfigured(f"unknown capability {capability!r}")


def register_nav(label, url_name: str, capability: str, *, order: int) -> NavEntry:
    """Add an entry to the main navigation (from an AppConfig.ready())."""
    _known(capability)
    entry = NavEntry(label, url_name, capability, order)
    for existing in NAVIGATION:
        if existing.url_name == url_name:
            if existing == entry:
                return existing
            raise ImproperlyConfigured(f"navigation entry {url_name!r} registered twice")
    NAVIGATION.append(entry)
    return entry


def register_home_panel(
    template: str, context: Callable, capability: str, *, order: int, reference: bool = False
) -> HomePanel:
    """Add a panel to the district home page (from an AppConfig.ready())."""
    _known(capability)
    panel = HomePanel(template, context, capability, order, reference)
    for existing in HOME_PANELS:
        if existing.template == template:
            if existing == panel:
                return existing
            raise ImproperlyConfigured(f"home panel {template!r} registered twice")
    HOME_PANELS.append(panel)
    return panel


def navigation_for(membership) -> list[NavEntry]:
    """The entries the membership may open, in order (no query)."""
    entries = [entry for entry in NAVIGATION if can(membership, entry.capability)]
    return sorted(entries, key=lambda entry: entry.order)  # stable: then as registered


def home_panels_for(request) -> list[dict]:
    """The panels the request's membership may see and that have something to show, in
    order: each as {"template", "context", "reference"}."""
    shown = []
    for panel in sorted(HOME_PANELS, key=lambda panel: panel.order):
        if not can(request.membership, panel.capability):
            continue
        context = panel.context(request)
        if context is not None:
            shown.append(
                {"template": panel.template, "context": context, "reference": panel.reference}
            )
    return shown
