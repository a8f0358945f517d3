"""One-click unsubscribe for partner contacts, who receive our mail without an account.

Every email to a contact carries a signed link; following it and pressing the button
stops all further mail to that contact. The link
does not expire: an old email must still be able to stop the mail.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from core.signed import SignedLink, payload_id
from partnerships.models import Contact
from schools.tenancy import tenant_context

_SALT = "trellis.partnerships.contact-unsubscribe"

# No age limit (an old email must still stop the mail); compressed, as links already sent are.
UNSUBSCRIBE_LINK = SignedLink(
    salt=_SALT,
    fields={"d": payload_id, "c": payload_id},
    compress=True,
    url_name="contact_unsubscribe",
)


def unsubscribe_token(contact: Contact) -> str:
    return UNSUBSCRIBE_LINK.make(d=contact.district_id, c=contact.pk)


def unsubscribe_url(contact: Contact) -> str:
    """The contact's one-click unsubscribe link, on SITE_URL."""
    return UNSUBSCRIBE_LINK.url(d=contact.district_id, c=contact.pk)


def mailable(contacts):
    """Contacts with an address who have not unsubscribed (a queryset filter)."""
    return contacts.exclude(email="").filter(unsubscribed_at__isnull=True)


def contact_for_token(token: str) -> tuple[int, int]:
    """(district id, contact id) from a link; raises core.signed.BadLink if not valid."""
    data = UNSUBSCRIBE_LINK.read(token)
    return data["d"], data["c"]


def contact_unsubscribe(*, token: str) -> Contact | None:
    """Stop mail to the contact the link names; None when that contact no longer exists.

    Idempotent: unsubscribing twice keeps the first time.
    """
    district_id, contact_id = contact_for_token(token)
    with tenant_context(district_id):
        Contact.objects.filter(
            Q(unsubscribed_at__isnull=True), district_id=district_id, pk=contact_id
        ).update(unsubscribed_at=timezone.now())
        return (
            Contact.objects.select_related("partner")
            .filter(district_id=district_id, pk=contact_id)
            .first()
        )


def contact_lookup(*, token: str) -> Contact | None:
    district_id, contact_id = contact_for_token(token)
    with tenant_context(district_id):
        return (
            Contact.objects.select_related("partner")
            .filter(district_id=district_id, pk=contact_id)
            .first()
        )
