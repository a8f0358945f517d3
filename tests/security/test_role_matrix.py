"""Every role gets exactly what the hand-written table says, for every district page and action.

The expectation is tests/security/expected_roles.py, written from the product rules, not
read from schools/capabilities.py or from the capability a view declares: weakening a
view's @requires, or giving a capability to one more role, fails this walk.

One signed-in client per persona walks every district URL with GET and with an empty
POST (a refusal must come before any validation): a role the table allows is let in
(neither 403 nor, since each object is of its own district and organisation, 404), a
role it does not is refused with 403. A URL with no entry in the table fails the walk.
"""

import pytest

from schools.capabilities import CAPABILITIES
from schools.models import Role
from tests.factories import MembershipFactory, SchoolFactory, StudentFactory, enable_totp
from tests.security.expected_roles import EXPECTED
from tests.security.urls import district_urls, make_values

URLS = district_urls()

# Persona -> its role in the table. The school-limited counselor must still be let in
# wherever a counselor is, with an object of its own school.
PERSONAS = {
    "admin": Role.ADMIN,
    "coordinator": Role.COORDINATOR,
    "counselor": Role.COUNSELOR,
    "partner": Role.PARTNER,
    "viewer": Role.VIEWER,
    "counselor_of_one_school": Role.COUNSELOR,
}


def test_every_district_view_declares_its_capability():
    undeclared = [url.name for url in URLS if not hasattr(url.callback, "capability")]

    assert undeclared == [], "decorate these views with @requires(...)"


def test_every_capability_names_only_real_roles():
    for capability, roles in CAPABILITIES.items():
        assert roles <= set(Role.values), capability


def test_every_district_url_has_a_hand_written_expectation():
    names = {url.name for url in URLS}
    missing = sorted(names - set(EXPECTED))
    stale = sorted(set(EXPECTED) - names)

    assert missing == [], (
        f"no expected roles for {missing}: add them to tests/security/expected_roles.py, "
        "from the product rules (not from the view's capability)"
    )
    assert stale == [], f"expected_roles.py names URLs that no longer exist: {stale}"
    for name, methods in EXPECTED.items():
        assert set(methods) == {"GET", "POST"}, name
        for roles in methods.values():
            assert roles <= set(Role.values), name


def _persona(district, persona):
    membership = MembershipFactory(district=district, role=PERSONAS[persona])
    school = None
    if persona == "counselor_of_one_school":
        school = SchoolFactory(district=district, name="Limited Middle School")
        from schools.tenancy import tenant_context

        with tenant_context(district):
            membership.schools.set([school], through_defaults={"district_id": district.pk})
    enable_totp(membership.user)
    return membership, school


def _status(client, method, path):
    try:
        return getattr(client, method.lower())(path, {}).status_code
    except Exception as error:  # the test client re-raises what would be a 500
        return f"500 ({type(error).__name__}: {error})"


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_role_gets_what_the_hand_written_table_says(client, district, persona):
    membership, school = _persona(district, persona)
    client.force_login(membership.user)
    role = PERSONAS[persona]
    wrong = []
    for url in URLS:
        expected = EXPECTED.get(url.name)
        if expected is None:
            wrong.append(f"{url.name}: no entry in expected_roles.py")
            continue
        arguments = [a for a in url.arguments if not (school and a == "student_id")]
        values = make_values(arguments, district)
        if school and "student_id" in url.arguments:
            values["student_id"] = StudentFactory(district=district, school=school).pk
        path = url.build(district.slug, values)
        for method in ("GET", "POST"):
            status = _status(client, method, path)
            if role in expected[method]:
                if status in (403, 404) or not isinstance(status, int) or status >= 500:
                    wrong.append(f"{method} {path} ({url.name}): let in expected, got {status}")
            elif status != 403:
                wrong.append(f"{method} {path} ({url.name}): 403 expected, got {status}")

    assert wrong == [], f"{persona}:\n" + "\n".join(wrong)
