"""One way to answer htmx: the fragment a page defines inline, or the whole page.

A page that htmx updates in place defines that part with `{% partialdef name inline %}`;
its view answers with `render_page_or_fragment`, never with two hand-written `render`
calls. Both answers carry `Vary: HX-Request`: the same URL gives a fragment or a page
depending on that header, and a cache (the browser's included, when the back button or a
restored tab asks for the URL again) must not hand one out for the other.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.cache import patch_vary_headers

VARY = "HX-Request"


def wants_fragment(request) -> bool:
    """An htmx request for part of a page.

    Not when htmx restores history (HX-History-Restore-Request): it swaps the whole body
    with what it gets, so it must get the whole page.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_fragment(
    request, template: str, context: dict, *, fragment: str | None = "results", status=None
):
    """`template#fragment` for an htmx request, else the whole `template`; Vary either way.

    The context gets `fragment` (True when only the fragment is rendered), so a fragment
    can add out-of-band swaps that the full page does not need. `fragment=None` renders
    the page for everyone (a view whose fragment depends on a parameter), still with Vary.
    """
    partial = fragment is not None and wants_fragment(request)
    context = {**context, "fragment": partial}
    name = f"{template}#{fragment}" if partial else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, [VARY])
    return response


# htmx stops polling an element when an answer to it has this status (and still swaps it).
STOP_POLLING = 286


def render_progress(request, template: str, context: dict, *, under_way: bool):
    """A progress page, or its `progress` fragment for htmx, which polls it while the work
    is `under_way`; the fragment that reports the work finished answers STOP_POLLING.

    The page refreshes itself without JavaScript (a `<noscript>` meta refresh while
    `under_way`, which the context carries)."""
    response = render_page_or_fragment(
        request, template, {**context, "under_way": under_way}, fragment="progress"
    )
    if not under_way and wants_fragment(request):
        response.status_code = STOP_POLLING
    return response
