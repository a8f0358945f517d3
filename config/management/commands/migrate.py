"""`migrate` as the owner role, then grant the runtime role its data privileges."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from config.db import as_owner, grant_runtime_privileges


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Runs as the database owner role (DATABASE_OWNER_URL)."

    def handle(self, *args, **options):
        with as_owner(options["database"]) as connection:
            super().handle(*args, **options)
            grant_runtime_privileges(connection)
