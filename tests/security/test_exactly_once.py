"""Exactly-once claims, tested at the same moment (issue 8, item 5).

Two threads, each on its own database connection, start together (a Barrier) and try to
claim the same side effect. The winner then holds its transaction open until the other
has tried: until the other has finished, or is seen waiting on a lock in pg_locks. So the
second attempt is made while the first claim is uncommitted, which is the moment a lock or
a unique constraint must decide; one after the other, a plain status check would pass too.

- the outbox (schools.services.email.email_send): SELECT ... FOR UPDATE SKIP LOCKED on the
  message row; the mail backend's send is where the winner waits;
- renewal notices (partnerships.services.renewals): the MOURenewalNotice row and its
  unique constraint, claimed inside the sweep's district transaction.

A later sweep that must act once gets a test here in the same form.
"""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections

from schools.models import OutgoingEmail

WAIT = 10  # seconds: only reached when something is wrong


class Race:
    """Two threads on their own connections, started together; each knows the other."""

    def __init__(self, work, threads=2):
        self.work = work
        self.start = threading.Barrier(threads, timeout=WAIT)
        self.finished = {f"racer-{i}": threading.Event() for i in range(threads)}
        self.results, self.errors = [None] * threads, []

    def _run(self, index):
        try:
            self.start.wait()
            self.results[index] = self.work()
        except Exception as exc:  # reported in the test's thread
            self.errors.append(exc)
        finally:
            self.finished[threading.current_thread().name].set()
            connections.close_all()  # this thread's own connection

    def run(self) -> list:
        pool = [
            threading.Thread(target=self._run, args=(i,), name=name)
            for i, name in enumerate(self.finished)
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=3 * WAIT)
        assert not any(thread.is_alive() for thread in pool), "a thread hung"
        assert not self.errors, self.errors
        return self.results

    def other_has_tried(self) -> bool:
        """Called inside the first claimer's open transaction: wait until the other racer
        has finished, or is blocked by this connection's locks. False after WAIT seconds."""
        me = threading.current_thread().name
        others = [event for name, event in self.finished.items() if name != me]
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if all(event.is_set() for event in others):
                return True
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                )
                if cursor.fetchone()[0]:
                    return True
            time.sleep(0.02)
        return False


# --- The outbox --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_message_at_once_send_it_once(monkeypatch):
    from schools.services.email import email_send

    message = OutgoingEmail.objects.create(
        to=["someone@example.org"], from_email="trellis@example.org", subject="Hi", body_text="x"
    )
    mail.outbox = []
    race = Race(lambda: email_send(email_id=message.pk))
    overlapped, first_sender = [], threading.Lock()
    real_send = EmailBackend.send_messages

    def send_while_the_other_tries(self, messages):
        # The first sender holds its transaction (and its row lock) open until the other
        # worker has tried; a second sender (possible only without the lock) goes straight on.
        if first_sender.acquire(blocking=False):
            overlapped.append(race.other_has_tried())
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_while_the_other_tries)

    results = race.run()

    assert len(mail.outbox) == 1
    assert sorted(results) == [False, True]
    assert overlapped == [True], "the second worker did not try while the first was sending"
    message.refresh_from_db()
    assert message.status == OutgoingEmail.Status.SENT and message.attempts == 1


# --- Renewal notices ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_renewal_sweeps_claiming_at_once_send_each_notice_once(monkeypatch):
    from partnerships.models import MOURenewalNotice, MOUStatus
    from partnerships.services import renewals
    from schools.models import District
    from schools.tenancy import tenant_context
    from tests.factories import (
        ContactFactory,
        DistrictFactory,
        MembershipFactory,
        MOUFactory,
        PartnerFactory,
    )

    end = datetime.date(2026, 6, 30)
    district = DistrictFactory(slug="race")
    coordinator = MembershipFactory(district=district, role="coordinator")
    partner = PartnerFactory(district=district)
    contact = ContactFactory(district=district, partner=partner, roles=["leadership"])
    mou = MOUFactory(district=district, partner=partner, status=MOUStatus.EXPIRING, end_date=end)
    mail.outbox = []

    def sweep():
        here = District.objects.get(pk=district.pk)
        today = end - datetime.timedelta(days=59)
        return renewals.mou_renewal_sweep_district(district=here, today=today)

    race = Race(sweep)
    claims, overlapped = [], []
    both_read = threading.Barrier(2, timeout=WAIT)
    real_claim = renewals._claim

    def claim_together(*args, **kwargs):
        both_read.wait()  # both sweeps have read "no notice yet": the database decides
        won = real_claim(*args, **kwargs)
        claims.append(won)
        if won:  # hold the uncommitted claim until the other sweep has tried its own
            overlapped.append(race.other_has_tried())
        return won

    monkeypatch.setattr(renewals, "_claim", claim_together)

    results = race.run()

    assert sorted(claims) == [False, True]
    assert overlapped == [True], "the second sweep did not claim during the first"
    assert sorted(r.notices for r in results) == [0, 1]
    with tenant_context(district):
        assert MOURenewalNotice.objects.filter(mou=mou).count() == 1
    expected = sorted([coordinator.user.email, contact.email])
    assert sorted(to for m in OutgoingEmail.objects.all() for to in m.to) == expected
    assert sorted(to for m in mail.outbox for to in m.to) == expected
