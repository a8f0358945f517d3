"""The referral lists (issue 14, part 4): caseload and school views, filters, sorting, pages,
the CSV export, the duplicate warning on a new referral, and reassigning a member's open
referrals (the open-work list)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from referrals.models import Referral, ReferralStep, StepKind
from schools.models import AccessLog, MembershipSchool
from schools.services.people import open_work_of
from schools.tenancy import tenant_context
from tests.factories import (
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)

NOTES = "Mother mentioned a custody dispute; do not call the father."


def list_url(district, query=""):
    return f"/{district.slug}/referrals/{query}"


def csv_url(district, query=""):
    return f"/{district.slug}/referrals/export.csv{query}"


def reassign_url(membership):
    return f"/{membership.district.slug}/referrals/reassign/{membership.pk}/"


def text(response) -> str:
    return response.content.decode()


def limit_to(membership, school):
    with tenant_context(membership.district):
        MembershipSchool.objects.create(
            district=membership.district, membership=membership, school=school
        )


@pytest.fixture
def signed_in(client, member):
    def sign_in(role="counselor", **kwargs):
        membership = member(role, **kwargs)
        if role == "admin":
            enable_totp(membership.user)
        client.force_login(membership.user)
        return membership

    return sign_in


def referral(district, student, partner, *, status="draft", owner=None, **fields):
    """A referral at any step of the loop, its fields as the model's constraints want."""
    now = timezone.now()
    extra = {"owner": owner, "referred_by": owner} if owner is not None else {}
    if status not in ("draft", "withdrawn") or fields.get("sent_at"):
        fields.setdefault("sent_at", now)
    if status == "declined":
        fields.setdefault("decline_reason", "no_capacity")
        fields.setdefault("declined_at", now)
    if status == "scheduled":
        fields.setdefault("appointment_on", district.today() + datetime.timedelta(days=3))
    if status == "closed":
        fields.setdefault("outcome", "completed")
        fields.setdefault("closed_at", now)
    if status == "withdrawn":
        fields.setdefault("withdrawn_at", now)
    return ReferralFactory(
        district=district, student=student, partner=partner, status=status, **extra, **fields
    )


def rows_of(page: str, references) -> list[str]:
    """The references in the order the page shows them (among `references`)."""
    found = [(page.index(f">{ref}<"), ref) for ref in references if f">{ref}<" in page]
    return [ref for _at, ref in sorted(found)]


# --- Caseload and school views ---------------------------------------------------------------


def test_the_caseload_holds_my_open_and_declined_referrals_the_school_view_all(
    client, district, signed_in, student, partner
):
    me = signed_in("counselor")
    colleague = MembershipFactory(district=district, role="counselor")
    sent = referral(district, student, partner, status="sent", owner=me)
    draft = referral(district, student, partner, owner=me)
    declined = referral(district, student, partner, status="declined", owner=me)
    resent = referral(district, student, partner, status="declined", owner=me)
    referral(district, student, PartnerFactory(district=district), status="sent", owner=me,
             resent_from=resent)  # fmt: skip
    closed = referral(district, student, partner, status="closed", owner=me)
    withdrawn = referral(district, student, partner, status="withdrawn", owner=me)
    theirs = referral(district, student, partner, status="sent", owner=colleague)

    school = text(client.get(list_url(district)))
    caseload = text(client.get(list_url(district, "?view=caseload")))

    for each in (sent, draft, declined, closed, withdrawn, theirs):
        assert each.reference in school
    assert "8 referrals" in school
    mine = {sent.reference, draft.reference, declined.reference}
    # The re-sent copy of `resent` is mine and open too: 4 in all.
    assert "4 referrals" in caseload and "My caseload (4)" in caseload
    assert all(ref in caseload for ref in mine)
    for other in (resent, closed, withdrawn, theirs):
        assert f">{other.reference}<" not in caseload
    assert 'aria-current="page"' in caseload


