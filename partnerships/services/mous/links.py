"""The partner's review link: a signed link (core.signed.SignedLink) to the version sent,
which a partner contact without an account uses to read, sign or comment."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial

from core.signed import BadLink, ExpiredLink, SignedLink, payload_id, payload_int
from partnerships.models import MOU, MOUVersion

MOU_LINK_SALT = "trellis.partnerships.mou-review"
MOU_LINK_VALID_FOR = datetime.timedelta(days=30)


@dataclass(frozen=True)
class MOULinkClaim:
    district_id: int
    mou_id: int
    version_number: int


class MOULinkExpired(Exception):
    def __init__(self, district_id: int | None):
        super().__init__("expired MOU link")
        self.district_id = district_id


MOU_LINK = SignedLink(
    salt=MOU_LINK_SALT,
    fields={"d": payload_id, "m": payload_id, "v": partial(payload_int, minimum=1)},
    max_age=MOU_LINK_VALID_FOR,
    url_name="mou_review_link",
)


def _link_payload(mou: MOU, version: MOUVersion) -> dict:
    return {"d": mou.district_id, "m": mou.pk, "v": version.number}


def mou_link_token(mou: MOU, version: MOUVersion) -> str:
    """The signed part of the partner's link: district, MOU and the version sent."""
    return MOU_LINK.make(**_link_payload(mou, version))


def mou_link(mou: MOU, version: MOUVersion) -> str:
    """The partner's review link, on SITE_URL."""
    return MOU_LINK.url(**_link_payload(mou, version))


def mou_pdf_link(mou: MOU, version: MOUVersion) -> str:
    """The executed PDF of a version through the partner's link (the same signature and
    age limit as the review link), on SITE_URL: for a contact who signed without an
    account."""
    from django.urls import reverse

    from core.mail import absolute_url

    return absolute_url(reverse("mou_review_link_pdf", args=[mou_link_token(mou, version)]))


def mou_link_claim_read(token: str) -> MOULinkClaim | None:
    """What a link claims if its signature holds and it is fresh; None if tampered.

    Raises MOULinkExpired (with the district, so the page can say whom to ask) when the
    signature holds but the link is older than MOU_LINK_VALID_FOR; an expired link whose
    payload does not pass its checks is not valid (None), like any other.
    """
    try:
        data = MOU_LINK.read(token)
    except ExpiredLink as expired:
        raise MOULinkExpired(expired.payload["d"]) from None
    except BadLink:
        return None
    return MOULinkClaim(data["d"], data["m"], data["v"])


def mou_for_claim(claim: MOULinkClaim) -> MOU | None:
    """The MOU a verified claim names; call inside tenant_context(claim.district_id)."""
    return (
        MOU.objects.select_related("district", "partner")
        .filter(district_id=claim.district_id, pk=claim.mou_id)
        .first()
    )
