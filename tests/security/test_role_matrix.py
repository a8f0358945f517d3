"""Every district page asks the capability table, and every role gets what it says.

Walks each district URL for each role: a role that holds the view's capability is let
in (no 403), a role that does not is refused with 403. A view without a declared
capability fails the walk.
"""

import pytest

from schools.capabilities import CAPABILITIES
from schools.models import Role
from tests.factories import MembershipFactory, enable_totp
from tests.security.urls import district_urls, make_values

URLS = district_urls()


def test_every_district_view_declares_its_capability():
    undeclared = [url.name for url in URLS if not hasattr(url.callback, "capability")]

    assert undeclared == [], "decorate these views with @requires(...)"


def test_every_capability_names_only_real_roles():
    for capability, roles in CAPABILITIES.items():
        assert roles <= set(Role.values), capability


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("url", URLS, ids=[u.name for u in URLS])
def test_role_matrix(client, district, role, url):
    membership = MembershipFactory(district=district, role=role)
    enable_totp(membership.user)
    client.force_login(membership.user)
    path = url.build(district.slug, make_values(url.arguments, district))

    status = client.get(path).status_code

    if role in CAPABILITIES[url.callback.capability]:
        assert status in (200, 302), f"{role} should open {path} ({status})"
    else:
        assert status == 403, f"{role} must not open {path} ({status})"
