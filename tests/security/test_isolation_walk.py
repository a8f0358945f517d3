"""Every district URL, requested by an administrator of another district, is a 404.

The walk enumerates the URL patterns themselves, so a page added by any later issue
is covered the moment its pattern exists (see tests/security/urls.py).
"""

import pytest

from tests.factories import MembershipFactory, enable_totp
from tests.security.urls import district_urls, make_values

URLS = district_urls()


def test_the_walk_finds_the_district_pages():
    names = {url.name for url in URLS}
    assert "district_home" in names
    assert len(URLS) >= 1


@pytest.fixture
def outsider(client, district, other_district):
    """An administrator (the strongest role) of the other district, signed in."""
    admin = MembershipFactory(district=other_district, role="admin")
    enable_totp(admin.user)
    client.force_login(admin.user)
    return admin


@pytest.mark.parametrize("url", URLS, ids=[u.name for u in URLS])
def test_another_districts_member_gets_404_under_the_first_districts_address(
    client, district, outsider, url
):
    path = url.build(district.slug, make_values(url.arguments, district))

    assert client.get(path).status_code == 404, path
    assert client.post(path, {}).status_code == 404, path


@pytest.mark.parametrize(
    "url", [u for u in URLS if u.arguments], ids=[u.name for u in URLS if u.arguments]
)
def test_first_districts_objects_are_404_under_the_members_own_district(
    client, district, other_district, outsider, url
):
    path = url.build(other_district.slug, make_values(url.arguments, district))

    assert client.get(path).status_code == 404, path
    assert client.post(path, {}).status_code == 404, path
