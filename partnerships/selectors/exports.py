"""Reads of HSDS exports of the directory."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from partnerships.models import DirectoryExport
from schools.capabilities import can


def access_directory_export(membership, pk: int, *, with_package: bool = False):
    """One of the district's HSDS exports, or 404: for another district's, and for a
    membership that may not read the directory (the package is the whole directory).

    Any reader of the directory may follow it (the same package for all of them). The zip
    is loaded only `with_package` (the download).
    """
    if not can(membership, "partners.view"):
        raise Http404
    exports = DirectoryExport.objects.for_district(membership.district_id)
    if not with_package:
        exports = exports.defer("package")
    return get_object_or_404(exports, pk=pk)
