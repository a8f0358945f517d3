"""A database that cannot be reached is a 503 Trellis page, never a 500 or a 400, and
the requests after it is back succeed.

Against the real PostgreSQL: the connection is pointed at a port nobody listens on
(refused, as while the server is down or restarting), or its server process is ended
under it (cut, as by a restart or a failover). Requests that must show how a server
recovers go through Django's WSGI handler (`served`): the test client skips the
request_started/request_finished handlers that drop a broken or old connection.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, connections, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import translation

from config import urls
from config.views import server_error
from schools.models import Invitation
from schools.tenancy import tenant_context
from tests.config.test_health import closed_port
from tests.factories import enable_totp

pytestmark = pytest.mark.django_db(transaction=True)

SPANISH = {"Accept-Language": "es"}
# Already in the Spanish catalogue (the layout and the 500 page share them with the 503).
SKIP_LINK_ES = "Saltar al contenido principal"
HOME_LINK_ES = "Ir a la página de inicio de Trellis"


def text(response) -> str:
    return response.content.decode()


def refuse():
    """New connections are refused: the server is down."""
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))


def cut():
    """The open connection's server process ends, as in a restart of PostgreSQL."""
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            # Waits (up to 5 s) until the process is gone, so the next query fails.
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        other.close()


OUTAGES = {"refuse": refuse, "cut": cut}


class Database:
    refuse = staticmethod(refuse)
    cut = staticmethod(cut)

    def __init__(self):
        self.saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}

    def restore(self):
        connection.close()
        connection.settings_dict.update(self.saved)


@pytest.fixture
def database():
    """refuse() or cut() the test database; restored at the end whatever the test did."""
    database = Database()
    yield database
    database.restore()


@pytest.fixture
def counselor(member):
    return member("counselor")


@pytest.fixture
def counselor_client(counselor):
    client = Client(raise_request_exception=False)
    client.force_login(counselor.user)
    return client


def served(path, cookies, **headers) -> tuple[int, str]:
    """GET `path` through Django's WSGI handler as a server runs it, connections handled."""
    environ = RequestFactory().get(path, headers=headers).environ
    environ["HTTP_COOKIE"] = "; ".join(f"{name}={m.value}" for name, m in cookies.items())
    statuses = []

    def start_response(status, response_headers, exc_info=None):
        statuses.append(status)

    response = WSGIHandler()(environ, start_response)
    try:
        body = b"".join(response).decode()
    finally:
        response.close()  # request_finished: a broken or old connection is closed here
    return int(statuses[0].split()[0]), body


def assert_unavailable_page(response):
    """The 503 page: try again later, kept by no cache; not the 500 page in any language."""
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    assert 'href="/static/css/trellis.css"' in text(response)
    assert "Something went wrong" not in text(response)
    assert "Algo salió mal" not in text(response)


# --- The database is down: every page is the 503 ------------------------------------------


def test_a_district_page_is_a_503_trellis_page_while_the_database_is_down(
    counselor_client, counselor, database
):
    database.refuse()

    response = counselor_client.get(f"/{counselor.district.slug}/")

    assert_unavailable_page(response)
    assert '<html lang="en">' in text(response)
    assert "Trellis is briefly unavailable" in text(response)
    assert "could not reach its database" in text(response)
    assert "it may not have been saved" in text(response)
    assert "Error 503 (service unavailable)" in text(response)


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_the_503_is_in_the_readers_language(counselor_client, counselor, database, how):
    if how == "cookie":
        counselor_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    database.refuse()

    response = counselor_client.get(
        f"/{counselor.district.slug}/", headers=SPANISH if how == "header" else {}
    )

    assert_unavailable_page(response)
    assert '<html lang="es">' in text(response)
    assert response["Content-Language"] == "es"
    assert SKIP_LINK_ES in text(response)
    assert HOME_LINK_ES in text(response)


def test_a_form_sent_while_the_database_is_down_is_a_503_and_is_sent_again_after(
    member, district, database
):
    admin = member("admin")
    enable_totp(admin.user)
    client = Client(raise_request_exception=False)
    client.force_login(admin.user)
    invite = f"/{district.slug}/people/invite/"
    form = {"email": "new@example.org", "role": "viewer"}
    database.refuse()

    response = client.post(invite, form)
    database.restore()

    assert_unavailable_page(response)
    with tenant_context(district):
        assert not Invitation.objects.exists()  # the page says it may not be saved: it was not
    assert client.post(invite, form).status_code == 302
    with tenant_context(district):
        assert Invitation.objects.get().email == "new@example.org"


def test_the_sign_in_page_is_a_503_while_the_database_is_down(database):
    client = Client(raise_request_exception=False)
    database.refuse()

    response = client.get("/accounts/login/")
    database.restore()

    assert_unavailable_page(response)
    assert client.get("/accounts/login/").status_code == 200


