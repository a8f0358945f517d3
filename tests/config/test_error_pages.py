"""Error pages are Trellis pages in the reader's language that say what to do next."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from tests.factories import PASSWORD

SPANISH = {"Accept-Language": "es"}
# From the layout, already in the Spanish catalogue: proves the page was rendered in Spanish.
SKIP_LINK_ES = "Saltar al contenido principal"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def counselor_client(member):
    counselor = member("counselor")
    client = Client(raise_request_exception=False)
    client.force_login(counselor.user)
    return client, counselor.district


def test_a_missing_page_is_a_trellis_page_that_says_what_to_do(counselor_client):
    client, district = counselor_client

    response = client.get(f"/{district.slug}/students/987654/")

    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert "Check the address" in text(response)
    assert f'href="/{district.slug}/"' in text(response)  # back to the district's home
    assert '<html lang="en">' in text(response)


def test_a_district_the_person_is_not_in_gives_the_same_404(counselor_client, other_district):
    client, _ = counselor_client

    response = client.get(f"/{other_district.slug}/")

    assert response.status_code == 404
    assert "Page not found" in text(response)
    assert other_district.name not in text(response)


def test_the_404_is_in_spanish_for_a_spanish_reader(counselor_client):
    client, district = counselor_client

    response = client.get(f"/{district.slug}/students/987654/", headers=SPANISH)

    assert response.status_code == 404
    assert '<html lang="es">' in text(response)
    assert SKIP_LINK_ES in text(response)


def test_a_403_names_the_roles_that_may_do_it(counselor_client):
    client, district = counselor_client

    response = client.get(f"/{district.slug}/students/import/")

    assert response.status_code == 403
    assert "You cannot do this here" in text(response)
    assert "This needs the role: Coordinator or Administrator." in text(response)


def test_a_403_names_a_single_role_alone(counselor_client):
    client, district = counselor_client

    response = client.get(f"/{district.slug}/people/")

    assert response.status_code == 403
    assert "This needs the role: Administrator." in text(response)


def test_the_403_names_the_roles_in_spanish(counselor_client):
    client, district = counselor_client

    response = client.get(f"/{district.slug}/students/import/", headers=SPANISH)

    assert response.status_code == 403
    assert '<html lang="es">' in text(response)
    assert "Coordinador/a" in text(response)
    assert "Administrador/a" in text(response)


def test_a_bad_request_is_a_trellis_page(db):
    client = Client(raise_request_exception=False)

    response = client.get("/accounts/login/", headers={"Host": "not a host name"})

    assert response.status_code == 400
    assert "Trellis could not read this request" in text(response)


def test_a_bad_request_is_in_spanish_for_a_spanish_reader(db):
    client = Client(raise_request_exception=False)

    response = client.get("/accounts/login/", headers={"Host": "not a host name", **SPANISH})

    assert response.status_code == 400
    assert '<html lang="es">' in text(response)
    assert SKIP_LINK_ES in text(response)


def _broken(request):
    raise RuntimeError("boom")


def _half_done(request):
    from schools.models import User

    User.objects.create_user("half.done@example.org", "x" * 16)
    raise RuntimeError("boom after a write")


class BrokenURLs:
    urlpatterns = [path("boom/", _broken), path("half-done/", _half_done)]


def test_a_server_error_keeps_nothing_the_request_wrote(counselor_client, settings):
    from schools.models import User

    client, _ = counselor_client
    settings.ROOT_URLCONF = BrokenURLs

    response = client.get("/half-done/")

    assert response.status_code == 500
    assert "boom after a write" in str(response.exc_info[1])  # nothing failed after it
    assert "What you were doing was not saved" in text(response)
    assert not User.objects.filter(email="half.done@example.org").exists()


@pytest.mark.parametrize(("headers", "lang"), [({}, "en"), (SPANISH, "es")])
def test_a_server_error_is_a_trellis_page_in_the_readers_language(
    counselor_client, settings, headers, lang
):
    client, _ = counselor_client
    settings.ROOT_URLCONF = BrokenURLs

    response = client.get("/boom/", headers=headers)

    assert response.status_code == 500
    assert f'<html lang="{lang}">' in text(response)
    assert "boom" not in text(response)
    assert 'href="/static/css/trellis.css"' in text(response)
    if lang == "en":
        assert "Something went wrong in Trellis" in text(response)
        assert "What you were doing was not saved" in text(response)
    else:
        assert SKIP_LINK_ES in text(response)


@pytest.mark.parametrize(("headers", "lang"), [({}, "en"), (SPANISH, "es")])
def test_a_csrf_failure_is_a_trellis_page(member, headers, lang):
    counselor = member("counselor")
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/accounts/login/",
        {"login": counselor.user.email, "password": PASSWORD},
        headers=headers,
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert f'<html lang="{lang}">' in text(response)
    if lang == "en":
        assert "This form has expired" in text(response)
        assert "send the form again" in text(response)
    else:
        assert SKIP_LINK_ES in text(response)
