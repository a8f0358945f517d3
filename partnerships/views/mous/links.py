"""The partner's signed review link (no account, under /p/): read, sign, or ask for
changes."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from partnerships.forms.mous import PartnerCommentForm, SignForm
from partnerships.models import MOUSignature, MOUVersion
from partnerships.mou_rules import PARTNER_VISIBLE_STATUSES, SIGNED_STATUSES, mou_allowed_actions
from partnerships.selectors.documents import executed_document
from partnerships.selectors.mous import mou_page
from partnerships.services.documents import mou_executed_pdf_queue
from partnerships.services.mous.common import MOUAlreadySigned
from partnerships.services.mous.links import MOULinkExpired, mou_for_claim, mou_link_claim_read
from partnerships.services.mous.workflow import mou_partner_comment, mou_sign
from schools.access_log import client_ip
from schools.models import District
from schools.tenancy import work_in_district


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
        # Signed by both parties: the link also downloads the executed PDF.
        "executed": mou.status in SIGNED_STATUSES and claim.version_number == latest.number,
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


def _executed_version(mou, claim) -> MOUVersion | None:
    """The version the link names, if both parties signed it (the executed MOU)."""
    version = MOUVersion.objects.filter(
        district_id=mou.district_id, mou_id=mou.pk, number=claim.version_number
    ).first()
    if version is None:
        return None
    parties = set(
        MOUSignature.objects.filter(district_id=mou.district_id, version=version).values_list(
            "party", flat=True
        )
    )
    return version if {MOUSignature.Party.PARTNER, MOUSignature.Party.DISTRICT} <= parties else None


@never_cache
def mou_review_link_pdf_view(request, token):
    """The executed PDF through the partner's link (a contact who signed without an
    account is emailed it once both parties signed); a page saying it is being prepared
    until the render is ready."""

    def handle(mou, claim):
        version = _executed_version(mou, claim)
        if version is None:
            return _link_problem(request, "partnerships/mous/link_invalid.html", 404)
        document = executed_document(version)
        if document is None or not document.pdf:
            mou_executed_pdf_queue(version)  # (the one queued at signing, if it is there)
            context = {"mou": mou, "token_district": mou.district, "token": token}
            return render(request, "partnerships/mous/link_pdf_preparing.html", context)
        filename = f"{slugify(mou.title)[:60] or 'mou'}-v{version.number}.pdf"
        response = FileResponse(
            io.BytesIO(bytes(document.pdf)),
            as_attachment=True,
            filename=filename,
            content_type="application/pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response

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
