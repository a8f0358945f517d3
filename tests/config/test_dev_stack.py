"""`./trellis run` keeps going: a crashed child is restarted, and broken pgserver state is repaired.

Real processes throughout: the supervisor runs small Python children, the embedded
PostgreSQL is started and stopped for real in a folder of each test's own.
"""

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

from config import embedded
from config.management.commands.run import Supervisor
from tests.config.helpers import ROOT
from tests.config.test_embedded import embedded_env, run

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def local_dir():
    """A folder of the test's own for the embedded servers; short, for their Unix sockets."""
    path = Path(tempfile.mkdtemp(prefix="trellis-test-")) / "local"
    yield path
    subprocess.run(
        [sys.executable, "-m", "config.embedded", "stop"],
        cwd=ROOT,
        env=embedded_env(path),
        capture_output=True,
        check=False,
    )
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture
def supervise():
    """A Supervisor watching in a background thread, stopped at the end of the test."""
    started = []

    def start(commands, **options):
        lines = []
        supervisor = Supervisor(commands, log=lines.append, poll=0.02, **options)
        supervisor.start()
        result = {}
        thread = threading.Thread(target=lambda: result.update(watched=supervisor.watch()))
        thread.start()
        started.append((supervisor, thread))
        return supervisor, thread, lines, result

    yield start
    for supervisor, thread in started:
        supervisor.request_stop()
        thread.join(timeout=10)
        supervisor.stop(timeout=5)


