"""Reads of MOU PDFs: the PDF panel of an MOU, and access to one version or one PDF.

A partner reaches only versions sent to it (partner_may_read_version)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case, Count, Max, When
from django.shortcuts import get_object_or_404

from partnerships.models import MOUDocument, MOUVersion
from partnerships.selectors.mous import mous_visible_to, partner_may_read_version, reads_as_partner


def pdf_language_for(membership) -> str:
    """The language a PDF asked for by this person is written in: theirs, else the
    district's, else the site's."""
    return (
        membership.user.preferred_language
        or membership.district.default_language
        or settings.LANGUAGE_CODE
    )


def mou_pdf_panel(membership, mou) -> dict:
    """The PDF panel of an MOU: every version (newest first) with its latest PDF, if any.

    Two queries, whatever the number of versions; the PDF bytes are never loaded here.
    `preparing` is true while a PDF is queued (the panel then polls); `outdated` marks a
    ready PDF made before the version's latest signature (prepare it again to show it).
    A partner sees only the versions sent to it; each version's PDF is the newest in the
    MOU's language (the document's, whoever reads it) if there is one.
    """
    versions = MOUVersion.objects.for_district(mou.district_id).filter(mou_id=mou.pk)
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    versions = list(
        versions.annotate(
            signature_count=Count("signatures"),
            # when the last signature was recorded: a PDF made before it lacks it
            last_signed_at=Max("signatures__created_at"),
        )
        .only("pk", "number", "created_at", "locked_at")
        .order_by("-number")
    )
    # Per version, the newest PDF in the viewer's language, else the newest in any.
    # PDFs are written in the MOU's language (older ones in their requester's).
    language = mou.language or (pdf_language_for(membership) if membership is not None else "")
    latest = {
        document.version_id: document
        for document in MOUDocument.objects.for_district(mou.district_id)
        .filter(version__mou_id=mou.pk)
        .defer("pdf")
        .annotate(other_language=Case(When(language=language, then=0), default=1))
        .order_by("version_id", "other_language", "-created_at", "-pk")
        .distinct("version_id")
    }
    rows = []
    for version in versions:
        document = latest.get(version.pk)
        outdated = bool(
            document is not None
            and document.status == MOUDocument.Status.READY
            and version.last_signed_at is not None
            and document.updated_at < version.last_signed_at
        )
        rows.append(
            {
                "version": version,
                "document": document,
                "signed": version.signature_count >= 2,
                "outdated": outdated,
            }
        )
    preparing = any(
        row["document"] is not None and row["document"].status == MOUDocument.Status.QUEUED
        for row in rows
    )
    return {"mou": mou, "rows": rows, "preparing": preparing, "language": language}


def access_mou_version(membership, version_id):
    """A version of an MOU the viewer may see (partners: their own, not drafts, and only
    versions sent to them), with its MOU, or 404 (one query)."""
    versions = MOUVersion.objects.for_district(membership.district_id).filter(
        mou__in=mous_visible_to(membership)
    )
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    return get_object_or_404(versions.select_related("mou"), pk=version_id)


def access_mou_document(membership, document_id):
    """A PDF of an MOU version the viewer may see (access_mou_version's rule), with its
    version and MOU, or 404 (one query)."""
    versions = MOUVersion.objects.for_district(membership.district_id).filter(
        mou__in=mous_visible_to(membership)
    )
    if reads_as_partner(membership):
        versions = versions.filter(partner_may_read_version())
    return get_object_or_404(
        MOUDocument.objects.for_district(membership.district_id)
        .filter(version__in=versions)
        .select_related("version__mou"),
        pk=document_id,
    )


def executed_document(version) -> MOUDocument | None:
    """The newest ready PDF of a version signed by both parties, preferring one in the
    MOU's language (the executed PDF the signers are emailed a link to); None while there
    is none (being prepared). Call inside the version's district context."""
    return (
        MOUDocument.objects.filter(
            district_id=version.district_id, version_id=version.pk, status=MOUDocument.Status.READY
        )
        .annotate(other_language=Case(When(language=version.mou.language, then=0), default=1))
        .order_by("other_language", "-created_at", "-pk")
        .first()
    )
