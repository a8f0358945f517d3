"""Files Trellis keeps under `.local/` (TRELLIS_LOCAL_DIR): readable by their owner only.

The folder holds the development database, Redis's data, the mail outbox (reset and
invitation links) and the development secret key; on a shared machine none of it is
anyone else's to read. Each of those is made owner-only; `.local/` itself stays
passable, because pgserver run as root starts PostgreSQL as a user of its own.
Imported by settings, so it needs nothing from Django.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Where Trellis generates its own key when DEBUG is on and no SECRET_KEY is given.
KEY_FILE_NAME = "secret_key"


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing and make it owner-only (0700)."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask and skips folders made by older versions.
    with contextlib.suppress(PermissionError):  # not ours to change: leave it as it is
        path.chmod(PRIVATE_DIR)
    return path


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """os.open with owner-only permissions, also for a file that already existed."""
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes | str) -> None:
    """Write a whole file that only its owner can read (0600)."""
    if isinstance(data, str):
        data = data.encode()
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(data)


def development_secret_key(local_dir: Path) -> str:
    """This installation's own random key, made once and reused (DEBUG without SECRET_KEY).

    The key is written to a temporary file and linked into place: the link either
    appears whole or fails because another process got there first, in which case
    that process's key is read. Two processes starting together always agree.
    """
    local_dir.mkdir(parents=True, exist_ok=True)  # see embedded.postgres: not 0700 itself
    path = local_dir / KEY_FILE_NAME
    if not path.exists():
        candidate = local_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        write_private(candidate, secrets.token_urlsafe(50) + "\n")
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    with contextlib.suppress(PermissionError):
        path.chmod(PRIVATE_FILE)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ValueError(f"{path} holds no usable key: delete it and Trellis makes a new one")
    return key
