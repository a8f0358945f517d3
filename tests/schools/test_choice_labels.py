"""get_<field>_display() on the project's models: the label of the stored value in the
language active when asked (Django's result, from a dict made once per field)."""

from __future__ import annotations

from django.db.models import Model
from django.utils import translation

from referrals.models import Referral, ReferralStatus, Urgency


def djangos(instance, name: str) -> str:
    """What Django's own get_<name>_display() says."""
    return Model._get_FIELD_display(instance, instance._meta.get_field(name))


def test_each_value_has_djangos_label_in_the_active_language():
    for status in ReferralStatus:
        referral = Referral(status=status, urgency=Urgency.URGENT)
        for language in ("en", "es"):
            with translation.override(language):
                assert referral.get_status_display() == djangos(referral, "status")
                assert referral.get_urgency_display() == djangos(referral, "urgency")
    with translation.override("es"):
        assert Referral(status=ReferralStatus.SENT).get_status_display() == "Enviado"
    with translation.override("en"):
        assert Referral(status=ReferralStatus.SENT).get_status_display() == "Sent"


def test_a_value_that_is_not_a_choice_shows_as_it_is():
    assert Referral(status="legacy_code").get_status_display() == "legacy_code"
    assert Referral(status="").get_status_display() == ""
