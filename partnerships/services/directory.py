"""Things people do with the partner directory.

Coordinators and administrators (`partners.manage`) create and change partners with their
schools, services and contacts, add the district's own service categories, and ask a
partner's contact to confirm the listing. The contact confirms (or corrects) it through a
signed link without an account (`listing_confirm`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.languages import validate_language_code
from core.mail import recipient_language, send_templated
from core.signed import BadLink, ExpiredLink, SignedLink, payload_id, payload_str
from partnerships.models import (
    MOU,
    SERVICE_TAXONOMY,
    Contact,
    Partner,
    Service,
    ServiceCategory,
)
from partnerships.services.unsubscribe import unsubscribe_url
from schools.capabilities import can
from schools.models import Membership
from schools.tenancy import outside, require_same_district

# What a partner form (and an import) may set on a Partner.
PARTNER_FIELDS = (
    "name",
    "kind",
    "description",
    "website",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal_code",
    "languages",
    "delivery_modes",
    "payments",
    "min_age",
    "max_age",
    "eligibility",
    "intake",
    "capacity",
    "active",
)
# What a partner's contact may correct through the emailed link: the public listing.
PUBLIC_FIELDS = (
    "description",
    "website",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal_code",
    "languages",
    "delivery_modes",
    "payments",
    "min_age",
    "max_age",
    "eligibility",
    "intake",
    "capacity",
)
SERVICE_FIELDS = ("category", "name", "description")
CONTACT_FIELDS = ("name", "title", "email", "phone", "preferred_language", "roles", "reminders")

LISTING_SALT = "trellis.partnerships.listing-verify"
LISTING_LINK_VALID_FOR = timedelta(days=30)


def _check_manager(by: Membership) -> None:
    if not can(by, "partners.manage"):
        raise PermissionDenied


def partner_name_taken(district, name: str, *, exclude_pk=None) -> bool:
    """Another partner of the district already has this name (ignoring case)."""
    partners = Partner.objects.filter(district=district, name__iexact=name.strip())
    if exclude_pk is not None:
        partners = partners.exclude(pk=exclude_pk)
    return partners.exists()


def _name_taken_error(name: str) -> ValidationError:
    return ValidationError(
        {"name": _("A partner named “%(name)s” is already in the directory.") % {"name": name}}
    )


def _check_languages(fields: dict, contacts=()) -> None:
    """Languages are ISO 639 codes Trellis knows (the forms offer no others; this stops a
    caller that passes names)."""
    try:
        for code in fields.get("languages") or ():
            validate_language_code(code)
    except ValidationError as error:
        raise ValidationError({"languages": error.messages}) from None
    for row in contacts:  # a row of the contacts, not a field of the partner's form
        validate_language_code(row.get("preferred_language", ""))


def _sync_children(model, partner: Partner, rows: list[dict], fields: tuple[str, ...]) -> None:
    """Apply edited rows: {"id": pk or None, "delete": bool, field: value...}."""
    existing = {
        obj.pk: obj
        for obj in model.objects.filter(district_id=partner.district_id, partner=partner)
    }
    for row in rows:
        pk = row.get("id")
        if pk:
            obj = existing.get(pk)
            if obj is None:
                raise ValidationError(
                    _("Someone else removed a row you were editing. Reload the page and try again.")
                )
            if row.get("delete"):
                obj.delete()
                continue
            changed = [name for name in fields if getattr(obj, name) != row[name]]
            if changed:
                for name in changed:
                    setattr(obj, name, row[name])
                if "email" in changed and getattr(obj, "email_refused_at", None):
                    obj.email_refused_at = None  # a new address: refused no more
                    changed.append("email_refused_at")
                obj.save(update_fields=[*changed, "updated_at"])
        elif not row.get("delete"):
            model.objects.create(
                district_id=partner.district_id,
                partner=partner,
                **{name: row[name] for name in fields},
            )


@transaction.atomic
def partner_save(
    *,
    by: Membership,
    partner: Partner | None = None,
    fields: dict,
    school_ids=None,
    services: list[dict] | None = None,
    contacts: list[dict] | None = None,
) -> Partner:
    """Create a partner (partner=None) or change one, with its schools, services, contacts.

    What is given is set; what is left out (None, or a field not in `fields`) stays as it
    is, so that each section of the partner's form saves on its own. All or nothing: a
    problem anywhere leaves every row as it was. Names are unique in the district, ignoring
    case. Only PARTNER_FIELDS are set.
    """
    _check_manager(by)
    district = by.district
    if partner is None:
        partner = Partner(district=district)
    elif outside(district, partner):
        raise PermissionDenied
    unknown = set(fields) - set(PARTNER_FIELDS)
    if unknown:
        raise ValueError(f"not partner fields: {sorted(unknown)}")
    _check_languages(fields, [row for row in contacts or () if not row.get("delete")])
    name = fields.get("name", partner.name).strip()
    if partner_name_taken(district, name, exclude_pk=partner.pk):
        raise _name_taken_error(name)
    for key, value in fields.items():
        setattr(partner, key, value)
    partner.name = name
    try:
        with transaction.atomic():
            if partner.pk is None:
                partner.save()
            else:
                partner.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:  # a concurrent save took the name
        raise _name_taken_error(name) from None
    if school_ids is not None:
        partner.schools.set(school_ids, through_defaults={"district_id": partner.district_id})
    if services is not None:
        _sync_children(Service, partner, list(services), SERVICE_FIELDS)
    if contacts is not None:
        _sync_children(Contact, partner, list(contacts), CONTACT_FIELDS)
    return partner


@transaction.atomic
def partner_mark_verified(*, by: Membership, partner: Partner) -> Partner:
    """A coordinator checked the listing themselves (by phone, on a visit)."""
    _check_manager(by)
    require_same_district(by, partner)
    partner.last_verified_at = timezone.now()
    partner.last_verified_by = by.user.get_full_name() or by.user.email
    partner.save(update_fields=["last_verified_at", "last_verified_by", "updated_at"])
    return partner


# --- The district's own service categories --------------------------------------------------


@transaction.atomic
def service_category_create(*, by: Membership, name: str) -> ServiceCategory:
    """Add a category to the district's taxonomy; its code is made from the name."""
    _check_manager(by)
    name = " ".join(name.split())
    if not any(character.isalnum() for character in name):
        raise ValidationError({"name": _("Use letters or numbers in the name.")})
    code = slugify(name).replace("-", "_")[:40].strip("_")
    if not code:  # a name in another script: a stable code of its own
        code = "category_" + hashlib.sha256(name.lower().encode()).hexdigest()[:12]
    shipped = {c: str(label).lower() for c, label in SERVICE_TAXONOMY}
    own = ServiceCategory.objects.filter(district=by.district)
    if (
        code in shipped
        or name.lower() in shipped.values()
        or own.filter(code=code).exists()
        or own.filter(name__iexact=name).exists()
    ):
        raise ValidationError({"name": _("This category is already in the list.")})
    return ServiceCategory.objects.create(district=by.district, code=code, name=name)


