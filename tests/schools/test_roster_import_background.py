"""The roster confirmation in the `reports` queue: queued by the button, written whole by the
worker as the person who confirmed, followed on a progress page; a failure said in words."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django.utils import timezone

from config.celery import app
from schools.models import RosterImport
from schools.services import roster_queue as service
from schools.tasks import run_roster_import
from schools.tenancy import tenant_context
from tests.factories import StudentFactory
from tests.schools.test_roster_import import (
    csv_bytes,
    latest_import,
    page_text,
    simple_row,
    students,
    upload,
)
from tests.worker import (
    own_queue,
    start_worker,
    stop_worker,
    sweep_hands_over_then_gives_up,
    wait_while,
)


@pytest.fixture
def coordinator(client, member):
    membership = member("coordinator")
    client.force_login(membership.user)
    return membership


def detail_url(district, roster_import):
    return f"/{district.slug}/students/import/{roster_import.pk}/"


def progress_url(district, roster_import):
    return f"/{district.slug}/students/import/{roster_import.pk}/progress/"


def press_import(client, district, roster_import):
    return client.post(detail_url(district, roster_import), {"action": "confirm"})


def test_confirming_queues_the_import_and_the_progress_page_follows_it(
    client, district, coordinator
):
    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", "Ben", "Okafor")]))
    preview = latest_import(district)

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        pressed = press_import(client, district, preview)

    assert pressed["Location"] == progress_url(district, preview)
    assert len(callbacks) == 1 and students(district) == {}  # nothing until the worker runs
    queued = latest_import(district)
    assert queued.status == "queued" and queued.confirmed_by_id == coordinator.pk
    waiting = page_text(client.get(progress_url(district, preview)))
    assert "being imported" in waiting
    assert 'aria-live="polite"' in waiting and 'hx-trigger="every 2s"' in waiting
    assert '<meta http-equiv="refresh"' in waiting
    # A second press changes nothing and queues nothing more.
    with TestCase.captureOnCommitCallbacks(execute=False) as again:
        assert press_import(client, district, preview)["Location"] == progress_url(
            district, preview
        )
    assert again == []

    callbacks[0]()  # the enqueue: the task runs (eagerly, in tests)

    assert set(students(district)) == {"S1", "S2"}
    done = client.get(progress_url(district, preview), headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert "Roster imported. New students: 2; updated: 0." in page_text(done)
    assert "every 2s" not in page_text(client.get(progress_url(district, preview)))


def test_a_failure_in_the_worker_is_said_on_the_progress_page(client, district, coordinator):
    """The worker cannot write the rows (here: rows it cannot read): nothing is written, the
    page says so in words, in the reader's language, never as an error page."""
    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", "Ben", "Okafor")]))
    preview = latest_import(district)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        press_import(client, district, preview)
    with tenant_context(district):
        RosterImport.objects.filter(pk=preview.pk).update(rows=[["broken"]])

    callbacks[0]()

    failed = latest_import(district)
    assert failed.status == "failed" and failed.rows == []
    assert failed.failure == service.FAILURE_UNEXPECTED  # stored in English...
    assert students(district) == {}
    page = client.get(progress_url(district, preview), headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert "La importación falló y no se importó nada." in page_text(page)  # ...read in Spanish


def test_a_person_who_lost_the_right_to_import_imports_nothing(client, district, coordinator):
    """The worker imports as the person who confirmed, with the rights they have then."""
    upload(client, district, csv_bytes([simple_row("S1")]))
    preview = latest_import(district)
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        press_import(client, district, preview)
    coordinator.role = "viewer"
    with tenant_context(district):
        coordinator.save(update_fields=["role"])

    callbacks[0]()

    failed = latest_import(district)
    assert (failed.status, failed.failure) == ("failed", service.FAILURE_NOT_ALLOWED)
    assert students(district) == {}


def test_a_counselor_and_another_district_cannot_follow_the_import(
    client, district, other_district, coordinator, member
):
    upload(client, district, csv_bytes([simple_row("S1")]))
    preview = latest_import(district)
    press_import(client, district, preview)
    url = progress_url(district, preview)

    client.force_login(member("counselor").user)
    assert client.get(url).status_code == 403
    client.force_login(member("coordinator", in_district=other_district).user)
    assert client.get(url).status_code == 404
    assert client.get(progress_url(other_district, preview)).status_code == 404


def test_the_sweep_hands_over_a_lost_import_then_gives_up(
    client, district, coordinator, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    upload(client, district, csv_bytes([simple_row("S1")]))
    press_import(client, district, latest_import(district))  # the message never sent
    sweep = lambda: service.roster_imports_requeue_stuck(district=district)  # noqa: E731

    sweep_hands_over_then_gives_up(district, time_machine, sweep, service)
    gave_up = latest_import(district)
    assert gave_up.status == "failed" and gave_up.failure == service.FAILURE_GAVE_UP
    assert gave_up.rows == []


def test_the_task_goes_to_the_reports_queue():
    assert app.amqp.router.route({}, run_roster_import.name)["queue"].name == "reports"


def test_a_real_worker_imports_the_roster_the_page_then_shows(
    client, district, member, transactional_db, tmp_path, broker, monkeypatch
):
    coordinator = member("coordinator")
    client.force_login(coordinator.user)
    StudentFactory(district=district, local_id="S2", first_name="Old")
    upload(client, district, csv_bytes([simple_row("S1"), simple_row("S2", "Ben", "Okafor")]))
    preview = latest_import(district)
    queue = own_queue(monkeypatch, service, run_roster_import)
    worker = start_worker(queues=queue, outbox=tmp_path / "outbox")
    try:
        progress = press_import(client, district, preview)["Location"]
        wait_while(worker, lambda: latest_import(district).status == "queued")
    finally:
        output = stop_worker(worker)
    assert latest_import(district).status == "imported", output[-3000:]
    assert students(district)["S2"].first_name == "Ben"
    assert "Roster imported. New students: 1; updated: 1." in page_text(client.get(progress))
