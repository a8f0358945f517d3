"""Change history: who changed a row and from which request, kept with the district's rows."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from schools.models import Membership, Role
from schools.tenancy import tenant_context
from tests.factories import enable_totp
from tests.schools.test_people import people_url


@pytest.fixture
def admin(member):
    admin = member("admin")
    enable_totp(admin.user)  # administrators need two-factor authentication
    return admin


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def test_a_change_made_through_a_page_records_who_and_which_request(
    admin_client, admin, member, district
):
    counselor = member("counselor")

    response = admin_client.post(
        people_url(district, "person_change", counselor.pk), {"role": "coordinator"}
    )

    assert response.status_code == 302
    with tenant_context(district):
        event = (
            Membership.pgh_event_model.objects.filter(pgh_obj_id=counselor.pk, pgh_label="update")
            .order_by("-pgh_id")
            .first()
        )
    assert event.role == Role.COORDINATOR
    assert event.pgh_context == {
        "user": admin.user_id,
        "membership": admin.pk,
        "request_id": response["X-Request-ID"],
        "url_name": "person_change",
    }
    assert event.pgh_context_id is not None


def test_a_page_read_leaves_no_context_behind(admin_client, district, member):
    counselor = member("counselor")
    admin_client.get(people_url(district, "person_change", counselor.pk))

    with tenant_context(district):
        counselor.active = False
        counselor.save(update_fields=["active"])
        event = Membership.pgh_event_model.objects.filter(pgh_obj_id=counselor.pk).last()
    assert event.pgh_context is None


def test_the_runtime_role_cannot_read_pghistory_shared_context_table(db):
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM pghistory_context")
