"""With no DATABASE_URL or REDIS_URL, Trellis starts its own servers and keeps their data."""

import os
import subprocess
import sys

import pytest

from tests.config.helpers import ROOT


@pytest.fixture
def local_dir(tmp_path):
    path = tmp_path / "local"
    yield path
    subprocess.run(
        [sys.executable, "-m", "config.embedded", "stop"],
        cwd=ROOT,
        check=False,
        env={**os.environ, "TRELLIS_LOCAL_DIR": str(path)},
        capture_output=True,
    )


def embedded_env(local_dir):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "DATABASE_NAME")
    }
    return {**env, "TRELLIS_LOCAL_DIR": str(local_dir), "DEBUG": "true"}


def run(local_dir, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=embedded_env(local_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_embedded_servers_start_keep_data_across_restart_and_demo_is_not_duplicated(local_dir):
    run(local_dir, "migrate", "--verbosity", "0")
    run(local_dir, "seed_demo")
    counts = (
        "from schools.models import District, Membership\n"
        "from schools.tenancy import tenant_context\n"
        "with tenant_context(District.objects.get(slug='demo')):\n"
        "    print(Membership.objects.count())"
    )
    assert run(local_dir, "shell", "--no-imports", "-c", counts).strip() == "4"

    stop = subprocess.run(
        [sys.executable, "-m", "config.embedded", "stop"],
        cwd=ROOT,
        env=embedded_env(local_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "PostgreSQL: stopped; Redis: stopped" in stop.stdout

    run(local_dir, "seed_demo")  # starts both again, finds the demo
    assert run(local_dir, "shell", "--no-imports", "-c", counts).strip() == "4"
    roles = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('SELECT current_user'); print(c.fetchone()[0])"
    )
    assert run(local_dir, "shell", "--no-imports", "-c", roles).strip() == "trellis_app"
    assert (local_dir / "pgdata" / "PG_VERSION").exists()


def test_stop_when_nothing_runs_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "config.embedded", "stop"],
        cwd=ROOT,
        env={**os.environ, "TRELLIS_LOCAL_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "PostgreSQL: was not running; Redis: was not running"


def test_run_picks_another_port_when_the_first_is_taken():
    import socket

    from config.management.commands.run import free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert free_port(port) != port


def test_embedded_redis_files_are_readable_by_their_owner_only(tmp_path):
    import stat

    from config import embedded

    local_dir = tmp_path / "local"
    (local_dir / "redis").mkdir(parents=True)
    (local_dir / "redis").chmod(0o755)  # as an older version left it
    try:
        embedded.redis_server(local_dir)
        embedded.stop_redis(local_dir)  # writes its data once more on the way out
    finally:
        embedded.stop_redis(local_dir)

    data = local_dir / "redis"
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {"redis.conf", "redis.log"} <= {p.name for p in files}
    assert any(p.name.startswith("appendonly") for p in files), files
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if p.stat().st_mode & 0o077}
    assert loose == {}
