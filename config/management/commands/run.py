"""`./trellis run`: migrate, seed the demo, then serve web + worker + beat until Ctrl-C."""

from __future__ import annotations

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


def preflight() -> None:
    """Fail with one clear line (see config.errors) if PostgreSQL or Redis does not answer."""
    import redis
    from django.db import connection

    connection.ensure_connection()
    redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3).ping()


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
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "urgent,default,reports",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
        }
        url = f"http://{options['host']}:{port}/"
        env = {**os.environ, "SITE_URL": url.rstrip("/")}
        children = {}
        try:
            for name, command in commands.items():
                # Own session: Ctrl-C reaches only us, and we stop the children in order.
                children[name] = subprocess.Popen(
                    command, cwd=settings.BASE_DIR, env=env, start_new_session=True
                )
            self._banner(url, seed)
            stopping = False

            def stop(signum, frame):
                nonlocal stopping
                stopping = True

            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
            while not stopping:
                dead = [name for name, child in children.items() if child.poll() is not None]
                if dead:
                    self.stderr.write(
                        f"trellis: {', '.join(dead)} stopped unexpectedly; stopping the rest."
                    )
                    break
                time.sleep(0.5)
        finally:
            self._stop(children)
            if not options["keep_servers"]:
                if settings.EMBEDDED_POSTGRES:
                    embedded.stop_postgres(settings.LOCAL_DIR)
                if settings.EMBEDDED_REDIS:
                    embedded.stop_redis(settings.LOCAL_DIR)
            self.stdout.write("Trellis stopped.")

    def _stop(self, children):
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _banner(self, url, seed):
        lines = [
            "",
            f"  Trellis is running at {url}",
            f"  Demo district: {url}demo/",
            f"  Outbox (demo mail): {url}dev/outbox/",
            "",
            "  Sign in as (password for all: " + seed.password + "):",
            *[f"    {label:<14} {email}" for label, email in seed.demo_logins],
            "",
            "  Press Ctrl-C to stop the web server, worker, beat and the embedded servers.",
            "",
        ]
        self.stdout.write("\n".join(lines))
