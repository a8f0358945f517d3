"""PDF rendering: a Django template to PDF bytes with WeasyPrint, touching no network.

DESIGN.md, Background work: PDFs render in the `reports` queue with a time limit, a page
limit, a recycled worker child, and a URL fetcher that reads only our static files. Here
are the rendering, the fetcher, the page limit and the time limits a rendering task
declares (`@shared_task(soft_time_limit=pdf.SOFT_TIME_LIMIT, time_limit=pdf.TIME_LIMIT)`);
the task, its queue (CELERY_TASK_ROUTES) and the row it renders stay with the app.

Language and time zone are the caller's: render inside `schools.tenancy.district_locale`,
and build the context there too (dates in it are formatted in the reader's language and
the district's zone).
"""

from __future__ import annotations

import functools
import mimetypes
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

# A document resolves relative URLs against this address; the fetcher serves only our own
# static files under it and refuses everything else, so rendering never touches a network.
# `.invalid` never resolves (RFC 6761), should anything ever try.
BASE_URL = "https://trellis.pdf.invalid/"

# Pages past which a document is refused: a longer one is a mistake (pasted attachments),
# and would tie up a worker and fill a table. A document kind may pass its own.
MAX_PAGES = 100

# Every PDF is tagged for screen readers (Section 508: a public school's documents): the
# PDF/UA-1 variant writes the structure tree (/StructTreeRoot, /MarkInfo /Marked true), the
# document's language and its title. A template gives <html lang> and a <title>.
PDF_VARIANT = "pdf/ua-1"

# Time limits (seconds) of a task that renders a PDF: well under the broker's visibility
# timeout (CELERY_BROKER_TRANSPORT_OPTIONS), so a slow render is never delivered twice.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = 150


class DocumentTooLong(Exception):
    """The document would be longer than its page limit (nothing was written)."""


def render_pdf(template_name: str, context: dict, *, max_pages: int = MAX_PAGES) -> bytes:
    """The PDF of a template (`templates/<app>/pdf/`), in the active language and zone,
    tagged for screen readers (PDF/UA-1).

    Raises DocumentTooLong past `max_pages`. The document can load only our own static
    files (`{% static %}` URLs, relative to BASE_URL); any other URL is left out.
    """
    return html_to_pdf(render_to_string(template_name, context), max_pages=max_pages)


def html_to_pdf(html: str, *, max_pages: int = MAX_PAGES) -> bytes:
    """The PDF of an HTML document; see render_pdf."""
    # Imported here: importing WeasyPrint slows down every process that never renders.
    from weasyprint import HTML

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=static_only_fetcher()).render()
    if len(document.pages) > max_pages:
        raise DocumentTooLong(f"{len(document.pages)} pages, more than {max_pages}")
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def page_counter_css() -> str:
    """CSS `content` for "Page X of Y" in the active language, with WeasyPrint's counters
    (for `@page { @bottom-center { content: ... } }`)."""
    text = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", text):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            escaped = piece.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
            parts.append(f'"{escaped}"')
    return " ".join(parts)


@functools.cache
def _static_only_fetcher_class():
    # Built on first use, like the import of WeasyPrint above.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves only our own static files; any other URL (network, file:, data:) is
        refused, and WeasyPrint renders the document without it."""

        def fetch(self, url, headers=None):
            prefix = BASE_URL.rstrip("/") + settings.STATIC_URL
            if not url.startswith(prefix):
                raise ValueError("only Trellis static files may be fetched")
            relative = unquote(url[len(prefix) :].split("?", 1)[0].split("#", 1)[0])
            relative = posixpath.normpath(relative)
            if relative.startswith(("..", "/")):
                raise ValueError("only Trellis static files may be fetched")
            try:
                path = finders.find(relative)
            except SuspiciousFileOperation:
                path = None
            if path and not Path(path).is_file():
                path = None  # a folder (static/img/)
            if not path:
                collected = Path(settings.STATIC_ROOT) / relative
                path = str(collected) if collected.is_file() else None
            if not path:
                raise ValueError("no such static file")
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=Path(path).read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticOnlyFetcher


def static_only_fetcher():
    """A WeasyPrint URL fetcher that serves only our own static files."""
    return _static_only_fetcher_class()()
