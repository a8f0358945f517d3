"""Review and signing: an administrator approves or returns, the partner (signed in)
comments or signs, the district signs, an administrator ends an MOU early."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from partnerships.forms.mous import CommentForm, PartnerCommentForm, SignForm, TerminateForm
from partnerships.mou_rules import mou_allowed_actions
from partnerships.selectors.mous import access_mou, current_version, mou_page
from partnerships.services.mous.workflow import (
    mou_approve,
    mou_partner_comment,
    mou_return,
    mou_sign,
    mou_terminate,
)
from partnerships.views.mous.common import _button_action, _form_action, _posted, _to_mou
from schools.access_log import client_ip
from schools.capabilities import requires


@requires("mous.approve")
def mou_approve_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    return _button_action(
        request,
        mou,
        lambda: mou_approve(by=request.membership, mou=mou),
        _("Approved and sent to the partner for review and signature."),
    )


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