def test_the_school_view_of_a_limited_counselor_is_only_their_schools(
    client, district, signed_in, student, partner
):
    me = signed_in("counselor")
    limit_to(me, student.school)
    elsewhere = StudentFactory(district=district, school=SchoolFactory(district=district))
    mine = referral(district, student, partner)
    other = referral(district, elsewhere, partner, owner=me)  # mine, but not my school now

    page = text(client.get(list_url(district)))

    assert "My schools&#x27; referrals" in page or "My schools' referrals" in page
    assert mine.reference in page and f">{other.reference}<" not in page


def test_a_partner_sees_only_what_was_sent_to_it_whatever_the_view_or_filters(
    client, district, signed_in, student, partner
):
    sent = referral(district, student, partner, status="sent", shared_fields=[])
    referral(district, student, partner, status="accepted")
    draft = referral(district, student, partner)
    signed_in("partner", partner=partner)

    page = text(client.get(list_url(district, "?view=caseload&status=draft")))

    assert sent.reference in page and f">{draft.reference}<" not in page
    assert "Okafor" not in page
    assert "Download these as a CSV file" not in page
    assert 'name="status"' not in page  # no filters for a partner


# --- Filters ---------------------------------------------------------------------------------


@pytest.fixture
def spread(district, student, partner):
    """Referrals that differ in one thing each, and the one that matches a filter."""
    today = district.today()
    other_partner = PartnerFactory(district=district, name="Harbor Family Services")
    base = {"referred_on": today - datetime.timedelta(days=20), "response_due_on": today}
    made = {
        "plain": referral(district, student, partner, status="accepted", **base),
        "draft": referral(district, student, partner, **base),
        "other_partner": referral(district, student, other_partner, status="accepted", **base),
        "grief": referral(
            district, student, partner, status="accepted", concerns=["grief"], **base
        ),
        "urgent": referral(district, student, partner, status="accepted", urgency="urgent", **base),
        "overdue": referral(
            district,
            student,
            partner,
            status="sent",
            referred_on=base["referred_on"],
            response_due_on=today - datetime.timedelta(days=1),
        ),
        "due_today": referral(district, student, partner, status="sent", **base),
        "old": referral(
            district,
            student,
            partner,
            status="accepted",
            referred_on=today - datetime.timedelta(days=90),
        ),
        "recent": referral(
            district,
            student,
            partner,
            status="accepted",
            referred_on=today - datetime.timedelta(days=2),
        ),
    }
    made["other_partner_id"] = other_partner.pk
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft", {"draft"}),
        ("partner={other_partner_id}", {"other_partner"}),
        ("partner_name=harbor", {"other_partner"}),
        ("partner_name=HARBÓR  family", {"other_partner"}),  # accents, case, spaces aside
        ("partner_name=harbor+riverbend", set()),  # every word must be in the name
        ("partner_name=nothing-like-it", set()),
        ("concern=grief", {"grief"}),
        ("urgency=urgent", {"urgent"}),
        ("overdue=on", {"overdue"}),
        ("referred_from={from}", {"recent"}),
        ("referred_to={to}", {"old"}),
        ("referred_from={from}&referred_to={to}", set()),  # an empty range: nothing
        (
            "referred_from={to}&referred_to={from}",
            {"plain", "draft", "other_partner", "grief", "urgent", "overdue", "due_today"},
        ),
        ("status=sent&overdue=on", {"overdue"}),
    ],
)
def test_each_filter_keeps_exactly_its_referrals(
    client, district, signed_in, spread, query, expected
):
    today = district.today()
    query = query.format(
        other_partner_id=spread["other_partner_id"],
        **{
            "from": (today - datetime.timedelta(days=5)).isoformat(),
            "to": (today - datetime.timedelta(days=60)).isoformat(),
        },
    )
    signed_in("coordinator")

    page = text(client.get(list_url(district, "?" + query)))

    names = {name for name, r in spread.items() if name != "other_partner_id"}
    shown = {name for name in names if f">{spread[name].reference}<" in page}
    assert shown == expected, query


