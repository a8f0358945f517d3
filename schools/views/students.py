"""The students pages: the list, a student's page, and the roster import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from core.csv import csv_response
from core.htmx import render_page_or_fragment, render_progress
from core.pagination import keyset_page
from schools.capabilities import can, requires
from schools.forms.students import RosterUploadForm, StudentFilterForm
from schools.getting_started import district_url
from schools.models import AccessLog, RosterImport, Student
from schools.selectors import (
    access_roster_import,
    access_student,
    limited_school_ids,
    recent_roster_imports,
    student_schools,
    student_search,
)
from schools.services import roster
from schools.services.roster import (
    ONEROSTER_COLUMNS,
    STUDENT_FIELDS,
    RosterFileError,
    error_message,
    too_large_message,
)
from schools.services.roster_queue import roster_import_queue
from schools.services.students import (
    RosterImportRefused,
    roster_import_cancel,
    roster_import_create,
)

PAGE_SIZE = 50
ERRORS_PAGE_SIZE = 100


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("cursor", None)
    return query.urlencode()


@requires("students.view")
@require_GET
def student_list(request, district_slug):
    """Students the viewer may see, in keyset pages (core.pagination); htmx asks for the
    results fragment as you type."""
    membership = request.membership
    form = StudentFilterForm(request.GET or None, schools=student_schools(membership))
    students = student_search(membership, **form.filters())
    page = keyset_page(
        students,
        name="student_list",
        cursor=request.GET.get("cursor"),
        page=request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    context = {
        "form": form,
        "page": page,
        "query": _query_without_page(request),
        "can_import": can(membership, "students.import"),
        "limited": limited_school_ids(membership) is not None,
    }
    return render_page_or_fragment(request, "schools/students/list.html", context)


# Sections later apps add to the student page (referrals, screenings, ...). A higher app
# registers one from its AppConfig.ready(): schools never imports it. The context
# function returns the section's template context, or None to leave the section out.
@dataclass(frozen=True)
class StudentSection:
    template: str
    capability: str
    context: Callable  # (request, student) -> dict | None


STUDENT_SECTIONS: list[StudentSection] = []


def register_student_section(*, template: str, capability: str, context: Callable) -> None:
    STUDENT_SECTIONS.append(StudentSection(template, capability, context))


def _sections(request, student) -> list[dict]:
    sections = []
    for section in STUDENT_SECTIONS:
        if not can(request.membership, section.capability):
            continue
        context = section.context(request, student)
        if context is not None:
            sections.append({"template": section.template, "context": context})
    return sections


@requires("students.view")
def student_detail(request, district_slug, student_id):
    """A student's details; every view is written to the access log (by access_student)."""
    # 404 before anything else, whatever the method; a refused method shows nothing.
    shown = request.method in ("GET", "HEAD")
    student = access_student(request, student_id, action=AccessLog.Action.VIEW if shown else None)
    if not shown:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    context = {
        "student": student,
        "sections": _sections(request, student),
        "can_see_access_log": can(request.membership, "access_log.view"),
    }
    return render(request, "schools/students/detail.html", context)


# --- Roster import ---------------------------------------------------------------------------


class _CappedUpload(FileUploadHandler):
    """Skips a file past the size cap instead of storing all of it first."""

    too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > roster.MAX_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


@requires("students.import")
@csrf_exempt  # checked in _roster_upload, once the size cap is installed
def roster_import(request, district_slug):
    """Upload a roster file; a readable one is parsed into a preview to confirm."""
    capped = _CappedUpload(request)
    if request.method == "POST":
        request.upload_handlers.insert(0, capped)
    return _roster_upload(request, district_slug, capped)


@csrf_protect
def _roster_upload(request, district_slug, capped):
    form = RosterUploadForm()
    if request.method == "POST":
        form = RosterUploadForm(request.POST, request.FILES)
        if capped.too_large:
            form.errors["file"] = form.error_class([too_large_message()])
        elif form.is_valid():
            try:
                created = roster_import_create(
                    by=request.membership, uploaded_file=form.cleaned_data["file"]
                )
            except RosterFileError as error:
                form.add_error("file", error.message)
            else:
                return redirect("roster_import_detail", district_slug, created.pk)
    schools = student_schools(request.membership)
    context = {
        "form": form,
        "schools": schools,
        # What to do first when there is no school to import students into (issue 15).
        "add_schools_url": district_url("school_new", request.district)
        if not schools and can(request.membership, "district.settings")
        else None,
        "imports": recent_roster_imports(request.membership),
        "oneroster_columns": ONEROSTER_COLUMNS,
    }
    return render(request, "schools/students/import.html", context, status=200)


