"""The partner directory: search, a partner's page, create and edit, the district's service
categories, the coverage map, HSDS export and import, and the emailed link with which a
partner's contact confirms the listing (served under /p/, no account needed)."""

from __future__ import annotations

import functools
import hashlib
import marshal
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from core.htmx import render_page_or_fragment, wants_fragment
from core.mail import link_page_language
from partnerships.forms.directory import (
    ContactFormSet,
    DirectoryFilterForm,
    HSDSUploadForm,
    PartnerForm,
    PublicListingForm,
    ServiceCategoryForm,
    ServiceFormSet,
    VerificationRequestForm,
    contact_initial,
    service_initial,
)
from partnerships.models import SERVICE_TAXONOMY, PartnerKind
from partnerships.selectors.categories import (
    access_service_category,
    district_service_categories,
    service_categories,
)
from partnerships.selectors.directory import (
    access_partner,
    contacts_with_email,
    coverage_cell,
    coverage_map,
    coverage_version,
    directory_languages,
    directory_search,
    directory_stale_before,
    freshness_days,
    partner_contacts_with_email,
    partner_edit_rows,
    partner_page,
)
from partnerships.selectors.meetings import partner_meetings
from partnerships.services.directory import (
    ListingAlreadyVerified,
    ListingLinkExpired,
    ListingLinkInvalid,
    listing_claim_read,
    listing_confirm,
    listing_for_claim,
    listing_link_spent,
    listing_verification_send,
    partner_listing_confirm_own,
    partner_mark_verified,
    partner_save,
    service_category_create,
    service_category_delete,
)
from partnerships.services.hsds import (
    HSDSFileError,
    HSDSImportFailed,
    hsds_import,
    hsds_plan,
    hsds_read,
    import_source,
)
from partnerships.services.hsds_format import MAX_UPLOAD_BYTES
from schools.capabilities import can, requires
from schools.selectors import schools_of_district
from schools.templatetags.components import badge
from schools.tenancy import work_in_district

PAGE_SIZE = 50
IMPORT_KEEP_SECONDS = 60 * 60


def _posted(request):
    return request.POST if request.method == "POST" else None


# --- The directory ------------------------------------------------------------------------------