def test_an_htmx_request_gets_the_503_too(counselor_client, counselor, database):
    database.refuse()

    response = counselor_client.get(
        f"/{counselor.district.slug}/students/", headers={"HX-Request": "true"}
    )

    assert_unavailable_page(response)


def test_static_files_and_the_health_check_answer_as_before(database):
    client = Client(raise_request_exception=False)
    database.refuse()

    static = client.get("/static/css/trellis.css")
    health = client.get("/healthz")

    assert static.status_code == 200
    assert (health.status_code, health.json()["database"]) == (503, "OperationalError")


def test_the_503_page_needs_no_database_no_session_and_no_user(django_assert_num_queries):
    request = RequestFactory().get("/", headers=SPANISH)  # no session, no user
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        # English around it: the page must take the language from the request itself.
        with django_assert_num_queries(0), translation.override("en"):
            response = server_error(request)

    assert response.status_code == 503
    assert '<html lang="es">' in text(response)


# --- The database goes away during a request ---------------------------------------------


def _session_saved_after_the_database_went(request, how):
    """A view that did its work; the database goes once its transaction has committed."""
    request.session["touched"] = True
    transaction.on_commit(OUTAGES[how])
    return HttpResponse("done")


def _database_lost_while_the_view_runs(request, how):
    OUTAGES[how]()
    Session.objects.count()
    return HttpResponse("done")


def _session_deleted_by_another_request(request):
    """Signed out in another tab while this request ran: the session row is gone."""
    Session.objects.filter(session_key=request.session.session_key).delete()
    request.session["touched"] = True
    return HttpResponse("done")


def _statement_timeout(request):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    return HttpResponse("done")


class OutageURLs:
    urlpatterns = [
        path("outage/<str:how>/after-commit/", _session_saved_after_the_database_went),
        path("outage/<str:how>/during-view/", _database_lost_while_the_view_runs),
        path("outage/session-deleted/", _session_deleted_by_another_request),
        path("outage/statement-timeout/", _statement_timeout),
        *urls.urlpatterns,
    ]
    handler403 = urls.handler403
    handler500 = urls.handler500


@pytest.fixture
def outage_urls(settings, database):
    """The test-only views above; the database is restored after the test."""
    settings.ROOT_URLCONF = OutageURLs


@pytest.mark.parametrize("how", ["refuse", "cut"])
def test_a_session_that_cannot_be_saved_for_want_of_a_database_is_a_503_not_a_400(
    counselor_client, outage_urls, how
):
    response = counselor_client.get(f"/outage/{how}/after-commit/", headers=SPANISH)

    assert_unavailable_page(response)
    assert '<html lang="es">' in text(response)
    assert response["Content-Language"] == "es"


def test_a_session_deleted_by_another_request_is_still_a_400(counselor_client, outage_urls):
    response = counselor_client.get("/outage/session-deleted/")

    assert response.status_code == 400
    assert "Trellis could not read this request" in text(response)


def test_a_database_that_answers_with_an_error_is_still_a_500(counselor_client, outage_urls):
    response = counselor_client.get("/outage/statement-timeout/")

    assert response.status_code == 500
    assert "Something went wrong in Trellis" in text(response)
    assert "Retry-After" not in response


# --- After the database is back, nothing fails ---------------------------------------------


def test_a_connection_cut_between_requests_costs_no_request(counselor_client, counselor, database):
    home = f"/{counselor.district.slug}/"
    assert served(home, counselor_client.cookies)[0] == 200
    before = connection.connection.info.backend_pid

    database.cut()  # PostgreSQL restarted while the persistent connection was idle

    assert served(home, counselor_client.cookies)[0] == 200
    assert connection.connection.info.backend_pid != before


@pytest.mark.parametrize("where", ["during-view", "after-commit"])
def test_a_connection_cut_during_a_request_is_dropped_and_the_next_request_succeeds(
    counselor_client, counselor, outage_urls, where
):
    assert served(f"/{counselor.district.slug}/", counselor_client.cookies)[0] == 200

    status, body = served(f"/outage/cut/{where}/", counselor_client.cookies)

    assert status == 503
    assert "Trellis is briefly unavailable" in body
    # The cut connection is not handed to the next request: it reconnects and succeeds.
    assert served(f"/{counselor.district.slug}/", counselor_client.cookies)[0] == 200


def test_the_same_person_carries_on_once_the_database_is_back(
    counselor_client, counselor, database
):
    home = f"/{counselor.district.slug}/"
    database.refuse()
    assert counselor_client.get(home).status_code == 503

    database.restore()

    assert served(home, counselor_client.cookies)[0] == 200
    assert counselor_client.get(home).status_code == 200
