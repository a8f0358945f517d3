"""The renewal sweep: statuses follow the calendar, and each 60- and 30-day notice is sent
exactly once, even when two sweeps run at the same time."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connections
from django.utils import translation

from partnerships.models import MOURenewalNotice, MOUStatus
from partnerships.services import renewals
from partnerships.tasks import mou_renewal_sweep
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    DistrictFactory,
    MembershipFactory,
    MOUFactory,
    PartnerFactory,
    UserFactory,
)

END = datetime.date(2026, 6, 30)


def at(day: datetime.date) -> datetime.datetime:
    """Mid-morning in Chicago (the factories' district zone) on `day`."""
    return datetime.datetime.combine(day, datetime.time(15, 0), tzinfo=datetime.UTC)


@pytest.fixture
def setting(district):
    """An active MOU ending on END; two coordinators (English, Spanish), the partner's
    leadership contact (Spanish) and an intake contact who is not told."""
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    MembershipFactory(
        district=district, role="coordinator", user=UserFactory(email="ana@north.example.org")
    )
    MembershipFactory(
        district=district,
        role="coordinator",
        user=UserFactory(email="luis@north.example.org", preferred_language="es"),
    )
    MembershipFactory(district=district, role="counselor")  # not told
    ContactFactory(
        district=district,
        partner=partner,
        email="director@riverbend.example.org",
        roles=["leadership"],
        preferred_language="Spanish",
    )
    ContactFactory(
        district=district, partner=partner, email="intake@riverbend.example.org", roles=["intake"]
    )
    mou = MOUFactory(
        district=district,
        partner=partner,
        status=MOUStatus.ACTIVE,
        start_date=datetime.date(2025, 7, 1),
        end_date=END,
    )
    return mou


RECIPIENTS = sorted(
    [["ana@north.example.org"], ["luis@north.example.org"], ["director@riverbend.example.org"]]
)


def sweep(capture):
    with capture(execute=True):
        return mou_renewal_sweep()


def emails():
    return sorted(m.to for m in OutgoingEmail.objects.order_by("pk"))


def notices(district):
    with tenant_context(district):
        return sorted(
            MOURenewalNotice.objects.values_list("days_before", "end_date").order_by("days_before")
        )


def status(district, mou):
    with tenant_context(district):
        mou.refresh_from_db()
    return mou.status


def test_sixty_and_thirty_day_notices_are_sent_once_each(
    district, setting, time_machine, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    time_machine.move_to(at(END - datetime.timedelta(days=61)), tick=False)
    assert sweep(capture) == 0
    assert emails() == [] and status(district, setting) == MOUStatus.ACTIVE

    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)
    assert sweep(capture) == 1
    assert emails() == RECIPIENTS
    assert status(district, setting) == MOUStatus.EXPIRING
    assert sweep(capture) == 0  # the same hour again
    time_machine.move_to(at(END - datetime.timedelta(days=45)), tick=False)
    assert sweep(capture) == 0
    assert len(emails()) == 3

    time_machine.move_to(at(END - datetime.timedelta(days=30)), tick=False)
    assert sweep(capture) == 1
    assert sweep(capture) == 0
    assert emails() == sorted(RECIPIENTS * 2)
    assert notices(district) == [(30, END), (60, END)]

    time_machine.move_to(at(END + datetime.timedelta(days=1)), tick=False)
    assert sweep(capture) == 0
    assert status(district, setting) == MOUStatus.EXPIRED
    assert len(emails()) == 6


def test_an_mou_first_seen_within_thirty_days_gets_only_the_thirty_day_notice(
    district, setting, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(END - datetime.timedelta(days=20)), tick=False)

    assert sweep(django_capture_on_commit_callbacks) == 1
    assert sweep(django_capture_on_commit_callbacks) == 0

    assert notices(district) == [(30, END)]
    assert len(emails()) == 3


def test_a_renewal_with_a_new_end_date_is_noticed_again_and_active_again(
    district, setting, time_machine, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)
    sweep(capture)
    new_end = END + datetime.timedelta(days=365)
    with tenant_context(district):
        setting.end_date = new_end
        setting.save(update_fields=["end_date"])

    sweep(capture)
    assert status(district, setting) == MOUStatus.ACTIVE

    time_machine.move_to(at(new_end - datetime.timedelta(days=60)), tick=False)
    assert sweep(capture) == 1
    assert notices(district) == [(60, END), (60, new_end)]


def test_the_day_follows_the_districts_time_zone(
    district, setting, time_machine, django_capture_on_commit_callbacks
):
    # 03:00 UTC on the 60th day before is still the day before in Chicago.
    sixty_before = END - datetime.timedelta(days=60)
    time_machine.move_to(
        datetime.datetime.combine(sixty_before, datetime.time(3, 0), tzinfo=datetime.UTC),
        tick=False,
    )
    assert sweep(django_capture_on_commit_callbacks) == 0

    time_machine.move_to(at(sixty_before), tick=False)
    assert sweep(django_capture_on_commit_callbacks) == 1


def test_emails_go_out_in_each_recipients_language(
    district, setting, time_machine, django_capture_on_commit_callbacks, monkeypatch
):
    from core import mail

    languages = {}
    real = mail.render_to_string

    def spy(template, context):
        if template.endswith("subject.txt"):
            languages.setdefault(context["audience"], set()).add(translation.get_language())
        return real(template, context)

    monkeypatch.setattr(mail, "render_to_string", spy)
    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)

    sweep(django_capture_on_commit_callbacks)

    assert languages == {"district": {"en", "es"}, "partner": {"es"}}


