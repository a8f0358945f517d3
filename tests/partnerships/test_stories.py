"""Success stories: written by staff, publishable only with consent and an administrator's
review, exported for newsletters without letting anyone's text become markup."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from partnerships.models import SuccessStory
from partnerships.services import stories as services
from schools.tenancy import tenant_context
from tests.factories import (
    MembershipFactory,
    PartnerFactory,
    SchoolFactory,
    SuccessStoryFactory,
    enable_totp,
)


def signed_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


def reload(district, story):
    with tenant_context(district):
        return SuccessStory.objects.get(pk=story.pk)


# --- The rule --------------------------------------------------------------------------------


def test_a_story_cannot_become_publishable_without_consent_and_review(district, member):
    coordinator, admin = member("coordinator"), member("admin")
    story = SuccessStoryFactory(district=district)

    with tenant_context(district):
        with pytest.raises(ValidationError):
            services.story_publishable_set(by=coordinator, story=story, publishable=True)
        services.story_consent_record(
            by=coordinator,
            story=story,
            given_by="The student's father",
            given_on=district.today(),
        )
        with pytest.raises(ValidationError):  # consent alone is not enough
            services.story_publishable_set(by=coordinator, story=story, publishable=True)
        services.story_review(by=admin, story=story)
        services.story_publishable_set(by=coordinator, story=story, publishable=True)

    story = reload(district, story)
    assert story.publishable
    assert (story.consent_recorded_by_id, story.reviewed_by_id) == (coordinator.pk, admin.pk)


@pytest.mark.parametrize("missing", ["consent_at", "reviewed_at"])
def test_the_database_refuses_a_publishable_story_missing_consent_or_review(district, missing):
    story = SuccessStoryFactory(district=district, ready=True)

    with tenant_context(district), pytest.raises(IntegrityError), transaction.atomic():
        SuccessStory.objects.filter(pk=story.pk).update(publishable=True, **{missing: None})


def test_only_an_administrator_reviews(district, member):
    story = SuccessStoryFactory(district=district)

    with tenant_context(district), pytest.raises(PermissionDenied):
        services.story_review(by=member("coordinator"), story=story)


def test_rewording_a_reviewed_story_undoes_the_review_and_publication(district, member):
    coordinator = member("coordinator")
    story = SuccessStoryFactory(district=district, ready=True, publishable=True)

    with tenant_context(district):
        services.story_update(
            by=coordinator,
            story=story,
            title=story.title,
            story_text=story.story,
            date=story.date,
        )
        assert reload(district, story).publishable  # nothing reworded: still reviewed
        services.story_update(
            by=coordinator,
            story=story,
            title=story.title,
            story_text="Maria, 14, from room 12, ...",
            date=story.date,
        )

    story = reload(district, story)
    assert story.reviewed_at is None and not story.publishable
    assert story.consent_at is not None  # consent stays; the new text needs a review


def test_withdrawn_consent_stops_publication(client, district, member):
    signed_in(client, member("coordinator"))
    story = SuccessStoryFactory(district=district, ready=True, publishable=True)

    response = client.post(f"/{district.slug}/stories/{story.pk}/consent/", {"action": "withdraw"})

    assert response.status_code == 302
    story = reload(district, story)
    assert story.consent_at is None and not story.publishable


# --- The way through the pages ----------------------------------------------------------------


def test_coordinator_writes_records_consent_admin_reviews_coordinator_publishes(
    client, district, member
):
    school = SchoolFactory(district=district, name="Eastside Elementary")
    partner = PartnerFactory(district=district, name="Riverbend Family Services")
    coordinator = signed_in(client, member("coordinator"))
    response = client.post(
        f"/{district.slug}/stories/new/",
        {
            "title": "A calmer spring",
            "story": "A fourth grader who dreaded school\n\nnow leads the morning circle.",
            "partner": partner.pk,
            "school": school.pk,
            "date": "2025-04-10",
        },
    )
    assert response.status_code == 302
    with tenant_context(district):
        story = SuccessStory.objects.get()
    detail = f"/{district.slug}/stories/{story.pk}/"
    assert response["Location"] == detail
    page = client.get(detail).content.decode()
    assert "Needs consent" in page and "Needs review" in page

    assert client.post(f"{detail}consent/", {"given_by": "", "given_on": ""}).status_code == 200
    future = (district.today() + datetime.timedelta(days=3)).isoformat()
    refused = client.post(f"{detail}consent/", {"given_by": "Mother", "given_on": future})
    assert "cannot be in the future" in refused.content.decode()
    client.post(f"{detail}consent/", {"given_by": "The student's mother", "given_on": "2025-04-12"})
    assert client.post(f"{detail}review/").status_code == 403  # coordinators do not review
    client.post(f"{detail}publish/", {"publishable": "1"})
    assert not reload(district, story).publishable  # not reviewed yet

    signed_in(client, member("admin"))
    client.post(f"{detail}review/")
    signed_in(client, coordinator)
    client.post(f"{detail}publish/", {"publishable": "1"})

    story = reload(district, story)
    assert story.publishable
    assert story.consent_given_by == "The student's mother"
    assert story.consent_at.date() == datetime.date(2025, 4, 12)
    page = client.get(detail).content.decode()
    assert "Publishable" in page and "now leads the morning circle." in page


def test_story_form_keeps_what_was_typed_and_says_what_is_wrong(client, district, member):
    signed_in(client, member("coordinator"))

    response = client.post(
        f"/{district.slug}/stories/new/",
        {"title": "Kept title", "story": "", "date": "not a date", "partner": "x9"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"story", "date", "partner"} <= set(errors)
    assert 'value="Kept title"' in response.content.decode()


# --- Who sees what ---------------------------------------------------------------------------


def test_list_shows_badges_and_filters(client, district, member):
    SuccessStoryFactory(district=district, title="Drafted")
    SuccessStoryFactory(district=district, title="Ready to go", ready=True)
    SuccessStoryFactory(district=district, title="Out there", ready=True, publishable=True)
    signed_in(client, member("coordinator"))

    page = client.get(f"/{district.slug}/stories/").content.decode()
    assert "Drafted" in page and "Needs consent" in page and "Publishable" in page
    ready = client.get(f"/{district.slug}/stories/", {"state": "ready"}).content.decode()
    assert "Ready to go" in ready and "Drafted" not in ready and "Out there" not in ready
    assert client.get(f"/{district.slug}/stories/", {"state": "<x>"}).status_code == 200


def test_partner_sees_only_its_own_organisations_stories(client, district, member):
    own = PartnerFactory(district=district, name="Riverbend")
    mine = SuccessStoryFactory(
        district=district, partner=own, title="Ours", ready=True, publishable=True
    )
    theirs = SuccessStoryFactory(
        district=district,
        title="Someone else's",
        partner=PartnerFactory(district=district),
        ready=True,
        publishable=True,
    )
    signed_in(client, member("partner", partner=own))

    page = client.get(f"/{district.slug}/stories/").content.decode()

    assert "Ours" in page and "Someone else" not in page
    assert client.get(f"/{district.slug}/stories/{mine.pk}/").status_code == 200
    assert client.get(f"/{district.slug}/stories/{theirs.pk}/").status_code == 404
    assert client.get(f"/{district.slug}/stories/new/").status_code == 403
    assert client.post(f"/{district.slug}/stories/{mine.pk}/publish/").status_code == 403


def test_a_partner_sees_its_own_stories_only_once_consented_and_reviewed(
    client, district, other_district, member
):
    own = PartnerFactory(district=district, name="Riverbend")
    published = SuccessStoryFactory(
        district=district, partner=own, title="Out there", ready=True, publishable=True
    )
    unconsented = SuccessStoryFactory(district=district, partner=own, title="Names Maya")
    reviewed_only = SuccessStoryFactory(
        district=district, partner=own, title="Reviewed, not published", ready=True
    )
    hidden = (unconsented, reviewed_only)
    signed_in(client, member("partner", partner=own))

    page = client.get(f"/{district.slug}/stories/").content.decode()
    assert "Out there" in page
    assert "Names Maya" not in page and "Reviewed, not published" not in page
    assert client.get(f"/{district.slug}/stories/{published.pk}/").status_code == 200
    for story in hidden:
        assert client.get(f"/{district.slug}/stories/{story.pk}/").status_code == 404
    export = client.get(f"/{district.slug}/stories/export/").content.decode()
    assert "Out there" in export and "Names Maya" not in export

    # The district's staff still see every story; another district sees none of them.
    signed_in(client, member("coordinator"))
    page = client.get(f"/{district.slug}/stories/").content.decode()
    assert "Names Maya" in page and "Reviewed, not published" in page
    for story in hidden:
        assert client.get(f"/{district.slug}/stories/{story.pk}/").status_code == 200
    signed_in(client, member("admin", in_district=other_district))
    for story in (published, *hidden):
        assert client.get(f"/{other_district.slug}/stories/{story.pk}/").status_code == 404


def test_viewer_sees_only_publishable_stories(client, district, member):
    draft = SuccessStoryFactory(district=district, title="Not reviewed yet")
    SuccessStoryFactory(district=district, title="Published one", ready=True, publishable=True)
    signed_in(client, member("viewer"))

    page = client.get(f"/{district.slug}/stories/").content.decode()

    assert "Published one" in page and "Not reviewed yet" not in page
    assert client.get(f"/{district.slug}/stories/{draft.pk}/").status_code == 404


def test_a_school_limited_coordinator_sees_its_schools_stories(client, district):
    east, west = SchoolFactory(district=district), SchoolFactory(district=district)
    coordinator = MembershipFactory(district=district, role="coordinator")
    with tenant_context(district):
        from schools.models import MembershipSchool

        MembershipSchool.objects.create(district=district, membership=coordinator, school=east)
    east_story = SuccessStoryFactory(district=district, school=east)
    west_story = SuccessStoryFactory(district=district, school=west)
    signed_in(client, coordinator)

    assert client.get(f"/{district.slug}/stories/{east_story.pk}/").status_code == 200
    assert client.get(f"/{district.slug}/stories/{west_story.pk}/").status_code == 404


def test_counselor_has_no_stories(client, district, member):
    story = SuccessStoryFactory(district=district, ready=True, publishable=True)
    signed_in(client, member("counselor"))

    assert client.get(f"/{district.slug}/stories/").status_code == 403
    assert client.get(f"/{district.slug}/stories/{story.pk}/").status_code == 403


def test_another_districts_admin_gets_404(client, district, other_district):
    story = SuccessStoryFactory(district=district, ready=True, publishable=True)
    signed_in(client, MembershipFactory(district=other_district, role="admin"))

    assert client.get(f"/{district.slug}/stories/").status_code == 404
    for action in ("", "edit/", "consent/", "review/", "publish/"):
        path = f"/{other_district.slug}/stories/{story.pk}/{action}"
        assert client.post(path, {"publishable": "1"}).status_code == 404, path
    assert reload(district, story).publishable


def test_story_list_costs_the_same_queries_with_few_or_many(
    client, district, member, count_queries
):
    signed_in(client, member("coordinator"))
    url = f"/{district.slug}/stories/"
    SuccessStoryFactory(district=district, partner=PartnerFactory(district=district))
    client.get(url)

    few = count_queries(lambda: client.get(url))
    for _ in range(15):
        SuccessStoryFactory(
            district=district,
            partner=PartnerFactory(district=district),
            school=SchoolFactory(district=district),
        )
    many = count_queries(lambda: client.get(url))

    assert few == many


def test_story_list_comes_in_pages_that_keep_the_filter(client, district, member, monkeypatch):
    from partnerships.views import stories as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(5):
        SuccessStoryFactory(
            district=district, title=f"Story {n}", date=datetime.date(2026, 1, n + 1)
        )
    signed_in(client, member("coordinator"))
    url = f"/{district.slug}/stories/"

    seen = []
    for number in (1, 2, 3):
        page = client.get(url, {"page": number}).content.decode()
        seen += [f"Story {n}" for n in range(5) if f"Story {n}<" in page]
        assert f"Page {number} of 3" in page
    assert sorted(seen) == [f"Story {n}" for n in range(5)]  # each once
    assert client.get(url, {"page": "x"}).status_code == 200  # garbage: the first page
    filtered = client.get(url, {"state": "needs_review"}).content.decode()
    assert "state=needs_review&amp;page=2" in filtered


# --- Newsletter export -----------------------------------------------------------------------


def test_export_escapes_the_text_and_offers_a_download(client, district, member):
    SuccessStoryFactory(
        district=district,
        title="<script>alert(1)</script> Spring",
        story="Line one & more\n\n<img src=x onerror=alert(1)>",
        ready=True,
        publishable=True,
    )
    SuccessStoryFactory(district=district, title="Not yet published")
    signed_in(client, member("coordinator"))

    page = client.get(f"/{district.slug}/stories/export/")
    download = client.get(f"/{district.slug}/stories/export/", {"download": "1"})

    html = download.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Spring" in html
    assert "<script>" not in html and "<img" not in html
    assert "<p>Line one &amp; more</p>" in html
    assert "Not yet published" not in html
    assert download["Content-Type"] == "text/html; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="north-stories-')
    text = page.content.decode()
    assert "<textarea" in text and "<script>alert" not in text


def test_partner_exports_only_its_own_stories(client, district, member):
    own = PartnerFactory(district=district)
    SuccessStoryFactory(district=district, partner=own, title="Ours", ready=True, publishable=True)
    SuccessStoryFactory(district=district, title="Theirs", ready=True, publishable=True)
    signed_in(client, member("partner", partner=own))

    html = client.get(f"/{district.slug}/stories/export/", {"download": "1"}).content.decode()

    assert "Ours" in html and "Theirs" not in html
