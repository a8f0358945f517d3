"""Drafting MOUs: a new MOU, edits to a section or to the terms, submitting for review,
taking back and sending the link again, and the district's templates."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from core.htmx import render_page_or_fragment
from partnerships.forms.mous import (
    CommentForm,
    MOUDraftForm,
    MOUTermsForm,
    SectionForm,
    TemplateForm,
)
from partnerships.mou_rules import (
    DEFAULT_TEMPLATE_NAME,
    MOU_SECTIONS,
    SECTION_LABELS,
    default_template_sections,
    mou_allowed_actions,
    version_sections,
)
from partnerships.selectors.categories import service_labels
from partnerships.selectors.mous import (
    access_mou,
    access_mou_template,
    current_version,
    mou_page,
    mou_partners_for_drafting,
    mou_templates_of,
)
from partnerships.services.mous.common import MOUEditConflict
from partnerships.services.mous.drafting import (
    mou_create,
    mou_section_update,
    mou_template_create,
    mou_template_update,
    mou_terms_update,
)
from partnerships.services.mous.workflow import mou_link_resend, mou_submit, mou_withdraw
from partnerships.views.mous.common import _button_action, _form_action, _posted, _to_mou
from schools.capabilities import can, requires


@requires("mous.manage")
def mou_create_view(request, district_slug):
    membership = request.membership
    partners = mou_partners_for_drafting(membership)
    if not partners.exists():
        # What to do first: no partner to draft with, so no form (issue 15).
        context = {
            "no_partners": True,
            "add_partner_url": reverse("partner_create", args=[district_slug])
            if can(membership, "partners.manage")
            else None,
        }
        return render(request, "partnerships/mous/create.html", context)
    form = MOUDraftForm(
        _posted(request),
        district=request.district,
        partners=partners,
        templates=mou_templates_of(membership),
        initial={"partner": request.GET.get("partner")} if request.GET.get("partner") else None,
    )
    if form.is_bound and form.is_valid():
        try:
            mou = mou_create(
                by=membership,
                partner=form.cleaned_data["partner"],
                template=form.chosen_template(),
                language=form.cleaned_data["language"],
                **form.terms(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Draft created. Edit each section, then submit it for review.")
            )
            return _to_mou(mou)
    return render(request, "partnerships/mous/create.html", {"form": form})


@requires("mous.manage")
def mou_section_view(request, district_slug, mou_id, section):
    """Edit one section. The form carries the version it started from: if someone saved
    this section since, the save is refused and their newer text is shown beside yours."""
    mou = access_mou(request.membership, mou_id)
    if section not in SECTION_LABELS:
        raise Http404("No such section")
    if "edit" not in mou_allowed_actions(request.membership, mou):
        messages.error(request, _("This MOU can no longer be changed."))
        return _to_mou(mou)
    latest = current_version(mou)
    form = SectionForm(
        _posted(request),
        initial={"text": latest.sections.get(section, ""), "based_on": latest.number},
    )
    if request.htmx:
        form.fields["text"].widget.attrs["autofocus"] = True  # the editor just appeared
    conflict, was = None, mou.status
    if form.is_bound and form.is_valid():
        try:
            version = mou_section_update(
                by=request.membership,
                mou=mou,
                section=section,
                text=form.cleaned_data["text"],
                based_on=form.cleaned_data["based_on"],
            )
        except MOUEditConflict as error:
            conflict = _conflict(error.current, section, mou)
            form = SectionForm(
                {"text": form.cleaned_data["text"], "based_on": error.current.number}
            )
            form.add_error("text", _("Someone else saved this section while you were editing."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _saved_message(request, version, mou, was)
            if request.htmx:
                url = reverse("mou_detail", args=[district_slug, mou.pk]) + f"#section-{section}"
                return HttpResponseClientRedirect(url)
            return _to_mou(mou, f"section-{section}")
    context = {
        "mou": mou,
        "section_key": section,
        "heading": SECTION_LABELS[section],
        "form": form,
        "conflict": conflict,
        "latest": latest,
    }
    fragment = "form" if request.method == "GET" else None
    return render_page_or_fragment(
        request, "partnerships/mous/section_edit.html", context, fragment=fragment
    )


def _conflict(current, section: str, mou) -> dict:
    labels = service_labels(mou.district)
    rendered = {s.key: s for s in version_sections(current, labels)}
    return {"version": current, "text": rendered[section].text, "raw": rendered[section].raw}


def _saved_message(request, version, mou, was: str) -> None:
    if version is None:
        messages.info(request, _("Nothing changed, so no new version was made."))
    elif mou.status != was:
        messages.warning(
            request,
            _(
                "Saved as version %(number)s. The MOU is a draft again: it needs review "
                "and signatures again."
            )
            % {"number": version.number},
        )
    else:
        messages.success(request, _("Saved as version %(number)s.") % {"number": version.number})


@requires("mous.manage")
def mou_terms_view(request, district_slug, mou_id):
    """Edit the structured terms (title, schools, services, dates, response time, data)."""
    mou = access_mou(request.membership, mou_id)
    if "edit" not in mou_allowed_actions(request.membership, mou):
        messages.error(request, _("This MOU can no longer be changed."))
        return _to_mou(mou)
    latest = current_version(mou)
    initial = {
        "title": mou.title,
        "schools": list(mou.schools.all()),
        "services": list(mou.services),
        "start_date": mou.start_date,
        "end_date": mou.end_date,
        "response_days": mou.response_days,
        "shared_fields": list(mou.shared_fields),
        "based_on": latest.number,
    }
    form = MOUTermsForm(_posted(request), district=request.district, initial=initial)
    conflict, was = None, mou.status
    if form.is_bound and form.is_valid():
        try:
            version = mou_terms_update(
                by=request.membership,
                mou=mou,
                based_on=form.cleaned_data["based_on"] or 0,
                **form.terms(),
            )
        except MOUEditConflict as error:
            conflict = error.current
            data = request.POST.copy()
            data["based_on"] = str(error.current.number)
            form = MOUTermsForm(data, district=request.district, initial=initial)
            form.is_valid()
            form.add_error(None, _("Someone else changed the terms while you were editing."))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            _saved_message(request, version, mou, was)
            return _to_mou(mou, "terms")
    context = {"mou": mou, "form": form, "conflict": conflict, "latest": latest}
    if conflict is not None:
        context["conflict_page"] = mou_page(request.membership, mou)
    return render(request, "partnerships/mous/terms_edit.html", context)


# --- Workflow actions -----------------------------------------------------------------------


@requires("mous.manage")
def mou_submit_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    return _button_action(
        request,
        mou,
        lambda: mou_submit(by=request.membership, mou=mou),
        _("Submitted for internal review. An administrator approves it or returns it to you."),
    )


@requires("mous.manage")
def mou_resend_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    return _button_action(
        request,
        mou,
        lambda: mou_link_resend(by=request.membership, mou=mou),
        _("The review link was sent to the partner again."),
    )


@requires("mous.manage")
def mou_withdraw_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    if "withdraw" not in mou_allowed_actions(request.membership, mou):
        messages.error(request, _("Only an MOU that is with the partner can be taken back."))
        return _to_mou(mou)
    return _form_action(
        request,
        mou,
        form=CommentForm(_posted(request), required=False),
        template="partnerships/mous/action.html",
        title=_("Take back to draft"),
        intro=_(
            "The MOU goes back to draft for changes; the partner's link stops working for "
            "signing until it is approved and sent again."
        ),
        act=lambda d: mou_withdraw(by=request.membership, mou=mou, comment=d["comment"]),
        success=_("The MOU is a draft again."),
    )


# --- Templates ------------------------------------------------------------------------------


@requires("mous.manage")
def mou_templates_view(request, district_slug):
    context = {
        "templates": mou_templates_of(request.membership),
        "default_name": DEFAULT_TEMPLATE_NAME,
        "default_sections": [
            (heading, default_template_sections()[key]) for key, heading in MOU_SECTIONS
        ],
    }
    return render(request, "partnerships/mous/templates.html", context)


@requires("mous.manage")
def mou_template_create_view(request, district_slug):
    """A new template, starting from the shipped one (or `?from=<id>`, a district template)."""
    source = default_template_sections()
    name = ""
    if request.GET.get("from", "").isdigit():
        original = access_mou_template(request.membership, int(request.GET["from"]))
        source, name = original.sections, _("Copy of %(name)s") % {"name": original.name}
    form = TemplateForm(_posted(request), initial={"name": name, **source})
    if form.is_bound and form.is_valid():
        try:
            mou_template_create(
                by=request.membership, name=form.cleaned_data["name"], sections=form.sections()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("mou_templates", district_slug)
    return render(request, "partnerships/mous/template_form.html", {"form": form, "template": None})


@requires("mous.manage")
def mou_template_edit_view(request, district_slug, template_id):
    template = access_mou_template(request.membership, template_id)
    form = TemplateForm(_posted(request), initial={"name": template.name, **template.sections})
    if form.is_bound and form.is_valid():
        try:
            mou_template_update(
                by=request.membership,
                template=template,
                name=form.cleaned_data["name"],
                sections=form.sections(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("mou_templates", district_slug)
    context = {"form": form, "template": template}
    return render(request, "partnerships/mous/template_form.html", context)
