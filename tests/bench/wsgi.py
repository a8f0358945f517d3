"""The WSGI application the benchmark serves: Django's, with each request's SQL counted.

`manage.py bench` starts gunicorn on `tests.bench.wsgi:application`; production serves
`config.wsgi:application`, which knows nothing of this. Every response carries
`X-Bench-Queries` (the SQL statements the request ran, as Django's query counting sees
them: savepoints included) and `X-Bench-Sql-Ms` (the time they took, in all). With
BENCH_QUERY_LOG set, the slowest statements of each request are appended to that file as
JSON lines (sql, params, ms, the request's path, the district slug and the page named by
the runner's `X-Bench-Page` header), from which the runner picks the statements it
EXPLAINs.

BENCH_DATABASE_ROLE=maintenance connects as the role with BYPASSRLS instead of the
runtime role (`manage.py bench --compare-rls`, to measure what row-level security
costs); its password, where the server asks for one, is BENCH_DATABASE_PASSWORD.
"""

from __future__ import annotations

import datetime
import decimal
import heapq
import itertools
import json
import os
import time
import uuid

from django.conf import settings
from django.db import connections

from config.wsgi import application as _django  # production's, collector settings included

QUERY_HEADER = "X-Bench-Queries"
SQL_MS_HEADER = "X-Bench-Sql-Ms"  # milliseconds the request spent in its statements, in all
PAGE_HEADER = "X-Bench-Page"
SLOWEST_PER_REQUEST = 5

if os.environ.get("BENCH_DATABASE_ROLE"):
    # Before the first connection is made (connections are opened on first use).
    _role = os.environ["BENCH_DATABASE_ROLE"]
    _settings = connections["default"].settings_dict
    _settings["USER"] = settings.DATABASE_ROLE_NAMES.get(_role, _role)
    if os.environ.get("BENCH_DATABASE_PASSWORD"):
        _settings["PASSWORD"] = os.environ["BENCH_DATABASE_PASSWORD"]
_sequence = itertools.count()


class StatementRecorder:
    """An execute wrapper: counts statements and keeps the slowest few (ms, sql, params)."""

    def __init__(self, keep: int = SLOWEST_PER_REQUEST):
        self.count = 0
        self.total_ms = 0.0
        self.keep = keep
        self.slowest: list[tuple[float, int, str, object]] = []  # a min-heap

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - start) * 1000
            self.count += 1
            self.total_ms += ms
            entry = (ms, next(_sequence), sql, None if many else params)
            if len(self.slowest) < self.keep:
                heapq.heappush(self.slowest, entry)
            elif self.keep and ms > self.slowest[0][0]:
                heapq.heapreplace(self.slowest, entry)


def _jsonable(value):
    """Params as JSON that EXPLAIN can send back: numbers and text as they are, times
    as ISO text (PostgreSQL casts the literal), anything else as its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None  # not sent back to EXPLAIN (see runner.explain)
    return str(value)


def _log(path_name: str, environ, recorder: StatementRecorder) -> None:
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    common = {
        "page": environ.get("HTTP_" + PAGE_HEADER.upper().replace("-", "_"), ""),
        "path": path + (f"?{query}" if query else ""),
        "district": path.lstrip("/").split("/", 1)[0],
        "queries": recorder.count,
    }
    lines = [
        json.dumps(
            {**common, "ms": round(ms, 3), "sql": sql, "params": _jsonable(params)},
            ensure_ascii=False,
        )
        for ms, _, sql, params in sorted(recorder.slowest, reverse=True)
    ]
    if not lines:
        return
    # One write of whole lines to a file opened for appending: the workers' lines do not mix.
    fd = os.open(path_name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, ("\n".join(lines) + "\n").encode())
    finally:
        os.close(fd)


def application(environ, start_response):
    recorder = StatementRecorder()

    def start_with_count(status, headers, exc_info=None):
        # Django calls this once the response is built (its transaction committed).
        headers = [
            *headers,
            (QUERY_HEADER, str(recorder.count)),
            (SQL_MS_HEADER, f"{recorder.total_ms:.3f}"),
        ]
        if exc_info is not None:
            return start_response(status, headers, exc_info)
        return start_response(status, headers)

    with connections["default"].execute_wrapper(recorder):
        response = _django(environ, start_with_count)
    log = os.environ.get("BENCH_QUERY_LOG")
    if log:
        _log(log, environ, recorder)
    return response
