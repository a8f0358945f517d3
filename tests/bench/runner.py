"""`manage.py bench`: the key pages served the production way, and the background jobs, timed.

gunicorn serves `tests.bench.wsgi` (Django's application, counting each request's SQL)
with DEBUG off, a throwaway key, static files collected into a temporary STATIC_ROOT
(served by WhiteNoise, as in production) and the runtime role under row-level security,
on the seeded benchmark database (`manage.py seed_bench`). The seeded people sign in by a
session made directly in that database (no password, no MFA step: their district admits
them as it would after sign-in). Each page of `tests.bench.pages.PAGES` is requested in
the largest and in a small district: warm-up requests, then timed sequential ones; the
median, the 95th percentile and the SQL statements of one request are reported, and the
ratio of the medians shows how the page grows with data. The jobs of `JOBS` run in this
process. The slowest SQL statements are EXPLAINed (ANALYZE, BUFFERS) as the runtime role in
the district's row-level-security context. A table is printed and a Markdown report
written (docs/benchmarks.md by default).
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import json
import logging
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import override_settings

from tests.bench import pages as registry
from tests.bench.report import (
    JobResult,
    PageResult,
    Report,
    RlsResult,
    Statement,
    kept_notes,
    markdown,
    page_header,
    page_line,
    read_or_empty,
)
from tests.bench.wsgi import PAGE_HEADER, QUERY_HEADER, SQL_MS_HEADER, StatementRecorder

ROOT = Path(__file__).resolve().parents[2]
SLOWEST = 3
# A job is repeated (up to 3 runs) while its runs so far took less than this in all.
JOB_REPEAT_SECONDS = 10.0
HEALTH_TIMEOUT = 90.0
EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


class BenchError(Exception):
    """The benchmark cannot run or a page did not answer as it should; says why."""


# gunicorn's workers, as docker-compose.yml and the Dockerfile serve Trellis.
PRODUCTION_WORKERS = 3


@dataclass
class Options:
    database: str
    requests: int = 30
    warmup: int = 5
    output: Path | None = None
    workers: int = PRODUCTION_WORKERS
    compare_rls: bool = False
    districts: tuple[str, str] = (registry.LARGE, registry.SMALL)


# --- The server ----------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(*, database: str, port: int, secret_key: str, static_root: Path) -> dict:
    """Production's settings, on plain http on this machine, on the benchmark database.

    DATABASE_URL, REDIS_URL and the rest of the environment pass through.
    """
    env = {**os.environ}
    env.pop("SECRET_KEY_FILE", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secret_key,
            "SITE_URL": f"http://127.0.0.1:{port}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "HTTPS": "false",
            "DATABASE_NAME": database,
            "STATIC_ROOT": str(static_root),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def collect_static(env: dict, log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        raise BenchError(f"collectstatic failed:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path


@contextlib.contextmanager
def gunicorn(options: Options, workdir: Path, *, secret_key: str, query_log: Path, role=None):
    """gunicorn serving tests.bench.wsgi until the block ends (an error or Ctrl-C included)."""
    port = _free_port()
    static_root = workdir / "static"
    env = server_environment(
        database=options.database, port=port, secret_key=secret_key, static_root=static_root
    )
    env["BENCH_QUERY_LOG"] = str(query_log)
    if role:
        env["BENCH_DATABASE_ROLE"] = role
        password = urllib.parse.urlsplit(os.environ.get("DATABASE_MAINTENANCE_URL", "")).password
        if password:
            env["BENCH_DATABASE_PASSWORD"] = urllib.parse.unquote(password)
    log = workdir / f"gunicorn-{port}.log"
    if not (static_root / "css").is_dir():
        collect_static(env, log)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tests.bench.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(options.workers),
                "--timeout",
                "60",  # as docker-compose.yml serves it
                "--graceful-timeout",
                "10",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    server = Server(port=port, process=process, log=log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        _stop(process)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn exited ({server.process.returncode}):\n{_tail(server.log)}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
            conn.close()
            if response.status == 200:
                return
            last = f"{response.status} {body}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.25)
    raise BenchError(f"/healthz did not answer 200 in {HEALTH_TIMEOUT:.0f} s ({last})")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


# --- Signing in and requesting -------------------------------------------------------------------


def sign_in(user, secret_key: str) -> str:
    """A session for `user`, made in the database as Django's login() would; its key.

    Signed with the server's key (the session data and the auth hash both depend on it).
    """
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore
    with override_settings(SECRET_KEY=secret_key):
        session = store()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
    return session.session_key


def sign_out(session_keys) -> None:
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in session_keys:
        store(session_key=key).delete()


class Client:
    """Sequential GETs over one connection, reopened when the server closes it."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get(self, path: str, headers: dict) -> tuple[int, float, http.client.HTTPResponse, bytes]:
        start = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            # A connection the server had closed between requests: once more, afresh.
            self.connection.close()
            start = time.perf_counter()
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        return response.status, time.perf_counter() - start, response, body

    def close(self):
        self.connection.close()


