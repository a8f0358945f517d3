"""core.signed.SignedLink: one way to sign and read a link, the payload checked before use.

The first half tests the class; the second sends every link kind of the product (the
registry in tests/security/test_signed_links.py) correctly signed payloads that must not
be used: an id past PostgreSQL's bigint, a boolean or a string where an id belongs, a
zero or negative id, a missing field. Each must get the kind's "not valid" page and
change nothing, fresh or expired.
"""

from __future__ import annotations

import datetime
import zlib
from functools import partial

import pytest
import time_machine
from django.core import signing
from django.test import Client

from core.signed import BadLink, ExpiredLink, SignedLink, payload_id, payload_int, payload_str
from tests.security.test_signed_links import LINKS, START, assert_page, requests_with

SALT = "trellis.tests.core-signed"
DAY = datetime.timedelta(days=1)


def link(**options) -> SignedLink:
    fields = {"d": payload_id, "n": partial(payload_str, pattern=r"[a-z]{1,8}")}
    return SignedLink(salt=SALT, fields=fields, **options)


# --- The class -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"max_age": DAY}, {}, {"timestamped": False}, {"compress": True}],
    ids=["aged", "ageless", "untimestamped", "compressed"],
)
def test_a_link_reads_back_what_it_was_made_with(options):
    kind = link(**options)

    assert kind.read(kind.make(d=7, n="abc")) == {"d": 7, "n": "abc"}


def test_tokens_keep_django_signings_formats_so_links_already_sent_still_work():
    payload = {"d": 7, "n": "abc"}

    assert link(max_age=DAY).read(signing.dumps(payload, salt=SALT)) == payload
    assert link(compress=True).read(signing.dumps(payload, salt=SALT, compress=True)) == payload
    old = signing.Signer(salt=SALT).sign_object(payload)
    assert link(timestamped=False).read(old) == payload
    assert link(timestamped=False).make(**payload) == old  # the same link, every time


def test_only_the_declared_fields_come_back():
    token = signing.dumps({"d": 7, "n": "abc", "admin": True}, salt=SALT)

    assert link().read(token) == {"d": 7, "n": "abc"}


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a:b:c",
        "é:ü",
        signing.dumps({"d": 7, "n": "abc"}, salt=SALT + ".other"),
        signing.dumps({"d": 7, "n": "abc"}, salt=SALT, key="another-key-" + "x" * 40),
        signing.dumps({"d": 7, "n": "abc"}, salt=SALT)[:-3],
        # Signed with our key and salt, yet not made by SignedLink: not base64, not zlib,
        # not JSON, no timestamp.
        signing.TimestampSigner(salt=SALT).sign("!!!"),
        signing.TimestampSigner(salt=SALT).sign(signing.b64_encode(b"{not json").decode()),
        signing.Signer(salt=SALT).sign_object({"d": 7, "n": "abc"}),
        None,
        12,
    ],
    # Named by position: a timestamped token in an id would differ between pytest-xdist
    # workers that collect on either side of a second, and the run would stop.
    ids=lambda token: None if token is None or isinstance(token, int) else str(len(str(token))),
)
def test_anything_but_a_genuine_token_is_a_bad_link(token):
    with pytest.raises(BadLink) as refused:
        link(max_age=DAY).read(token)

    assert not isinstance(refused.value, ExpiredLink)


@pytest.mark.parametrize(
    "payload",
    [
        {"d": 2**63, "n": "abc"},  # past bigint: a database error, so a 500
        {"d": 2**70, "n": "abc"},
        {"d": True, "n": "abc"},  # True == 1: would name row 1
        {"d": "7", "n": "abc"},
        {"d": 7.0, "n": "abc"},
        {"d": 0, "n": "abc"},
        {"d": -1, "n": "abc"},
        {"d": None, "n": "abc"},
        {"n": "abc"},
        {"d": 7, "n": "ABC; DROP"},
        {"d": 7, "n": ["abc"]},
        [7, "abc"],
        "7",
        None,
    ],
)
@pytest.mark.parametrize("timestamped", [True, False])
def test_a_genuine_signature_over_a_bad_payload_is_a_bad_link(payload, timestamped):
    signer = signing.TimestampSigner if timestamped else signing.Signer
    token = signer(salt=SALT).sign_object(payload)

    with pytest.raises(BadLink):
        link(timestamped=timestamped).read(token)


def test_an_expired_link_says_so_with_its_checked_payload():
    kind = link(max_age=DAY)
    with time_machine.travel(START, tick=False):
        token = kind.make(d=7, n="abc")

    with time_machine.travel(START + DAY - datetime.timedelta(seconds=1), tick=False):
        assert kind.read(token) == {"d": 7, "n": "abc"}
    with (
        time_machine.travel(START + DAY + datetime.timedelta(seconds=1), tick=False),
        pytest.raises(ExpiredLink) as expired,
    ):
        kind.read(token)

    assert expired.value.payload == {"d": 7, "n": "abc"}


def test_an_expired_link_with_a_bad_payload_is_not_valid_rather_than_expired():
    with time_machine.travel(START, tick=False):
        token = signing.dumps({"d": 2**70, "n": "abc"}, salt=SALT)

    with time_machine.travel(START + 2 * DAY, tick=False), pytest.raises(BadLink) as refused:
        link(max_age=DAY).read(token)

    assert not isinstance(refused.value, ExpiredLink)


def test_a_link_without_an_age_limit_works_years_later():
    kind = link()
    with time_machine.travel(START, tick=False):
        token = kind.make(d=7, n="abc")

    with time_machine.travel(START + 3650 * DAY, tick=False):
        assert kind.read(token) == {"d": 7, "n": "abc"}