def test_a_partner_from_a_link_shows_its_name_in_the_box(client, district, signed_in, spread):
    signed_in("counselor")

    page = text(client.get(list_url(district, f"?partner={spread['other_partner_id']}")))

    assert 'name="partner_name"' in page and 'value="Harbor Family Services"' in page
    assert "1 referral" in page


def test_the_partner_box_replaces_a_drop_down_of_every_partner(client, district, signed_in, spread):
    for n in range(5):
        PartnerFactory(district=district, name=f"Listed Only {n}")
    signed_in("counselor")

    page = text(client.get(list_url(district)))

    assert 'id="id_partner_name"' in page and 'type="search"' in page
    assert "Listed Only" not in page  # no option per partner
    assert 'from:#id_partner_name"' in page  # typing filters, as picking does


def test_an_overdue_referral_is_marked_in_the_list(client, district, signed_in, spread):
    signed_in("counselor")

    page = text(client.get(list_url(district, "?overdue=1")))

    assert "Overdue" in page and "1 referral" in page


@pytest.mark.parametrize(
    "query",
    [
        "?status=nonsense",
        "?partner=-1",
        "?partner=abc",
        "?school=99999999",
        "?concern=%00",
        "?urgency=panic",
        "?referred_from=2024-13-45",
        "?referred_to=yesterday",
        "?referred_from=99999-01-01",
        "?sort=pk;DROP",
        "?sort=-student__last_name",
        "?view=everyone",
        "?page=-3",
        "?page=99999",
    ],
)
def test_bad_filter_values_are_dropped_never_a_500(client, district, signed_in, spread, query):
    signed_in("counselor")

    response = client.get(list_url(district, query))

    assert response.status_code == 200
    assert "9 referrals" in text(response)  # as if the bad value had not been given


def test_filters_apply_as_picked_with_htmx_and_push_the_url(client, district, signed_in, spread):
    signed_in("counselor")

    response = client.get(list_url(district, "?status=draft&sort=due"), HTTP_HX_REQUEST="true")

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page and 'id="referral-results"' in page
    assert spread["draft"].reference in page and f">{spread['plain'].reference}<" not in page
    # The hidden sort field is updated out of band, so the next filter keeps the sort.
    assert 'id="id_sort"' in page and 'value="due"' in page and "hx-swap-oob" in page
    assert "HX-Request" in response["Vary"]
    full = text(client.get(list_url(district)))
    assert 'hx-push-url="true"' in full and 'type="submit"' in full  # works without JS too


# --- Sorting and pages -----------------------------------------------------------------------


def test_columns_sort_both_ways_with_aria_sort(client, district, signed_in, student):
    today = district.today()
    alpha = PartnerFactory(district=district, name="Alpha Counseling")
    zulu = PartnerFactory(district=district, name="Zulu Wellness")
    a = referral(
        district,
        student,
        zulu,
        status="sent",
        referred_on=today - datetime.timedelta(days=1),
        response_due_on=today + datetime.timedelta(days=9),
    )
    b = referral(
        district,
        student,
        alpha,
        status="closed",
        referred_on=today - datetime.timedelta(days=5),
        response_due_on=today + datetime.timedelta(days=1),
    )
    c = referral(district, student, alpha, referred_on=today - datetime.timedelta(days=3))
    refs = [a.reference, b.reference, c.reference]
    signed_in("counselor")

    def order(sort):
        return rows_of(text(client.get(list_url(district, f"?sort={sort}"))), refs)

    assert order("-referred_on") == [a.reference, c.reference, b.reference]
    assert order("referred_on") == [b.reference, c.reference, a.reference]
    assert order("status") == [c.reference, a.reference, b.reference]  # draft, sent, closed
    assert order("-status") == [b.reference, a.reference, c.reference]
    assert order("partner")[-1] == a.reference and order("-partner")[0] == a.reference
    # Only a referral waiting for its answer has a due date; the others follow, newest first.
    assert order("due") == [a.reference, c.reference, b.reference]

    page = text(client.get(list_url(district, "?sort=partner&status=")))
    assert 'aria-sort="ascending"' in page and page.count("aria-sort=") == 1
    assert "sort=-partner" in page  # clicking it again reverses
    default = text(client.get(list_url(district)))
    assert 'aria-sort="descending"' in default  # newest first, said so


