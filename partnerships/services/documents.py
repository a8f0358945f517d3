"""MOU PDFs: asking for one, rendering it in the `reports` queue, re-enqueuing lost ones.

The MOUDocument row is the source of truth (DESIGN.md, Background work): a request makes a
queued row and enqueues `partnerships.tasks.render_mou_pdf` once the row is committed; the
task renders with WeasyPrint, stores the bytes and marks the row ready (or failed with a
short reason). A sweep re-enqueues rows left in "queued" by a lost message.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.jobs import enqueue_on_commit, mark_failed, requeue_stuck
from core.pdf import DocumentTooLong, page_counter_css, render_pdf
from partnerships.models import MOUDocument, MOUSignature, MOUVersion
from partnerships.mou_rules import SHARED_FIELD_LABELS, version_sections
from partnerships.selectors.categories import service_labels
from partnerships.selectors.documents import access_mou_version, pdf_language_for
from schools.capabilities import can
from schools.models import District, Membership
from schools.tenancy import district_locale

logger = logging.getLogger(__name__)

# A longer MOU is a mistake (pasted attachments), and would tie up a worker. The render
# task's time limits are every PDF's (core.pdf).
MAX_PAGES = 100
# A queued row not touched for this long lost its message: the sweep enqueues it again.
STUCK_AFTER = timedelta(minutes=10)
# ...and one still queued after this long keeps failing (a worker dying on it): give up.
GIVE_UP_AFTER = timedelta(hours=2)
# New PDFs one person may ask for per minute: each render ties up a `reports` worker and
# is stored. Asking for one that exists already (reused) does not count.
PDF_REQUESTS_PER_MINUTE = 5

# Reasons stored on a failed document, translated where they are shown.
ERROR_TOO_LONG = gettext_noop("The document would be longer than 100 pages.")
ERROR_TOO_SLOW = gettext_noop("Preparing the document took too long.")
ERROR_RENDER = gettext_noop("The document could not be prepared.")
ERROR_GAVE_UP = gettext_noop("The document was not prepared in time. Try again.")


class PDFRequestsLimited(ValidationError):
    """The person asked for more new PDFs than PDF_REQUESTS_PER_MINUTE."""


# --- Asking for a PDF ------------------------------------------------------------------------


def mou_pdf_request(*, by: Membership, version: MOUVersion) -> MOUDocument:
    """Queue a PDF of one version, in the MOU's language (the document's, whatever the
    reader's), and enqueue its rendering once committed; or return the render of the same
    version and language that exists already.

    `version` comes from an access helper (the viewer may see it). A render is reused while
    it is being prepared, and once ready unless the version was signed after it (the new
    PDF must show the signature). A new render counts against the person's
    PDF_REQUESTS_PER_MINUTE; past it, PDFRequestsLimited is raised and nothing is queued.
    """
    if not can(by, "mous.view"):
        raise PermissionDenied
    try:  # the service's own check, not only the view's: another district's version, or
        # for a partner another organization's MOU or a version not sent to them
        access_mou_version(by, version.pk)
    except Http404:
        raise PermissionDenied from None
    # The document has one language, the MOU's, whoever asks (pdf_language_for: an MOU
    # made before it had one).
    language = version.mou.language or pdf_language_for(by)
    with transaction.atomic():
        # One request at a time per version, so two at once make one render, not two.
        MOUVersion.objects.select_for_update().filter(
            district_id=by.district_id, pk=version.pk
        ).first()
        document = _reusable_document(by.district, version, language)
        if document is not None:
            return document
        _count_pdf_request(by)
        document = MOUDocument.objects.create(
            district_id=by.district_id, version=version, requested_by=by, language=language
        )
        _enqueue_on_commit(document)
    return document


def mou_executed_pdf_queue(version: MOUVersion) -> MOUDocument:
    """Queue the executed PDF of a version just signed by both parties, in the MOU's
    language (no person asked: the signers' email links to it), or return the render of
    it that exists already. Not counted against anyone's PDF_REQUESTS_PER_MINUTE."""
    mou = version.mou
    district = mou.district
    language = mou.language or district.default_language or settings.LANGUAGE_CODE
    with transaction.atomic():
        MOUVersion.objects.select_for_update().filter(
            district_id=district.pk, pk=version.pk
        ).first()
        document = _reusable_document(district, version, language)
        if document is not None:
            return document
        document = MOUDocument.objects.create(
            district_id=district.pk, version=version, requested_by=None, language=language
        )
        _enqueue_on_commit(document)
    return document


def _reusable_document(district: District, version: MOUVersion, language: str):
    """The newest render of the version in `language` still worth giving: being prepared,
    or ready and made after the version's last signature."""
    documents = (
        MOUDocument.objects.for_district(district)
        .filter(version=version, language=language)
        .defer("pdf")
        .order_by("-created_at", "-pk")
    )
    queued = documents.filter(status=MOUDocument.Status.QUEUED).first()
    if queued is not None:
        return queued
    ready = documents.filter(status=MOUDocument.Status.READY).first()
    if ready is None:
        return None
    last_signed = (
        MOUSignature.objects.for_district(district)
        .filter(version=version)
        .aggregate(at=Max("created_at"))["at"]  # when recorded, not the time it states
    )
    if last_signed is not None and ready.updated_at < last_signed:
        return None  # made before a signature: the new PDF shows it
    return ready


def _count_pdf_request(by: Membership) -> None:
    """Count a new render for the person (Django's cache, a one-minute window)."""
    window = int(timezone.now().timestamp() // 60)
    key = f"partnerships:mou-pdf-requests:{by.user_id}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > PDF_REQUESTS_PER_MINUTE:
        raise PDFRequestsLimited(
            _(
                "You asked for %(limit)s new PDFs in the last minute, the most Trellis "
                "prepares for one person in a minute. Wait a minute, then try again."
            ),
            code="rate_limited",
            params={"limit": PDF_REQUESTS_PER_MINUTE},
        )


def _enqueue_on_commit(document: MOUDocument) -> None:
    from partnerships.tasks import render_mou_pdf

    # Never fails the request: with the broker down the sweep renders it later.
    enqueue_on_commit(render_mou_pdf, document.district_id, document.pk)


# --- Rendering -------------------------------------------------------------------------------


def mou_pdf_render(*, document_id: int) -> bool:
    """Render a queued document (inside its district's context); True if this call did it.

    Idempotent: a document already ready or failed is left alone, and one being rendered
    by another worker (row locked) is skipped. Once ready, older PDFs of the same version
    are deleted (the newest carries the latest signatures).
    """
    with transaction.atomic():
        document = (
            MOUDocument.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("version__mou__partner", "district", "requested_by__user")
            .filter(pk=document_id, status=MOUDocument.Status.QUEUED)
            .first()
        )
        if document is None:
            return False
        language = _document_language(document)
        try:
            pdf = mou_version_pdf(document.version, district=document.district, language=language)
        except DocumentTooLong:
            document.error = ERROR_TOO_LONG
        except SoftTimeLimitExceeded:
            document.error = ERROR_TOO_SLOW
        except Exception:  # a rendering bug must fail the document, not loop in the queue
            logger.exception("MOU PDF rendering failed document=%s", document.pk)
            document.error = ERROR_RENDER
        else:
            document.pdf = pdf
            document.error = ""
        document.status = MOUDocument.Status.FAILED if document.error else MOUDocument.Status.READY
        document.save(update_fields=["pdf", "error", "status", "updated_at"])
        if document.status == MOUDocument.Status.READY:
            (
                MOUDocument.objects.for_district(document.district)
                .filter(version=document.version_id, created_at__lt=document.created_at)
                .filter(language__in=[document.language, ""])  # other languages stay
                .exclude(status=MOUDocument.Status.QUEUED)
                .delete()
            )
    return True


def _document_language(document: MOUDocument) -> str:
    if document.language:
        return document.language
    requester = document.requested_by  # a row made before the language was recorded
    if requester is not None and requester.user.preferred_language:
        return requester.user.preferred_language
    return document.district.default_language or settings.LANGUAGE_CODE


def mou_version_pdf(version: MOUVersion, *, district: District, language: str) -> bytes:
    """The PDF of one version: letterhead, sections, terms, signatures, page numbers.

    Raises DocumentTooLong past MAX_PAGES (core.pdf: it loads only our static files).
    """
    # Times (signatures, "prepared on") read in the district's zone, in the reader's language.
    with district_locale(district, language):
        context = _pdf_context(version, district=district)
        return render_pdf("partnerships/pdf/mou.html", context, max_pages=MAX_PAGES)


def _pdf_context(version: MOUVersion, *, district: District) -> dict:
    mou = version.mou
    signatures = list(
        MOUSignature.objects.for_district(district).filter(version=version).order_by("signed_at")
    )
    by_party = {signature.party: signature for signature in signatures}
    labels = service_labels(district)
    return {
        "district": district,
        "mou": mou,
        "partner": mou.partner,
        "version": version,
        "sections": version_sections(version, labels),
        "terms": _terms(version, district=district, labels=labels),
        "signature_slots": [
            {
                "label": _("For %(name)s") % {"name": mou.partner.name},
                "signature": by_party.get(MOUSignature.Party.PARTNER),
            },
            {
                "label": _("For %(name)s") % {"name": district.name},
                "signature": by_party.get(MOUSignature.Party.DISTRICT),
            },
        ],
        "signed": {MOUSignature.Party.PARTNER, MOUSignature.Party.DISTRICT} <= set(by_party),
        "time_zone": district.time_zone,
        "generated_at": timezone.now(),
        "page_counter": page_counter_css(),
    }


# Terms shown elsewhere in the document (letterhead, title, the partner row).
_TERMS_SHOWN_ELSEWHERE = {"title", "district", "partner"}


def _terms(version: MOUVersion, *, district: District, labels: dict[str, str]) -> list:
    """The structured terms of the version as (label, value) rows, as people read them."""
    names = {
        "start_date": _("Start date"),
        "end_date": _("End date"),
        "schools": _("Schools covered"),
        "services": _("Services"),
        "response_days": _("Referral response time (business days)"),
        "shared_fields": _("Data fields the partner may receive"),
        "self_consent_age": _("Age from which students may consent alone"),
    }
    terms = version.terms or {}
    # jsonb keeps no key order: known terms first, in reading order, then any others.
    keys = [k for k in names if k in terms] + sorted(set(terms) - set(names))
    rows = []
    for key in keys:
        value = terms[key]
        if key in _TERMS_SHOWN_ELSEWHERE:
            continue
        if key == "schools" and isinstance(value, list):
            value = [v.get("name", "") if isinstance(v, dict) else v for v in value]
        elif key == "services" and isinstance(value, list):
            value = [labels.get(v, v) for v in value]
        elif key == "shared_fields" and isinstance(value, list):
            value = [str(SHARED_FIELD_LABELS.get(v, v)) for v in value]
        rows.append((str(names.get(key, key.replace("_", " ").capitalize())), _display(value)))
    return rows


def _display(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date_format(date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


# --- Lost messages ---------------------------------------------------------------------------


def mou_pdf_requeue_stuck(*, district: District) -> int:
    """Enqueue again this district's documents still queued after STUCK_AFTER (run inside
    the district's context); give up on those queued past GIVE_UP_AFTER (core.jobs)."""
    return requeue_stuck(
        MOUDocument.objects.for_district(district)
        .filter(status=MOUDocument.Status.QUEUED)
        .only("pk", "district_id", "created_at", "status"),
        stuck_after=STUCK_AFTER,
        give_up_after=GIVE_UP_AFTER,
        since="created_at",
        enqueue=_enqueue_on_commit,
        give_up=mark_failed(ERROR_GAVE_UP),
    )
