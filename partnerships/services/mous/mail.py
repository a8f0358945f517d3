"""MOU mail (core.mail): the version sent to the partner, and what happened, to staff."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from core.mail import absolute_url, language_code, recipient_language, send_templated
from partnerships.models import MOU, Contact, ContactRole, MOUSignature, MOUVersion
from partnerships.selectors.mous import current_version
from partnerships.services.mous.links import MOU_LINK_VALID_FOR, mou_link, mou_pdf_link
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from schools.models import Membership, Role


def _send(to: str, name: str, context: dict, district, *, language: str, unsubscribe=""):
    send_templated(
        f"partnerships/email/{name}",
        to=to,
        context=context,
        language=language,
        district=district,
        unsubscribe_url=unsubscribe,  # mail to a contact (RFC 8058)
    )


def _mou_page_url(mou: MOU) -> str:
    return absolute_url(reverse("mou_detail", args=[mou.district.slug, mou.pk]))


def mou_send_to_partner(mou: MOU) -> list[str]:
    """Email the partner's leadership and intake contacts a signed link to the version sent,
    and the partner's Trellis members a link into Trellis. Returns the addresses mailed.

    Each in their own language (a contact's preference if Trellis speaks it, a member's
    own), else the district's."""
    version = current_version(mou)
    if version.pk is not None and version.sent_at is None:
        # From now on the partner may read this version (see partner_may_read_version).
        version.sent_at = timezone.now()
        version.save(update_fields=["sent_at", "updated_at"])
    district = mou.district
    context = {
        "district_name": district.name,
        "partner_name": mou.partner.name,
        "title": mou.title,
        "version": version.number,
        "valid_days": MOU_LINK_VALID_FOR.days,
    }
    contacts = mailable(
        Contact.objects.filter(district_id=mou.district_id, partner_id=mou.partner_id)
        .filter(roles__overlap=[ContactRole.LEADERSHIP, ContactRole.INTAKE])
        .order_by("pk")
    )
    mailed: list[str] = []
    link = mou_link(mou, version)
    for contact in contacts:
        email = contact.email.lower()
        if email in mailed:
            continue
        _send(
            email,
            "mou-sent",
            {**context, "link": link, "by_link": True},
            district,
            language=recipient_language(contact, district),
            unsubscribe=unsubscribe_url(contact),
        )
        mailed.append(email)
    members = Membership.objects.filter(
        district_id=mou.district_id, partner_id=mou.partner_id, role=Role.PARTNER, active=True
    ).select_related("user")
    page = _mou_page_url(mou)
    for member in members:
        email = member.user.email.lower()
        if email not in mailed:
            _send(
                email,
                "mou-sent",
                {**context, "link": page, "by_link": False},
                district,
                language=recipient_language(member, district),
            )
            mailed.append(email)
    return mailed


def mou_notify_staff(mou: MOU, *, kind: str, roles, note: str = "", exclude=None) -> None:
    """Tell district staff what happened: administrators (roles) and whoever drafted it,
    each in their own language. Sent whether a request or a sweep made the change."""
    people = Membership.objects.filter(district_id=mou.district_id, active=True).filter(
        role__in=list(roles)
    )
    recipients = {m.user.email.lower(): m.user for m in people.select_related("user")}
    if mou.created_by_id:
        creator = (
            Membership.objects.filter(
                district_id=mou.district_id, pk=mou.created_by_id, active=True
            )
            .select_related("user")
            .first()
        )
        if creator is not None:
            recipients.setdefault(creator.user.email.lower(), creator.user)
    if exclude is not None:
        recipients.pop(exclude.user.email.lower(), None)
    district = mou.district
    context = {
        "kind": kind,
        "district_name": district.name,
        "partner_name": mou.partner.name,
        "title": mou.title,
        "link": _mou_page_url(mou),
        "note": note,
    }
    for email in sorted(recipients):
        language = recipient_language(recipients[email], district)
        _send(email, "mou-update", context, district, language=language)


def _link_signer_contacts(mou: MOU, signature: MOUSignature) -> list[Contact]:
    """The partner contact(s) behind a signature given through the emailed link (no
    account: the signature has only the name typed). The partner's mailable contact of
    that name; else the leadership and intake contacts the link was sent to (one of them
    signed, or passed it on)."""
    contacts = list(
        mailable(
            Contact.objects.filter(district_id=mou.district_id, partner_id=mou.partner_id)
        ).order_by("pk")
    )
    name = " ".join(signature.name.split()).casefold()
    named = [c for c in contacts if " ".join(c.name.split()).casefold() == name]
    if named:
        return named[:1]
    return [
        c for c in contacts if {ContactRole.LEADERSHIP, ContactRole.INTAKE} & set(c.roles or ())
    ]


def mou_notify_signers(mou: MOU, version: MOUVersion) -> list[str]:
    """The last signature landed (the MOU is active): every signer gets one email with a
    link to the executed PDF. Returns the addresses mailed.

    A signer with an account (the district's, a partner member) gets the MOU's PDFs in
    Trellis, in their own language; a partner contact who signed through the emailed link
    gets a link of their own to the PDF (the review link's signature, no account), in
    their preferred language when Trellis speaks it, else the MOU's. The executed PDF is
    queued now, so it is ready when they click. Called once per MOU version, by the
    signature that completes it (a second signature of a party is refused before).
    """
    from partnerships.services.documents import mou_executed_pdf_queue

    mou_executed_pdf_queue(version)
    district = mou.district
    context = {
        "district_name": district.name,
        "partner_name": mou.partner.name,
        "title": mou.title,
        "version": version.number,
    }
    signatures = (
        MOUSignature.objects.filter(district_id=mou.district_id, version=version)
        .select_related("membership__user")
        .order_by("signed_at", "pk")
    )
    in_trellis = absolute_url(reverse("mou_pdfs", args=[district.slug, mou.pk]))
    mailed: list[str] = []
    for signature in signatures:
        member = signature.membership
        if member is not None:
            email = (member.user.email or "").lower()
            if email and email not in mailed:
                _send(
                    email,
                    "mou-executed",
                    {**context, "link": in_trellis, "by_link": False},
                    district,
                    language=recipient_language(member, district),
                )
                mailed.append(email)
            continue
        link = mou_pdf_link(mou, version)
        for contact in _link_signer_contacts(mou, signature):
            email = contact.email.lower()
            if email in mailed:
                continue
            _send(
                email,
                "mou-executed",
                {**context, "link": link, "by_link": True, "valid_days": MOU_LINK_VALID_FOR.days},
                district,
                language=language_code(contact.preferred_language) or mou.language,
                unsubscribe=unsubscribe_url(contact),
            )
            mailed.append(email)
    return mailed
