"""The people of the meeting tests: a New York district's coordinator (Carla) and a partner
(Riverbend) whose contact Rita reads Spanish and receives meeting reminders."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.factories import ContactFactory, MembershipFactory, PartnerFactory, UserFactory

NY = ZoneInfo("America/New_York")


def make_cast(district):
    """(partner, coordinator, contact) in `district`, now on New York time (each test file's
    `cast` fixture)."""
    district.time_zone = NY
    district.save(update_fields=["time_zone"])
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    coordinator = MembershipFactory(
        district=district,
        role="coordinator",
        user=UserFactory(full_name="Carla Coordinator", email="carla@north.example.org"),
    )
    contact = ContactFactory(
        district=district,
        partner=partner,
        name="Rita Rivers",
        email="rita@riverbend.example.org",
        preferred_language="es",
        reminders=True,
    )
    return partner, coordinator, contact
