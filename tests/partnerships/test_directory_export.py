"""The HSDS export in the `reports` queue: asked for, prepared by the worker, followed on a
progress page, downloaded by the district that made it; a failure said in words."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from partnerships.models import DirectoryExport
from partnerships.services import exports as service
from partnerships.tasks import render_directory_export
from schools.tenancy import tenant_context
from tests.partnerships.directory_setup import make_partner, person, read, signed_in
from tests.worker import (
    own_queue,
    start_worker,
    stop_worker,
    sweep_hands_over_then_gives_up,
    wait_while,
)


def ask(client, district):
    """POST for an export; the response (the task is not run: its commit is not reached)."""
    return client.post(reverse("partner_export", args=[district.slug]))


def ask_and_run(client, district):
    """POST for an export, the task run once the request commits (eagerly, in tests)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return ask(client, district)


def progress_url(district, export_id):
    return reverse("partner_export_progress", args=[district.slug, export_id])


def download_url(district, export_id):
    return reverse("partner_export_download", args=[district.slug, export_id])


def exports(district):
    return read(district, lambda: list(DirectoryExport.objects.order_by("pk")))


def organizations(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("organizations.csv").decode("utf-8")


# --- Asking, following, downloading ------------------------------------------------------------


def test_a_coordinator_asks_then_follows_the_progress_page_to_the_download(client, district):
    make_partner(district, name="Harbor Counseling")
    signed_in(client, person(district, "coordinator"))

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        asked = ask(client, district)
    (export,) = exports(district)
    assert asked["Location"] == progress_url(district, export.pk)
    assert export.status == "queued" and len(callbacks) == 1  # enqueued once committed

    waiting = client.get(progress_url(district, export.pk)).content.decode()
    assert "being prepared" in waiting
    assert 'aria-live="polite"' in waiting and 'hx-trigger="every 2s"' in waiting
    assert '<meta http-equiv="refresh"' in waiting  # without JavaScript, it reloads
    assert download_url(district, export.pk) not in waiting
    # Not ready yet: the download leads back to the progress page.
    assert client.get(download_url(district, export.pk))["Location"] == progress_url(
        district, export.pk
    )

    callbacks[0]()  # the enqueue: the task runs (eagerly, in tests)

    done = client.get(progress_url(district, export.pk)).content.decode()
    assert download_url(district, export.pk) in done
    assert "every 2s" not in done and "http-equiv" not in done
    zipped = client.get(download_url(district, export.pk))
    assert zipped["Content-Type"] == "application/zip"
    assert 'filename="north-directory-hsds.zip"' in zipped["Content-Disposition"]
    assert "Harbor Counseling" in organizations(zipped.content)


def test_htmx_polls_the_fragment_until_it_answers_286(client, district):
    signed_in(client, person(district, "counselor"))
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        ask(client, district)
    (export,) = exports(district)
    htmx = {"HX-Request": "true"}

    waiting = client.get(progress_url(district, export.pk), headers=htmx)
    assert waiting.status_code == 200 and "<html" not in waiting.content.decode()

    callbacks[0]()
    done = client.get(progress_url(district, export.pk), headers=htmx)
    assert done.status_code == 286  # htmx stops polling, and still shows the answer
    assert download_url(district, export.pk) in done.content.decode()


def test_two_requests_while_one_is_prepared_make_one_export(client, district):
    signed_in(client, person(district, "coordinator"))
    first = ask(client, district)
    second = ask(client, district)

    assert first["Location"] == second["Location"]
    assert len(exports(district)) == 1


def test_a_failure_is_said_on_the_progress_page_not_as_an_error_page(client, district, monkeypatch):
    def broken(district):
        raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(service, "hsds_export", broken)
    signed_in(client, person(district, "coordinator"))

    asked = ask_and_run(client, district)
    page = client.get(asked["Location"])

    (export,) = exports(district)
    assert export.status == "failed" and export.package is None
    assert page.status_code == 200
    text = page.content.decode()
    assert "The export could not be prepared." in text and "Try again" in text
    assert client.get(download_url(district, export.pk)).status_code == 302


def test_a_database_error_while_building_still_marks_the_export_failed(
    client, district, monkeypatch
):
    """A statement that fails (a timeout, say) aborts the transaction: the build runs in a
    savepoint, so the row is still marked failed and the page says so."""
    from django.db import connection

    def timed_out(district):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    monkeypatch.setattr(service, "hsds_export", timed_out)
    signed_in(client, person(district, "coordinator"))

    page = client.get(ask_and_run(client, district)["Location"])

    (export,) = exports(district)
    assert export.status == "failed"
    assert "The export could not be prepared." in page.content.decode()


# --- Who may ------------------------------------------------------------------------------------


def test_a_partner_may_not_ask_or_follow_and_the_helper_says_404(client, district):
    from django.http import Http404

    from partnerships.selectors.exports import access_directory_export

    signed_in(client, person(district, "coordinator"))
    export_id = ask_and_run(client, district)["Location"].rstrip("/").rsplit("/", 1)[1]
    partner = person(district, "partner")
    signed_in(client, partner)

    assert ask(client, district).status_code == 403
    assert client.get(progress_url(district, export_id)).status_code == 403
    assert client.get(download_url(district, export_id)).status_code == 403
    with tenant_context(district), pytest.raises(Http404):
        access_directory_export(partner, int(export_id))


def test_the_download_is_only_for_the_district_that_made_it(client, district, other_district):
    make_partner(district, name="Ours")
    signed_in(client, person(district, "viewer"))  # any reader of the directory
    export_id = int(ask_and_run(client, district)["Location"].rstrip("/").rsplit("/", 1)[1])
    assert "Ours" in organizations(client.get(download_url(district, export_id)).content)

    signed_in(client, person(other_district, "coordinator"))

    # Through their own district: no such export. Through ours: not their district.
    assert client.get(download_url(other_district, export_id)).status_code == 404
    assert client.get(progress_url(other_district, export_id)).status_code == 404
    assert client.get(download_url(district, export_id)).status_code == 404


# --- Lost messages, old exports, the queue ------------------------------------------------------


def test_the_sweep_hands_over_a_lost_export_then_gives_up(district, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    coordinator = person(district, "coordinator")
    with tenant_context(district):
        export = service.directory_export_request(by=coordinator)  # message never sent
    sweep = lambda: service.directory_exports_requeue_stuck(district=district)  # noqa: E731

    sweep_hands_over_then_gives_up(district, time_machine, sweep, service)
    with tenant_context(district):
        export.refresh_from_db()
    assert export.status == "failed" and "not prepared in time" in export.error


def test_a_new_export_drops_the_finished_ones_older_than_a_day(district, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    coordinator = person(district, "coordinator")
    with tenant_context(district):
        old = service.directory_export_request(by=coordinator)
        service.directory_export_build(export_id=old.pk)
    time_machine.shift(service.KEEP_FOR + timedelta(hours=1))
    with tenant_context(district):
        new = service.directory_export_request(by=coordinator)
        assert service.directory_export_build(export_id=new.pk) is True
        assert service.directory_export_build(export_id=new.pk) is False  # ran once

    assert [e.pk for e in exports(district)] == [new.pk]


def test_the_task_goes_to_the_reports_queue():
    route = app.amqp.router.route({}, render_directory_export.name)
    assert route["queue"].name == "reports"


# --- End to end: a real worker against Redis ----------------------------------------------------


def test_a_real_worker_prepares_the_export_the_page_then_offers(
    client, district, transactional_db, tmp_path, broker, monkeypatch
):
    make_partner(district, name="Harbor Counseling")
    queue = own_queue(monkeypatch, service, render_directory_export)
    worker = start_worker(queues=queue, outbox=tmp_path / "outbox")
    try:
        signed_in(client, person(district, "coordinator"))
        progress = ask(client, district)["Location"]
        wait_while(worker, lambda: exports(district)[0].status == "queued")
    finally:
        output = stop_worker(worker)
    (export,) = exports(district)
    assert export.status == "ready", output[-3000:]
    page = client.get(progress).content.decode()
    assert download_url(district, export.pk) in page
    assert "Harbor Counseling" in organizations(
        client.get(download_url(district, export.pk)).content
    )
