"""MOU PDFs: the panel on the MOU page (also a page of its own), preparing, downloading."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.htmx import render_page_or_fragment
from partnerships.models import MOUDocument
from partnerships.selectors.documents import (
    access_mou_document,
    access_mou_version,
    mou_pdf_panel,
)
from partnerships.selectors.mous import access_mou, mou_url
from partnerships.services.documents import mou_pdf_request
from schools.capabilities import requires


def _panel(request, mou, *, refusal: str = ""):
    """The panel fragment for htmx (polling, preparing), else the panel's own page."""
    context = {
        "mou": mou,
        "pdf_panel": mou_pdf_panel(request.membership, mou),
        "refusal": refusal,
        "mou_page_url": mou_url(request.district, mou.pk),
    }
    return render_page_or_fragment(
        request, "partnerships/documents/mou_pdfs.html", context, fragment="panel"
    )


@requires("mous.view")
def mou_pdfs(request, district_slug, mou_id):
    """The PDFs of an MOU's versions: the panel (htmx polls it while one is prepared)."""
    return _panel(request, access_mou(request.membership, mou_id))


@requires("mous.view")
def mou_pdf_prepare(request, district_slug, version_id):
    """Queue a PDF of one version (POST); the panel then shows it being prepared."""
    version = access_mou_version(request.membership, version_id)
    if request.method != "POST":
        return redirect("mou_pdfs", district_slug, version.mou_id)
    try:
        document = mou_pdf_request(by=request.membership, version=version)
    except ValidationError as error:
        refusal = " ".join(error.messages)
        if request.htmx:
            return _panel(request, version.mou, refusal=refusal)
        messages.error(request, refusal)
        return redirect("mou_pdfs", district_slug, version.mou_id)
    if request.htmx:
        return _panel(request, version.mou)
    if document.status == MOUDocument.Status.READY:
        message = _("The PDF of version %(number)s is ready to download.")
    else:
        message = _("The PDF of version %(number)s is being prepared. It takes a few seconds.")
    messages.info(request, message % {"number": version.number})
    return redirect("mou_pdfs", district_slug, version.mou_id)


@requires("mous.view")
def mou_pdf_download(request, district_slug, document_id):
    """The PDF itself, as a download; one not ready yet sends you to the panel."""
    document = access_mou_document(request.membership, document_id)
    version = document.version
    if document.status != MOUDocument.Status.READY or not document.pdf:
        return redirect(reverse("mou_pdfs", args=[district_slug, version.mou_id]))
    filename = f"{slugify(version.mou.title)[:60] or 'mou'}-v{version.number}.pdf"
    response = FileResponse(
        io.BytesIO(bytes(document.pdf)),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("mous/<int:mou_id>/pdf/", mou_pdfs, name="mou_pdfs"),
    path("mous/versions/<int:version_id>/pdf/", mou_pdf_prepare, name="mou_pdf_prepare"),
    path("mous/documents/<int:document_id>/download/", mou_pdf_download, name="mou_pdf_download"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns: list = []
