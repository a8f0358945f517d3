"""Every district URL, requested by an administrator of another district, is a 404.

The walk enumerates the URL patterns themselves, so a page added by any later issue
is covered the moment its pattern exists (see tests/security/urls.py).

It runs twice: as the runtime role, with both layers of isolation, and as the maintenance
role, which bypasses row-level security, so the application's own scoping is tested
alone: a selector that forgets its district filter fails the second run even though the
database would have hidden the rows in the first.
"""

import contextlib

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import MembershipFactory, enable_totp
from tests.security.urls import district_urls, make_values

URLS = district_urls()


def test_the_walk_finds_the_district_pages():
    names = {url.name for url in URLS}
    assert "district_home" in names
    assert len(URLS) >= 1


@contextlib.contextmanager
def _connected_as(role: str):
    """Reconnect the default connection as `role` (same server and database) for the block."""
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=role, PASSWORD="")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture(params=["both layers", "rls bypassed"])
def isolation_layers(request, django_db_setup, django_db_blocker):
    """Which layers isolate districts for this run of the walk.

    Must be set up before the test's transaction opens (first among the test's arguments),
    so that the transaction, the data and every request use the maintenance connection.
    """
    if request.param == "both layers":
        yield request.param
        return
    assert not connection.in_atomic_block, "request isolation_layers before the database"
    with _connected_as(settings.DATABASE_ROLE_NAMES["maintenance"]):
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone() == (True,), "the maintenance role must bypass RLS"
        yield request.param


@pytest.fixture
def outsider(client, district, other_district):
    """An administrator (the strongest role) of the other district, signed in."""
    admin = MembershipFactory(district=other_district, role="admin")
    enable_totp(admin.user)
    client.force_login(admin.user)
    return admin


@pytest.mark.parametrize("url", URLS, ids=[u.name for u in URLS])
def test_another_districts_member_gets_404_under_the_first_districts_address(
    isolation_layers, client, district, outsider, url
):
    path = url.build(district.slug, make_values(url.arguments, district))

    assert client.get(path).status_code == 404, path
    assert client.post(path, {}).status_code == 404, path


@pytest.mark.parametrize(
    "url", [u for u in URLS if u.arguments], ids=[u.name for u in URLS if u.arguments]
)
def test_first_districts_objects_are_404_under_the_members_own_district(
    isolation_layers, client, district, other_district, outsider, url
):
    path = url.build(other_district.slug, make_values(url.arguments, district))

    assert client.get(path).status_code == 404, path
    assert client.post(path, {}).status_code == 404, path
