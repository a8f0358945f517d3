"""Create Trellis's database roles and database on a server you run (compose, CI, cloud).

    DATABASE_SUPERUSER_URL=postgres://postgres:pw@host/postgres ./manage.py db_bootstrap

Role names and passwords are taken from DATABASE_URL (runtime role), DATABASE_OWNER_URL
(owner) and DATABASE_MAINTENANCE_ROLE; safe to run on every start.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import embedded


class Command(BaseCommand):
    help = "Create the owner, runtime and maintenance roles and the database (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--superuser-url",
            default=settings.DATABASE_SUPERUSER_URL,
            help="a superuser connection (default: DATABASE_SUPERUSER_URL)",
        )

    def handle(self, *args, superuser_url, **options):
        if settings.EMBEDDED_POSTGRES:
            self.stdout.write("The embedded PostgreSQL bootstraps itself; nothing to do.")
            return
        if not superuser_url:
            raise CommandError("DATABASE_SUPERUSER_URL (or --superuser-url) is required")
        default = settings.DATABASES["default"]
        roles = settings.DATABASE_ROLE_NAMES
        passwords = {
            roles["runtime"]: default["PASSWORD"],
            roles["owner"]: settings.DATABASE_OWNER["PASSWORD"],
        }
        embedded.bootstrap_database(
            superuser_url,
            database=default["NAME"],
            owner=roles["owner"],
            runtime=roles["runtime"],
            maintenance=roles["maintenance"],
            passwords={role: pw for role, pw in passwords.items() if pw},
        )
        self.stdout.write(
            f"Roles {', '.join(roles.values())} and database {default['NAME']} are ready."
        )
