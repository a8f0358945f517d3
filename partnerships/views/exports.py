"""The directory as an HSDS package: asking for one, its progress page, the download.

The package is made in the `reports` queue (partnerships.services.exports): the request
queues it and lands on a progress page that htmx refreshes every 2 seconds (a reload,
without JavaScript) until the download is offered.
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header

from core.htmx import render_progress
from partnerships.models import DirectoryExport
from partnerships.selectors.exports import access_directory_export
from partnerships.services.exports import directory_export_request
from partnerships.services.hsds import hsds_export_filename
from schools.capabilities import requires


@requires("partners.view")
def partner_export(request, district_slug):
    """What the export is (GET); POST queues one and goes to its progress page."""
    if request.method == "POST":
        export = directory_export_request(by=request.membership)
        return redirect("partner_export_progress", district_slug, export.pk)
    return render(request, "partnerships/directory/export.html", {})


@requires("partners.view")
def partner_export_progress(request, district_slug, export_id):
    """The export being prepared, then its download (htmx polls the status fragment)."""
    export = access_directory_export(request.membership, export_id)  # 404 before 405
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render_progress(
        request,
        "partnerships/directory/export_progress.html",
        {"export": export},
        under_way=export.status == DirectoryExport.Status.QUEUED,
    )


@requires("partners.view")
def partner_export_download(request, district_slug, export_id):
    """The zip; one not ready yet sends you to its progress page."""
    export = access_directory_export(request.membership, export_id, with_package=True)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if export.status != DirectoryExport.Status.READY or not export.package:
        return redirect("partner_export_progress", district_slug, export.pk)
    # In memory already (a database column): an ordinary response, not a stream.
    response = HttpResponse(bytes(export.package), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, hsds_export_filename(request.district)
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("partners/export/", partner_export, name="partner_export"),
    path(
        "partners/export/<int:export_id>/", partner_export_progress, name="partner_export_progress"
    ),
    path(
        "partners/export/<int:export_id>/download/",
        partner_export_download,
        name="partner_export_download",
    ),
]
# Links that leave the product: none (a package is downloaded signed in).
public_urlpatterns: list = []
