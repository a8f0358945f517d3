"""MOU PDFs: rendered in the reports queue, readable, honest about signatures, downloadable
only by those who may see the MOU."""

from __future__ import annotations

import datetime
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pypdf import PdfReader

from core import pdf
from partnerships.models import MOUDocument
from partnerships.mou_rules import MOU_SECTIONS
from partnerships.services import documents
from partnerships.services.documents import mou_pdf_request
from partnerships.tasks import render_mou_pdf, requeue_stuck_mou_pdfs
from schools.tenancy import tenant_context
from tests.factories import (
    MembershipFactory,
    MOUDocumentFactory,
    MOUFactory,
    MOUSignatureFactory,
    MOUVersionFactory,
    PartnerFactory,
    enable_totp,
)

TERMS = {
    "title": "Counselling at North High",
    "district": "North Valley Unified",
    "partner": "Riverbend Family Services",
    "schools": [{"id": 1, "name": "North High School"}],
    "services": ["counselling_individual", "crisis_intervention"],
    "start_date": "2025-08-01",
    "end_date": "2026-07-31",
    "response_days": 3,
    "shared_fields": ["name", "grade"],
    "self_consent_age": 12,
}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def mou(district):
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    return MOUFactory(district=district, partner=partner, title="Counselling at North High")


@pytest.fixture
def version(district, mou):
    sections = {key: f"The parties agree on {key} with {{partner}}." for key, _ in MOU_SECTIONS}
    return MOUVersionFactory(district=district, mou=mou, number=1, sections=sections, terms=TERMS)


def signed_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def render(district, version, by, capture):
    with capture(execute=True), tenant_context(district):
        document = mou_pdf_request(by=by, version=version)
    with tenant_context(district):
        document.refresh_from_db()
    return document


# --- The PDF itself ------------------------------------------------------------------------


def test_pdf_has_letterhead_headings_terms_and_page_numbers_and_says_draft_unsigned(
    district, member, version, django_capture_on_commit_callbacks
):
    coordinator = member("coordinator")

    document = render(district, version, coordinator, django_capture_on_commit_callbacks)

    assert document.status == MOUDocument.Status.READY, document.error
    data = bytes(document.pdf)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "North Valley Unified" in text
    for _key, heading in MOU_SECTIONS:
        assert str(heading) in text
    assert "The parties agree on purpose with Riverbend Family Services." in text  # placeholder
    assert "Counseling, individual" in text  # terms, as people read them
    assert "Page 1 of" in text
    assert "DRAFT" in text
    assert "Not signed yet." in text


def test_pdf_shows_recorded_signatures_and_drops_draft_once_both_parties_signed(
    district, member, version, django_capture_on_commit_callbacks
):
    coordinator = member("coordinator")
    signed = datetime.datetime(2025, 7, 20, 15, 30, tzinfo=datetime.UTC)
    MOUSignatureFactory(
        district=district,
        version=version,
        party="partner",
        name="Rosa Delgado",
        title="Executive Director",
        signed_at=signed,
    )
    half = render(district, version, coordinator, django_capture_on_commit_callbacks)
    half_text = pdf_text(bytes(half.pdf))
    assert "Rosa Delgado" in half_text
    assert "DRAFT" in half_text  # one signature is not enough

    MOUSignatureFactory(
        district=district,
        version=version,
        party="district",
        name="Alan Brooks",
        title="Superintendent",
        signed_at=signed + timedelta(days=1),
    )
    full = render(district, version, coordinator, django_capture_on_commit_callbacks)

    text = pdf_text(bytes(full.pdf))
    assert "DRAFT" not in text
    assert "Rosa Delgado" in text and "Executive Director" in text
    assert "Alan Brooks" in text and "Superintendent" in text
    # The time in the district's zone (America/Chicago: 15:30 UTC is 10:30 AM).
    assert "July 20, 2025, 10:30 AM" in text
    assert "Signed version 1" in text
    with tenant_context(district):  # the newer PDF replaces the older one of the version
        assert list(MOUDocument.objects.filter(version=version)) == [full]


