"""The load test: many people using Trellis at once (`./trellis bench --load`).

`users` simulated people (50) work for `seconds` (60) against gunicorn on the benchmark
database, each in a thread of this process with a session of their own:

- a person has a role, drawn as a district's staff is made up (ROLE_WEIGHTS: mostly
  counselors), and works in the largest district (4 in 5) or the small one;
- they open the benchmark's pages of their role (tests/bench/pages.py, the same URLs the
  page timings use; searches as typed are sent as htmx fragments), one after another in
  a random order, and read each page before the next: a think time drawn uniformly from
  THINK_SECONDS. A person reads a page for a few seconds before clicking on; with 1 to 4
  s, 50 people ask about 20 pages a second, a busy morning for a large district;
- every answer other than 200 is an error, and so is a connection the server drops;
- first, untimed, every page is asked once per gunicorn worker: the server is warm.

Only GETs: the benchmark database stays as seeded (the writes are timed as jobs).
Reported: requests, throughput, median, p95 and p99 over every request, the errors, and
the p95 of each page.
"""

from __future__ import annotations

import random
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from tests.bench import pages as registry
from tests.bench.runner import (
    PRODUCTION_WORKERS,
    Client,
    Options,
    _load,
    build_urls,
    find_sites,
    gunicorn,
    open_database,
    page_headers,
    sign_in,
    sign_out,
)

# A district's staff as the load test draws it: mostly counselors.
ROLE_WEIGHTS = {"counselor": 10, "coordinator": 3, "admin": 2, "partner": 2, "viewer": 1}
THINK_SECONDS = (1.0, 4.0)
LARGE_SHARE = 0.8


@dataclass
class LoadOptions:
    database: str
    users: int = 50
    seconds: float = 60.0
    workers: int = PRODUCTION_WORKERS
    seed: int = 42


@dataclass
class LoadResult:
    users: int
    seconds: float
    workers: int
    times: list = field(default_factory=list)  # (page name, seconds)
    errors: list = field(default_factory=list)  # (page name, path, what)
    load_before: tuple = ()
    load_after: tuple = ()

    @property
    def requests(self) -> int:
        return len(self.times) + len(self.errors)

    def percentile(self, q: float, name: str | None = None) -> float:
        values = sorted(s for page, s in self.times if name is None or page == name)
        if not values:
            return 0.0
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1] * 1000


def _person_pages(role: str, slug: str, urls: dict) -> list:
    return [
        (page, urls[page.name, slug])
        for page in registry.PAGES
        if page.role == role and (page.name, slug) in urls
    ]


def _work(client, pages, session_key, until, rng, result, lock) -> None:
    while time.monotonic() < until:
        page, path = rng.choice(pages)
        headers = page_headers(page, session_key)
        try:
            status, seconds, _response, _body = client.get(path, headers)
        except Exception as exc:  # a dropped connection is an error of the run, not a crash
            with lock:
                result.errors.append((page.name, path, f"{type(exc).__name__}: {exc}"))
            continue
        with lock:
            if status == 200:
                result.times.append((page.name, seconds))
            else:
                result.errors.append((page.name, path, f"HTTP {status}"))
        time.sleep(rng.uniform(*THINK_SECONDS))


def _warm(port: int, people, urls: dict, workers: int) -> None:
    """Each page once per gunicorn worker, untimed: the test measures a warm server."""
    client = Client(port)
    try:
        for role, slug, key in {
            (role, slug): (role, slug, key) for role, slug, key in people
        }.values():
            for page, path in _person_pages(role, slug, urls):
                headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"}
                if page.htmx:
                    headers["HX-Request"] = "true"
                for _ in range(workers):
                    client.get(path, headers)
    finally:
        client.close()


def run_load(options: LoadOptions, say=print) -> LoadResult:
    open_database(options.database)
    sites = find_sites((registry.LARGE, registry.SMALL))
    urls = build_urls(sites)
    secret_key = secrets.token_urlsafe(50)
    rng = random.Random(options.seed)
    roles = [role for role in ROLE_WEIGHTS if any(p.role == role for p in registry.PAGES)]
    people = []
    for _ in range(options.users):
        role = rng.choices(roles, weights=[ROLE_WEIGHTS[r] for r in roles])[0]
        slug = registry.LARGE if rng.random() < LARGE_SHARE else registry.SMALL
        # A session of their own, as each person signed in on their own browser.
        people.append((role, slug, sign_in(sites[slug].user(role), secret_key)))
    result = LoadResult(users=options.users, seconds=options.seconds, workers=options.workers)
    workdir = Path(tempfile.mkdtemp(prefix="trellis-load-"))
    server_options = Options(database=options.database, workers=options.workers)
    try:
        with gunicorn(
            server_options, workdir, secret_key=secret_key, query_log=workdir / "q.jsonl"
        ) as server:
            say(
                f"gunicorn on 127.0.0.1:{server.port}, {options.workers} workers; "
                f"{options.users} people for {options.seconds:.0f} s"
            )
            _warm(server.port, people, urls, options.workers)
            result.load_before = _load()
            lock = threading.Lock()
            until = time.monotonic() + options.seconds
            threads, clients = [], []
            for n, (role, slug, key) in enumerate(people):
                client = Client(server.port)
                clients.append(client)
                thread = threading.Thread(
                    target=_work,
                    args=(
                        client,
                        _person_pages(role, slug, urls),
                        key,
                        until,
                        random.Random(options.seed + n + 1),
                        result,
                        lock,
                    ),
                    daemon=True,
                )
                threads.append(thread)
            for thread in threads:
                thread.start()
                time.sleep(THINK_SECONDS[0] / len(threads))  # people do not click in step
            for thread in threads:
                thread.join()
            for client in clients:
                client.close()
            result.load_after = _load()
    finally:
        sign_out([key for _role, _slug, key in people])
        shutil.rmtree(workdir, ignore_errors=True)
    for line in report_lines(result):
        say(line)
    return result


def report_lines(result: LoadResult) -> list[str]:
    served = len(result.times)
    lines = [
        "",
        f"{result.users} people, {result.seconds:.0f} s, gunicorn {result.workers} workers",
        f"requests: {result.requests} ({served / result.seconds:.1f} a second), "
        f"errors: {len(result.errors)}",
        f"median {result.percentile(50):.1f} ms, p95 {result.percentile(95):.1f} ms, "
        f"p99 {result.percentile(99):.1f} ms",
        f"load average before {result.load_before}, after {result.load_after}",
        "",
        "| page | requests | median ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    names = sorted({name for name, _s in result.times})
    for name in names:
        count = sum(1 for page, _s in result.times if page == name)
        lines.append(
            f"| {name} | {count} | {result.percentile(50, name):.1f} | "
            f"{result.percentile(95, name):.1f} |"
        )
    for page, path, what in result.errors[:20]:
        lines.append(f"error: {page} GET {path}: {what}")
    return lines