@pytest.mark.parametrize(
    "payload",
    [{"d": 2**63, "n": "abc"}, {"d": True, "n": "abc"}, {"d": 7}, {"d": 7, "n": "abc", "x": 1}],
)
def test_nothing_is_signed_that_would_not_be_read_back(payload):
    with pytest.raises((ValueError, TypeError)):
        link().make(**payload)


def test_a_link_kind_needs_a_salt_of_its_own_and_fields():
    with pytest.raises(ValueError):
        SignedLink(salt="", fields={"d": payload_id})
    with pytest.raises(ValueError):
        SignedLink(salt=SALT, fields={})
    with pytest.raises(ValueError):
        SignedLink(salt=SALT, fields={"d": payload_id}, max_age=DAY, timestamped=False)


def test_zlib_damage_in_a_signed_token_is_a_bad_link():
    data = "." + signing.b64_encode(b"not zlib at all").decode()
    token = signing.TimestampSigner(salt=SALT).sign(data)
    with pytest.raises(zlib.error):  # what signing.loads itself raises for it
        signing.loads(token, salt=SALT)

    with pytest.raises(BadLink):
        link(compress=True).read(token)


# --- Every link kind of the product -------------------------------------------------------------


def signed_link_of(kind) -> SignedLink:
    """The SignedLink behind a registry entry (the registry itself signs as the product did
    before SignedLink, which is what keeps the formats compatible)."""
    from partnerships.services.directory import LISTING_LINK
    from partnerships.services.meetings import RESPONSE_LINK
    from partnerships.services.mous.links import MOU_LINK
    from partnerships.services.unsubscribe import UNSUBSCRIBE_LINK
    from referrals.services.consent_requests import CONSENT_REQUEST_LINK
    from referrals.services.intake import INTAKE_LINK
    from schools.services.people import INVITATION_LINK

    by_url = {
        "invitation_accept": INVITATION_LINK,
        "listing_verify": LISTING_LINK,
        "mou_review_link": MOU_LINK,
        "mou_review_link_sign": MOU_LINK,
        "mou_review_link_comment": MOU_LINK,
        "mou_review_link_pdf": MOU_LINK,
        "contact_unsubscribe": UNSUBSCRIBE_LINK,
        "econsent": CONSENT_REQUEST_LINK,
        "econsent_code": CONSENT_REQUEST_LINK,
        "econsent_sign": CONSENT_REQUEST_LINK,
        "intake": INTAKE_LINK,
        "intake_code": INTAKE_LINK,
        "intake_step": INTAKE_LINK,
        "meeting_response": RESPONSE_LINK,
    }
    return by_url[kind.name]


IDS = [kind.name for kind in LINKS]
BAD_IDS = {
    "past bigint": 2**63,
    "far past bigint": 2**70,
    "a boolean": True,
    "a string": "1",
    "zero": 0,
    "negative": -1,
    "null": None,
}


def test_every_link_kind_is_a_signed_link_with_the_registrys_salt():
    for kind in LINKS:
        assert signed_link_of(kind).salt == kind.salt
        assert signed_link_of(kind).max_age == kind.max_age


@pytest.mark.parametrize("kind", LINKS, ids=IDS)
def test_every_id_a_link_carries_is_checked_as_an_id(kind):
    ids = [key for key, check in signed_link_of(kind).fields.items() if check is payload_id]

    assert "d" in ids  # the district every link enters
    assert len(ids) >= 2  # and what it names in it


@pytest.mark.parametrize("kind", LINKS, ids=IDS)
def test_a_signed_payload_with_a_bad_id_gets_the_not_valid_page_and_changes_nothing(district, kind):
    made = kind.make(district)
    before = kind.state(made, district)
    ids = [key for key, check in signed_link_of(kind).fields.items() if check is payload_id]
    client = Client(raise_request_exception=False)

    for key in ids:
        for what, value in BAD_IDS.items():
            token = kind.sign({**made.payload, key: value})
            for method, response in requests_with(kind, client, token):
                assert_page(response, kind.invalid, f"{key} {what}, {method}")
                assert kind.state(made, district) == before, f"{key} {what}, {method}"
        token = kind.sign({k: v for k, v in made.payload.items() if k != key})
        for method, response in requests_with(kind, client, token):
            assert_page(response, kind.invalid, f"no {key}, {method}")

    # The genuine link works: the refusals above are the payload checks' doing.
    assert kind.succeeded(kind.use(client, made.token))


AGED = [kind for kind in LINKS if kind.max_age is not None]


@pytest.mark.parametrize("kind", AGED, ids=[kind.name for kind in AGED])
def test_an_expired_link_with_a_bad_id_is_not_valid_rather_than_expired(district, kind):
    client = Client(raise_request_exception=False)
    with time_machine.travel(START, tick=False):
        made = kind.make(district)
        token = kind.sign({**made.payload, "d": 2**70})
    before = kind.state(made, district)

    with time_machine.travel(START + kind.max_age + DAY, tick=False):
        for method, response in requests_with(kind, client, token):
            assert_page(response, kind.invalid, f"expired, bad id, {method}")
        assert kind.state(made, district) == before


def test_the_mou_version_is_checked_as_a_positive_whole_number(district):
    from partnerships.services.mous.links import MOU_LINK

    check = MOU_LINK.fields["v"]
    assert check({"v": 3}, "v") == 3
    for bad in (0, -1, True, "1", 2**31, 1.0):
        with pytest.raises(ValueError):
            check({"v": bad}, "v")
    assert payload_int({"v": 1}, "v", minimum=1) == 1