@transaction.atomic
def service_category_delete(*, by: Membership, category: ServiceCategory) -> None:
    """Remove a category of the district's own; refused while a service or MOU uses it."""
    _check_manager(by)
    require_same_district(by, category)
    in_use = (
        Service.objects.filter(district=by.district, category=category.code).exists()
        or MOU.objects.filter(district=by.district, services__contains=[category.code]).exists()
    )
    if in_use:
        raise ValidationError(
            _("“%(name)s” is used by a service or an MOU: change those first.")
            % {"name": category.name}
        )
    category.delete()


# --- Freshness: the emailed link that confirms a listing -----------------------------------


@dataclass(frozen=True)
class ListingClaim:
    district_id: int
    partner_id: int
    contact_id: int
    # The listing's last verification when the link was made: a confirmed link is spent.
    version: str


class ListingLinkInvalid(Exception):
    """Tampered with, malformed, or naming something that is gone."""


class ListingLinkExpired(Exception):
    def __init__(self, claim: ListingClaim):
        super().__init__("expired")
        self.claim = claim


def _listing_version(partner: Partner) -> str:
    return partner.last_verified_at.isoformat() if partner.last_verified_at else ""


# _listing_version: "" or a datetime's isoformat().
_VERSION_FORM = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d:\d\d)?)?"

LISTING_LINK = SignedLink(
    salt=LISTING_SALT,
    fields={
        "d": payload_id,
        "p": payload_id,
        "c": payload_id,
        "v": partial(payload_str, pattern=_VERSION_FORM),
    },
    max_age=LISTING_LINK_VALID_FOR,
    url_name="listing_verify",
)


def _listing_payload(partner: Partner, contact: Contact) -> dict:
    return {
        "d": partner.district_id,
        "p": partner.pk,
        "c": contact.pk,
        "v": _listing_version(partner),
    }


def listing_token(partner: Partner, contact: Contact) -> str:
    return LISTING_LINK.make(**_listing_payload(partner, contact))