@requires("partners.view")
def partner_list(request, district_slug):
    """Partners, filtered as you type (htmx asks for the results fragment)."""
    district = request.district
    categories = service_categories(district)
    form = DirectoryFilterForm(
        request.GET or None,
        categories=categories,
        languages=directory_languages(district),
        schools=schools_of_district(district),
    )
    page = Paginator(directory_search(request.membership, **form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    labels, stale_before = dict(categories), directory_stale_before(district)
    rows = [
        {
            "partner": partner,
            "services": sorted(
                {labels.get(s.category, s.category) for s in partner.services.all()}
            ),
            "stale": partner.last_verified_at is None or partner.last_verified_at < stale_before,
        }
        for partner in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "can_manage": can(request.membership, "partners.manage"),
        "freshness_days": freshness_days(district),
    }
    return render_page_or_fragment(request, "partnerships/directory/list.html", context)


# Sections a higher app adds to a partner's page (the referral scorecard), in the way of
# the student page's sections (schools/views/students.py): partnerships never imports that
# app. An app registers one from its AppConfig.ready(); `context(request, partner)` returns
# the section's template context (the template gets it as `section`), or None to leave it
# out, and is called only for a member holding `capability`.
@dataclass(frozen=True)
class PartnerSection:
    template: str
    capability: str
    context: Callable  # (request, partner) -> dict | None


PARTNER_SECTIONS: list[PartnerSection] = []


def register_partner_section(*, template: str, capability: str, context: Callable) -> None:
    """Add a section to the partner's page (from an AppConfig.ready(); twice is a no-op)."""
    section = PartnerSection(template, capability, context)
    if section not in PARTNER_SECTIONS:
        PARTNER_SECTIONS.append(section)


def _partner_sections(request, partner) -> list[dict]:
    sections = []
    for section in PARTNER_SECTIONS:
        if not can(request.membership, section.capability):
            continue
        context = section.context(request, partner)
        if context is not None:
            sections.append({"template": section.template, "context": context})
    return sections


def _partner_page(request, partner, *, own=False, verification_form=None):
    """The partner's page; `verification_form` is a sent form with its errors to show."""
    context = partner_page(request.membership, partner)
    context["sections"] = _partner_sections(request, partner)
    context["meetings"] = partner_meetings(request.membership, partner, timezone.now())
    context["today"] = request.district.today()
    context["own"] = own
    context["can_manage"] = not own and can(request.membership, "partners.manage")
    if context["can_manage"]:
        # From the contacts the page has read already: no second or third read.
        email_contacts = contacts_with_email(context["contacts"])
        if verification_form is None:
            verification_form = VerificationRequestForm(contacts=email_contacts)
        context["verification_form"] = verification_form
        context["has_email_contacts"] = verification_form.is_bound or bool(email_contacts)
    return render(request, "partnerships/directory/detail.html", context)


@requires("partners.view")
def partner_detail(request, district_slug, partner_id):
    return _partner_page(request, access_partner(request.membership, partner_id))


@requires("partner.own")
def partner_own_old_address(request, district_slug, to="partner_own"):
    """The organization pages' old (British) address, kept so bookmarks and links in mail
    already sent keep working: a permanent redirect to the same page at the new one."""
    target = reverse(to, args=[district_slug])
    query = request.META.get("QUERY_STRING", "")
    return redirect(f"{target}?{query}" if query else target, permanent=True)


@requires("partner.own")
def partner_own(request, district_slug):
    """A partner's own organization, as the district lists it."""
    partner = access_partner(request.membership, request.membership.partner_id)
    return _partner_page(request, partner, own=True)


class _OwnListingForm(PublicListingForm):
    """The emailed contact's form, for a signed-in member: they are the verifier."""

    verifier_name = None


@requires("partner.own")
def partner_own_confirm(request, district_slug):
    """A partner's member confirms or corrects their listing, as the emailed contact can."""
    partner = access_partner(request.membership, request.membership.partner_id)
    form = _OwnListingForm(_posted(request), initial=PublicListingForm.listing_initial(partner))
    if form.is_bound and form.is_valid():
        partner_listing_confirm_own(by=request.membership, changes=form.listing_values())
        messages.success(request, _("Thank you: your listing is confirmed as of today."))
        return redirect("partner_own", district_slug)
    return render(
        request, "partnerships/directory/own_confirm.html", {"partner": partner, "form": form}
    )


# The partner's form, in sections each saved on its own: the organization (the add-partner
# page is this section alone), who they serve and how, services, contacts.
FORM_SECTIONS = {
    "organization": _lazy("Organization"),
    "offer": _lazy("Who they serve and how"),
    "services": _lazy("Services"),
    "contacts": _lazy("Contacts"),
}
ROW_SECTIONS = {"services": ServiceFormSet, "contacts": ContactFormSet}


def _section_form(request, partner, key: str, rows: dict | None, data=None):
    """The form of one section: bound to `data` when it is the one sent, else as saved."""
    district = request.district
    if key in ROW_SECTIONS:
        initial = (service_initial if key == "services" else contact_initial)(rows[key])
        kwargs = {"categories": service_categories(district)} if key == "services" else {}
        return ROW_SECTIONS[key](data, initial=initial, prefix=key, form_kwargs=kwargs)
    if partner is None:
        initial = {"kind": PartnerKind.OTHER}
    else:
        initial = PartnerForm.initial_for(partner, rows["school_ids"])
    return PartnerForm(
        data,
        initial=initial,
        schools=schools_of_district(district, keep=initial.get("schools") or ()),
        creating=partner is None,
        section=key,
    )


def _refused(form, error: ValidationError) -> None:
    """Show a refusal of the service on the section's form: next to the field it names
    when the form has that field, else at the top of the form."""
    if isinstance(form, forms.BaseFormSet):
        form.non_form_errors().extend(error.messages)
    elif hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    else:
        form.add_error(None, error.messages)


def _save_section(request, partner, key: str, form):
    """Save one section's valid form; the partner, or None with the refusal on the form."""
    if key == "services":
        arguments = {"fields": {}, "services": form.rows()}
    elif key == "contacts":
        arguments = {"fields": {}, "contacts": form.rows()}
    else:
        arguments = form.service_arguments()
    try:
        return partner_save(by=request.membership, partner=partner, **arguments)
    except ValidationError as error:
        _refused(form, error)
        return None


def _has_errors(form) -> bool:
    if isinstance(form, forms.BaseFormSet):
        return form.is_bound and bool(form.total_error_count())
    return form.is_bound and bool(form.errors)


@requires("partners.manage")
def partner_create(request, district_slug):
    """The first section, the organization: saving it adds the partner, and the rest of
    the form (who they serve, services, contacts) follows on the partner's edit page."""
    form = _section_form(request, None, "organization", None, _posted(request))
    if form.is_bound and form.is_valid():
        partner = _save_section(request, None, "organization", form)
        if partner is not None:
            messages.success(
                request,
                _(
                    "%(name)s is added. Now say who they serve and how, their services and "
                    "their contacts: save each section when it is done."
                )
                % {"name": partner.name},
            )
            return redirect(reverse("partner_edit", args=[district_slug, partner.pk]) + "#offer")
    return render(request, "partnerships/directory/form.html", {"form": form})


@requires("partners.manage")
def partner_edit(request, district_slug, partner_id):
    """Every section of the partner, each its own form. A section sent is saved alone: by
    htmx, the section comes back in place (saved, or with its problems); without, the page."""
    partner = access_partner(request.membership, partner_id)
    sent = request.POST.get("section") if request.method == "POST" else None
    if request.method == "POST" and sent not in FORM_SECTIONS:
        messages.error(request, _("Save one section of the form at a time."))
        return redirect("partner_edit", district_slug, partner.pk)
    rows = partner_edit_rows(request.membership, partner)
    saved, sent_form = "", None
    if sent is not None:
        sent_form = form = _section_form(request, partner, sent, rows, request.POST)
        if form.is_valid() and _save_section(request, partner, sent, form) is not None:
            message = _("The “%(section)s” section is saved.") % {"section": FORM_SECTIONS[sent]}
            if not wants_fragment(request):
                messages.success(request, message)
                url = reverse("partner_edit", args=[district_slug, partner.pk])
                return redirect(f"{url}#{sent}")
            partner = access_partner(request.membership, partner.pk)
            rows, saved = partner_edit_rows(request.membership, partner), message
    sections = []
    for key, heading in FORM_SECTIONS.items():
        if key == sent and not saved:
            form = sent_form  # with its problems, and the refusal of the service if any
        else:
            form = _section_form(request, partner, key, rows)
        sections.append(
            {
                "key": key,
                "heading": heading,
                "form": form,
                "rows": key in ROW_SECTIONS,
                "has_errors": _has_errors(form),
                "saved": saved if key == sent else "",
                "count": len(rows[key]) if key in ROW_SECTIONS else None,
            }
        )
    context = {"partner": partner, "sections": sections}
    context["section"] = next((s for s in sections if s["key"] == sent), None)
    return render_page_or_fragment(
        request,
        "partnerships/directory/edit.html",
        context,
        fragment="section" if sent else None,
    )


@requires("partners.manage")
def partner_edit_row(request, district_slug, partner_id, rows):
    """One more empty row of services or contacts, added in place by htmx (the page's form
    says how many it has; the answer raises that count out of band)."""
    kind = rows
    partner = access_partner(request.membership, partner_id)
    if kind not in ROW_SECTIONS:
        raise Http404("No such rows")
    if not wants_fragment(request):  # a row alone is no page
        return redirect(reverse("partner_edit", args=[district_slug, partner.pk]) + f"#{kind}")
    formset_class = ROW_SECTIONS[kind]
    try:
        index = int(request.GET.get(f"{kind}-TOTAL_FORMS", ""))
    except ValueError:
        index = -1
    if not 0 <= index < formset_class.absolute_max:
        return HttpResponse(status=204)  # nothing to add to a form that is not the page's
    kwargs = {"categories": service_categories(request.district)} if kind == "services" else {}
    row = formset_class.form(
        prefix=f"{kind}-{index}", empty_permitted=True, use_required_attribute=False, **kwargs
    )
    formset_class(prefix=kind, form_kwargs=kwargs).add_fields(row, index)
    first = next(field for field in row.fields.values() if not field.widget.is_hidden)
    first.widget.attrs["autofocus"] = True  # the row just appeared: start in it
    context = {"partner": partner, "kind": kind, "row": row, "number": index + 1}
    context["total"] = index + 1
    return render_page_or_fragment(
        request, "partnerships/directory/edit.html", context, fragment="new_row"
    )


@requires("partners.manage")
def partner_verification_send(request, district_slug, partner_id):
    """Email a contact the link that confirms the listing."""
    partner = access_partner(request.membership, partner_id)
    if request.method != "POST":
        return redirect("partner_detail", district_slug, partner.pk)
    contacts = list(partner_contacts_with_email(request.membership, partner))
    form = VerificationRequestForm(request.POST, contacts=contacts)
    if form.is_valid():
        contact = form.cleaned_data["contact"]
        try:
            listing_verification_send(by=request.membership, partner=partner, contact=contact)
        except ValidationError as error:  # e.g. the contact unsubscribed a moment ago
            form.add_error("contact", error)
        else:
            messages.success(
                request,
                _("The link to confirm the listing was sent to %(name)s.") % {"name": contact.name},
            )
            return redirect("partner_detail", district_slug, partner.pk)
    return _partner_page(request, partner, verification_form=form)


@requires("partners.manage")
def partner_verified(request, district_slug, partner_id):
    """The coordinator checked the listing themselves."""
    partner = access_partner(request.membership, partner_id)
    if request.method == "POST":
        partner_mark_verified(by=request.membership, partner=partner)
        messages.success(
            request, _("%(name)s is marked as verified today.") % {"name": partner.name}
        )
    return redirect("partner_detail", district_slug, partner.pk)


@requires("partners.view")
def partner_coverage(request, district_slug):
    """Schools down, service categories across (the covered ones first), with the gaps
    marked and each school's gaps summed up on top. A cell with more than a couple of
    partners says how many, a link to the cell whole (?school=<id>&service=<code>): a large
    district's cells have up to dozens each, which made the map megabytes of HTML."""
    if "school" in request.GET or "service" in request.GET:
        try:
            school_id = int(request.GET.get("school", ""))
        except ValueError:
            school_id = None
        cell = coverage_cell(
            request.membership, school_id=school_id, code=request.GET.get("service", "")
        )
        if cell is not None:
            return render(request, "partnerships/directory/coverage_cell.html", cell)
        messages.error(
            request, _("That school or service is not on your district's map. Here is the map.")
        )
    key = _coverage_key(request.district)
    page = cache.get(key)
    if page is None:
        page = _coverage_page(request.membership, district_slug)
        cache.set(key, page, COVERAGE_CACHE_SECONDS)
    return render(request, "partnerships/directory/coverage.html", page)


def _coverage_page(membership, district_slug: str) -> dict:
    """The map as the page shows it, in plain values (names, counts, each row's cells as
    HTML): what the cache keeps, read back in a millisecond where the drawn cells as
    objects took eight."""
    data = coverage_map(membership)
    layout = _coverage_layout(data)
    _coverage_rows_html(layout["table"], district_slug)
    return {
        "school_count": len(data["rows"]),
        "category_count": len(data["categories"]),
        "gaps": data["gaps"],
        "columns": layout["columns"],
        "table": [
            {"school": row["school"].name, "cells_html": row["cells_html"]}
            for row in layout["table"]
        ],
        "summary": [{**line, "school": line["school"].name} for line in layout["summary"]],
        "uncovered_everywhere": layout["uncovered_everywhere"],
    }


# The map as drawn, kept for the next reader until its sources change (coverage_version,
# in the key) or the day does (an MOU's term starts or ends). A large district's map
# takes a hundred milliseconds to draw and is the same for every reader of the district
# in one language; partner and school names only, never a student. Without Redis, every
# request draws it (config.cache).
COVERAGE_CACHE_SECONDS = 24 * 60 * 60


def _coverage_key(district) -> str:
    version = hashlib.sha256(coverage_version(district).encode()).hexdigest()
    return (
        f"coverage:{_coverage_code()}:{district.pk}:{district.slug}:"
        f"{district.today().isoformat()}:{translation.get_language()}:{version}"
    )


@functools.cache
def _coverage_code() -> str:
    """The code that draws the map, as a short hash: a release that draws it otherwise
    never reads a map kept by the one before (a day's worth of them, in another shape).
    Hashed from the compiled functions, which a deployment always has (not every one
    ships the source files)."""
    code = b"".join(
        marshal.dumps(function.__code__)
        for function in (coverage_map, _coverage_layout, _coverage_rows_html, _coverage_page, badge)
    )
    return hashlib.sha256(code).hexdigest()[:12]


_COVERED_OPEN = '<td class="coverage-cell"><ul class="coverage-cell__list">'
# A partner's id in the one reversed link, replaced by each partner's own.
_PARTNER_ID_MARK = 2_147_483_647
# A cell names up to this many partners; a cell with more says how many, a link to the
# cell whole.
CELL_NAMES = 2


def _coverage_rows_html(table: list, district_slug: str) -> None:
    """Each row's cells as HTML (row["cells_html"]), built here rather than in the template.

    A large district's map has thousands of cells and tens of thousands of partner-cells:
    a template loop with a `{% url %}` per link took most of a second, and naming every
    partner in every cell made the page megabytes. Here the partner page's address is
    reversed once and each partner's link escaped once; a cell names its partners (up to
    CELL_NAMES), or says how many it has as a link to the cell whole, or is the "Gap" badge.
    """
    pattern = reverse("partner_detail", args=[district_slug, _PARTNER_ID_MARK])
    before, after = (escape(part) for part in pattern.split(str(_PARTNER_ID_MARK)))
    coverage_path = escape(reverse("partner_coverage", args=[district_slug]))
    links: dict[int, str] = {}
    counts: dict[int, str] = {}
    services: dict[str, str] = {}
    # The label outside the f-string: xgettext does not read calls inside one.
    gap_badge = badge(tone="danger", label=_("Gap"))
    gap = f'<td class="coverage-cell coverage-cell--gap">{gap_badge}</td>'
    for row in table:
        parts = []
        school_id = int(row["school"].pk)
        for cell in row["cells"]:
            partners = cell["partners"]
            if not partners:
                parts.append(gap)
            elif len(partners) > CELL_NAMES:
                n = len(partners)
                text = counts.get(n)
                if text is None:
                    text = counts[n] = escape(
                        ngettext("%(counter)s partner", "%(counter)s partners", n) % {"counter": n}
                    )
                service = services.get(cell["code"])
                if service is None:
                    service = services[cell["code"]] = escape(urlencode({"service": cell["code"]}))
                parts.append(
                    f'<td class="coverage-cell"><a class="coverage-cell__count" '
                    f'href="{coverage_path}?school={school_id}&amp;{service}">{text}</a></td>'
                )
            else:
                items = []
                for partner_id, name in partners:
                    link = links.get(partner_id)
                    if link is None:
                        link = links[partner_id] = (
                            f'<li><a href="{before}{int(partner_id)}{after}">{escape(name)}</a>'
                            "</li>"
                        )
                    items.append(link)
                parts.append(f"{_COVERED_OPEN}{''.join(items)}</ul></td>")
        row["cells_html"] = mark_safe("".join(parts))  # noqa: S308 (escaped above)


def _coverage_layout(data: dict) -> dict:
    """The map as the page lays it out; no query (the selector's count stays fixed).

    Columns: categories covered at the most schools first (the selector's order among
    equals), so the categories no partner covers anywhere end the table. The summary:
    each school's uncovered categories, the schools with the most gaps first.
    """
    categories, rows = data["categories"], data["rows"]
    covered_at = [
        sum(bool(row["cells"][i]["partners"]) for row in rows) for i in range(len(categories))
    ]
    order = sorted(range(len(categories)), key=lambda i: -covered_at[i])
    columns = [
        {"code": categories[i][0], "label": categories[i][1], "schools": covered_at[i]}
        for i in order
    ]
    table = [{"school": row["school"], "cells": [row["cells"][i] for i in order]} for row in rows]
    # A service no partner covers anywhere is named once, not in every school's line.
    elsewhere = [bool(column["schools"]) for column in columns]
    summary = [
        {
            "school": row["school"],
            "missing": [cell["label"] for cell in row["cells"] if not cell["partners"]],
            "elsewhere": [
                cell["label"]
                for cell, somewhere in zip(row["cells"], elsewhere, strict=True)
                if somewhere and not cell["partners"]
            ],
        }
        for row in table
    ]
    summary.sort(key=lambda line: -len(line["missing"]))
    # Worded here, not by {% blocktranslate %} per line: hundreds of schools made that a
    # good part of the page's time.
    for line in summary:
        count = len(line["missing"])
        line["missing_text"] = ngettext(
            "%(counter)s service without a partner", "%(counter)s services without a partner", count
        ) % {"counter": count}
        line["elsewhere_text"] = line["elsewhere"] and _(
            "offered at other schools: %(services)s"
        ) % {"services": ", ".join(line["elsewhere"])}
    return {
        "columns": columns,
        "table": table,
        "summary": summary,
        "uncovered_everywhere": [c["label"] for c in columns if not c["schools"]],
    }


# --- The district's service categories ------------------------------------------------------


@requires("partners.manage")
def service_category_list(request, district_slug):
    form = ServiceCategoryForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            category = service_category_create(
                by=request.membership, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("“%(name)s” was added.") % {"name": category.name})
            return redirect("service_category_list", district_slug)
    context = {
        "form": form,
        "shipped": SERVICE_TAXONOMY,
        "own": district_service_categories(request.district),
    }
    return render(request, "partnerships/directory/categories.html", context)


@requires("partners.manage")
def service_category_delete_view(request, district_slug, category_id):
    category = access_service_category(request.membership, category_id)
    if request.method == "POST":
        try:
            service_category_delete(by=request.membership, category=category)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("“%(name)s” was removed.") % {"name": category.name})
    return redirect("service_category_list", district_slug)


# --- HSDS export and import -----------------------------------------------------------------


# The export is made in the background: partnerships/views/exports.py.


class _CappedUpload(FileUploadHandler):
    """Skips a file past the size cap instead of storing all of it first."""

    too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_UPLOAD_BYTES:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _import_key(membership, key: str) -> str:
    return f"partnerships:hsds-import:{membership.district_id}:{membership.pk}:{key}"


@requires("partners.manage")
@csrf_exempt  # checked in _partner_import, once the size cap is installed
def partner_import(request, district_slug):
    """Upload a package; a readable one is shown as a preview to confirm."""
    capped = _CappedUpload(request)
    if request.method == "POST":
        request.upload_handlers.insert(0, capped)
    return _partner_import(request, district_slug, capped)


@csrf_protect
def _partner_import(request, district_slug, capped):
    form = HSDSUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if capped.too_large:
            form = HSDSUploadForm()
            form.cleaned_data = {}  # an unbound form that still carries the error
            form.add_error(
                "file",
                _("The file is larger than %(limit)s MB.")
                % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        elif form.is_valid():
            data = form.cleaned_data["file"].read(MAX_UPLOAD_BYTES + 1)
            filename = form.cleaned_data["file"].name
            try:
                package = hsds_read(data)
            except HSDSFileError as error:
                form.add_error("file", error.message)
            else:
                plan = hsds_plan(request.district, package, import_source(package, filename))
                key = secrets.token_urlsafe(16)
                cache.set(
                    _import_key(request.membership, key),
                    {"data": data, "filename": filename},
                    IMPORT_KEEP_SECONDS,
                )
                context = {"plan": plan, "key": key, "filename": filename}
                return render(request, "partnerships/directory/import_preview.html", context)
    return render(request, "partnerships/directory/import.html", {"form": form})


@requires("partners.manage")
def partner_import_confirm(request, district_slug):
    """Import the previewed package, all in one transaction."""
    if request.method != "POST":
        return redirect("partner_import", district_slug)
    key = request.POST.get("key", "")
    kept = None
    if re.fullmatch(r"[A-Za-z0-9_-]{10,64}", key):
        kept = cache.get(_import_key(request.membership, key))
    if not isinstance(kept, dict):
        messages.error(request, _("This preview is no longer available. Upload the file again."))
        return redirect("partner_import", district_slug)
    # The preview's choices: the file's value for a conflict, closing what disappeared.
    choices = {
        name: value
        for name, value in request.POST.items()
        if name.startswith(("conflict-", "close-")) and value in ("theirs", "ours", "on")
    }
    try:
        plan = hsds_import(
            by=request.membership, data=kept["data"], filename=kept["filename"], choices=choices
        )
    except (HSDSFileError, HSDSImportFailed) as error:
        messages.error(request, error.message)
        return redirect("partner_import", district_slug)
    cache.delete(_import_key(request.membership, key))
    message = _("Imported: %(created)s new partners, %(updated)s updated.") % {
        "created": plan.created,
        "updated": plan.updated,
    }
    if plan.closed:
        message += " " + ngettext(
            "%(count)s partner the source no longer lists is marked inactive.",
            "%(count)s partners the source no longer lists are marked inactive.",
            plan.closed,
        ) % {"count": plan.closed}
    messages.success(request, message)
    return redirect("partner_list", district_slug)


# --- The emailed link (no account: the signed token names the district) -------------------


def _listing_invalid(request):
    return render(request, "partnerships/directory/verify_invalid.html", status=404)


@never_cache
def listing_verify(request, token):
    """A partner's contact confirms or corrects the listing."""
    try:
        claim = listing_claim_read(token)
    except ListingLinkInvalid:
        return _listing_invalid(request)
    except ListingLinkExpired as expired:
        with work_in_district(expired.claim.district_id):
            try:
                partner, _contact = listing_for_claim(expired.claim)
            except ListingLinkInvalid:
                return _listing_invalid(request)
            context = {"partner_name": partner.name, "district_name": partner.district.name}
        return render(request, "partnerships/directory/verify_expired.html", context, status=410)
    # The district's zone too: the page says when the listing was last verified.
    with work_in_district(claim.district_id):
        try:
            partner, contact = listing_for_claim(claim)
        except ListingLinkInvalid:
            return _listing_invalid(request)
        # In the language of the mail the link came in, unless the reader chose another.
        language = link_page_language(request, contact, partner.district)
        with translation.override(language):
            response = _listing_page(request, claim, partner, contact)
        response.headers["Content-Language"] = language
        return response


def _listing_page(request, claim, partner, contact):
    """The emailed link's page (its district entered, in the mail's language)."""
    context = {"partner": partner, "district_name": partner.district.name}
    if listing_link_spent(claim, partner):
        return render(request, "partnerships/directory/verify_used.html", context, status=410)
    initial = {**PublicListingForm.listing_initial(partner), "verifier_name": contact.name}
    form = PublicListingForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            listing_confirm(
                claim=claim,
                name=form.cleaned_data["verifier_name"],
                changes=form.listing_values(),
            )
        except ListingAlreadyVerified:
            return render(request, "partnerships/directory/verify_used.html", context, status=410)
        except ListingLinkInvalid:  # the partner was removed since the page was read
            return _listing_invalid(request)
        context["corrected"] = form.has_changed() and form.changed_data != ["verifier_name"]
        return render(request, "partnerships/directory/verify_done.html", context)
    context["form"] = form
    return render(request, "partnerships/directory/verify.html", context)


urlpatterns = [
    path("partners/", partner_list, name="partner_list"),
    path("partners/new/", partner_create, name="partner_create"),
    path("partners/coverage/", partner_coverage, name="partner_coverage"),
    path("partners/categories/", service_category_list, name="service_category_list"),
    path(
        "partners/categories/<int:category_id>/delete/",
        service_category_delete_view,
        name="service_category_delete",
    ),
    path("partners/import/", partner_import, name="partner_import"),
    path("partners/import/confirm/", partner_import_confirm, name="partner_import_confirm"),
    path("partners/<int:partner_id>/", partner_detail, name="partner_detail"),
    path("partners/<int:partner_id>/edit/", partner_edit, name="partner_edit"),
    path(
        "partners/<int:partner_id>/edit/rows/<str:rows>/",
        partner_edit_row,
        name="partner_edit_row",
    ),
    path(
        "partners/<int:partner_id>/verification/",
        partner_verification_send,
        name="partner_verification_send",
    ),
    path("partners/<int:partner_id>/verified/", partner_verified, name="partner_verified"),
    path("organization/", partner_own, name="partner_own"),
    path("organization/confirm/", partner_own_confirm, name="partner_own_confirm"),
    # The old address of the pages above (issue 16: the product writes US English).
    path("organisation/", partner_own_old_address, name="partner_own_old"),
    path(
        "organisation/confirm/",
        partner_own_old_address,
        {"to": "partner_own_confirm"},
        name="partner_own_confirm_old",
    ),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns = [
    path("verify/<str:token>/", listing_verify, name="listing_verify"),
]
