"""The loop's mail: the counselor responsible hears when the partner declines or closes a
referral (they act on a decline: send it elsewhere); the partner's intake contacts hear
when the school withdraws one (they stop). No student details: the reference, the school,
the partner, the reason or outcome, and a link (sign-in for staff)."""

from __future__ import annotations

from django.urls import reverse

from core.mail import absolute_url, recipient_language, send_templated
from partnerships.models import Contact, ContactRole
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from referrals.models import Referral


def tell_owner(referral: Referral, *, what: str, label: str, note: str) -> bool:
    """Mail the referral's counselor that the partner declined or closed it."""
    owner = referral.owner
    if not owner.active or not owner.user.email:
        return False
    district = referral.district
    send_templated(
        f"referrals/email/loop_{what}",
        to=owner.user.email,
        context={
            "reference": referral.reference,
            "partner_name": referral.partner.name if referral.partner_id else "",
            "school_name": referral.school.name,
            "label": label,
            "note": note,
            "link": absolute_url(reverse("referral_detail", args=[district.slug, referral.pk])),
        },
        language=recipient_language(owner, district),
        district=district,
    )
    return True


def tell_partner_withdrawn(referral: Referral, *, note: str) -> int:
    """Mail the partner's intake contacts that the school withdrew the referral."""
    if referral.partner_id is None or referral.sent_at is None:
        return 0
    district = referral.district
    contacts = mailable(
        Contact.objects.for_district(district)
        .filter(partner_id=referral.partner_id, roles__contains=[ContactRole.INTAKE])
        .order_by("pk")
    )
    sent = 0
    for contact in contacts:
        if not contact.email:
            continue
        send_templated(
            "referrals/email/loop_withdrawn",
            to=contact.email,
            context={
                "reference": referral.reference,
                "partner_name": referral.partner.name,
                "school_name": referral.school.name,
                "note": note,
            },
            language=recipient_language(contact, district),
            district=district,
            unsubscribe_url=unsubscribe_url(contact),
        )
        sent += 1
    return sent
