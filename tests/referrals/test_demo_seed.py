"""The demo shows referrals at every step, and seeding it twice changes nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from referrals.models import (
    Consent,
    ConsentRequest,
    ConsentRevocation,
    Disclosure,
    EmergencyOverride,
    Referral,
    VerbalAgreement,
)
from schools.models import District
from schools.tenancy import tenant_context

pytestmark = pytest.mark.django_db(transaction=False)


def _counts(district):
    with tenant_context(district):
        referrals = Referral.objects.for_district(district)
        return {
            "draft": referrals.filter(status="draft").count(),
            "sent": referrals.filter(status="sent").count(),
            "consultations_sent": referrals.filter(status="sent", shared_fields=[]).count(),
            "consents": Consent.objects.for_district(district).count(),
            "revoked": ConsentRevocation.objects.for_district(district).count(),
            "overrides": EmergencyOverride.objects.for_district(district).count(),
            "verbal": VerbalAgreement.objects.for_district(district).count(),
            "requests": ConsentRequest.objects.for_district(district)
            .filter(status="pending")
            .count(),
            "disclosures": Disclosure.objects.for_district(district).count(),
        }


def test_demo_has_referrals_at_every_step_and_reseeding_adds_nothing(settings, tmp_path):
    settings.LOCAL_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    district = District.objects.get(slug="demo")
    first = _counts(district)

    assert first["draft"] >= 3  # a consultation, one waiting for consent, one with a note
    assert first["sent"] >= 4
    assert first["consultations_sent"] >= 1
    assert first["consents"] >= 2
    assert first["revoked"] == 1
    assert first["overrides"] == 1
    assert first["verbal"] == 1
    assert first["requests"] == 1  # the Morales family has a consent request waiting
    # Every identifiable send wrote its disclosure: consent, emergency, then revoked consent.
    assert first["disclosures"] == 3

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts(district) == first


def test_demo_loop_has_every_step_some_overdue_and_closed_days(settings, tmp_path):
    from referrals.models import ReferralStatus, ReferralStep
    from schools.models import ClosedDay

    settings.LOCAL_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    district = District.objects.get(slug="demo")
    today = district.today()
    with tenant_context(district):
        referrals = Referral.objects.for_district(district)
        statuses = set(referrals.values_list("status", flat=True))
        assert set(ReferralStatus.values) <= statuses
        overdue = [r for r in referrals.filter(status="sent") if r.is_overdue(today)]
        assert len(overdue) >= 2
        assert referrals.filter(no_shows__gt=0).exists()
        assert referrals.filter(status="scheduled", appointment_on__lt=today).exists()
        # Every referral past draft has its timeline, starting with "sent".
        for referral in referrals.exclude(status="draft").exclude(sent_at=None):
            kinds = list(
                ReferralStep.objects.for_district(district)
                .filter(referral=referral)
                .values_list("kind", flat=True)
            )
            assert kinds and kinds[0] == "sent"
        assert ClosedDay.objects.for_district(district).count() >= 10
        steps = ReferralStep.objects.for_district(district).count()
        from referrals.models import HelpRequest

        help_statuses = set(
            HelpRequest.objects.for_district(district).values_list("status", flat=True)
        )
        assert help_statuses == {"new", "linked", "referred", "closed"}

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with tenant_context(district):
        assert ReferralStep.objects.for_district(district).count() == steps