def stop_or_kill(process: subprocess.Popen) -> None:
    """Ctrl-C; failing that, kill it and its children (each in a session of its own)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
        process.kill()
        process.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- The supervisor -------------------------------------------------------------------------


def test_a_child_killed_with_sigkill_is_restarted_and_the_log_says_so(supervise):
    supervisor, thread, lines, _ = supervise({"worker": SLEEP, "beat": SLEEP}, backoff=0.1)
    first = supervisor.children["worker"]
    beat = supervisor.children["beat"]

    os.kill(first.pid, signal.SIGKILL)
    wait_for(lambda: supervisor.children["worker"] not in (None, first), what="a new worker")
    replacement = supervisor.children["worker"]

    assert lines == ["trellis: worker stopped unexpectedly (exit code -9); restarting it in 0.1 s."]
    assert replacement.poll() is None
    assert supervisor.children["beat"] is beat  # the others are left alone

    supervisor.request_stop()
    thread.join(timeout=5)
    supervisor.stop(timeout=5)
    assert (replacement.returncode, beat.returncode) == (-signal.SIGTERM, -signal.SIGTERM)


def test_a_restart_first_ends_what_the_crashed_child_had_started(supervise, tmp_path):
    # As runserver's reloader does: the process we started runs the server in a child.
    pid_file = tmp_path / "grandchild"
    parent = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen({SLEEP!r})\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    supervisor, _, lines, _ = supervise({"web": [sys.executable, "-c", parent]}, backoff=5)
    grandchild = psutil.Process(int(wait_for(lambda: pid_file.exists() and pid_file.read_text())))

    os.kill(supervisor.children["web"].pid, signal.SIGKILL)
    wait_for(lambda: lines, what="the crash to be noticed")

    grandchild.wait(timeout=5)  # it would otherwise keep the port the restarted web needs


def test_a_child_that_keeps_crashing_stops_everything(supervise):
    crash = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor, thread, lines, result = supervise(
        {"worker": crash, "web": SLEEP}, backoff=0.05, crash_limit=3
    )
    web = supervisor.children["web"]

    thread.join(timeout=10)
    assert result == {"watched": False}
    assert lines == [
        "trellis: worker stopped unexpectedly (exit code 3); restarting it in 0.05 s.",
        "trellis: worker stopped unexpectedly (exit code 3); restarting it in 0.1 s.",
        "trellis: worker stopped unexpectedly 3 times within 60 s (exit code 3); "
        "stopping everything.",
    ]
    supervisor.stop(timeout=5)
    assert web.returncode == -signal.SIGTERM


def test_crashes_far_apart_are_restarted_every_time(supervise):
    crash = [sys.executable, "-c", "raise SystemExit(1)"]
    _, thread, lines, _ = supervise({"beat": crash}, backoff=0.05, crash_limit=2, crash_window=0.01)

    wait_for(lambda: len(lines) >= 4, what="four restarts")
    assert thread.is_alive()
    assert all(line.endswith("restarting it in 0.05 s.") for line in lines)


# --- pgserver's list of handles -------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "[4242, 42", "garbage", '{"pids": [1]}', '["1"]', "null"])
def test_an_unreadable_handle_list_is_reset(tmp_path, capsys, content):
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(content)
    handles.chmod(0o640)

    embedded.repair_handle_list(tmp_path)

    assert json.loads(handles.read_text()) == []
    assert stat.S_IMODE(handles.stat().st_mode) == 0o640
    assert capsys.readouterr().err.startswith(f"trellis: reset {handles}: it ")
    assert [p.name for p in tmp_path.iterdir()] == [".handle_pids.json"]  # no temporary left


def test_dead_processes_are_pruned_from_the_handle_list(tmp_path, capsys):
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([dead_pid(), os.getpid(), dead_pid()]))

    embedded.repair_handle_list(tmp_path)

    assert json.loads(handles.read_text()) == [os.getpid()]
    assert capsys.readouterr().err == ""


def test_a_sound_handle_list_is_left_as_it_is(tmp_path):
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([os.getpid()]))
    before = handles.stat()

    embedded.repair_handle_list(tmp_path)

    assert (handles.stat().st_ino, handles.stat().st_mtime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
    )


def start_postgres(local_dir: Path) -> subprocess.CompletedProcess:
    code = "import sys; from pathlib import Path; from config import embedded; "
    code += "embedded.postgres(Path(sys.argv[1]))"
    return subprocess.run(
        [sys.executable, "-c", code, str(local_dir)],
        cwd=ROOT,
        env=embedded_env(local_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_postgres_starts_again_over_a_broken_or_stale_handle_list(local_dir):
    handles = local_dir / "pgdata" / ".handle_pids.json"
    assert start_postgres(local_dir).returncode == 0
    assert embedded.stop_postgres(local_dir)

    handles.write_text("[12")  # cut short by a full disk
    first = start_postgres(local_dir)
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith(f"trellis: reset {handles}: it could not be read")
    assert embedded.stop_postgres(local_dir)

    stale = [dead_pid(), dead_pid()]
    handles.write_text(json.dumps(stale))
    second = start_postgres(local_dir)
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    assert not set(stale) & set(json.loads(handles.read_text()))


# --- The whole stack ------------------------------------------------------------------------


def test_an_empty_handle_list_does_not_stop_trellis_run_and_a_killed_worker_comes_back(
    local_dir,
):
    run(local_dir, "check")  # creates the cluster
    assert embedded.stop_postgres(local_dir)
    handles = local_dir / "pgdata" / ".handle_pids.json"
    handles.write_text("")
    out, err = local_dir / "run.out", local_dir / "run.err"

    with out.open("w") as stdout, err.open("w") as stderr:
        trellis = subprocess.Popen(
            [sys.executable, "manage.py", "run", "--port", "8870"],
            cwd=ROOT,
            env=embedded_env(local_dir),
            stdout=stdout,
            stderr=stderr,
        )
    try:

        def started():
            assert trellis.poll() is None, err.read_text()
            return "Trellis is running at" in out.read_text()

        wait_for(started, 180, "the banner")
        assert f"trellis: reset {handles}: it was empty" in err.read_text()

        def worker():
            for child in psutil.Process(trellis.pid).children():
                with contextlib.suppress(psutil.Error):  # a killed one, not yet reaped
                    # The worker of the default queue (the urgent one has its own).
                    if "default,reports" in child.cmdline():
                        return child.pid
            return None

        killed = worker()
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: worker() not in (None, killed), 30, "a new worker")
        assert (
            "trellis: worker stopped unexpectedly (exit code -9); restarting it in 1 s."
            in err.read_text().splitlines()
        )

        # The new worker's start-up drops the killed one from pgserver's list.
        def pruned():
            with contextlib.suppress(ValueError):  # caught in the middle of pgserver's write
                return killed not in json.loads(handles.read_text())
            return False

        wait_for(pruned, 60, "the killed worker to leave pgserver's list")

        # The embedded servers are started again too, when one is killed.
        redis_pid = int((local_dir / "redis" / "redis.pid").read_text())
        os.kill(redis_pid, signal.SIGKILL)
        wait_for(
            lambda: (
                "trellis: the embedded Redis had stopped; started it again."
                in err.read_text().splitlines()
            ),
            30,
            "Redis to be started again",
        )
        assert embedded.redis_running(local_dir)
        postmaster = int((local_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        wait_for(
            lambda: (
                "trellis: the embedded PostgreSQL had stopped; started it again."
                in err.read_text().splitlines()
            ),
            60,
            "PostgreSQL to be started again",
        )
        assert embedded.postgres_running(local_dir)
        run(local_dir, "check", "--database", "default")  # answers queries again

        trellis.send_signal(signal.SIGINT)
        assert trellis.wait(timeout=90) == 0, err.read_text()
    finally:
        stop_or_kill(trellis)
    assert out.read_text().rstrip().endswith("Trellis stopped.")
    assert not (local_dir / "pgdata" / "postmaster.pid").exists()


def test_a_server_that_cannot_start_is_one_line_naming_the_cause(local_dir):
    local_dir.mkdir(parents=True)
    (local_dir / "pgdata").write_text("not a folder")

    result = subprocess.run(
        [sys.executable, "manage.py", "run"],
        cwd=ROOT,
        env=embedded_env(local_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        "trellis: DATABASE_URL is not set and could not start the embedded PostgreSQL in "
    )
    assert "Not a directory" in result.stderr
    # Django's own answers still work without the settings.
    version = subprocess.run(
        [sys.executable, "manage.py", "--version"],
        cwd=ROOT,
        env=embedded_env(local_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0, version.stderr
