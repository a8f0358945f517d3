"""Test set-up shared by every suite.

The database is the embedded PostgreSQL (or DATABASE_URL's server), never SQLite.
The test database is created and migrated as the owner role; the tests themselves
run as the runtime role, exactly as the web process and workers do.
"""

from __future__ import annotations

import os
import zlib

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses
# to run in a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.fixtures"]


def _redis_db(url: str, db: int) -> str:
    """The same Redis server, another logical database (keeps tests off the demo's data)."""
    if url.startswith("unix://"):
        return f"{url.split('?', 1)[0]}?db={db}"
    base, _, _ = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}"


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A Redis database of its own per test database name: the suite empties its cache
    # before each test, which must not empty the cache of a suite running beside it (or
    # of another worker of this one: pytest-xdist's workers have databases of their own,
    # named with their id).
    test_name = settings.DATABASES["default"]["TEST"]["NAME"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"...: one apart each
    number = int(worker[2:]) if worker[2:].isdigit() else 0
    settings.CACHES["default"]["LOCATION"] = _redis_db(
        settings.REDIS_URL, 1 + (zlib.crc32(test_name.encode()) + number) % 15
    )
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Links in mail are built on SITE_URL (core.mail.absolute_url): the test client's host,
    # whatever the environment says, so a link read from a test's mail can be followed.
    settings.SITE_URL = "http://testserver"
    from config.celery import app

    app.conf.task_always_eager = True


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,  # a database per pytest-xdist worker
):
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    from config.db import as_owner

    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock(), as_owner() as owner:
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            serialized_aliases=set(),
            keepdb=keepdb,
        )
        # Flushing between transactional (live-server) tests truncates tables: a
        # privilege the runtime role has only in the test database.
        runtime = owner.ops.quote_name(settings.DATABASE_ROLE_NAMES["runtime"])
        # Append-only tables too: emptying the test database between tests is not the
        # UPDATE or DELETE that their tests prove impossible.
        with owner.cursor() as cursor:
            cursor.execute(f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {runtime}")
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), as_owner():
            teardown_databases(config, verbosity=request.config.option.verbose)


@pytest.fixture(autouse=True)
def _site_url_is_the_live_server(request):
    """Browser tests follow links from mail: there SITE_URL is the live server's address."""
    if "live_server" not in request.fixturenames:
        yield
        return
    from django.test.utils import override_settings

    with override_settings(SITE_URL=request.getfixturevalue("live_server").url):
        yield


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request in Spanish leaves Spanish active
    in its thread (LocaleMiddleware activates, nothing deactivates), and the next test on
    that thread must not read its messages in Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and cached values never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


# Tests whose outcome depends on the database and Redis servers themselves (their
# version, roles, row-level security, locks, the worker, search), not only on Trellis's
# code: .ci/run's second pass runs these (`-m servers`) against the machine's own
# PostgreSQL and Redis, after the whole suite has passed on the embedded ones.
SERVER_DEPENDENT = (
    "tests/config/",
    # Of the security tests, those that exercise the server's own row-level security,
    # keys and locks; the walks of roles, escaping, garbage, headers and signed links test
    # Trellis's views whatever the server, and ran in the first pass.
    "tests/security/test_row_level_security.py",
    "tests/security/test_composite_keys.py",
    "tests/security/test_exactly_once.py",
    "tests/security/test_isolation_walk.py",
    "tests/schools/test_tenancy.py",
    "tests/schools/test_tenant_context.py",
    "tests/schools/test_students.py",
    "tests/schools/test_email.py",
    "tests/schools/test_outbox.py",
    "tests/schools/test_outbox_faults.py",
    "tests/schools/test_access_log.py",
    "tests/partnerships/test_directory.py",
    "tests/partnerships/test_renewals.py",
    # The overdue sweep's two sweeps at once (each on its own connection).
    "tests/referrals/test_overdue.py::test_two_",
    "tests/e2e/test_sign_in.py",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(SERVER_DEPENDENT):
            item.add_marker(pytest.mark.servers)
