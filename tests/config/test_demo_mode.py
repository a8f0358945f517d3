"""Demo districts (settings.DEMO_DISTRICTS, set only by `./trellis run`): their
administrators reach their pages without two-factor authentication, and every page there
says it is a demo. Any other district still requires MFA."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import DistrictFactory, MembershipFactory

pytestmark = pytest.mark.django_db

BANNER = "Demo district: administrators sign in here without two-factor authentication."


@pytest.fixture
def admin(district):
    return MembershipFactory(district=district, role="admin")


def test_without_the_setting_an_administrator_is_sent_to_set_up_mfa(client, settings, admin):
    settings.DEMO_DISTRICTS = []
    client.force_login(admin.user)

    response = client.get("/north/")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert admin.needs_mfa


def test_in_a_demo_district_the_administrator_reaches_home_and_the_page_says_so(
    client, settings, admin
):
    settings.DEMO_DISTRICTS = ["north"]
    client.force_login(admin.user)

    response = client.get("/north/")

    assert response.status_code == 200
    page = response.content.decode()
    assert BANNER in page
    assert 'role="note"' in page
    assert not admin.needs_mfa


def test_a_demo_district_lets_in_everyone_even_when_it_requires_mfa(
    client, settings, district, member
):
    district.mfa_required = True
    district.save()
    coordinator = member("coordinator")
    settings.DEMO_DISTRICTS = ["north"]
    client.force_login(coordinator.user)

    assert client.get("/north/").status_code == 200


def test_a_district_not_in_the_list_still_requires_mfa(client, settings, admin):
    other = DistrictFactory(slug="west", name="West Unified")
    west_admin = MembershipFactory(district=other, role="admin")
    settings.DEMO_DISTRICTS = ["north"]
    client.force_login(west_admin.user)

    response = client.get("/west/")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_no_banner_outside_a_demo_district(client, settings, member):
    settings.DEMO_DISTRICTS = ["south"]
    counselor = member("counselor")
    client.force_login(counselor.user)

    response = client.get("/north/")

    assert response.status_code == 200
    assert BANNER not in response.content.decode()


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "[]"), ("demo, riverside,", "['demo', 'riverside']")]
)
def test_the_setting_is_read_from_the_environment_and_empty_by_default(value, expected):
    from tests.config.helpers import PRODUCTION_ENV, manage

    env = dict(PRODUCTION_ENV)
    if value is not None:
        env["TRELLIS_DEMO_DISTRICTS"] = value
    code = "from django.conf import settings; print(settings.DEMO_DISTRICTS)"
    result = manage("shell", "--no-imports", "-c", code, env=env, clean=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