# --- Measuring -----------------------------------------------------------------------------------


def find_sites(slugs) -> dict:
    from schools.models import District

    sites = {}
    for slug in slugs:
        district = District.objects.filter(slug=slug).first()
        if district is None:
            raise BenchError(
                f"district {slug!r} is missing: seed the database first "
                "(./trellis manage seed_bench --scale 1)"
            )
        sites[slug] = registry.Site(district)
    return sites


def build_urls(sites: dict) -> dict:
    """(page name, slug) -> path, each found inside its district's context."""
    from schools.tenancy import work_in_district

    urls = {}
    for site in sites.values():
        with transaction.atomic(), work_in_district(site.district):
            for page in registry.PAGES:
                try:
                    urls[page.name, site.slug] = page.url(site)
                except Exception as exc:
                    raise BenchError(f"{page.name} in {site.slug}: no URL ({exc!r})") from exc
    return urls


def sessions_for(sites: dict, secret_key: str) -> dict:
    """(slug, role) -> session key, for every role a page needs."""
    roles = {page.role for page in registry.PAGES}
    keys = {}
    for site in sites.values():
        for role in sorted(roles):
            try:
                user = site.user(role)
            except Exception as exc:
                raise BenchError(
                    f"{site.slug} has no {registry.bench_email(role, site.slug)}"
                ) from exc
            keys[site.slug, role] = sign_in(user, secret_key)
    return keys


def measure_pages(server: Server, options: Options, urls: dict, sessions: dict, say) -> list:
    client = Client(server.port)
    results = []
    try:
        for page in registry.PAGES:
            result = PageResult(page)
            for slug in options.districts:
                path = urls[page.name, slug]
                headers = page_headers(page, sessions[slug, page.role])
                times = []
                for n in range(options.warmup + options.requests):
                    status, seconds, response, body = client.get(path, headers)
                    if status != 200:
                        raise BenchError(
                            f"{page.name} ({page.role}) in {slug}: GET {path} answered {status} "
                            f"({_what(response, body)})\n{_tail(server.log, 15)}"
                        )
                    if n >= options.warmup:
                        times.append(seconds)
                result.url[slug] = path
                result.times[slug] = times
                result.queries[slug] = int(response.getheader(QUERY_HEADER, "-1"))
                result.size[slug] = len(body)
            results.append(result)
            say(page_line(result, options))
    finally:
        client.close()
    return results


def page_headers(page: registry.Page, session_key: str) -> dict:
    """A request for `page` as its person's browser sends it (htmx's header for a fragment),
    named for the query log."""
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}",
        PAGE_HEADER: page.name,
        "Accept": "text/html",
        "Accept-Language": "en",
    }
    if page.htmx:
        headers["HX-Request"] = "true"
    return headers


def _what(response, body: bytes) -> str:
    """Where a redirect goes, or the error page's title."""
    if response.getheader("Location"):
        return f"to {response.getheader('Location')}"
    title = re.search(rb"<title>(.*?)</title>", body, re.S)
    return " ".join(title.group(1).decode(errors="replace").split()) if title else body[:200]