def _claim(data: dict) -> ListingClaim:
    return ListingClaim(data["d"], data["p"], data["c"], data["v"])


def listing_claim_read(token: str) -> ListingClaim:
    """What a link claims. Raises ListingLinkInvalid (tampered) or ListingLinkExpired."""
    try:
        return _claim(LISTING_LINK.read(token))
    except ExpiredLink as expired:
        # The signature holds, only the age does not: say which listing it was for.
        raise ListingLinkExpired(_claim(expired.payload)) from None
    except BadLink:
        raise ListingLinkInvalid from None


def listing_for_claim(claim: ListingClaim) -> tuple[Partner, Contact]:
    """The partner and contact a verified claim names; call inside its district's context."""
    contact = (
        Contact.objects.select_related("partner", "partner__district")
        .filter(district_id=claim.district_id, pk=claim.contact_id, partner_id=claim.partner_id)
        .first()
    )
    if contact is None:
        raise ListingLinkInvalid
    return contact.partner, contact


def listing_link_spent(claim: ListingClaim, partner: Partner) -> bool:
    """The listing was verified since the link was sent (by this link or another way)."""
    return claim.version != _listing_version(partner)


def listing_verification_send(*, by: Membership, partner: Partner, contact: Contact) -> None:
    """Email a partner's contact a link to confirm or correct the listing (30 days).

    The mail names the district and the partner only (no student data); it is written in
    the contact's language when they have one Trellis speaks, else the district's.
    """
    _check_manager(by)
    require_same_district(by, contact)
    if contact.partner_id != partner.pk:
        raise PermissionDenied
    if not contact.email:
        raise ValidationError(_("This contact has no email address."))
    if contact.unsubscribed_at is not None:
        raise ValidationError(_("This contact unsubscribed from Trellis email."))
    district = by.district
    context = {
        "district_name": district.name,
        "partner_name": partner.name,
        "contact_name": contact.name,
        "sender_name": by.user.get_full_name() or by.user.email,
        "link": LISTING_LINK.url(**_listing_payload(partner, contact)),
        "expires_at": timezone.now() + LISTING_LINK_VALID_FOR,
    }
    with transaction.atomic():
        send_templated(
            "partnerships/email/listing-verify",
            to=contact.email,
            context=context,
            language=recipient_language(contact, district),
            district=district,
            unsubscribe_url=unsubscribe_url(contact),
        )


class ListingAlreadyVerified(Exception):
    pass


@transaction.atomic
def listing_confirm(*, claim: ListingClaim, name: str, changes: dict | None = None) -> Partner:
    """The partner's contact confirms the listing, with their corrections if any.

    Runs inside the claim's district. Only PUBLIC_FIELDS change. The link is spent once
    the listing is verified, so a second submission is refused (ListingAlreadyVerified).
    """
    partner = (
        Partner.objects.select_for_update()
        .filter(district_id=claim.district_id, pk=claim.partner_id)
        .first()
    )
    if partner is None:
        raise ListingLinkInvalid
    if listing_link_spent(claim, partner):
        raise ListingAlreadyVerified
    return _listing_verified(partner, changes or {}, verifier=name.strip())


@transaction.atomic
def partner_listing_confirm_own(*, by: Membership, changes: dict | None = None) -> Partner:
    """A partner's member confirms their own organization's listing, with corrections if
    any, as the emailed contact can (listing_confirm): only PUBLIC_FIELDS change, and the
    member is recorded as the person who verified it.
    """
    if not can(by, "partner.own") or by.partner_id is None:
        raise PermissionDenied
    partner = (
        Partner.objects.select_for_update()
        .filter(district_id=by.district_id, pk=by.partner_id)
        .get()
    )
    return _listing_verified(partner, changes or {}, verifier=by.user.get_full_name())


def _listing_verified(partner: Partner, changes: dict, *, verifier: str) -> Partner:
    """Apply the partner's corrections (PUBLIC_FIELDS only) and record who verified when."""
    unknown = set(changes) - set(PUBLIC_FIELDS)
    if unknown:
        raise ValueError(f"not public fields: {sorted(unknown)}")
    _check_languages(changes)
    changed = [key for key, value in changes.items() if getattr(partner, key) != value]
    for key in changed:
        setattr(partner, key, changes[key])
    partner.last_verified_at = timezone.now()
    partner.last_verified_by = verifier[:200]
    partner.save(update_fields=[*changed, "last_verified_at", "last_verified_by", "updated_at"])
    return partner