def test_pages_of_fifty_keep_the_filters(client, district, signed_in, student, partner):
    for n in range(51):
        referral(
            district,
            student,
            partner,
            status="accepted",
            referred_on=district.today() - datetime.timedelta(days=n),
        )
    referral(district, student, partner)  # a draft: filtered out
    signed_in("counselor")

    first = text(client.get(list_url(district, "?status=accepted")))
    second = text(client.get(list_url(district, "?status=accepted&page=2")))

    assert "51 referrals" in first and "Page 1 of 2" in first
    assert "status=accepted&amp;page=2" in first
    assert second.count('<th scope="row">') == 1


@pytest.mark.parametrize(
    "query",
    [
        "?status=accepted&concern=anxiety&sort=partner",
        "?view=caseload",
        "?partner_name=riverbend",
    ],
)
def test_the_list_costs_the_same_queries_at_two_sizes(
    client, district, member, student, partner, count_queries, query
):
    me = member("counselor")
    limit_to(me, student.school)
    client.force_login(me.user)
    referral(district, student, partner, status="accepted", owner=me)
    client.get(list_url(district))  # warm the session

    few = count_queries(lambda: client.get(list_url(district, query)))
    for n in range(60):
        other = StudentFactory(district=district, school=student.school)
        referral(
            district,
            other,
            PartnerFactory(district=district),
            status=["accepted", "declined", "sent"][n % 3],
            owner=me,
            concerns=["anxiety", "grief"],
        )
    many = count_queries(lambda: client.get(list_url(district, query)))

    assert few == many


# --- CSV -------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_the_csv_holds_the_filtered_list_without_notes_and_is_logged(
    client, district, signed_in, student, partner
):
    hostile = StudentFactory(
        district=district, school=student.school, first_name="=HYPERLINK(1)", last_name="Ng"
    )
    kept = referral(
        district,
        hostile,
        partner,
        status="in_service",
        concerns=["anxiety", "grief"],
        urgency="urgent",
        accepted_at=timezone.now(),
        first_appointment_on=district.today(),
        confidential_notes=NOTES,
        response_due_on=district.today(),
    )
    closed = referral(district, student, partner, status="closed", outcome="moved")
    referral(district, student, partner)  # a draft, filtered out
    me = signed_in("counselor")

    response = client.get(csv_url(district, "?status=in_service"))
    both = read_csv(client.get(csv_url(district, "?status=closed")))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0] == [
        "Reference",
        "Referred on",
        "School",
        "Student",
        "Partner",
        "Concerns",
        "Urgency",
        "Status",
        "Answer due by",
        "Accepted",
        "First appointment",
        "Outcome",
    ]
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == kept.reference and row[2] == "North High School"
    assert row[3] == "'=HYPERLINK(1) Ng"  # a formula is shown, never run
    assert row[4] == "Riverbend Counseling" and row[5] == "Anxiety; Grief"
    assert row[6] == "Urgent" and row[7] == "In service"
    assert row[8] == row[10] == district.today().isoformat() and row[9]
    assert NOTES not in response.content.decode("utf-8-sig")
    assert both[1][0] == closed.reference and both[1][11] == "Moved"
    with tenant_context(district):
        logged = list(
            AccessLog.objects.filter(district=district, membership=me).order_by("at", "pk")
        )
    assert [(e.action, e.object_type, e.object_id) for e in logged] == [
        ("export", "referral_list", "1"),
        ("export", "referral_list", "1"),
    ]
    assert "status=in_service" in logged[0].path


@pytest.mark.parametrize("role", ["partner", "viewer"])
def test_the_csv_is_refused_to_partners_and_viewers(client, district, signed_in, partner, role):
    signed_in(role, partner=partner) if role == "partner" else signed_in(role)

    assert client.get(csv_url(district)).status_code == 403