def run_jobs(site: registry.Site, say) -> list:
    from schools.tenancy import work_in_district

    results = []
    # DEBUG is on in this process (a development command): keep Django's query log off,
    # as in the worker, and WeasyPrint's progress lines out of the table.
    with override_settings(DEBUG=False), _quiet("weasyprint", "fontTools"):
        for job in registry.JOBS:
            if job.prepare is not None:
                with transaction.atomic(), work_in_district(site.district):
                    job.prepare(site)
            times, counter = [], StatementRecorder(keep=0)
            while len(times) < 3 and sum(times) < JOB_REPEAT_SECONDS:
                counter.count = 0
                with transaction.atomic():
                    with work_in_district(site.district), connection.execute_wrapper(counter):
                        start = time.perf_counter()
                        job.run(site)
                        times.append(time.perf_counter() - start)
                    transaction.set_rollback(True)  # a job's writes never stay
            result = JobResult(job.name, times, counter.count)
            results.append(result)
            say(f"  {job.name:<40} {result.median:8.2f} s  ({len(times)}x, {result.queries} SQL)")
    return results


@contextlib.contextmanager
def _quiet(*names):
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def slowest_statements(query_log: Path, *, min_runs: int, n: int = SLOWEST) -> list:
    """The n statements (by their text) with the highest median time over the requests
    that ran them, among those logged at least `min_runs` times (one slow first run of a
    statement is not what a page costs)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    if query_log.exists():
        for line in query_log.read_text().splitlines():
            entry = json.loads(line)
            if entry["sql"].lstrip().upper().startswith(EXPLAINABLE):
                groups[entry["sql"]].append(entry)
    ranked = sorted(
        (entries for entries in groups.values() if len(entries) >= min_runs),
        key=lambda entries: statistics.median(e["ms"] for e in entries),
    )
    statements = []
    for entries in reversed(ranked[-n:]):
        slowest = max(entries, key=lambda e: e["ms"])
        statements.append(
            Statement(
                sql=slowest["sql"],
                params=slowest["params"],
                median_ms=statistics.median(e["ms"] for e in entries),
                max_ms=slowest["ms"],
                count=len(entries),
                page=slowest["page"],
                district=slowest["district"],
            )
        )
    return statements


def explain(statement: Statement, sites: dict) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) as the runtime role, in the context the request had:
    its district and its person (transaction-local, rolled back: nothing it writes stays)."""
    from schools.tenancy import tenant_context

    site = sites.get(statement.district)
    page = next((p for p in registry.PAGES if p.name == statement.page), None)
    user = site.user(page.role).pk if site and page else None
    try:
        with transaction.atomic():
            with (
                tenant_context(site.district if site else None, user=user),
                connection.cursor() as cursor,
            ):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        return plan
    except Exception as exc:  # a plan we cannot get is reported, not fatal
        return f"(EXPLAIN failed: {exc})"


def compare_rls(options, workdir, secret_key, urls, sessions, say) -> dict:
    """What row-level security costs: the pages served by two servers side by side, one
    connected as the runtime role (under the policies), one as the maintenance role
    (BYPASSRLS), a request to each in turn (which goes first alternates), so that a busy
    machine's drift falls on both alike; (page, slug) -> RlsResult. Besides the whole
    request, the time the request spent in SQL: the policies add to the statements only,
    and a page's SQL is a fraction of its time."""
    with (
        gunicorn(options, workdir, secret_key=secret_key, query_log=workdir / "rls.jsonl") as on,
        gunicorn(
            options,
            workdir,
            secret_key=secret_key,
            query_log=workdir / "bypass.jsonl",
            role="maintenance",
        ) as off,
    ):
        say("\nRow-level security: each page from a server under it and one without, in turn")
        clients = {True: Client(on.port), False: Client(off.port)}
        servers = {True: on, False: off}
        results = {}
        try:
            for page in registry.PAGES:
                for slug in options.districts:
                    path = urls[page.name, slug]
                    headers = page_headers(page, sessions[slug, page.role])
                    samples = {True: ([], []), False: ([], [])}
                    for n in range(options.warmup + options.requests):
                        for rls in (True, False) if n % 2 == 0 else (False, True):
                            status, seconds, response, body = clients[rls].get(path, headers)
                            if status != 200:
                                raise BenchError(
                                    f"{page.name} in {slug} (row-level security {rls}): GET "
                                    f"{path} answered {status} ({_what(response, body)})\n"
                                    f"{_tail(servers[rls].log, 15)}"
                                )
                            if n >= options.warmup:
                                samples[rls][0].append(seconds * 1000)
                                samples[rls][1].append(
                                    float(response.getheader(SQL_MS_HEADER, "0"))
                                )
                    result = RlsResult(
                        page_ms=(
                            statistics.median(samples[True][0]),
                            statistics.median(samples[False][0]),
                        ),
                        sql_ms=(
                            statistics.median(samples[True][1]),
                            statistics.median(samples[False][1]),
                        ),
                    )
                    results[page.name, slug] = result
                    say(f"  {page.name:<36} {slug:<14} {result.line()}")
        finally:
            for client in clients.values():
                client.close()
    return results


