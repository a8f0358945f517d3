"""Setting up MOUs for the MOU tests, through the services (as people would)."""

from __future__ import annotations

import datetime
import re

from django.core import mail

from partnerships.models import MOU, MOUStatus
from partnerships.mou_rules import sample_answers
from partnerships.selectors.mous import current_version
from partnerships.services.mous.drafting import mou_create
from partnerships.services.mous.workflow import mou_approve, mou_sign, mou_submit
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    SchoolFactory,
    enable_totp,
)

LINK = re.compile(r"https?://[^\s\"<>]+/p/mous/review/[^\s\"<>/]+/")


def person(district, role, **kwargs):
    """A member of `district` in `role`; administrators get an authenticator (MFA)."""
    membership = MembershipFactory(district=district, role=role, **kwargs)
    if role == "admin":
        enable_totp(membership.user)
    return membership


def draft(by, *, partner=None, title="Counselling at North High", **terms) -> MOU:
    """A draft MOU (version 1 from the shipped template), drafted by `by`, ready to submit:
    a school of its own and the template's bracketed choices answered (sample_answers),
    unless `schools` / `answers` say otherwise (`answers={}`: none answered)."""
    district = by.district
    partner = partner or PartnerFactory(district=district)
    values = {
        "start_date": datetime.date(2025, 8, 1),
        "end_date": datetime.date(2026, 7, 31),
        "response_days": 5,
        "services": ["counselling_individual"],
        "shared_fields": ["name", "grade"],
    }
    values.update(terms)
    if "schools" not in values:  # a term left empty shows as "[schools]", which blocks
        values["schools"] = [SchoolFactory(district=district)]
    if "answers" not in values:
        values["answers"] = sample_answers(values.get("language") or district.default_language)
    with tenant_context(district):
        return mou_create(by=by, partner=partner, title=title, **values)


class Cast:
    """The people of one MOU's workflow in one district."""

    def __init__(self, district, partner=None):
        self.district = district
        self.partner = partner or PartnerFactory(district=district)
        self.coordinator = person(district, "coordinator")
        self.admin = person(district, "admin")
        self.partner_member = person(district, "partner", partner=self.partner)
        self.contact = ContactFactory(district=district, partner=self.partner, roles=["leadership"])


def advance(mou: MOU, cast: Cast, to: str) -> MOU:
    """Drive the MOU through the workflow, as the right people, up to status `to`."""
    order = [
        MOUStatus.DRAFT,
        MOUStatus.INTERNAL_REVIEW,
        MOUStatus.SENT,
        MOUStatus.PARTNER_SIGNED,
        MOUStatus.ACTIVE,
    ]
    with tenant_context(mou.district_id):
        while order.index(mou.status) < order.index(to):
            version = current_version(mou).number
            if mou.status == MOUStatus.DRAFT:
                mou_submit(by=cast.coordinator, mou=mou)
            elif mou.status == MOUStatus.INTERNAL_REVIEW:
                mou_approve(by=cast.admin, mou=mou)
            elif mou.status == MOUStatus.SENT:
                mou_sign(
                    by=cast.partner_member,
                    mou=mou,
                    version_number=version,
                    name="Pat Partner",
                    title="Director",
                    ip_address="192.0.2.1",
                )
            elif mou.status == MOUStatus.PARTNER_SIGNED:
                mou_sign(
                    by=cast.admin,
                    mou=mou,
                    version_number=version,
                    name="Ada Admin",
                    title="Superintendent",
                    ip_address="192.0.2.2",
                )
    return mou


def force_status(mou: MOU, status: str) -> MOU:
    """Put an MOU straight into a status (test set-up only; people go through services)."""
    with tenant_context(mou.district_id):
        MOU.objects.filter(pk=mou.pk).update(status=status)
        mou.refresh_from_db()
    return mou


def review_links() -> list[str]:
    """The partner review links mailed so far (stored rows, or sent mail)."""
    bodies = [m.body_text for m in OutgoingEmail.objects.order_by("pk")]
    bodies += [m.body for m in mail.outbox]
    return [link for body in bodies for link in LINK.findall(body)]
