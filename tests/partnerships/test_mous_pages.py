"""MOU pages: the trio on every page, the list, drafting, section editing (with htmx and
concurrent saves), comparing versions, the workflow buttons, signing in Trellis and through
the emailed link, goals and templates."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from partnerships.models import MOU, Goal, MOUSignature, MOUStatus, MOUTemplate, MOUVersion
from partnerships.mou_rules import default_template_sections
from partnerships.selectors.mous import current_version
from partnerships.services.mous.drafting import (
    mou_section_update,
    mou_template_create,
    mou_terms_update,
)
from partnerships.services.mous.goals import goal_create, goal_progress_add
from partnerships.services.mous.workflow import mou_return
from partnerships.views.mous.lists import PAGE_SIZE
from schools.tenancy import tenant_context
from tests.factories import PartnerFactory
from tests.partnerships.mou_setup import (
    Cast,
    advance,
    draft,
    force_status,
    person,
    review_links,
)


@pytest.fixture
def cast(district):
    return Cast(district)


@pytest.fixture
def mou(cast):
    return draft(cast.coordinator, partner=cast.partner)


def signed_in(client, membership):
    client.force_login(membership.user)
    return client


def url(name, mou, *args):
    return reverse(name, args=[mou.district.slug, mou.pk, *args])


def latest(mou) -> MOUVersion:
    with tenant_context(mou.district_id):
        return current_version(mou)


def status_of(mou) -> str:
    with tenant_context(mou.district_id):
        return MOU.objects.get(pk=mou.pk).status


# --- The trio on every page -------------------------------------------------------------------

# (page, status the MOU is in, allowed role, its expected answer, a weaker role -> 403)
PAGES = [
    ("mou_list", "draft", "viewer", 200, "counselor"),
    ("mou_create", "draft", "coordinator", 200, "viewer"),
    ("mou_templates", "draft", "coordinator", 200, "viewer"),
    ("mou_template_create", "draft", "coordinator", 200, "partner"),
    ("mou_template_edit", "draft", "coordinator", 200, "viewer"),
    ("mou_detail", "draft", "viewer", 200, "counselor"),
    ("mou_terms", "draft", "coordinator", 200, "viewer"),
    ("mou_section", "draft", "coordinator", 200, "viewer"),
    ("mou_compare", "draft", "viewer", 200, "counselor"),
    ("mou_submit", "draft", "coordinator", 302, "viewer"),
    ("mou_approve", "internal_review", "admin", 302, "coordinator"),
    ("mou_return", "internal_review", "admin", 200, "coordinator"),
    ("mou_withdraw", "sent", "coordinator", 200, "viewer"),
    ("mou_resend", "sent", "coordinator", 302, "viewer"),
    ("mou_partner_comment", "sent", "partner", 200, "coordinator"),
    ("mou_sign", "sent", "partner", 200, "coordinator"),
    ("mou_sign", "partner_signed", "admin", 200, "viewer"),
    ("mou_terminate", "active", "admin", 200, "coordinator"),
    ("mou_goal_create", "draft", "coordinator", 200, "viewer"),
    ("mou_goal_progress", "draft", "coordinator", 200, "partner"),
]


def _page_url(name, mou, cast):
    slug = mou.district.slug
    if name in ("mou_list", "mou_create", "mou_templates", "mou_template_create"):
        return reverse(name, args=[slug])
    if name == "mou_template_edit":
        with tenant_context(cast.district):
            template = mou_template_create(by=cast.coordinator, name="Ours", sections={})
        return reverse(name, args=[slug, template.pk])
    if name == "mou_goal_progress":
        with tenant_context(cast.district):
            goal = Goal.objects.create(
                district=cast.district, mou=mou, description="Seen", target=10, unit="s", period="p"
            )
        return reverse(name, args=[slug, goal.pk])
    if name == "mou_section":
        return url(name, mou, "purpose")
    return url(name, mou)


def _someone(cast, role):
    return cast.partner_member if role == "partner" else person(cast.district, role)


@pytest.mark.parametrize(
    ("name", "status", "allowed", "answer", "weaker"),
    PAGES,
    ids=[f"{p[0]}-{p[1]}" for p in PAGES],
)
def test_trio(client, cast, mou, other_district, name, status, allowed, answer, weaker):
    force_status(mou, status)
    path = _page_url(name, mou, cast)

    assert signed_in(client, _someone(cast, allowed)).get(path).status_code == answer
    client.logout()
    weaker_member = (
        person(cast.district, weaker) if weaker != "partner" else person(cast.district, "partner")
    )
    assert signed_in(client, weaker_member).get(path).status_code == 403
    client.logout()
    outsider = person(other_district, "admin")
    assert signed_in(client, outsider).get(path).status_code == 404
    assert client.post(path, {}).status_code == 404
    assert status_of(mou) == status  # nobody above changed it with a GET


def test_the_mous_page_is_in_the_navigation_for_those_who_may_see_it(client, cast):
    nav_link = f'href="/{cast.district.slug}/mous/"'
    assert (
        nav_link
        in signed_in(client, cast.partner_member).get(f"/{cast.district.slug}/").content.decode()
    )
    client.logout()
    counselor = person(cast.district, "counselor")
    assert (
        nav_link not in signed_in(client, counselor).get(f"/{cast.district.slug}/").content.decode()
    )


# --- The list -------------------------------------------------------------------------------


def test_list_filters_by_status_and_partner(client, cast, mou):
    other = draft(
        cast.coordinator, partner=PartnerFactory(district=cast.district), title="Food bank MOU"
    )
    force_status(other, "active")
    client = signed_in(client, cast.coordinator)
    base = reverse("mou_list", args=[cast.district.slug])

    everything = client.get(base).content.decode()
    active = client.get(base, {"status": "active"}).content.decode()
    by_partner = client.get(base, {"partner": cast.partner.pk}).content.decode()
    garbage = client.get(base, {"status": "nonsense", "partner": "x'; drop", "page": "-1"})

    assert mou.title in everything and "Food bank MOU" in everything
    assert "Food bank MOU" in active and mou.title not in active
    assert mou.title in by_partner and "Food bank MOU" not in by_partner
    assert garbage.status_code == 200
    assert 'class="badge badge--success">Active</span>' in active


def test_the_partner_filter_is_typed_and_finds_partners_by_part_of_their_name(client, cast, mou):
    """A district has hundreds of partners: the filter is a text box, not a drop-down of
    them all; accents and case do not matter."""
    cafe = PartnerFactory(district=cast.district, name="Café Niños Counseling")
    draft(cast.coordinator, partner=cafe, title="Café MOU")
    draft(cast.coordinator, partner=PartnerFactory(district=cast.district), title="Other MOU")
    client = signed_in(client, cast.coordinator)
    base = reverse("mou_list", args=[cast.district.slug])

    page = client.get(base).content.decode()
    found = client.get(base, {"partner_name": "cafe ninos"}).content.decode()
    one_word = client.get(base, {"partner_name": "NIÑOS"}).content.decode()
    nothing = client.get(base, {"partner_name": "no such partner"}).content.decode()

    form = page[page.index('aria-label="Filter MOUs"') :].split("</form>")[0]
    assert 'id="id_partner_name"' in form
    assert form.count("<option") == len(MOUStatus.choices) + 1  # the statuses only
    assert "Café MOU" in found and mou.title not in found and "Other MOU" not in found
    assert "Café MOU" in one_word and "Other MOU" not in one_word
    assert "No MOUs match" in nothing


def test_a_link_to_the_list_by_partner_id_still_filters_and_names_the_partner(
    client, cast, mou, other_district
):
    theirs = PartnerFactory(district=other_district, name="Southern Partner")
    other_cast = Cast(other_district, partner=theirs)
    draft(other_cast.coordinator, partner=theirs, title="Their MOU")
    draft(cast.coordinator, partner=PartnerFactory(district=cast.district), title="Other MOU")
    client = signed_in(client, cast.coordinator)
    base = reverse("mou_list", args=[cast.district.slug])

    ours = client.get(base, {"partner": cast.partner.pk}).content.decode()
    reaching = client.get(base, {"partner": theirs.pk})

    assert mou.title in ours and "Other MOU" not in ours
    assert f'value="{cast.partner.name}"' in ours  # the box shows whose MOUs these are
    # Another district's partner: no MOU, and not even its name.
    assert reaching.status_code == 200
    assert reaching.context["page"].paginator.count == 0
    body = reaching.content.decode()
    assert "Their MOU" not in body and "Southern Partner" not in body


def test_list_htmx_answers_with_the_results_only(client, cast, mou):
    response = signed_in(client, cast.coordinator).get(
        reverse("mou_list", args=[cast.district.slug]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'id="mou-results"' in body and "<html" not in body


def test_list_costs_the_same_queries_with_few_or_many_mous(client, cast, count_queries):
    client = signed_in(client, cast.coordinator)
    path = reverse("mou_list", args=[cast.district.slug])
    draft(cast.coordinator, partner=cast.partner)
    client.get(path)  # warm caches (sessions, content types)
    few = count_queries(lambda: client.get(path))
    for n in range(12):
        draft(cast.coordinator, partner=PartnerFactory(district=cast.district), title=f"MOU {n}")
    many = count_queries(lambda: client.get(path))
    assert few == many


def test_list_pins_its_queries_with_more_than_a_page_of_mous(
    client, cast, django_assert_max_num_queries
):
    for n in range(PAGE_SIZE + 3):
        draft(cast.coordinator, partner=cast.partner, title=f"MOU {n:02d}")
    client = signed_in(client, cast.coordinator)
    path = reverse("mou_list", args=[cast.district.slug])
    client.get(path)

    # The session, the member, the district's context, the navigation, the count and the
    # page (its version numbers are subqueries of the same query); by partner id, its name.
    with django_assert_max_num_queries(13):
        response = client.get(path, {"page": 2})
    with django_assert_max_num_queries(14):
        client.get(path, {"partner": cast.partner.pk, "status": "draft"})

    rows = response.context["page"].object_list
    assert len(rows) == 3 and response.context["page"].paginator.count == PAGE_SIZE + 3
    assert [mou.version_number for mou in rows] == [1, 1, 1]


def test_a_partner_lists_only_its_own_organisations_mous_once_sent(client, cast, mou):
    sent = draft(cast.coordinator, partner=cast.partner, title="Sent to us")
    advance(sent, cast, "sent")
    others = draft(
        cast.coordinator, partner=PartnerFactory(district=cast.district), title="Not ours"
    )
    force_status(others, "active")

    body = (
        signed_in(client, cast.partner_member)
        .get(reverse("mou_list", args=[cast.district.slug]))
        .content.decode()
    )

    assert "Sent to us" in body
    assert "Not ours" not in body
    assert mou.title not in body  # still a draft inside the district
    assert 'id="id_partner_name"' not in body  # no partner filter for a partner


def test_a_partner_gets_404_for_another_partners_mou_and_for_drafts(client, cast, mou):
    others = draft(cast.coordinator, partner=PartnerFactory(district=cast.district))
    force_status(others, "sent")
    client = signed_in(client, cast.partner_member)

    assert client.get(url("mou_detail", others)).status_code == 404
    assert client.get(url("mou_compare", others)).status_code == 404
    assert client.get(url("mou_sign", others)).status_code == 404
    assert client.post(url("mou_sign", others), {"name": "x"}).status_code == 404
    assert client.get(url("mou_detail", mou)).status_code == 404  # own, but a draft
    force_status(mou, "sent")
    assert client.get(url("mou_detail", mou)).status_code == 200


# --- Drafting and editing ---------------------------------------------------------------------


def test_drafting_through_the_form(client, cast, district):
    client = signed_in(client, cast.coordinator)
    school = district_school(district)

    response = client.post(
        reverse("mou_create", args=[district.slug]),
        {
            "partner": cast.partner.pk,
            "template": "",
            "title": "Therapy at North High",
            "schools": [school.pk],
            "services": ["therapy", "crisis_intervention"],
            "start_date": "2025-08-01",
            "end_date": "",
            "response_days": "4",
            "shared_fields": ["name", "school"],
        },
    )

    with tenant_context(district):
        mou = MOU.objects.get(title="Therapy at North High")
        (version,) = MOUVersion.objects.filter(mou=mou)
    assert response.status_code == 302 and response["Location"] == url("mou_detail", mou)
    assert mou.created_by_id == cast.coordinator.pk
    assert version.terms["services"] == ["therapy", "crisis_intervention"]
    page = client.get(url("mou_detail", mou)).content.decode()
    assert "within 4 business days" in page
    assert "to [end date]" in page  # missing values show visibly
    assert "North High School" in page


def district_school(district):
    from schools.models import School

    with tenant_context(district):
        return School.objects.get(district=district, name="North High School")


def test_drafting_keeps_what_was_typed_and_says_what_is_wrong(client, cast, district):
    response = signed_in(client, cast.coordinator).post(
        reverse("mou_create", args=[district.slug]),
        {
            "partner": "999999",
            "title": "Kept title",
            "start_date": "2026-01-01",
            "end_date": "2025-01-01",
            "response_days": "500",
            "services": ["not-a-service"],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Kept title"' in body
    assert "The end date must be on or after the start date." in body
    assert 'id="id_response_days_error"' in body


def test_editing_a_section_saves_a_new_version(client, cast, mou):
    client = signed_in(client, cast.coordinator)
    response = client.post(
        url("mou_section", mou, "crisis"),
        {"text": "Call 988.\nStay with the student.", "based_on": "1"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#section-crisis")
    assert latest(mou).number == 2
    assert latest(mou).sections["crisis"] == "Call 988.\nStay with the student."
    assert "Saved as version 2." in client.get(response["Location"]).content.decode()


def test_the_inline_editor_comes_as_a_fragment_and_saves_with_a_redirect(client, cast, mou):
    client = signed_in(client, cast.coordinator)
    fragment = client.get(
        url("mou_section", mou, "crisis"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="section-crisis"' in fragment and "<html" not in fragment
    assert 'name="based_on" value="1"' in fragment

    saved = client.post(
        url("mou_section", mou, "crisis"), {"text": "New.", "based_on": "1"}, HTTP_HX_REQUEST="true"
    )
    assert saved["HX-Redirect"].endswith("#section-crisis")

    cancel = client.get(url("mou_detail", mou), {"section": "crisis"}, HTTP_HX_REQUEST="true")
    assert 'id="section-crisis"' in cancel.content.decode() and "New." in cancel.content.decode()


def test_a_concurrent_section_edit_is_refused_showing_the_newer_text_and_keeping_mine(
    client, cast, mou
):
    other = person(cast.district, "coordinator")
    first, second = signed_in(client, other), None
    from django.test import Client

    second = Client()
    second.force_login(cast.coordinator.user)
    # Both open the editor at version 1.
    assert 'value="1"' in first.get(url("mou_section", mou, "crisis")).content.decode()
    assert 'value="1"' in second.get(url("mou_section", mou, "crisis")).content.decode()
    first.post(
        url("mou_section", mou, "crisis"), {"text": "Their newer crisis text.", "based_on": "1"}
    )

    response = second.post(
        url("mou_section", mou, "crisis"), {"text": "My own crisis text.", "based_on": "1"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this section (version 2) while you were editing" in body
    assert "Their newer crisis text." in body  # the newer text is shown
    assert "My own crisis text." in body  # and what I typed is kept
    assert 'name="based_on" value="2"' in body  # saving again is now based on it
    assert latest(mou).sections["crisis"] == "Their newer crisis text."
    assert latest(mou).number == 2


def test_editing_after_the_partner_signed_makes_a_new_version_and_asks_for_signatures_again(
    client, cast, mou
):
    advance(mou, cast, "partner_signed")
    client = signed_in(client, cast.coordinator)

    response = client.post(
        url("mou_section", mou, "costs"), {"text": "Changed costs.", "based_on": "1"}, follow=True
    )

    assert "The MOU is a draft again" in response.content.decode()
    assert status_of(mou) == "draft"
    with tenant_context(cast.district):
        v1 = MOUVersion.objects.get(mou=mou, number=1)
        assert MOUSignature.objects.filter(version=v1).count() == 1
        assert not MOUSignature.objects.filter(version__mou=mou, version__number=2).exists()
    assert v1.sections["costs"] != "Changed costs."


def test_an_active_mou_offers_no_editing(client, cast, mou):
    advance(mou, cast, "active")
    client = signed_in(client, cast.coordinator)
    page = client.get(url("mou_detail", mou)).content.decode()
    assert url("mou_section", mou, "costs") not in page
    response = client.post(url("mou_section", mou, "costs"), {"text": "x", "based_on": "1"})
    assert response.status_code == 302
    assert latest(mou).number == 1


def test_terms_edit_and_its_conflict(client, cast, mou):
    client = signed_in(client, cast.coordinator)
    data = {
        "title": "New title",
        "response_days": "9",
        "based_on": "1",
        "start_date": "",
        "end_date": "",
    }
    assert client.post(url("mou_terms", mou), data).status_code == 302
    stale = client.post(url("mou_terms", mou), {**data, "title": "Stale title"})
    body = stale.content.decode()
    assert "Someone else changed the terms (version 2)" in body
    assert 'value="Stale title"' in body
    assert latest(mou).terms["title"] == "New title"


def test_section_edit_of_an_unknown_section_is_404(client, cast, mou):
    assert (
        signed_in(client, cast.coordinator).get(url("mou_section", mou, "nonsense")).status_code
        == 404
    )


def test_reading_an_older_version(client, cast, mou):
    with tenant_context(cast.district):
        mou_section_update(
            by=cast.coordinator, mou=mou, section="purpose", text="Second purpose.", based_on=1
        )
    client = signed_in(client, cast.coordinator)
    old = client.get(url("mou_detail", mou), {"version": "1"}).content.decode()
    assert "You are reading version 1" in old and "Second purpose." not in old
    assert client.get(url("mou_detail", mou), {"version": "abc"}).status_code == 404


# --- Compare --------------------------------------------------------------------------------


def test_compare_marks_removed_and_added_words_side_by_side(client, cast, mou):
    with tenant_context(cast.district):
        mou_section_update(
            by=cast.coordinator,
            mou=mou,
            section="crisis",
            text="Call the principal first.",
            based_on=1,
        )
        mou_section_update(
            by=cast.coordinator,
            mou=mou,
            section="crisis",
            text="Call the counselor first.",
            based_on=2,
        )
    body = (
        signed_in(client, cast.coordinator)
        .get(url("mou_compare", mou), {"a": "2", "b": "3"})
        .content.decode()
    )

    assert re.search(
        r'<del class="diff-del"><span class="visually-hidden">\[removed: </span>principal', body
    )
    assert re.search(
        r'<ins class="diff-ins"><span class="visually-hidden">\[added: </span>counselor', body
    )
    assert body.count('badge--warning">Changed') == 1  # only the crisis section changed
    unchanged = body[body.index("Unchanged sections") :]
    assert "1. Purpose and objectives" in unchanged and "Crisis protocol" not in unchanged


def test_compare_shows_changed_terms(client, cast, mou):
    with tenant_context(cast.district):
        mou_terms_update(
            by=cast.coordinator,
            mou=mou,
            based_on=1,
            title=mou.title,
            schools=[],
            services=["therapy"],
            start_date=mou.start_date,
            end_date=mou.end_date,
            response_days=2,
            shared_fields=["name", "grade"],
        )
    body = signed_in(client, cast.coordinator).get(url("mou_compare", mou)).content.decode()
    assert "Referral response time (business days)" in body
    assert re.search(r"<del[^>]*>.*?5</del>", body, re.S) and re.search(
        r"<ins[^>]*>.*?2</ins>", body, re.S
    )
    # ...and the text that uses the placeholder changed with it.
    assert re.search(r"<ins[^>]*>.*?2\s*</ins>", body, re.S)


def test_compare_with_one_version_or_bad_numbers(client, cast, mou):
    client = signed_in(client, cast.coordinator)
    assert "Only one version so far" in client.get(url("mou_compare", mou)).content.decode()
    with tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="purpose", text="x", based_on=1)
    assert client.get(url("mou_compare", mou), {"a": "7", "b": "zz"}).status_code == 200


# --- The workflow through the pages -----------------------------------------------------------


def test_submit_approve_partner_signs_in_trellis_admin_signs(client, cast, mou):
    coordinator = signed_in(client, cast.coordinator)
    coordinator.post(url("mou_submit", mou))
    assert status_of(mou) == "internal_review"
    client.logout()

    admin = signed_in(client, cast.admin)
    admin.post(url("mou_approve", mou))
    assert status_of(mou) == "sent"
    client.logout()

    partner = signed_in(client, cast.partner_member)
    sign_page = partner.get(url("mou_sign", mou)).content.decode()
    assert "Sign version 1" in sign_page and "Partner responsibilities" in sign_page
    refused = partner.post(
        url("mou_sign", mou), {"name": "Pat", "title": "Director", "version": "1"}
    )
    assert refused.status_code == 200 and status_of(mou) == "sent"  # must tick "I agree"
    partner.post(
        url("mou_sign", mou), {"name": "Pat", "title": "Director", "agree": "on", "version": "1"}
    )
    assert status_of(mou) == "partner_signed"
    client.logout()

    admin = signed_in(client, cast.admin)
    admin.post(
        url("mou_sign", mou),
        {"name": "Ada", "title": "Superintendent", "agree": "on", "version": "1"},
    )
    assert status_of(mou) == "active"
    page = admin.get(url("mou_detail", mou)).content.decode()
    assert "Pat, Director" in page and "Ada, Superintendent" in page
    assert "This version is locked" in page


def test_signing_an_outdated_version_from_an_open_page_is_refused(client, cast, mou):
    advance(mou, cast, "sent")
    with tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text="x", based_on=1)
    force_status(mou, "sent")
    response = signed_in(client, cast.partner_member).post(
        url("mou_sign", mou), {"name": "P", "title": "D", "agree": "on", "version": "1"}
    )
    assert "The MOU changed since you opened it" in response.content.decode()
    assert status_of(mou) == "sent"


def test_an_illegal_action_through_a_page_is_refused_with_a_message(client, cast, mou):
    client = signed_in(client, cast.admin)
    response = client.post(url("mou_approve", mou), follow=True)  # a draft cannot be approved
    assert "cannot become" in response.content.decode()
    assert status_of(mou) == "draft"


def test_returning_with_comments_through_the_page(client, cast, mou):
    force_status(mou, "internal_review")
    client = signed_in(client, cast.admin)
    empty = client.post(url("mou_return", mou), {"comment": ""})
    assert empty.status_code == 200 and status_of(mou) == "internal_review"
    client.post(url("mou_return", mou), {"comment": "Add the schedule, please."})
    assert status_of(mou) == "draft"
    client.logout()
    page = signed_in(client, cast.coordinator).get(url("mou_detail", mou)).content.decode()
    assert "Add the schedule, please." in page


def test_the_partner_asks_for_changes_in_trellis(client, cast, mou):
    advance(mou, cast, "sent")
    client = signed_in(client, cast.partner_member)
    response = client.post(
        url("mou_partner_comment", mou), {"name": "Pat", "comment": "Add Fridays.", "version": "1"}
    )
    assert response.status_code == 302 and status_of(mou) == "draft"


def test_terminating_needs_a_reason_on_the_page(client, cast, mou):
    advance(mou, cast, "active")
    client = signed_in(client, cast.admin)
    assert client.post(url("mou_terminate", mou), {"reason": ""}).status_code == 200
    assert status_of(mou) == "active"
    client.post(url("mou_terminate", mou), {"reason": "The partner closed its school programme."})
    assert status_of(mou) == "terminated"
    assert (
        "The partner closed its school programme."
        in client.get(url("mou_detail", mou)).content.decode()
    )


def test_internal_review_comments_are_not_shown_to_the_partner(client, cast, mou):
    force_status(mou, "internal_review")
    with tenant_context(cast.district):
        mou_return(by=cast.admin, mou=mou, comment="Internal: budget is tight.")
    advance(mou, cast, "sent")
    body = signed_in(client, cast.partner_member).get(url("mou_detail", mou)).content.decode()
    assert "budget is tight" not in body


# --- The emailed link -----------------------------------------------------------------------


def _link(mou, cast):
    advance(mou, cast, "sent")
    (link,) = [link for link in review_links() if True][:1]
    return link.replace("http://testserver", "")


def test_the_link_shows_the_mou_and_a_signature_form(client, cast, mou):
    path = _link(mou, cast)
    response = client.get(path)
    body = response.content.decode()
    assert response.status_code == 200
    assert mou.title in body and "Crisis protocol" in body
    assert "Sign version 1" in body and "Ask for changes" in body
    assert cast.district.name in body


def test_signing_through_the_link(client, cast, mou):
    path = _link(mou, cast)
    response = client.post(
        path + "sign/",
        {"name": "Lee Link", "title": "CEO", "agree": "on", "version": "1"},
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 200 and "You signed" in response.content.decode()
    with tenant_context(cast.district):
        signature = MOUSignature.objects.get(version__mou=mou)
    assert (signature.name, signature.title, signature.membership_id) == ("Lee Link", "CEO", None)
    assert signature.ip_address == "198.51.100.23"
    assert status_of(mou) == "partner_signed"
    # The link now says it is signed, with nothing more to do.
    again = client.get(path).content.decode()
    assert "nothing more is needed from you" in again and "Sign version 1" not in again


def test_commenting_through_the_link(client, cast, mou):
    path = _link(mou, cast)
    response = client.post(
        path + "comment/", {"name": "Lee", "comment": "Please add Fridays.", "version": "1"}
    )
    assert "Your comments were sent" in response.content.decode()
    assert status_of(mou) == "draft"
    with tenant_context(cast.district):
        mou_section_update(
            by=cast.coordinator, mou=mou, section="costs", text="Draft costs.", based_on=1
        )
    page = client.get(path).content.decode()
    assert "revising this MOU" in page
    assert "Draft costs." not in page and "Crisis protocol" not in page  # drafts stay inside


def test_a_tampered_link_gets_a_clear_page(client, cast, mou):
    path = _link(mou, cast)
    tampered = path[:-6] + "AAAAA/"
    for candidate in (tampered, "/p/mous/review/nonsense/", tampered + "sign/"):
        response = client.get(candidate)
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert client.post(tampered + "sign/", {"name": "x"}).status_code == 404
    assert status_of(mou) == "sent"


def test_an_expired_link_says_whom_to_ask(client, cast, mou):
    with time_machine.travel(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), tick=False):
        path = _link(mou, cast)
    with time_machine.travel(datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC), tick=False):
        response = client.get(path)
        posted = client.post(
            path + "sign/", {"name": "L", "title": "C", "agree": "on", "version": "1"}
        )
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert cast.district.name in response.content.decode()
    assert posted.status_code == 410 and status_of(mou) == "sent"


def test_a_link_to_an_older_version_cannot_sign_the_newer_one(client, cast, mou):
    path = _link(mou, cast)
    with tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text="x", based_on=1)
    force_status(mou, "sent")  # (as if sent again)
    page = client.get(path).content.decode()
    assert "has changed since this link was sent" in page and "Sign version" not in page
    response = client.post(
        path + "sign/", {"name": "L", "title": "C", "agree": "on", "version": "2"}
    )
    assert response.status_code == 400
    assert status_of(mou) == "sent"


def test_garbage_posted_to_the_link_is_a_400_not_a_500(client, cast, mou):
    path = _link(mou, cast)
    for data in (
        {},
        {"version": "abc"},
        {"name": "x" * 5000, "title": "y", "agree": "on", "version": "1"},
    ):
        assert client.post(path + "sign/", data).status_code == 400
        assert client.post(path + "comment/", data).status_code == 400
    assert status_of(mou) == "sent"


# --- Goals and templates --------------------------------------------------------------------


def test_goals_and_progress_through_the_pages(client, cast, mou):
    client = signed_in(client, cast.coordinator)
    client.post(
        url("mou_goal_create", mou),
        {
            "description": "Students served",
            "target": "120",
            "unit": "students",
            "period": "2025-26",
        },
    )
    with tenant_context(cast.district):
        goal = Goal.objects.get(mou=mou)
    client.post(
        reverse("mou_goal_progress", args=[cast.district.slug, goal.pk]),
        {"date": "2025-10-01", "value": "30"},
    )
    force_status(mou, "sent")
    client.logout()

    body = signed_in(client, cast.partner_member).get(url("mou_detail", mou)).content.decode()
    assert "Students served" in body
    assert "30 of 120 students (25%)" in body
    assert '<progress class="mou-goal__bar"' in body and 'value="25"' in body
    assert "Record progress" not in body  # partners read goals, managers record them


def test_bad_goal_input_is_shown_next_to_the_field(client, cast, mou):
    response = signed_in(client, cast.coordinator).post(
        url("mou_goal_create", mou), {"description": "", "target": "-3", "unit": "", "period": ""}
    )
    assert response.status_code == 200
    assert 'id="id_target_error"' in response.content.decode()


def test_templates_start_from_the_standard_one_and_can_be_edited(client, cast):
    client = signed_in(client, cast.coordinator)
    slug = cast.district.slug
    form = client.get(reverse("mou_template_create", args=[slug])).content.decode()
    assert "{response_days} business days" in form

    data = {
        "name": "North standard",
        **default_template_sections(),
        "costs": "District pays all.",
    }
    assert client.post(reverse("mou_template_create", args=[slug]), data).status_code == 302
    with tenant_context(cast.district):
        template = MOUTemplate.objects.get(name="North standard")
    assert template.sections["costs"] == "District pays all."
    client.post(
        reverse("mou_template_edit", args=[slug, template.pk]), {**data, "name": "North v2"}
    )
    with tenant_context(cast.district):
        template.refresh_from_db()
    assert template.name == "North v2"
    assert "North v2" in client.get(reverse("mou_create", args=[slug])).content.decode()


def test_garbage_to_every_mou_form_is_never_a_500(client, cast, mou):
    force_status(mou, "internal_review")
    client = signed_in(client, cast.admin)
    junk = {
        "text": "\x00" * 3,
        "based_on": "x",
        "title": "",
        "comment": "",
        "reason": "",
        "version": "-1",
        "target": "nan",
        "date": "2025-02-30",
        "value": "1e999",
        "a": "x",
        "b": "",
        "schools": ["z"],
    }
    paths = [
        reverse("mou_create", args=[cast.district.slug]),
        reverse("mou_template_create", args=[cast.district.slug]),
        url("mou_section", mou, "purpose"),
        url("mou_terms", mou),
        url("mou_return", mou),
        url("mou_goal_create", mou),
        url("mou_sign", mou),
        url("mou_terminate", mou),
        url("mou_withdraw", mou),
        url("mou_compare", mou),
    ]
    for path in paths:
        assert client.post(path, junk).status_code < 500, path


def test_the_mou_page_costs_the_same_queries_with_few_or_many_versions_and_goals(
    client, cast, mou, count_queries
):
    client = signed_in(client, cast.coordinator)
    path = url("mou_detail", mou)
    with tenant_context(cast.district):  # one of each kind of row...
        goal = goal_create(
            by=cast.coordinator, mou=mou, description="First", target=10, unit="u", period="p"
        )
        goal_progress_add(by=cast.coordinator, goal=goal, date=datetime.date(2025, 9, 1), value=1)
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text="C.", based_on=1)
    client.get(path)
    few = count_queries(lambda: client.get(path))
    with tenant_context(cast.district):  # ...then many
        for n in range(1, 7):
            mou_section_update(
                by=cast.coordinator, mou=mou, section="costs", text=f"Costs {n}.", based_on=n + 1
            )
            goal = goal_create(
                by=cast.coordinator,
                mou=mou,
                description=f"Goal {n}",
                target=10,
                unit="u",
                period="p",
            )
            goal_progress_add(
                by=cast.coordinator, goal=goal, date=datetime.date(2025, 9, 1), value=n
            )
    force_status(mou, "internal_review")
    with tenant_context(cast.district):
        mou_return(by=cast.admin, mou=mou, comment="More detail.")
    many = count_queries(lambda: client.get(path))
    assert few == many


def test_an_mou_made_without_a_version_still_opens_and_its_first_save_is_version_1(client, cast):
    from tests.factories import MOUFactory

    bare = MOUFactory(district=cast.district, partner=cast.partner, status="draft")
    client = signed_in(client, cast.coordinator)

    assert client.get(url("mou_detail", bare)).status_code == 200
    assert client.get(url("mou_compare", bare)).status_code == 200
    client.post(url("mou_section", bare, "purpose"), {"text": "First words.", "based_on": "0"})

    assert (latest(bare).number, latest(bare).sections["purpose"]) == (1, "First words.")