# --- Machine and data ----------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in read_or_empty("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or platform.machine(),
    )
    memory = next(
        (
            line.split()[1]
            for line in read_or_empty("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        "",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import django

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{int(memory) / 1024 / 1024:.1f} GiB" if memory else "?",
        "system": platform.platform(),
        "PostgreSQL": postgres,
        "Python": platform.python_version(),
        "Django": django.get_version(),
    }


def data_counts(sites: dict) -> dict:
    """Rows of the measured districts (counted as the runtime role, in each district)."""
    from partnerships.models import MOU, FundingSource, Partner
    from schools.models import AccessLog, Membership, School, Student
    from schools.tenancy import work_in_district

    counts = {}
    for slug, site in sites.items():
        with transaction.atomic(), work_in_district(site.district):
            counts[slug] = {
                label: model.objects.for_district(site.district).count()
                for label, model in (
                    ("schools", School),
                    ("students", Student),
                    ("people", Membership),
                    ("access log", AccessLog),
                    ("partners", Partner),
                    ("MOUs", MOU),
                    ("funding sources", FundingSource),
                )
            }
    return counts


def _load() -> tuple:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return ()


# --- The whole run -------------------------------------------------------------------------------


def open_database(name: str) -> None:
    """Use the seeded benchmark database `name` from now on, or say how to make it."""
    from tests.bench.database import database_exists, use_database

    if not database_exists(name):
        raise BenchError(
            f"database {name!r} does not exist: seed it first "
            "(./trellis manage seed_bench --scale 1)"
        )
    use_database(name, create=False)


def run(options: Options, say=print) -> Report:
    open_database(options.database)
    large, small = options.districts
    sites = find_sites(options.districts)
    report = Report(
        options=options,
        started=datetime.datetime.now(datetime.UTC),
        machine=machine(),
        data=data_counts(sites),
        load_before=_load(),
    )
    say(f"Benchmark of {options.database}: {large} against {small}, load {report.load_before}")
    urls = build_urls(sites)
    secret_key = secrets.token_urlsafe(50)
    sessions = sessions_for(sites, secret_key)
    workdir = Path(tempfile.mkdtemp(prefix="trellis-bench-"))
    query_log = workdir / "queries.jsonl"
    try:
        with gunicorn(options, workdir, secret_key=secret_key, query_log=query_log) as server:
            say(
                f"gunicorn on 127.0.0.1:{server.port}, {options.workers} workers, "
                f"{options.warmup} warm-up + {options.requests} timed requests per page\n"
            )
            say(page_header(options))
            report.pages = measure_pages(server, options, urls, sessions, say)
        if options.compare_rls:
            report.rls_overhead = compare_rls(options, workdir, secret_key, urls, sessions, say)
        say("\nJobs (in this process, in " + large + "):")
        report.jobs = run_jobs(sites[large], say)
        report.statements = slowest_statements(
            query_log, min_runs=max(1, (options.warmup + options.requests) // 2)
        )
        for statement in report.statements:
            statement.plan = explain(statement, sites)
        report.load_after = _load()
    finally:
        sign_out(sessions.values())
        shutil.rmtree(workdir, ignore_errors=True)
    say(f"\nLoad average before {report.load_before}, after {report.load_after}")
    say("\nSlowest SQL statements (median over requests):")
    for statement in report.statements:
        say(f"  {statement.median_ms:8.1f} ms  {statement.page} ({statement.district})")
    if options.output:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(markdown(report) + kept_notes(options.output))
        say(f"\nWrote {options.output}")
    return report
