"""Funding sources: what pays for the partnerships (grants, budget lines, donations...).

Rule violations raise ValidationError keyed by form field; acting without `funding.manage`
raises PermissionDenied.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from partnerships.models import MOU, FundingKind, FundingSource, Partner
from schools.capabilities import can
from schools.models import Membership
from schools.tenancy import outside, require_same_district


def _check(by: Membership) -> None:
    if not can(by, "funding.manage"):
        raise PermissionDenied


def _validate(*, district, kind, amount, start_date, end_date, partners, mous) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in FundingKind.values:
        errors["kind"] = [_("Choose a kind of funding.")]
    if amount is None or amount < 0:
        errors["amount"] = [_("Enter an amount of zero or more.")]
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = [_("The end date must be on or after the start date.")]
    if outside(district, list(partners)):
        errors["partners"] = [_("Choose among your district's partners.")]
    if outside(district, list(mous)):
        errors["mous"] = [_("Choose among your district's MOUs.")]
    if errors:
        raise ValidationError(errors)


FUNDING_FIELDS = ("kind", "funder", "amount", "start_date", "end_date", "restrictions")


@transaction.atomic
def funding_save(
    *,
    by: Membership,
    funding: FundingSource | None = None,
    kind: str,
    funder: str,
    amount: Decimal,
    start_date: date,
    end_date: date,
    restrictions: str = "",
    partners: list[Partner] = (),
    mous: list[MOU] = (),
) -> FundingSource:
    """Record a funding source of the acting member's district (funding=None), or change
    one (from an access helper: the acting member's district), with what it pays for."""
    _check(by)
    if funding is None:
        funding = FundingSource(district_id=by.district_id)
    else:
        require_same_district(by, funding)
    partners, mous = list(partners), list(mous)
    _validate(
        district=by.district,
        kind=kind,
        amount=amount,
        start_date=start_date,
        end_date=end_date,
        partners=partners,
        mous=mous,
    )
    funding.kind = kind
    funding.funder = funder.strip()
    funding.amount = amount
    funding.start_date = start_date
    funding.end_date = end_date
    funding.restrictions = restrictions.strip()
    if funding.pk is None:
        funding.save()
    else:
        funding.save(update_fields=[*FUNDING_FIELDS, "updated_at"])
    links = {"district_id": funding.district_id}
    funding.partners.set(partners, through_defaults=links)
    funding.mous.set(mous, through_defaults=links)
    return funding
