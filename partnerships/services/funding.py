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

from partnerships.models import MOU, FundingKind, FundingMOU, FundingPartner, FundingSource, Partner
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


def _set_links(funding: FundingSource, partners: list[Partner], mous: list[MOU]) -> None:
    district_id = funding.district_id
    FundingPartner.objects.filter(district_id=district_id, funding=funding).exclude(
        partner__in=partners
    ).delete()
    FundingMOU.objects.filter(district_id=district_id, funding=funding).exclude(
        mou__in=mous
    ).delete()
    FundingPartner.objects.bulk_create(
        [FundingPartner(district_id=district_id, funding=funding, partner=p) for p in partners],
        ignore_conflicts=True,
    )
    FundingMOU.objects.bulk_create(
        [FundingMOU(district_id=district_id, funding=funding, mou=m) for m in mous],
        ignore_conflicts=True,
    )


@transaction.atomic
def funding_create(
    *,
    by: Membership,
    kind: str,
    funder: str,
    amount: Decimal,
    start_date: date,
    end_date: date,
    restrictions: str = "",
    partners: list[Partner] = (),
    mous: list[MOU] = (),
) -> FundingSource:
    """Record a funding source of the acting member's district, with what it pays for."""
    _check(by)
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
    funding = FundingSource.objects.create(
        district_id=by.district_id,
        kind=kind,
        funder=funder.strip(),
        amount=amount,
        start_date=start_date,
        end_date=end_date,
        restrictions=restrictions.strip(),
    )
    _set_links(funding, partners, mous)
    return funding


@transaction.atomic
def funding_update(
    *,
    by: Membership,
    funding: FundingSource,
    kind: str,
    funder: str,
    amount: Decimal,
    start_date: date,
    end_date: date,
    restrictions: str = "",
    partners: list[Partner] = (),
    mous: list[MOU] = (),
) -> FundingSource:
    """Change a funding source (one from an access helper: the acting member's district)."""
    _check(by)
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
    funding.save(
        update_fields=[
            "kind",
            "funder",
            "amount",
            "start_date",
            "end_date",
            "restrictions",
            "updated_at",
        ]
    )
    _set_links(funding, partners, mous)
    return funding