_TEMPLATE_ROWS = [
    (
        "student_id",
        "first_name",
        "last_name",
        "preferred_name",
        "date_of_birth",
        "grade",
        "school",
        "guardian_name",
        "guardian_email",
        "guardian_phone",
        "family_language",
    ),
]


@requires("students.import")
@require_GET
def roster_import_template(request, district_slug):
    """An empty Trellis roster (the header row) to fill in."""
    return csv_response("trellis-roster.csv", _TEMPLATE_ROWS)


@requires("students.import")
def roster_import_detail(request, district_slug, import_id):
    """The preview of an upload (counts, every row's errors, a sample); POST confirms or
    cancels it, then shows the outcome."""
    if request.method == "POST":
        # Confirming or cancelling shows nothing of the import: the preview (or the
        # progress page, which names no student) it redirects to is what is logged.
        roster_import = access_roster_import(request, import_id, action=None)
        if _decide(request, roster_import, request.POST.get("action")):
            return redirect("roster_import_progress", district_slug, roster_import.pk)
        return redirect("roster_import_detail", district_slug, roster_import.pk)
    roster_import = access_roster_import(request, import_id)  # logged: it names students
    errors = Paginator(roster_import.errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "roster_import": roster_import,
        "errors": errors,
        "error_lines": [
            {"row": e[0], "column": e[1], "message": error_message(e[2], e[3], e[4])}
            for e in errors.object_list
        ],
        "error_schools": any(e[2] == "unknown_school" for e in roster_import.errors),
        "schools": student_schools(request.membership),
        "sample": _sample_lines(roster_import.sample),
        "unread_fields": _unread_fields(roster_import),
    }
    return render(request, "schools/students/import_detail.html", context)


def _decide(request, roster_import, action) -> bool:
    """Confirm (queue the import) or cancel; True when the import is queued or under way
    (its progress page is next)."""
    by = request.membership
    if action == "confirm":
        try:
            queued = roster_import_queue(by=by, roster_import=roster_import)
        except RosterImportRefused as refused:
            messages.error(request, refused.message)
            return False
        if queued.status == RosterImport.Status.QUEUED:
            return True
        if queued.status == RosterImport.Status.IMPORTED:
            messages.info(request, _("This roster was already imported; nothing changed."))
    elif action == "cancel":
        if roster_import_cancel(by=by, roster_import=roster_import).status == "cancelled":
            messages.info(request, _("Import canceled. Nothing was imported."))
    else:
        messages.error(request, _("Choose “Import these students” or “Cancel”."))
    return False


@requires("students.import")
def roster_import_progress(request, district_slug, import_id):
    """A confirmed import being written in the background, then its outcome (htmx polls
    the status fragment). Not logged: it shows counts, never a student."""
    roster_import = access_roster_import(request, import_id, action=None)  # 404 before 405
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render_progress(
        request,
        "schools/students/import_progress.html",
        {"roster_import": roster_import},
        under_way=roster_import.is_under_way,
    )


def _field_label(name: str) -> str:
    return str(Student._meta.get_field(name).verbose_name)


def _sample_lines(sample) -> list[dict]:
    grades = dict(Student._meta.get_field("grade").choices)
    return [
        {
            **line,
            "grade": grades.get(line.get("grade"), line.get("grade")),
            "changes": ", ".join(_field_label(f) for f in line.get("changes", [])),
            "cleared": ", ".join(_field_label(f) for f in line.get("cleared", [])),
        }
        for line in sample
    ]


def _unread_fields(roster_import: RosterImport) -> list[str]:
    """Student details the file does not carry (they stay as they are)."""
    return [
        _field_label(f) for f in STUDENT_FIELDS if f != "active" and f not in roster_import.fields
    ]
