"""Create the demo district, its schools and one person per role (idempotent)."""

from __future__ import annotations

import secrets
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from partnerships.models import Partner
from schools.models import District, Membership, Role, School, User
from schools.tenancy import tenant_context

DEMO_SLUG = "demo"
DEMO_SCHOOLS = ["Lincoln High School", "Roosevelt Middle School"]
DEMO_PEOPLE = [
    (Role.ADMIN, "Alex Admin"),
    (Role.COORDINATOR, "Casey Coordinator"),
    (Role.COUNSELOR, "Chris Counselor"),
    (Role.PARTNER, "Pat Partner"),
]


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_SLUG}.trellis.test"


def demo_password() -> str:
    """One random password for the demo people, kept in .local so reruns print the same."""
    path = Path(settings.LOCAL_DIR) / "demo-password"
    if path.exists():
        return path.read_text().strip()
    password = "demo-" + secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the demo district with two schools and one person per role (safe to rerun)."

    @transaction.atomic
    def handle(self, *args, **options):
        password = demo_password()
        district, created = District.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={"name": "Demo Unified School District", "time_zone": "America/Los_Angeles"},
        )
        with tenant_context(district):
            self._people(district, password)
        verb = "Created" if created else "Found"
        self.stdout.write(f"{verb} the demo district '{district.slug}'.")
        self.demo_logins = [(role.label, demo_email(role)) for role, _ in DEMO_PEOPLE]
        self.password = password

    def _people(self, district, password):
        for name in DEMO_SCHOOLS:
            School.objects.get_or_create(district=district, name=name)
        partner, _ = Partner.objects.get_or_create(district=district, name="Harbor Family Services")
        for role, full_name in DEMO_PEOPLE:
            email = demo_email(role)
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email, password, full_name=full_name)
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            Membership.objects.get_or_create(
                district=district,
                user=user,
                defaults={"role": role, "partner": partner if role == Role.PARTNER else None},
            )
