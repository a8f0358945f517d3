"""The partner's MOU review link: a correctly signed payload is still checked before use."""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import reverse

from partnerships.services.mous.links import MOU_LINK_SALT
from tests.partnerships.mou_setup import Cast, advance, draft

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "payload",
    [{"d": 2**70}, {"m": 2**70}, {"v": 2**63}, {"d": -1}, {"m": 0}, {"v": "1"}, {"m": True}],
)
@pytest.mark.parametrize(
    "name", ["mou_review_link", "mou_review_link_sign", "mou_review_link_comment"]
)
def test_a_signed_link_carrying_an_out_of_range_value_is_not_valid(client, district, payload, name):
    cast = Cast(district)
    mou = advance(draft(cast.coordinator, partner=cast.partner), cast, "sent")
    claims = {"d": district.pk, "m": mou.pk, "v": 1, **payload}
    path = reverse(name, args=[signing.dumps(claims, salt=MOU_LINK_SALT)])

    response = client.get(path) if name == "mou_review_link" else client.post(path, {})

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_an_expired_link_with_an_out_of_range_value_is_not_valid_either(
    client, district, time_machine
):
    from django.utils import timezone

    from partnerships.services.mous.links import MOU_LINK_VALID_FOR

    claims = {"d": 2**70, "m": 1, "v": 1}
    path = reverse("mou_review_link", args=[signing.dumps(claims, salt=MOU_LINK_SALT)])
    time_machine.move_to(timezone.now() + MOU_LINK_VALID_FOR + MOU_LINK_VALID_FOR)

    response = client.get(path)

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
