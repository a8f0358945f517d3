"""`manage.py bench`: the key pages and background jobs timed on the seeded benchmark database.

Seed it first with `manage.py seed_bench --scale 1`. gunicorn serves the pages the
production way (DEBUG off, the runtime role under row-level security); see
tests/bench/runner.py for what is measured and tests/bench/pages.py for the list.
"""

from __future__ import annotations

import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Serve the benchmark database with gunicorn the production way and time the key pages "
        "(largest and a small district) and the background jobs; print a table and write "
        "docs/benchmarks.md."
    )

    def add_arguments(self, parser):
        from tests.bench.database import BENCH_DATABASE
        from tests.bench.runner import PRODUCTION_WORKERS

        parser.add_argument(
            "--database", default=BENCH_DATABASE, help=f"the seeded database ({BENCH_DATABASE})"
        )
        parser.add_argument(
            "--requests", type=int, default=30, help="timed requests per page and district (30)"
        )
        parser.add_argument("--warmup", type=int, default=5, help="untimed requests before (5)")
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "docs" / "benchmarks.md"),
            help="the Markdown report (docs/benchmarks.md); '-' writes none",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=PRODUCTION_WORKERS,
            help=f"gunicorn workers ({PRODUCTION_WORKERS}, as production serves)",
        )
        parser.add_argument(
            "--compare-rls",
            action="store_true",
            help="time the pages again from two servers in turn, one under row-level "
            "security and one as the maintenance role (BYPASSRLS): what the policies cost",
        )
        parser.add_argument(
            "--load",
            action="store_true",
            help="instead of timing page by page: the load test, --users people working "
            "at once for --seconds (tests/bench/load.py); prints its report",
        )
        parser.add_argument("--users", type=int, default=50, help="with --load: people (50)")
        parser.add_argument(
            "--seconds", type=float, default=60.0, help="with --load: how long (60)"
        )

    def handle(self, *args, **options):
        from tests.bench.runner import Options, run

        if options["requests"] < 1 or options["warmup"] < 0 or options["workers"] < 1:
            raise CommandError("--requests and --workers must be at least 1, --warmup at least 0")
        if options["load"]:
            return self._load(options)
        output = None if options["output"] == "-" else Path(options["output"])
        _guarded(
            lambda: run(
                Options(
                    database=options["database"],
                    requests=options["requests"],
                    warmup=options["warmup"],
                    output=output,
                    workers=options["workers"],
                    compare_rls=options["compare_rls"],
                ),
                say=lambda line: self.stdout.write(line),
            )
        )

    def _load(self, options):
        from tests.bench.load import LoadOptions, run_load

        if options["users"] < 1 or options["seconds"] <= 0:
            raise CommandError("--users must be at least 1 and --seconds more than 0")
        result = _guarded(
            lambda: run_load(
                LoadOptions(
                    database=options["database"],
                    users=options["users"],
                    seconds=options["seconds"],
                    workers=options["workers"],
                ),
                say=lambda line: self.stdout.write(line),
            )
        )
        if result.errors:
            raise CommandError(f"{len(result.errors)} requests failed under load")


def _guarded(work):
    """Run `work()`: a BenchError or an interruption is a CommandError; stopped by a signal,
    it still stops its gunicorn (the runner's finally blocks)."""
    from tests.bench.runner import BenchError

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return work()
    except BenchError as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        raise CommandError("interrupted; gunicorn stopped") from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt
