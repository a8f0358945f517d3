"""`./trellis run`: migrate, seed the demo, then serve web + worker + beat until Ctrl-C.

A child that stops unexpectedly is restarted (see Supervisor), and so is an embedded
PostgreSQL or Redis that stops; Ctrl-C stops them all, then the embedded servers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config import embedded
from config.management.commands.seed_demo import DEMO_DISTRICT_SLUGS
from config.management.commands.seed_demo import Command as SeedDemo


def free_port(start: int, host: str = "127.0.0.1", tries: int = 50) -> int:
    for port in range(start, start + tries):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise CommandError(f"no free port between {start} and {start + tries - 1}; set --port")


class Supervisor:
    """Runs named child commands and restarts one that stops unexpectedly.

    A restart waits `backoff` seconds, doubling up to `max_backoff` while the child keeps
    crashing; a child that crashes `crash_limit` times within `crash_window` seconds is
    broken rather than unlucky, and then everything stops.
    """

    def __init__(
        self,
        commands: dict[str, list[str]],
        *,
        cwd=None,
        env=None,
        log=None,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        crash_limit: int = 5,
        crash_window: float = 60.0,
        poll: float = 0.2,
        checks=(),
        check_every: float = 2.0,
    ):
        self.commands = commands
        self.cwd, self.env = cwd, env
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.backoff, self.max_backoff = backoff, max_backoff
        self.crash_limit, self.crash_window, self.poll = crash_limit, crash_window, poll
        self.children: dict[str, subprocess.Popen | None] = dict.fromkeys(commands)
        self._crashes: dict[str, list[float]] = {name: [] for name in commands}
        self._restart_at: dict[str, float] = {}
        self._stopping = False
        # Called every `check_every` seconds: each mends something outside the children
        # (the embedded servers) and returns a line for the log when it had to.
        self.checks, self.check_every = list(checks), check_every
        self._next_check = 0.0

    def start(self) -> None:
        for name in self.commands:
            self._spawn(name)

    def request_stop(self, *_signal) -> None:
        """Ask `watch` to return (usable as a signal handler)."""
        self._stopping = True

    def watch(self) -> bool:
        """Restart crashed children until asked to stop; False when one crashed too often."""
        while not self._stopping:
            now = time.monotonic()
            for name, child in self.children.items():
                if child is not None and child.poll() is not None:
                    if not self._crashed(name, child.returncode, now):
                        return False
                elif child is None and now >= self._restart_at.get(name, now):
                    self._spawn(name)
            if self.checks and now >= self._next_check:
                self._next_check = now + self.check_every
                self._run_checks()
            time.sleep(self.poll)
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every child, wait for all of them, then kill what is left."""
        running = [child for child in self.children.values() if child is not None]
        for child in running:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            _kill_group(child.pid)
        self.children = dict.fromkeys(self.commands)

    def _run_checks(self) -> None:
        for check in self.checks:
            try:
                line = check()
            except Exception as exc:  # a failed repair is reported and tried again later
                line = f"trellis: {getattr(check, '__doc__', '') or check}: {exc}"
            if line:
                self.log(line)

    def _spawn(self, name: str) -> None:
        # Own session: Ctrl-C reaches only us, and we stop the children in order.
        self.children[name] = subprocess.Popen(
            self.commands[name], cwd=self.cwd, env=self.env, start_new_session=True
        )

    def _crashed(self, name: str, code: int, now: float) -> bool:
        """Note a crash and schedule the restart; False when the child crashes too often."""
        # What it started may outlive it (runserver's reloaded server holding the port).
        _kill_group(self.children[name].pid)
        self.children[name] = None
        crashes = [t for t in self._crashes[name] if now - t < self.crash_window] + [now]
        self._crashes[name] = crashes
        if len(crashes) >= self.crash_limit:
            self.log(
                f"trellis: {name} stopped unexpectedly {len(crashes)} times within "
                f"{self.crash_window:g} s (exit code {code}); stopping everything."
            )
            return False
        delay = min(self.backoff * 2 ** (len(crashes) - 1), self.max_backoff)
        self._restart_at[name] = now + delay
        self.log(
            f"trellis: {name} stopped unexpectedly (exit code {code}); "
            f"restarting it in {delay:g} s."
        )
        return True


