"""`manage.py seed_bench [--scale 1.0] [--seed 42] [--database trellis_bench]`: the
benchmark's synthetic data (tests/bench/seed), in a database of its own that is dropped,
created and migrated afresh on every run."""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Drop, recreate and migrate the benchmark database, then fill it with synthetic "
        "districts, schools, students, partners, MOUs and a year of access log."
    )

    def add_arguments(self, parser):
        from tests.bench.database import BENCH_DATABASE

        parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count")
        parser.add_argument("--seed", type=int, default=42, help="the random seed")
        parser.add_argument(
            "--database", default=BENCH_DATABASE, help=f"database name (default {BENCH_DATABASE})"
        )
        parser.add_argument(
            "--today",
            type=datetime.date.fromisoformat,
            default=None,
            help="the day the data is anchored on, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args, scale, seed, database, today, **options):
        from tests.bench.database import drop_database, use_database
        from tests.bench.seed import seed as build

        if scale <= 0:
            raise CommandError("--scale must be positive")
        if database == settings.DATABASES["default"]["NAME"]:
            raise CommandError(
                f"'{database}' is the configured database: the benchmark needs one of its own"
            )
        started = time.monotonic()
        self.stdout.write(
            f"Dropping and recreating database '{database}' (every run starts empty)."
        )
        drop_database(database)
        use_database(database, create=True)
        migrated = time.monotonic() - started
        self.stdout.write(f"Migrated in {migrated:.1f} s. Seeding at scale {scale}, seed {seed}:")
        result = build(scale=scale, seed=seed, today=today, stdout=self.stdout)
        self.stdout.write("Rows:")
        for label, count in result["counts"].items():
            self.stdout.write(f"  {label:<22} {count:>12,}")
        self.stdout.write("Seconds:")
        for name, seconds in result["seconds"].items():
            self.stdout.write(f"  {name:<22} {seconds:>12.1f}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Database '{database}' seeded in {time.monotonic() - started:.1f} s in all."
            )
        )
