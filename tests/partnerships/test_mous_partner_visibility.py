"""What stays inside the district: a partner sees its MOUs only once sent, and of their
versions only those sent to it (or signed), on every page that shows one: the
organisation page, the MOU page (`?version=`), the version list, compare, PDFs and the
emailed link. The district's staff still see everything; another district, nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partnerships.models import MOUVersion
from partnerships.services.mous.drafting import mou_section_update
from partnerships.services.mous.workflow import mou_link_resend, mou_partner_comment
from schools.tenancy import tenant_context
from tests.factories import MOUDocumentFactory
from tests.partnerships.mou_setup import Cast, advance, draft, person, review_links

INTERNAL = "ZEBRA-internal-costing"  # one word: the compare page marks words
FINAL = "OKAPI-final-costing"


@pytest.fixture
def cast(district):
    return Cast(district)


def signed_in(client, membership):
    client.force_login(membership.user)
    return client


def url(name, mou, *args):
    return reverse(name, args=[mou.district.slug, mou.pk, *args])


def version(mou, number) -> MOUVersion:
    with tenant_context(mou.district_id):
        return MOUVersion.objects.get(mou=mou, number=number)


@pytest.fixture
def resent(cast):
    """Version 1 sent; the partner asks for changes; version 2 (internal) and version 3
    are saved; version 3 is approved and sent. The partner may read 1 and 3, not 2."""
    mou = draft(cast.coordinator, partner=cast.partner)
    advance(mou, cast, "sent")
    with tenant_context(cast.district):
        mou_partner_comment(
            by=cast.partner_member,
            mou=mou,
            version_number=1,
            author_name="Pat",
            comment="Please add Fridays.",
        )
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text=INTERNAL, based_on=1)
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text=FINAL, based_on=2)
    advance(mou, cast, "sent")
    return mou


def test_the_organisation_page_lists_no_draft_mous_to_the_partner(client, cast, other_district):
    sent = draft(cast.coordinator, partner=cast.partner, title="Sent agreement")
    advance(sent, cast, "sent")
    draft(cast.coordinator, partner=cast.partner, title="Secret draft agreement")
    own_page = reverse("partner_own", args=[cast.district.slug])
    detail = reverse("partner_detail", args=[cast.district.slug, cast.partner.pk])

    body = signed_in(client, cast.partner_member).get(own_page).content.decode()
    assert "Sent agreement" in body and "Secret draft agreement" not in body
    body = signed_in(client, cast.coordinator).get(detail).content.decode()
    assert "Sent agreement" in body and "Secret draft agreement" in body
    outsider = person(other_district, "admin")
    assert signed_in(client, outsider).get(detail).status_code == 404


def test_a_partner_reads_only_the_versions_sent_to_it(client, cast, other_district, resent):
    partner = signed_in(client, cast.partner_member)
    detail = url("mou_detail", resent)

    page = partner.get(detail).content.decode()
    assert FINAL in page and INTERNAL not in page
    assert "?version=1" in page and "?version=2" not in page
    assert partner.get(detail, {"version": "1"}).status_code == 200
    assert partner.get(detail, {"version": "2"}).status_code == 404

    staff = signed_in(client, cast.coordinator)
    assert "?version=2" in staff.get(detail).content.decode()
    assert INTERNAL in staff.get(detail, {"version": "2"}).content.decode()

    outsider = signed_in(client, person(other_district, "admin"))
    assert outsider.get(detail, {"version": "1"}).status_code == 404


def test_a_partner_compares_only_versions_sent_to_it(client, cast, other_district, resent):
    compare = url("mou_compare", resent)
    partner = signed_in(client, cast.partner_member)

    default = partner.get(compare).content.decode()
    assert FINAL in default and INTERNAL not in default  # 1 against 3
    for a, b in (("1", "2"), ("2", "3")):
        response = partner.get(compare, {"a": a, "b": b})
        assert response.status_code == 200 and INTERNAL not in response.content.decode()
    assert "Version 2" not in default  # not even offered

    staff = signed_in(client, cast.coordinator)
    assert INTERNAL in staff.get(compare, {"a": "1", "b": "2"}).content.decode()

    outsider = signed_in(client, person(other_district, "admin"))
    assert outsider.get(compare, {"a": "1", "b": "3"}).status_code == 404


def test_a_partner_gets_no_pdf_of_an_internal_version(client, cast, other_district, resent):
    internal = version(resent, 2)
    sent = version(resent, 3)
    internal_pdf = MOUDocumentFactory(
        district=cast.district, version=internal, status="ready", pdf=b"%PDF-1.7 internal"
    )
    sent_pdf = MOUDocumentFactory(
        district=cast.district, version=sent, status="ready", pdf=b"%PDF-1.7 sent"
    )
    slug = cast.district.slug
    download = "/{}/mous/documents/{}/download/"
    prepare = "/{}/mous/versions/{}/pdf/"
    panel = f"/{slug}/mous/{resent.pk}/pdf/"

    partner = signed_in(client, cast.partner_member)
    assert partner.get(download.format(slug, sent_pdf.pk)).status_code == 200
    assert partner.get(download.format(slug, internal_pdf.pk)).status_code == 404
    assert partner.post(prepare.format(slug, internal.pk)).status_code == 404
    listed = partner.get(panel).content.decode()
    assert f"/versions/{sent.pk}/pdf/" in listed or str(sent_pdf.pk) in listed
    assert f"/versions/{internal.pk}/pdf/" not in listed
    assert f"/documents/{internal_pdf.pk}/" not in listed

    staff = signed_in(client, cast.coordinator)
    assert staff.get(download.format(slug, internal_pdf.pk)).status_code == 200
    assert f"/documents/{internal_pdf.pk}/" in staff.get(panel).content.decode()

    outsider = signed_in(client, person(other_district, "admin"))
    assert outsider.get(download.format(slug, sent_pdf.pk)).status_code == 404


def test_the_emailed_link_never_shows_an_internal_version(client, cast, resent):
    links = [link.replace("http://testserver", "") for link in review_links()]
    assert len(links) >= 2  # the first send (version 1) and the second (version 3)
    for path in links:
        body = client.get(path).content.decode()
        assert INTERNAL not in body and FINAL in body


def test_sending_records_the_version_sent(cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    assert version(mou, 1).sent_at is None
    advance(mou, cast, "sent")
    assert version(mou, 1).sent_at is not None
    with tenant_context(cast.district):
        mou_link_resend(by=cast.coordinator, mou=mou)
    assert version(mou, 1).sent_at is not None


# --- Signing twice through the link ----------------------------------------------------------


def test_signing_twice_through_the_link_says_already_signed(client, cast):
    mou = draft(cast.coordinator, partner=cast.partner)
    advance(mou, cast, "sent")
    (path,) = [link.replace("http://testserver", "") for link in review_links()][:1]
    data = {"name": "Lee Link", "title": "CEO", "agree": "on", "version": "1"}

    assert "You signed" in client.post(path + "sign/", data).content.decode()
    again = client.post(path + "sign/", data)

    assert again.status_code == 200
    body = again.content.decode()
    assert "Already signed" in body and "has already signed" in body
    assert cast.district.name in body
    with tenant_context(cast.district):
        mou.refresh_from_db()
    advance(mou, cast, "active")  # the district signs too: the link still says so
    assert "Already signed" in client.post(path + "sign/", data).content.decode()