def test_the_csv_is_404_to_another_district(client, district, other_district, member, partner):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(csv_url(district)).status_code == 404


def test_the_csv_link_carries_the_filters(client, district, signed_in, spread):
    signed_in("counselor")

    page = text(client.get(list_url(district, "?status=draft&sort=due")))

    assert "/north/referrals/export.csv?status=draft&amp;sort=due" in page


def test_the_csv_costs_the_same_queries_at_two_sizes(
    client, district, signed_in, student, partner, count_queries
):
    signed_in("coordinator")
    referral(district, student, partner, status="sent")
    client.get(list_url(district))
    few = count_queries(lambda: client.get(csv_url(district)))
    for _n in range(30):
        referral(district, StudentFactory(district=district), PartnerFactory(district=district))
    many = count_queries(lambda: client.get(csv_url(district)))

    assert few == many


# --- The duplicate warning on a new referral -------------------------------------------------


def new_url(district, query=""):
    return f"/{district.slug}/referrals/new/{query}"


def test_a_new_referral_warns_of_an_open_one_to_the_same_partner(
    client, district, signed_in, student, partner
):
    open_one = referral(district, student, partner, status="accepted")
    other = PartnerFactory(district=district, name="Harbor Family Services", intake="accepting")
    referral(district, student, other, status="closed")  # closed: no warning
    signed_in("counselor")

    page = text(client.get(new_url(district, f"?student={student.pk}&partner={partner.pk}")))
    fragment = text(
        client.get(
            f"/{district.slug}/referrals/new/partners/",
            {"student": student.pk},
            HTTP_HX_REQUEST="true",
        )
    )

    for html in (page, fragment):
        assert "already has an open referral to this partner" in html
        assert f'href="/north/referrals/{open_one.pk}/"' in html
        assert html.count("already has an open referral") == 1  # not for the closed one
    assert f"partner-{partner.pk}-open" in page  # the radio is described by the warning


def test_the_warning_does_not_block_saving(client, district, signed_in, student, partner):
    referral(district, student, partner, status="sent")
    me = signed_in("counselor")
    page = text(client.get(new_url(district, f"?student={student.pk}")))
    key = page.split('name="submission_key" value="')[1].split('"')[0]

    response = client.post(
        new_url(district),
        {
            "submission_key": key,
            "student": student.pk,
            "urgency": "routine",
            "concerns": ["anxiety"],
            "partner": partner.pk,
            "step": "save",
        },
    )

    assert response.status_code == 302
    with tenant_context(district):
        assert Referral.objects.filter(district=district, owner=me).count() == 1


def test_no_warning_for_another_student_or_without_a_student(
    client, district, signed_in, student, partner
):
    referral(district, StudentFactory(district=district, school=student.school), partner,
             status="sent")  # fmt: skip
    signed_in("counselor")

    with_student = text(client.get(new_url(district, f"?student={student.pk}")))
    without = text(client.get(new_url(district)))

    assert "already has an open referral" not in with_student
    assert "already has an open referral" not in without


# --- Reassigning a member's open referrals ---------------------------------------------------


@pytest.fixture
def leaving(district, student, partner):
    """A counselor with three open referrals, a closed one, and a colleague to take them."""
    person = MembershipFactory(district=district, role="counselor")
    made = [
        referral(district, student, partner, owner=person),
        referral(district, student, partner, status="sent", owner=person),
        referral(district, student, partner, status="declined", owner=person),
        referral(district, student, partner, status="closed", owner=person),
    ]
    return person, made


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_the_office_reassigns_every_open_referral_in_one_step(
    client, district, signed_in, leaving, role
):
    person, (draft, sent, declined, closed) = leaving
    colleague = MembershipFactory(district=district, role="counselor")
    by = signed_in(role)

    page = text(client.get(reassign_url(person)))
    response = client.post(reassign_url(person), {"to": colleague.pk, "note": "Ms. Lee left."})

    assert "3 open referrals" in page and "Reassign 3 referrals" in page
    assert response.status_code == 302
    with tenant_context(district):
        owners = dict(Referral.objects.filter(district=district).values_list("pk", "owner_id"))
        steps = list(
            ReferralStep.objects.filter(district=district, kind=StepKind.REASSIGNED).values_list(
                "referral_id", "by_id", "note"
            )
        )
    assert [owners[r.pk] for r in (draft, sent, declined)] == [colleague.pk] * 3
    assert owners[closed.pk] == person.pk
    assert sorted(steps) == sorted((r.pk, by.pk, "Ms. Lee left.") for r in (draft, sent, declined))
    assert "Nothing to reassign" in text(client.get(reassign_url(person)))


