"""One clear line instead of a traceback when configuration or a server is wrong."""

from __future__ import annotations

import contextlib
import sys


def describe(exc: BaseException) -> str | None:
    """A one-line explanation naming the variable at fault, or None if not ours to explain."""
    from django.core.exceptions import ImproperlyConfigured

    if isinstance(exc, ImproperlyConfigured):
        return str(exc)
    try:
        from django.db import OperationalError

        if isinstance(exc, OperationalError):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"cannot reach the database named by DATABASE_URL: {first}"
    except ImportError:
        pass
    try:
        import redis

        if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
            return f"cannot reach the Redis named by REDIS_URL: {exc}"
    except ImportError:
        pass
    return None


@contextlib.contextmanager
def friendly_errors():
    try:
        yield
    except Exception as exc:
        line = describe(exc)
        if line is None:
            raise
        print(f"trellis: {line}", file=sys.stderr)
        sys.exit(2)