def _kill_group(pgid: int) -> None:
    # A child is its own process group (start_new_session); the id stays reserved while
    # any member lives, so this reaches only what that child started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def heal_embedded_servers() -> str | None:
    """Start again an embedded PostgreSQL or Redis that stopped (killed, crashed); the
    children reconnect by themselves. Returns the line for the log, or None."""
    local = settings.LOCAL_DIR
    healed = []
    if settings.EMBEDDED_REDIS and not embedded.redis_running(local):
        embedded.redis_server(local)
        healed.append("Redis")
    if settings.EMBEDDED_POSTGRES and not embedded.postgres_running(local):
        embedded.postgres(local)
        healed.append("PostgreSQL")
    if not healed:
        return None
    return f"trellis: the embedded {' and '.join(healed)} had stopped; started it again."


def preflight() -> None:
    """Fail with one clear line (see config.errors) if PostgreSQL or Redis does not answer."""
    import redis
    from django.db import connection

    connection.ensure_connection()
    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()


def celery_worker(queues: str, *, concurrency: int, hostname: str = "") -> list[str]:
    """The command of a Celery worker serving `queues` (comma-separated)."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues]
    command += ["--concurrency", str(concurrency), "--loglevel", "INFO"]
    return command + (["--hostname", hostname] if hostname else [])


class Command(BaseCommand):
    help = "Run Trellis with its demo: web server, Celery worker and beat, until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="first port to try (8000)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--keep-servers",
            action="store_true",
            help="leave the embedded PostgreSQL and Redis running on exit",
        )

    def handle(self, *args, **options):
        # The seeded districts are demos (settings.DEMO_DISTRICTS): their administrators
        # sign in without MFA, and every page there says so. Here and in the children only.
        demo_districts = ",".join(DEMO_DISTRICT_SLUGS)
        settings.DEMO_DISTRICTS = list(DEMO_DISTRICT_SLUGS)
        preflight()
        call_command("migrate", interactive=False, verbosity=0)
        # The database checks too: every tenant table fenced, every key composite.
        call_command("check", databases=["default"])
        self.stdout.write("Database is up to date.")
        seed = SeedDemo(stdout=self.stdout, stderr=self.stderr)
        seed.handle()
        port = free_port(options["port"], options["host"])
        if port != options["port"]:
            self.stdout.write(f"Port {options['port']} is in use; using {port}.")
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"{options['host']}:{port}"],
            "worker": celery_worker("default,reports", concurrency=2),
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
            # Risk alerts have a worker of their own: a burst of reminders or PDFs on the
            # other one never delays them (DESIGN.md, Background work).
            "urgent": celery_worker("urgent", concurrency=1, hostname="urgent@%h"),
        }
        url = f"http://{options['host']}:{port}/"
        env = {
            **os.environ,
            "SITE_URL": url.rstrip("/"),
            "TRELLIS_DEMO_DISTRICTS": demo_districts,
        }
        supervisor = Supervisor(
            commands,
            cwd=settings.BASE_DIR,
            env=env,
            log=self.stderr.write,
            checks=[heal_embedded_servers],
        )
        gave_up = False
        try:
            supervisor.start()
            self._banner(url, seed)
            signal.signal(signal.SIGINT, supervisor.request_stop)
            signal.signal(signal.SIGTERM, supervisor.request_stop)
            gave_up = not supervisor.watch()
        finally:
            supervisor.stop()
            if not options["keep_servers"]:
                if settings.EMBEDDED_POSTGRES:
                    embedded.stop_postgres(settings.LOCAL_DIR)
                if settings.EMBEDDED_REDIS:
                    embedded.stop_redis(settings.LOCAL_DIR)
            self.stdout.write("Trellis stopped.")
        if gave_up:
            sys.exit(1)

    def _banner(self, url, seed):
        lines = [
            "",
            f"  Trellis is running at {url}",
            f"  Demo districts: {url}demo/ and {url}riverside/",
            f"  Outbox (demo mail): {url}dev/outbox/",
            "",
            "  Sign in as (password for all: " + seed.password + "):",
            *_login_rows(seed.demo_logins),
            "",
            "  Demo districts: administrators sign in there without two-factor authentication.",
            "",
            "  Press Ctrl-C to stop the web server, worker, beat and the embedded servers.",
            "",
        ]
        self.stdout.write("\n".join(lines))


def _login_rows(logins) -> list[str]:
    """One aligned row per demo person: role, organization or district, email."""
    rows = [(label, where, email) for label, where, email in logins]
    role_width = max((len(label) for label, _where, _email in rows), default=0) + 2
    where_width = max((len(where) for _label, where, _email in rows), default=0) + 2
    return [
        f"    {label:<{role_width}}{where:<{where_width}}{email}" for label, where, email in rows
    ]
