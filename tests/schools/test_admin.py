"""The Django admin: platform staff only, signing in through allauth."""

import pytest

from tests.factories import UserFactory

PAGES = [
    "/admin/",
    "/admin/schools/district/",
    "/admin/schools/district/add/",
    "/admin/schools/user/",
    "/admin/schools/membership/",
    "/admin/schools/outgoingemail/",
]


@pytest.mark.parametrize("url", PAGES)
def test_platform_staff_open_admin_pages(client, district, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    assert client.get(url).status_code == 200


def test_district_admin_without_platform_staff_is_refused(client, member):
    client.force_login(member("admin").user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]


def test_anonymous_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