def test_one_refusal_reassigns_nothing_and_is_shown(client, district, signed_in, leaving, student):
    person, made = leaving
    colleague = MembershipFactory(district=district, role="counselor")
    limit_to(colleague, SchoolFactory(district=district))  # not the student's school
    signed_in("admin")

    response = client.post(reassign_url(person), {"to": colleague.pk})

    page = text(response)
    assert response.status_code == 200
    assert "Nothing was reassigned" in page
    assert all(f"{r.reference}:" in page for r in made[:3])
    with tenant_context(district):
        assert not Referral.objects.filter(district=district, owner=colleague).exists()
        assert not ReferralStep.objects.filter(district=district, kind=StepKind.REASSIGNED).exists()


@pytest.mark.parametrize("data", [{}, {"to": "abc"}, {"to": "-1"}, {"to": "99999999"}])
def test_a_bad_choice_is_shown_next_to_the_field(client, district, signed_in, leaving, data):
    person, _made = leaving
    signed_in("coordinator")

    response = client.post(reassign_url(person), data)

    assert response.status_code == 200
    assert "There is a problem" in text(response)


def test_the_person_themselves_and_another_districts_member_are_not_choices(
    client, district, other_district, signed_in, leaving
):
    person, _made = leaving
    outsider = MembershipFactory(district=other_district, role="counselor")
    signed_in("admin")

    for choice in (person.pk, outsider.pk):
        response = client.post(reassign_url(person), {"to": choice})
        assert response.status_code == 200 and "There is a problem" in text(response)


@pytest.mark.parametrize("role", ["counselor", "viewer", "partner"])
def test_a_weaker_role_may_not_reassign(client, district, signed_in, leaving, partner, role):
    person, _made = leaving
    signed_in(role, partner=partner) if role == "partner" else signed_in(role)

    assert client.get(reassign_url(person)).status_code == 403
    assert client.post(reassign_url(person), {"to": person.pk}).status_code == 403


def test_reassigning_is_404_to_another_district(client, district, other_district, member, leaving):
    person, _made = leaving
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(reassign_url(person)).status_code == 404
    assert client.post(reassign_url(person), {"to": outsider.pk}).status_code == 404


def test_a_deactivated_members_open_referrals_are_open_work_with_a_reassign_link(
    client, district, signed_in, leaving
):
    person, _made = leaving
    signed_in("admin")
    deactivate_page = text(client.get(f"/{district.slug}/people/{person.pk}/deactivate/"))
    with tenant_context(district):
        person.active = False
        person.deactivated_at = timezone.now()
        person.save(update_fields=["active", "deactivated_at"])
        work = open_work_of(person)

    page = text(client.get(reassign_url(person)))
    person_page = text(client.get(f"/{district.slug}/people/{person.pk}/"))

    assert "Open work waiting for someone else" in person_page
    assert reassign_url(person) in person_page
    assert "Open referrals in their caseload" in deactivate_page
    assert reassign_url(person) in deactivate_page
    assert [(w.count, w.url) for w in work] == [(3, reassign_url(person))]
    assert "Deactivated" in page and "3 open referrals" in page


def test_nothing_open_is_no_open_work(district, student, partner):
    person = MembershipFactory(district=district, role="counselor")
    referral(district, student, partner, status="closed", owner=person)

    with tenant_context(district):
        assert open_work_of(person) == []
