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


# Django's own answers that need no settings: they still work when the settings fail.
_NEEDS_NO_SETTINGS = {"help", "--help", "-h", "version", "--version"}


def load_settings(argv: list[str]) -> None:
    """Load the settings before Django's command line does, so a failure is reported.

    Django's ManagementUtility swallows an error raised while loading settings and goes
    on without them, so the user sees "Unknown command: 'run'" or "Apps aren't loaded
    yet" instead of the cause (a server that would not start, a variable that is wrong).
    """
    if len(argv) < 2 or (len(argv) == 2 and argv[1] in _NEEDS_NO_SETTINGS):
        return
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018  (the attribute access is what loads them)


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