def test_emails_name_no_student_and_say_when_the_mou_ends(
    district, setting, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)

    sweep(django_capture_on_commit_callbacks)

    message = OutgoingEmail.objects.filter(to=["ana@north.example.org"]).get()
    assert message.subject == "MOU with Riverbend Family Services ends in 60 days"


def test_a_sweep_that_finds_nothing_costs_the_same_few_queries(
    district, member, count_queries, time_machine
):
    time_machine.move_to(at(END - datetime.timedelta(days=200)), tick=False)
    member("coordinator")

    def run():
        renewals.mou_renewal_sweep_district(district=district)

    none = count_queries(run)
    for _ in range(20):
        MOUFactory(district=district, end_date=END)  # far from its end
    many = count_queries(run)

    assert none == many <= 3  # set the district, one indexed read, restore


def test_one_districts_sweep_does_not_touch_another(
    district, other_district, setting, time_machine, django_capture_on_commit_callbacks
):
    theirs = MOUFactory(district=other_district, end_date=END + datetime.timedelta(days=300))
    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)

    assert sweep(django_capture_on_commit_callbacks) == 1

    assert notices(other_district) == []
    assert status(other_district, theirs) == MOUStatus.ACTIVE


# --- Two sweeps at once ----------------------------------------------------------------------


def _run_concurrently(district_id: int, today: datetime.date, *, before_claim=None) -> list:
    """Two threads, each with its own database connection, sweep the same district."""
    results, errors = [], []

    def work():
        from schools.models import District

        try:
            district = District.objects.get(pk=district_id)
            results.append(renewals.mou_renewal_sweep_district(district=district, today=today))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_exactly_once_because_the_claim_is_unique(monkeypatch):
    """Both sweeps read "no notice yet", then both try to claim: the unique row lets one."""
    district = DistrictFactory(slug="north-concurrent")
    MembershipFactory(district=district, role="coordinator")
    partner = PartnerFactory(district=district)
    ContactFactory(district=district, partner=partner, roles=["leadership"])
    mou = MOUFactory(district=district, partner=partner, status=MOUStatus.EXPIRING, end_date=END)
    both_read = threading.Barrier(2, timeout=20)
    claim = renewals._claim
    claims = []

    def claim_after_both_read(*args, **kwargs):
        both_read.wait()  # both sweeps have seen no claim: the database must decide
        won = claim(*args, **kwargs)
        claims.append(won)
        return won

    monkeypatch.setattr(renewals, "_claim", claim_after_both_read)

    results = _run_concurrently(district.pk, END - datetime.timedelta(days=59))

    assert sorted(claims) == [False, True]
    assert sorted(r.notices for r in results) == [0, 1]
    assert OutgoingEmail.objects.count() == 2  # the coordinator and the contact, once
    with tenant_context(district):
        assert MOURenewalNotice.objects.filter(mou=mou).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_whole_sweeps_at_once_move_the_status_once_and_send_once():
    district = DistrictFactory(slug="north-concurrent-2")
    MembershipFactory(district=district, role="coordinator")
    mou = MOUFactory(district=district, status=MOUStatus.ACTIVE, end_date=END)

    results = _run_concurrently(district.pk, END - datetime.timedelta(days=50))

    assert sorted(r.expiring for r in results) == [0, 1]
    assert sorted(r.notices for r in results) == [0, 1]
    assert OutgoingEmail.objects.count() == 1
    with tenant_context(district):
        mou.refresh_from_db()
        assert mou.status == MOUStatus.EXPIRING


def test_a_contact_who_unsubscribed_gets_no_more_notices(
    client, district, setting, time_machine, django_capture_on_commit_callbacks, settings
):
    import re

    from django.core import mail

    settings.SITE_URL = "https://trellis.example.org"

    capture = django_capture_on_commit_callbacks
    time_machine.move_to(at(END - datetime.timedelta(days=60)), tick=False)
    sweep(capture)
    to_contact = next(m for m in mail.outbox if m.to == ["director@riverbend.example.org"])
    to_staff = next(m for m in mail.outbox if m.to == ["ana@north.example.org"])
    assert "/p/unsubscribe/" not in to_staff.body  # staff have accounts, not links
    link = re.search(r"https://trellis.example.org(/p/unsubscribe/\S+/)", to_contact.body).group(1)

    # A GET alone changes nothing; the page is in the contact's language, as the mail was.
    assert "Darse de baja" in client.get(link).content.decode()
    assert client.post(link).status_code == 200

    time_machine.move_to(at(END - datetime.timedelta(days=30)), tick=False)
    assert sweep(capture) == 1
    assert emails() == sorted(RECIPIENTS + [["ana@north.example.org"], ["luis@north.example.org"]])