def test_section_text_is_escaped_and_cannot_fetch_anything(
    district, member, mou, django_capture_on_commit_callbacks, monkeypatch
):
    fetched = []
    original = pdf._static_only_fetcher_class()
    monkeypatch.setattr(
        original, "fetch", lambda self, url, headers=None: fetched.append(url) or 1 / 0
    )
    sections = {"purpose": '<img src="http://example.org/x.png"> <b>bold</b>'}
    version = MOUVersionFactory(district=district, mou=mou, sections=sections)

    document = render(district, version, member("coordinator"), django_capture_on_commit_callbacks)

    assert document.status == MOUDocument.Status.READY
    assert '<img src="http://example.org/x.png">' in pdf_text(bytes(document.pdf))
    assert all("example.org" not in url for url in fetched)


def test_a_document_over_the_page_limit_fails_with_a_reason(
    district, member, version, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(documents, "MAX_PAGES", 1)

    document = render(district, version, member("coordinator"), django_capture_on_commit_callbacks)

    assert document.status == MOUDocument.Status.FAILED
    assert document.error == documents.ERROR_TOO_LONG
    assert document.pdf is None


def test_a_rendering_error_fails_the_document_instead_of_looping(
    district, member, version, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(documents, "mou_version_pdf", broken)

    document = render(district, version, member("coordinator"), django_capture_on_commit_callbacks)

    assert document.status == MOUDocument.Status.FAILED
    assert document.error == documents.ERROR_RENDER


def test_rendering_twice_is_harmless(district, member, version, django_capture_on_commit_callbacks):
    document = render(district, version, member("coordinator"), django_capture_on_commit_callbacks)
    first = bytes(document.pdf)

    assert render_mou_pdf(district.pk, document.pk) is False

    with tenant_context(district):
        document.refresh_from_db()
    assert document.status == MOUDocument.Status.READY
    assert bytes(document.pdf) == first


def test_asking_again_while_queued_returns_the_same_document(district, member, version):
    coordinator = member("coordinator")
    with tenant_context(district):
        first = mou_pdf_request(by=coordinator, version=version)
        second = mou_pdf_request(by=coordinator, version=version)

    assert first.pk == second.pk


def test_asking_twice_for_the_same_version_makes_one_render(
    client, district, member, version, django_capture_on_commit_callbacks
):
    coordinator = member("coordinator")
    prepare = f"/{district.slug}/mous/versions/{version.pk}/pdf/"
    signed_in(client, coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(prepare)  # rendered: ready

    for person in (coordinator, member("viewer")):  # the same version, the same language
        signed_in(client, person)
        with django_capture_on_commit_callbacks() as enqueued:
            response = client.post(prepare, follow=True)
        assert enqueued == []
        assert "ready to download" in response.content.decode()
    with tenant_context(district):
        assert MOUDocument.objects.filter(version=version).count() == 1


def test_a_signature_after_the_pdf_makes_a_new_render(
    district, member, version, django_capture_on_commit_callbacks
):
    coordinator = member("coordinator")
    first = render(district, version, coordinator, django_capture_on_commit_callbacks)
    MOUSignatureFactory(district=district, version=version, party="partner", name="Rosa")

    second = render(district, version, coordinator, django_capture_on_commit_callbacks)

    assert second.pk != first.pk and "Rosa" in pdf_text(bytes(second.pdf))


def test_pdf_requests_are_limited_per_person_with_a_message(
    client, district, member, mou, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    limit = documents.PDF_REQUESTS_PER_MINUTE
    versions = [
        MOUVersionFactory(district=district, mou=mou, number=n) for n in range(1, limit + 3)
    ]
    prepare = f"/{district.slug}/mous/versions/{{}}/pdf/"
    first = signed_in(client, member("coordinator"))

    for item in versions[:limit]:
        assert client.post(prepare.format(item.pk)).status_code == 302
    refused = client.post(prepare.format(versions[limit].pk), follow=True)
    htmx = client.post(prepare.format(versions[limit].pk), HTTP_HX_REQUEST="true")

    assert refused.status_code == 200 and "Wait a minute" in refused.content.decode()
    assert htmx.status_code == 200 and "Wait a minute" in htmx.content.decode()
    with tenant_context(district):
        assert MOUDocument.objects.filter(version__mou=mou).count() == limit
    signed_in(client, member("coordinator"))  # someone else is not held up
    assert client.post(prepare.format(versions[limit].pk)).status_code == 302
    time_machine.shift(timedelta(seconds=61))  # nor is the first person, a minute later
    signed_in(client, first)
    assert client.post(prepare.format(versions[limit + 1].pk)).status_code == 302
    with tenant_context(district):
        assert MOUDocument.objects.filter(version__mou=mou).count() == limit + 2


def test_render_task_goes_to_the_reports_queue_with_time_limits():
    from config.celery import app

    route = app.amqp.router.route({}, render_mou_pdf.name)

    assert render_mou_pdf.name == "partnerships.tasks.render_mou_pdf"
    assert route["queue"].name == "reports"
    assert render_mou_pdf.soft_time_limit == pdf.SOFT_TIME_LIMIT
    assert render_mou_pdf.time_limit == pdf.TIME_LIMIT < 3600  # under the visibility


# --- Lost messages ---------------------------------------------------------------------------


def test_sweep_requeues_documents_stuck_in_queued(
    district, version, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    stuck = MOUDocumentFactory(district=district, version=version)
    time_machine.shift(timedelta(minutes=6))
    fresh = MOUDocumentFactory(district=district, version=version)
    time_machine.shift(timedelta(minutes=5))  # stuck: 11 minutes; fresh: 5

    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stuck_mou_pdfs() == 1

    with tenant_context(district):
        stuck.refresh_from_db()
        fresh.refresh_from_db()
    assert stuck.status == MOUDocument.Status.READY
    assert fresh.status == MOUDocument.Status.QUEUED


def test_sweep_gives_up_on_a_document_queued_for_hours(district, version, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    document = MOUDocumentFactory(district=district, version=version)
    time_machine.shift(documents.GIVE_UP_AFTER + timedelta(minutes=1))

    requeue_stuck_mou_pdfs()

    with tenant_context(district):
        document.refresh_from_db()
    assert document.status == MOUDocument.Status.FAILED
    assert document.error == documents.ERROR_GAVE_UP


# --- Pages -----------------------------------------------------------------------------------


def test_coordinator_prepares_and_downloads_a_pdf(
    client, district, member, version, django_capture_on_commit_callbacks
):
    signed_in(client, member("coordinator"))
    prepare = f"/{district.slug}/mous/versions/{version.pk}/pdf/"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(prepare)

    assert response.status_code == 302
    panel = client.get(response["Location"])
    assert panel.status_code == 200
    with tenant_context(district):
        document = MOUDocument.objects.get(version=version)
    download_url = f"/{district.slug}/mous/documents/{document.pk}/download/"
    assert download_url in panel.content.decode()
    download = client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="counselling-at-north-high-v1.pdf"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_panel_polls_while_preparing_and_stops_when_ready(
    client, district, member, version, django_capture_on_commit_callbacks
):
    signed_in(client, member("coordinator"))
    htmx = {"HTTP_HX_REQUEST": "true"}

    queued = client.post(f"/{district.slug}/mous/versions/{version.pk}/pdf/", **htmx)

    assert queued.status_code == 200
    html = queued.content.decode()
    assert 'hx-trigger="every 2s"' in html and "<html" not in html
    assert "Being prepared" in html
    with tenant_context(district):
        document = MOUDocument.objects.get(version=version)
    with django_capture_on_commit_callbacks(execute=True):
        render_mou_pdf(district.pk, document.pk)
    ready = client.get(f"/{district.slug}/mous/{version.mou_id}/pdf/", **htmx)
    assert "every 2s" not in ready.content.decode()
    assert f"/mous/documents/{document.pk}/download/" in ready.content.decode()


def test_a_document_not_ready_redirects_to_the_panel(client, district, member, version):
    signed_in(client, member("coordinator"))
    document = MOUDocumentFactory(district=district, version=version)

    response = client.get(f"/{district.slug}/mous/documents/{document.pk}/download/")

    assert response.status_code == 302
    assert response["Location"] == f"/{district.slug}/mous/{version.mou_id}/pdf/"


def ready_document(district, version):
    return MOUDocumentFactory(
        district=district, version=version, status="ready", pdf=b"%PDF-1.7 test"
    )


def test_roles_without_mous_view_are_refused(client, district, member, version):
    document = ready_document(district, version)
    signed_in(client, member("counselor"))

    assert client.get(f"/{district.slug}/mous/{version.mou_id}/pdf/").status_code == 403
    assert client.post(f"/{district.slug}/mous/versions/{version.pk}/pdf/").status_code == 403
    download = f"/{district.slug}/mous/documents/{document.pk}/download/"
    assert client.get(download).status_code == 403


def test_another_districts_admin_gets_404(client, district, other_district, version):
    document = ready_document(district, version)
    signed_in(client, MembershipFactory(district=other_district, role="admin"))

    for path in (
        f"/{district.slug}/mous/{version.mou_id}/pdf/",
        f"/{district.slug}/mous/documents/{document.pk}/download/",
        f"/{other_district.slug}/mous/{version.mou_id}/pdf/",
        f"/{other_district.slug}/mous/documents/{document.pk}/download/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/{other_district.slug}/mous/versions/{version.pk}/pdf/").status_code == 404


def test_a_partner_downloads_its_own_mou_only(client, district, member, mou, version):
    own = ready_document(district, version)
    other_version = MOUVersionFactory(district=district)  # another partner's MOU
    other = ready_document(district, other_version)
    draft_version = MOUVersionFactory(district=district, mou__partner=mou.partner)
    with tenant_context(district):
        draft_version.mou.status = "draft"
        draft_version.mou.save(update_fields=["status"])
    draft = ready_document(district, draft_version)
    signed_in(client, member("partner", partner=mou.partner))

    assert client.get(f"/{district.slug}/mous/documents/{own.pk}/download/").status_code == 200
    assert client.get(f"/{district.slug}/mous/documents/{other.pk}/download/").status_code == 404
    assert client.get(f"/{district.slug}/mous/documents/{draft.pk}/download/").status_code == 404
    assert client.get(f"/{district.slug}/mous/{other_version.mou_id}/pdf/").status_code == 404
    assert client.post(f"/{district.slug}/mous/versions/{other_version.pk}/pdf/").status_code == 404


def test_panel_costs_the_same_queries_with_one_version_or_many(
    client, district, member, mou, count_queries
):
    signed_in(client, member("coordinator"))
    first = MOUVersionFactory(district=district, mou=mou, number=1)
    ready_document(district, first)
    url = f"/{district.slug}/mous/{mou.pk}/pdf/"
    client.get(url)  # warm the session and caches

    few = count_queries(lambda: client.get(url))
    for number in range(2, 12):
        version = MOUVersionFactory(district=district, mou=mou, number=number)
        ready_document(district, version)
        MOUSignatureFactory(district=district, version=version)
    many = count_queries(lambda: client.get(url))

    assert many == few


def test_the_service_refuses_a_partner_a_version_it_may_not_read(district, member, mou, version):
    """Without the view's access helper: another organization's MOU, or a version saved
    after the last send, is refused by mou_pdf_request itself and nothing is queued."""
    other_version = MOUVersionFactory(district=district)  # another partner's MOU
    internal = MOUVersionFactory(district=district, mou=mou, number=2)  # saved between sends
    MOUVersionFactory(district=district, mou=mou, number=3, sent_at=timezone.now())
    partner = member("partner", partner=mou.partner)
    with tenant_context(district):
        version.sent_at = timezone.now()
        version.save(update_fields=["sent_at"])
        for refused in (other_version, internal):
            with pytest.raises(PermissionDenied):
                mou_pdf_request(by=partner, version=refused)
        assert not MOUDocument.objects.filter(version__in=[other_version, internal]).exists()
        assert mou_pdf_request(by=partner, version=version).version_id == version.pk
