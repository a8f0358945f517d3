"""The district in the URL: members in, strangers 404, anonymous to sign-in."""

import pytest


def test_member_opens_their_district_home(client, member):
    counselor = member("counselor")
    client.force_login(counselor.user)

    response = client.get(f"/{counselor.district.slug}/")

    assert response.status_code == 200
    assert response.context["district"] == counselor.district
    assert response.context["membership"] == counselor


def test_member_of_another_district_gets_404_not_403(client, member, other_district):
    outsider = member("admin", in_district=other_district)
    client.force_login(outsider.user)

    assert client.get("/north/").status_code == 404
    assert client.get("/no-such-district/").status_code == 404


def test_deactivated_member_gets_404(client, member):
    former = member("counselor", active=False)
    client.force_login(former.user)

    assert client.get(f"/{former.district.slug}/").status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, district):
    response = client.get(f"/{district.slug}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/north/")


def test_root_opens_the_last_district_used(client, member, other_district):
    first = member("counselor")
    second = member("coordinator", in_district=other_district, user=first.user)
    client.force_login(first.user)

    client.get(f"/{other_district.slug}/")
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"/{second.district.slug}/"


def test_person_in_two_districts_sees_the_switcher(client, member, other_district):
    first = member("counselor")
    member("partner", in_district=other_district, user=first.user)
    client.force_login(first.user)

    response = client.get(f"/{first.district.slug}/")

    assert [m.district for m in response.context["switchable_memberships"]] == [other_district]
    assert b"South Coast Unified" in response.content


def test_person_without_a_district_is_told_what_to_do(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")

    assert response.status_code == 200
    assert b"invite you" in response.content


@pytest.mark.parametrize("slug", ["admin", "accounts", "healthz"])
def test_reserved_words_cannot_be_district_slugs(db, slug):
    from django.core.exceptions import ValidationError

    from schools.models import District

    with pytest.raises(ValidationError):
        District(name="X", slug=slug).full_clean()


def test_home_page_costs_the_same_queries_with_1_or_40_schools(client, member, count_queries):
    from tests.factories import SchoolFactory

    counselor = member("counselor")
    client.force_login(counselor.user)
    url = f"/{counselor.district.slug}/"
    client.get(url)  # first visit remembers the district; not what is measured

    few = count_queries(lambda: client.get(url))
    SchoolFactory.create_batch(40, district=counselor.district)
    many = count_queries(lambda: client.get(url))

    assert few == many
    # 13: the viewer's school limits are read once per request (schools.selectors.
    # limited_school_ids), so that the lists filter by a plain `school_id IN (...)`.
    assert many <= 13
