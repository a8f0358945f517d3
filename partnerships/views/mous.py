"""MOU pages: the list, drafting, the MOU page with its sections, versions and goals, the
review and signing actions, templates, and the partner's signed link (under /p/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_htmx.http import HttpResponseClientRedirect

from core.htmx import render_page_or_fragment, wants_fragment
from partnerships.forms.mous import (
    CommentForm,
    CompareForm,
    GoalForm,
    MOUDraftForm,
    MOUFilterForm,
    MOUTermsForm,
    PartnerCommentForm,
    ProgressForm,
    SectionForm,
    SignForm,
    TemplateForm,
    TerminateForm,
)
from partnerships.models import MOUStatus
from partnerships.mou_rules import (
    DEFAULT_TEMPLATE_NAME,
    MOU_SECTIONS,
    MOUS_UNDER_WAY,
    PARTNER_VISIBLE_STATUSES,
    SECTION_LABELS,
    default_template_sections,
    mou_allowed_actions,
    version_sections,
)
from partnerships.selectors.categories import service_labels
from partnerships.selectors.mous import (
    access_goal,
    access_mou,
    access_mou_template,
    current_version,
    mou_compare,
    mou_list,
    mou_page,
    mou_partner_choices,
    mou_partners_for_drafting,
    mou_status_counts,
    mou_templates_of,
    mou_versions,
    reads_as_partner,
)
from partnerships.services.mous.common import MOUAlreadySigned, MOUEditConflict
from partnerships.services.mous.drafting import (
    mou_create,
    mou_section_update,
    mou_template_create,
    mou_template_update,
    mou_terms_update,
)
from partnerships.services.mous.goals import goal_create, goal_progress_add
from partnerships.services.mous.links import MOULinkExpired, mou_for_claim, mou_link_claim_read
from partnerships.services.mous.workflow import (
    mou_approve,
    mou_link_resend,
    mou_partner_comment,
    mou_return,
    mou_sign,
    mou_submit,
    mou_terminate,
    mou_withdraw,
)
from schools.access_log import client_ip
from schools.capabilities import can, requires
from schools.models import District
from schools.tenancy import work_in_district

PAGE_SIZE = 50


def _posted(request):
    return request.POST if request.method == "POST" else None


def _to_mou(mou, anchor: str = ""):
    url = reverse("mou_detail", args=[mou.district.slug, mou.pk])
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _refused(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# --- List and drafting ----------------------------------------------------------------------


def mou_home_panel(request) -> dict | None:
    """The home page's MOU panel (registered in PartnershipsConfig): how many of the MOUs
    the viewer may see are under way, by status, each linked to the list filtered by it.
    One query; left out when there are none."""
    counts = mou_status_counts(request.membership, MOUS_UNDER_WAY)
    if not counts:
        return None
    labels = dict(MOUStatus.choices)
    url = reverse("mou_list", args=[request.district.slug])
    return {
        "rows": [
            {"label": labels[status], "count": counts[status], "url": f"{url}?status={status}"}
            for status in MOUS_UNDER_WAY
            if status in counts
        ]
    }


@requires("mous.view")
def mou_list_view(request, district_slug):
    """MOUs the viewer may see, filtered by status and partner (htmx swaps the table)."""
    membership = request.membership
    filters = MOUFilterForm(request.GET, partners=mou_partner_choices(membership))
    chosen = filters.filters()
    page = Paginator(mou_list(membership, **chosen), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "can_manage": can(membership, "mous.manage"),
    }
    return render_page_or_fragment(request, "partnerships/mous/list.html", context)


@requires("mous.manage")
def mou_create_view(request, district_slug):
    membership = request.membership
    form = MOUDraftForm(
        _posted(request),
        district=request.district,
        partners=mou_partners_for_drafting(membership),
        templates=mou_templates_of(membership),
        initial={"partner": request.GET.get("partner")} if request.GET.get("partner") else None,
    )
    if form.is_bound and form.is_valid():
        try:
            mou = mou_create(
                by=membership,
                partner=form.cleaned_data["partner"],
                template=form.chosen_template(),
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


# --- The MOU page ---------------------------------------------------------------------------


@requires("mous.view")
def mou_detail_view(request, district_slug, mou_id):
    """The MOU: status and next step, terms, sections, signatures, comments, goals, versions.

    `?version=N` reads an older version. An htmx request with `?section=key` gets that
    section back (the inline editor's Cancel).
    """
    membership = request.membership
    mou = access_mou(membership, mou_id)
    context = {
        "mou": mou,
        "actions": mou_allowed_actions(membership, mou),
        **mou_page(membership, mou, version_number=request.GET.get("version") or None),
    }
    section = request.GET.get("section") if wants_fragment(request) else None
    if section:
        context["section"] = next((s for s in context["sections"] if s.key == section), None)
        if context["section"] is None:
            raise Http404("No such section")
    else:
        context["goal_form"] = GoalForm()
    return render_page_or_fragment(
        request, "partnerships/mous/detail.html", context, fragment="section" if section else None
    )


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
            form = MOUTermsForm(data, district=request.district)
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


@requires("mous.view")
def mou_compare_view(request, district_slug, mou_id):
    """Two versions side by side, words removed and added marked (default: the last two)."""
    mou = access_mou(request.membership, mou_id)
    # A partner compares only versions sent to it (the ones between stay internal).
    for_partner = reads_as_partner(request.membership)
    numbers = [v.number for v in mou_versions(mou, for_partner=for_partner)] or [0]
    older = numbers[1] if len(numbers) > 1 else max(numbers[0] - 1, 1)
    defaults = {"a": older, "b": numbers[0]}
    form = CompareForm(request.GET if "a" in request.GET else defaults, numbers=numbers)
    context = {"mou": mou, "form": form, "single": len(numbers) == 1}
    if form.is_valid():
        a, b = sorted((form.cleaned_data["a"], form.cleaned_data["b"]))
        context["comparison"] = mou_compare(mou, a, b, for_partner=for_partner)
    return render(request, "partnerships/mous/compare.html", context)


# --- Workflow actions -----------------------------------------------------------------------


def _button_action(request, mou, action, success: str):
    """A POST-only action behind a button: GET goes back to the MOU page."""
    if request.method == "POST":
        try:
            action()
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, success)
    return _to_mou(mou)


@requires("mous.manage")
def mou_submit_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    return _button_action(
        request,
        mou,
        lambda: mou_submit(by=request.membership, mou=mou),
        _("Submitted for internal review. An administrator approves it or returns it to you."),
    )


@requires("mous.approve")
def mou_approve_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    return _button_action(
        request,
        mou,
        lambda: mou_approve(by=request.membership, mou=mou),
        _("Approved and sent to the partner for review and signature."),
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


def _form_action(request, mou, *, form, template: str, title: str, act, success: str, intro: str):
    """An action that needs words (a comment, a reason): a small page with its form."""
    if form.is_bound and form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, " ".join(error.messages))
            else:
                _refused(request, error)
                return _to_mou(mou)
        else:
            messages.success(request, success)
            return _to_mou(mou)
    context = {"mou": mou, "form": form, "title": title, "intro": intro}
    return render(request, template, context)


@requires("mous.approve")
def mou_return_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    if "return" not in mou_allowed_actions(request.membership, mou):
        messages.error(request, _("This MOU is not waiting for internal review."))
        return _to_mou(mou)
    return _form_action(
        request,
        mou,
        form=CommentForm(_posted(request)),
        template="partnerships/mous/action.html",
        title=_("Return to draft"),
        intro=_("Say what needs to change. The coordinator sees your comments on the MOU page."),
        act=lambda d: mou_return(by=request.membership, mou=mou, comment=d["comment"]),
        success=_("Returned to draft with your comments."),
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


@requires("mous.approve")
def mou_terminate_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    if "terminate" not in mou_allowed_actions(request.membership, mou):
        messages.error(request, _("Only an active MOU can be ended early."))
        return _to_mou(mou)
    return _form_action(
        request,
        mou,
        form=TerminateForm(_posted(request)),
        template="partnerships/mous/action.html",
        title=_("End this MOU early"),
        intro=_("The MOU stops at once. This cannot be undone: a new MOU would be needed."),
        act=lambda d: mou_terminate(by=request.membership, mou=mou, reason=d["reason"]),
        success=_("The MOU was ended early."),
    )


@requires("mous.sign")
def mou_partner_comment_view(request, district_slug, mou_id):
    """The partner (signed in) asks for changes instead of signing."""
    membership = request.membership
    mou = access_mou(membership, mou_id)
    if "partner_review" not in mou_allowed_actions(membership, mou):
        messages.error(request, _("This MOU is not waiting for your review."))
        return _to_mou(mou)
    latest = current_version(mou)
    form = PartnerCommentForm(
        _posted(request),
        initial={"name": membership.user.get_full_name(), "version": latest.number},
    )
    if form.is_bound and form.is_valid():
        try:
            mou_partner_comment(
                by=membership,
                mou=mou,
                version_number=form.cleaned_data["version"],
                author_name=form.cleaned_data["name"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Thank you. %(district)s will revise the MOU and send you the new version.")
                % {"district": mou.district.name},
            )
            return redirect("mou_list", district_slug)
    context = {"mou": mou, "form": form, "latest": latest}
    return render(request, "partnerships/mous/partner_comment.html", context)


@requires("mous.sign")
def mou_sign_view(request, district_slug, mou_id):
    """Sign the current version: the partner's member first, then a district administrator."""
    membership = request.membership
    mou = access_mou(membership, mou_id)
    if not mou_allowed_actions(membership, mou) & {"partner_review", "district_sign"}:
        messages.error(request, _("This MOU is not waiting for your signature."))
        return _to_mou(mou)
    page = mou_page(membership, mou)
    form = SignForm(
        _posted(request),
        initial={"name": membership.user.full_name, "version": page["latest"].number},
    )
    if form.is_bound and form.is_valid():
        try:
            mou_sign(
                by=membership,
                mou=mou,
                version_number=form.cleaned_data["version"],
                name=form.cleaned_data["name"],
                title=form.cleaned_data["title"],
                ip_address=client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Signed. Thank you."))
            return _to_mou(mou)
    context = {"mou": mou, "form": form, **page}
    return render(request, "partnerships/mous/sign.html", context)


# --- Goals ----------------------------------------------------------------------------------


@requires("mous.manage")
def mou_goal_create_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    form = GoalForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            goal_create(by=request.membership, mou=mou, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Goal added."))
            return _to_mou(mou, "goals")
    return render(request, "partnerships/mous/goal_form.html", {"mou": mou, "form": form})


@requires("mous.manage")
def mou_goal_progress_view(request, district_slug, goal_id):
    goal = access_goal(request.membership, goal_id)
    form = ProgressForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            goal_progress_add(by=request.membership, goal=goal, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Progress recorded."))
            return _to_mou(goal.mou, "goals")
    context = {"mou": goal.mou, "goal": goal, "form": form}
    return render(request, "partnerships/mous/progress_form.html", context)


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


# --- The partner's signed link (no account) -------------------------------------------------


def _link_problem(request, template: str, status: int, district=None):
    return render(request, template, {"link_district": district}, status=status)


def _with_link(request, token, handle):
    """Verify the link, enter its district (and its time zone), find the MOU, then
    `handle(mou, claim)`."""
    try:
        claim = mou_link_claim_read(token)
    except MOULinkExpired as expired:
        district = District.objects.filter(pk=expired.district_id).first()
        return _link_problem(request, "partnerships/mous/link_expired.html", 410, district)
    if claim is None:
        return _link_problem(request, "partnerships/mous/link_invalid.html", 404)
    with work_in_district(claim.district_id):
        mou = mou_for_claim(claim)
        if mou is None:
            return _link_problem(request, "partnerships/mous/link_invalid.html", 404)
        return handle(mou, claim)


def _link_context(mou, claim, **extra) -> dict:
    page = mou_page(None, mou)
    latest = page["latest"]
    return {
        "mou": mou,
        "token": extra.pop("token"),
        "token_district": mou.district,
        # The link stands for the partner (membership None): open while it may review.
        "open": "partner_review" in mou_allowed_actions(None, mou)
        and latest.number == claim.version_number,
        # Drafts stay inside the district, for the link as for partner logins.
        "readable": mou.status in PARTNER_VISIBLE_STATUSES,
        "outdated": latest.number != claim.version_number,
        **page,
        **extra,
    }


@never_cache
def mou_review_link_view(request, token):
    """The partner's contact reads the MOU, then signs it or asks for changes."""

    def handle(mou, claim):
        version = str(claim.version_number)
        sign_form = SignForm(initial={"version": version})
        comment_form = PartnerCommentForm(initial={"version": version})
        context = _link_context(
            mou, claim, token=token, sign_form=sign_form, comment_form=comment_form
        )
        return render(request, "partnerships/mous/link.html", context)

    return _with_link(request, token, handle)


def _link_post(request, token, *, form_class, act, done):
    """The partner's answer through the link: validate, `act(mou, claim, form)`, confirm.

    The form must be for the version the link names; a refusal from the service is
    shown on the form, and the page comes back with both forms (the other one empty).
    """

    def handle(mou, claim):
        if request.method != "POST":
            return redirect("mou_review_link", token)
        form = form_class(request.POST)
        if form.is_valid():
            if form.cleaned_data["version"] != claim.version_number:
                form.add_error(None, _("This link is for another version of the MOU."))
            else:
                try:
                    act(mou, claim, form.cleaned_data)
                except MOUAlreadySigned:
                    # Signing twice (a second click, a reload): say so, not a bare refusal.
                    context = {"mou": mou, "token_district": mou.district, "done": "already"}
                    return render(request, "partnerships/mous/link_done.html", context)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    context = {"mou": mou, "token_district": mou.district, "done": done}
                    return render(request, "partnerships/mous/link_done.html", context)
        forms = {
            "sign_form": SignForm(initial={"version": claim.version_number}),
            "comment_form": PartnerCommentForm(initial={"version": claim.version_number}),
        }
        forms["sign_form" if form_class is SignForm else "comment_form"] = form
        context = _link_context(mou, claim, token=token, **forms)
        return render(request, "partnerships/mous/link.html", context, status=400)

    return _with_link(request, token, handle)


@never_cache
def mou_review_link_sign_view(request, token):
    def sign(mou, claim, data):
        mou_sign(
            by=None,
            mou=mou,
            version_number=claim.version_number,
            name=data["name"],
            title=data["title"],
            ip_address=client_ip(request),
        )

    return _link_post(request, token, form_class=SignForm, act=sign, done="signed")


@never_cache
def mou_review_link_comment_view(request, token):
    def comment(mou, claim, data):
        mou_partner_comment(
            by=None,
            mou=mou,
            version_number=claim.version_number,
            author_name=data["name"],
            comment=data["comment"],
        )

    return _link_post(request, token, form_class=PartnerCommentForm, act=comment, done="commented")


urlpatterns = [
    path("mous/", mou_list_view, name="mou_list"),
    path("mous/new/", mou_create_view, name="mou_create"),
    path("mous/templates/", mou_templates_view, name="mou_templates"),
    path("mous/templates/new/", mou_template_create_view, name="mou_template_create"),
    path("mous/templates/<int:template_id>/", mou_template_edit_view, name="mou_template_edit"),
    path("mous/goals/<int:goal_id>/progress/", mou_goal_progress_view, name="mou_goal_progress"),
    path("mous/<int:mou_id>/", mou_detail_view, name="mou_detail"),
    path("mous/<int:mou_id>/terms/", mou_terms_view, name="mou_terms"),
    path("mous/<int:mou_id>/sections/<slug:section>/", mou_section_view, name="mou_section"),
    path("mous/<int:mou_id>/compare/", mou_compare_view, name="mou_compare"),
    path("mous/<int:mou_id>/submit/", mou_submit_view, name="mou_submit"),
    path("mous/<int:mou_id>/approve/", mou_approve_view, name="mou_approve"),
    path("mous/<int:mou_id>/return/", mou_return_view, name="mou_return"),
    path("mous/<int:mou_id>/withdraw/", mou_withdraw_view, name="mou_withdraw"),
    path("mous/<int:mou_id>/resend/", mou_resend_view, name="mou_resend"),
    path("mous/<int:mou_id>/review/", mou_partner_comment_view, name="mou_partner_comment"),
    path("mous/<int:mou_id>/sign/", mou_sign_view, name="mou_sign"),
    path("mous/<int:mou_id>/terminate/", mou_terminate_view, name="mou_terminate"),
    path("mous/<int:mou_id>/goals/new/", mou_goal_create_view, name="mou_goal_create"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns = [
    path("mous/review/<str:token>/", mou_review_link_view, name="mou_review_link"),
    path("mous/review/<str:token>/sign/", mou_review_link_sign_view, name="mou_review_link_sign"),
    path(
        "mous/review/<str:token>/comment/",
        mou_review_link_comment_view,
        name="mou_review_link_comment",
    ),
]
