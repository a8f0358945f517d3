"""Django's Redis cache, made to keep pages answering while Redis is down.

Trellis keeps nothing in the cache that it cannot do without for a while: rate-limit
counters (allauth's and ours), the used-TOTP-code markers, a directory import waiting
for confirmation, coverage maps as drawn (drawn again when missing). Without this
wrapper a Redis outage answers 500 on every page that touches one of them (signing in,
asking for a password reset, preparing a PDF), although the database, which holds
everything that matters, is fine. So while Redis does not answer, reads miss, writes are
dropped and `add` reports the key as new; the outage is logged (at most every 10
seconds) and `/healthz` answers 503, which is what should wake someone up. The cost, for
the length of the outage: rate limits start from zero and a TOTP code is not remembered
as used.
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY = 10.0
_last_logged = 0.0


def _log(operation: str, exc: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY:
        _last_logged = now
        logger.warning(
            "cache unavailable (%s: %s: %s); going on without it",
            operation,
            type(exc).__name__,
            exc,
        )


def _soft(fallback):
    """Run the cache operation; on an outage log it and answer fallback(*args, **kwargs)."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                _log(method.__name__, exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _delta(key, delta=1, *args, **kwargs):
    return delta


class ResilientRedisCache(RedisCache):
    """RedisCache whose operations degrade instead of raising while Redis is down."""

    get = _soft(_default)(RedisCache.get)
    get_many = _soft(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _soft(lambda *a, **k: False)(RedisCache.has_key)
    set = _soft(lambda *a, **k: None)(RedisCache.set)
    set_many = _soft(lambda *a, **k: [])(RedisCache.set_many)
    add = _soft(lambda *a, **k: True)(RedisCache.add)
    touch = _soft(lambda *a, **k: False)(RedisCache.touch)
    delete = _soft(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _soft(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _soft(_delta)(RedisCache.incr)
    clear = _soft(lambda *a, **k: False)(RedisCache.clear)
