"""A member's open referrals (their caseload) as open work: listed on the people pages
before someone is deactivated (schools.services.people's registry, registered from
ReferralsConfig.ready()), and given to a colleague in one step when they leave."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.selectors import open_caseload
from referrals.services.loop import referral_reassign
from schools.capabilities import require
from schools.models import Membership
from schools.services.people import open_work_register
from schools.tenancy import outside, require_same_district

OPEN_WORK_LABEL = gettext_lazy("Open referrals in their caseload: reassign them")


@open_work_register
def open_referrals_work(membership: Membership) -> list[tuple[str, int, str]]:
    """The member's open caseload (referrals.selectors.list_caseload_filter), with the page
    that gives it to a colleague. One query (none to build the link)."""
    count = open_caseload(membership.district_id, membership.pk).count()
    if not count:
        return []
    url = reverse("caseload_reassign", args=[membership.district.slug, membership.pk])
    return [(OPEN_WORK_LABEL, count, url)]


@transaction.atomic
def caseload_reassign(*, by: Membership, membership: Membership, to, note: str = "") -> int:
    """Give every referral of `membership`'s open caseload to `to`, each through
    referral_reassign (a step on its timeline): all of them, or none. Returns how many.

    Refused (ValidationError, nothing changed) when `to` is not a colleague of the
    district other than the member, or when any one referral cannot go: the refusals are
    under "referrals", one per referral, with its reference. For administrators and
    coordinators (referrals.reassign); another district's member is PermissionDenied.
    """
    require(by, "referrals.reassign")
    require_same_district(by, membership)
    if to is None or outside(by.district_id, to) or not isinstance(to, Membership):
        raise ValidationError({"to": [_("Choose a colleague of your district.")]})
    if to.pk == membership.pk:
        raise ValidationError({"to": [_("Choose someone other than the person leaving.")]})
    referrals = list(
        open_caseload(by.district_id, membership.pk)
        .select_related("district", "school", "partner")
        .order_by("referred_on", "created_at", "pk")
    )
    refusals: list[str] = []
    for referral in referrals:
        try:
            referral_reassign(by=by, referral=referral, to=to, note=note)
        except ValidationError as error:
            if "note" in error.message_dict:
                raise ValidationError({"note": error.message_dict["note"]}) from error
            refusals.append(f"{referral.reference}: {' '.join(error.messages)}")
        except PermissionDenied:
            refusals.append(
                f"{referral.reference}: "
                + _("you do not work with this referral's school; ask an administrator.")
            )
    if refusals:
        # Raised inside the transaction: the referrals already given are taken back.
        raise ValidationError({"referrals": refusals})
    return len(referrals)
