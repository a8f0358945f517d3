"""The district's settings page (issue 15): an administrator changes the district's name,
clock, language and policy without the Django admin; everyone else is refused, another
district gets 404; bad input is shown next to its field; every change is on the audit trail."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from schools.models import AuditEvent, District
from schools.services.district_settings import district_settings_update
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, enable_totp

pytestmark = pytest.mark.django_db


def url(district):
    return reverse("district_settings", args=[district.slug])


def sign_in(client, district, role="admin"):
    membership = MembershipFactory(district=district, role=role)
    if role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def form_data(district, **changes):
    data = {
        "name": district.name,
        "time_zone": str(district.time_zone),
        "default_language": district.default_language,
        "student_self_consent_age": district.student_self_consent_age,
        "referral_response_days": district.referral_response_days,
        "directory_freshness_days": district.directory_freshness_days,
        "crisis_protocol": district.crisis_protocol,
        "crisis_protocol_es": district.crisis_protocol_es,
    }
    if district.mfa_required:
        data["mfa_required"] = "on"
    data.update(changes)
    return data


def fresh(district) -> District:
    return District.objects.get(pk=district.pk)


def audit_rows(district):
    with tenant_context(district):
        return list(
            AuditEvent.objects.filter(district=district).values_list(
                "action", "object_type", "detail"
            )
        )


# --- The trio ---------------------------------------------------------------------------------


def test_an_administrator_changes_the_settings_and_it_is_on_the_audit_trail(client, district):
    sign_in(client, district)
    page = client.get(url(district))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("closed_days", args=[district.slug]) in html
    assert 'aria-current="page"' in html

    response = client.post(
        url(district),
        form_data(
            district,
            name="Riverside Unified",
            time_zone="America/Los_Angeles",
            default_language="es",
            mfa_required="on",
            student_self_consent_age="12",
            referral_response_days="7",
            directory_freshness_days="90",
            crisis_protocol="Call 988, then the principal.",
            crisis_protocol_es="Llame al 988.",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == url(district)
    saved = fresh(district)
    assert saved.name == "Riverside Unified"
    assert str(saved.time_zone) == "America/Los_Angeles"
    assert saved.default_language == "es"
    assert saved.mfa_required is True
    assert saved.student_self_consent_age == 12
    assert saved.referral_response_days == 7
    assert saved.directory_freshness_days == 90
    assert saved.crisis_protocol_text("es") == "Llame al 988."
    assert saved.slug == district.slug
    [(action, object_type, detail)] = audit_rows(district)
    assert action == AuditEvent.Action.SETTINGS_CHANGED
    assert object_type == "schools.district"
    assert "referral_response_days" in detail["fields"]
    assert "time_zone" in detail["fields"]
    assert "saved" in client.get(response["Location"]).content.decode()


def test_saving_without_a_change_writes_no_audit_row(client, district):
    sign_in(client, district)

    response = client.post(url(district), form_data(district))

    assert response.status_code == 302
    assert audit_rows(district) == []


@pytest.mark.parametrize("role", ["coordinator", "counselor", "viewer", "partner"])
def test_other_roles_are_refused(client, district, role):
    sign_in(client, district, role)

    assert client.get(url(district)).status_code == 403
    response = client.post(url(district), form_data(district, referral_response_days="9"))
    assert response.status_code == 403
    assert fresh(district).referral_response_days == district.referral_response_days


def test_another_districts_administrator_gets_404(client, district, other_district):
    sign_in(client, other_district)

    assert client.get(url(district)).status_code == 404
    response = client.post(url(district), form_data(district, name="Taken over"))
    assert response.status_code == 404
    assert fresh(district).name == district.name


def test_the_service_refuses_another_role_and_another_district(district, other_district):
    counselor = MembershipFactory(district=district, role="counselor")
    admin = MembershipFactory(district=other_district, role="admin")

    with pytest.raises(PermissionDenied):
        district_settings_update(by=counselor, district=district, referral_response_days=9)
    with pytest.raises(PermissionDenied):
        district_settings_update(by=admin, district=district, referral_response_days=9)
    assert fresh(district).referral_response_days == district.referral_response_days


# --- Bad input: errors next to the field, what was typed kept ----------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("default_language", "xx"),
        ("student_self_consent_age", "9"),
        ("student_self_consent_age", "19"),
        ("student_self_consent_age", "twelve"),
        ("referral_response_days", "0"),
        ("referral_response_days", "61"),
        ("referral_response_days", "99999999999999999999999"),
        ("directory_freshness_days", "6"),
        ("directory_freshness_days", "1096"),
        ("directory_freshness_days", "-5"),
        ("name", "   "),
        ("crisis_protocol", "x" * 10_001),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, district, field, value):
    sign_in(client, district)

    response = client.post(url(district), form_data(district, **{field: value}))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert set(form.errors) == {field}
    if value.strip() and len(value) < 100 and field not in ("time_zone", "default_language"):
        assert value in response.content.decode()  # what was typed is kept (not a list)
    assert fresh(district).name == district.name
    assert audit_rows(district) == []


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"name": "\x00"},
        {"time_zone": "../../etc/passwd", "referral_response_days": "1e9"},
        {"student_self_consent_age": "<script>alert(1)</script>"},
        {"mfa_required": ["on", "off"], "default_language": ["en", "es"]},
    ],
)
def test_garbage_never_makes_a_500(client, district, garbage):
    sign_in(client, district)

    response = client.post(url(district), garbage)

    assert response.status_code in (200, 302)
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"time_zone": "Nowhere/Land"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"student_self_consent_age": 9}, "student_self_consent_age"),
        ({"referral_response_days": 61}, "referral_response_days"),
        ({"directory_freshness_days": "soon"}, "directory_freshness_days"),
        ({"default_language": "fr"}, "default_language"),
        ({"name": "  "}, "name"),
    ],
)
def test_the_service_refuses_bad_values_by_field(district, fields, bad):
    admin = MembershipFactory(district=district, role="admin")

    with tenant_context(district), pytest.raises(ValidationError) as refused:
        district_settings_update(by=admin, district=district, **fields)

    assert set(refused.value.message_dict) == {bad}
    assert audit_rows(district) == []


def test_the_service_changes_only_what_it_is_given(district):
    admin = MembershipFactory(district=district, role="admin")

    with tenant_context(district):
        district_settings_update(by=admin, district=district, referral_response_days=10)

    saved = fresh(district)
    assert saved.referral_response_days == 10
    assert saved.name == district.name
    assert district.referral_response_days == 10  # the caller's object follows
    [(_action, _type, detail)] = audit_rows(district)
    assert detail == {"fields": ["referral_response_days"]}


def test_the_settings_change_reads_well_on_the_audit_trail(client, district):
    sign_in(client, district)
    client.post(url(district), form_data(district, referral_response_days="8"))

    html = client.get(reverse("audit_trail", args=[district.slug])).content.decode()

    assert "District settings changed" in html
    assert "referral response time (business days)" in html
