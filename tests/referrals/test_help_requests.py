"""Requests for help: a school's public form (no account, bilingual, rate-limited, the crisis
lines first), and the counselors' queue where a request is linked to a student, recorded as
the referral it became, or closed. The person who asked is told it arrived, never what
followed."""

from __future__ import annotations

import itertools

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from referrals.models import HelpRequest, HelpRequestStatus
from referrals.services import help_requests as service
from referrals.services.help_requests import (
    help_request_close,
    help_request_link_student,
    help_request_mark_referred,
    help_request_submit,
)
from schools.models import AccessLog, OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import (
    MembershipFactory,
    ReferralFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)
from tests.referrals.helpers import act

MESSAGE = "Maya has stopped eating lunch and cries in class most mornings since October."
GOOD = {
    "asker_kind": "parent",
    "student_name": "Maya Reyes",
    "message": MESSAGE,
    "asker_name": "Lucía Reyes",
    "asker_email": "lucia.reyes@example.org",
    "asker_phone": "(555) 201-3344",
    "homepage": "",
}


def form_url(district, school, **query) -> str:
    url = reverse("help_request_form", args=[district.slug, school.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def rows(district, **filters) -> list[HelpRequest]:
    with tenant_context(district):
        return list(HelpRequest.objects.for_district(district).filter(**filters))


def receipts(address=GOOD["asker_email"]) -> list[OutgoingEmail]:
    return [email for email in OutgoingEmail.objects.order_by("pk") if email.to == [address]]


_ADDRESSES = itertools.count(1)


def submit(school, address=None, **overrides) -> HelpRequest:
    """A request through the service, as the public form makes it (inside the district),
    each from an address of its own unless told."""
    arguments = {k: v for k, v in GOOD.items() if k != "homepage"}
    arguments.update(overrides)
    address = address or f"203.0.113.{next(_ADDRESSES) % 250}"
    with tenant_context(school.district_id):
        return help_request_submit(school=school, address=address, **arguments)


@pytest.fixture
def other_school(district):
    return SchoolFactory(district=district, name="South Middle School")


@pytest.fixture
def limited_counselor(district, other_school):
    """A counselor of South Middle School only."""
    membership = MembershipFactory(district=district, role="counselor")
    with tenant_context(district):
        membership.schools.set([other_school], through_defaults={"district_id": district.pk})
    return membership


def signed_in(client, membership):
    if membership.needs_mfa:
        enable_totp(membership.user)
    client.force_login(membership.user)
    return client


# --- The public form -------------------------------------------------------------------------


def test_the_form_shows_the_crisis_lines_first_and_no_staff_protocol(client, district, school):
    district.crisis_protocol = "Staff: walk the student to the front office, then page Dr. Lee."
    district.save()

    response = client.get(form_url(district, school))

    assert response.status_code == 200
    content = response.content.decode()
    assert "call 911" in content and "988" in content
    assert content.index("988") < content.index('name="message"')
    assert "Dr. Lee" not in content
    assert school.name in content
    assert response["Content-Language"] == "en"
    assert 'hreflang="es"' in content  # the other language, one click away


def test_the_form_follows_the_browsers_language_and_the_language_link(client, district, school):
    by_browser = client.get(form_url(district, school), headers={"Accept-Language": "es-MX,es"})
    by_link = client.get(form_url(district, school, lang="es"))
    english = client.get(form_url(district, school, lang="en"), headers={"Accept-Language": "es"})

    for response in (by_browser, by_link):
        assert response["Content-Language"] == "es"
        assert '<html lang="es">' in response.content.decode()
    assert english["Content-Language"] == "en"


def test_a_request_is_saved_new_and_the_receipt_says_only_that_it_arrived(client, district, school):
    response = client.post(form_url(district, school, lang="es"), GOOD)

    thanks = reverse("help_request_thanks", args=[district.slug, school.pk]) + "?lang=es"
    assert response.status_code == 302 and response["Location"] == thanks
    [saved] = rows(district)
    assert saved.status == HelpRequestStatus.NEW
    assert saved.school_id == school.pk and saved.language == "es"
    assert (saved.asker_kind, saved.student_name, saved.message) == (
        "parent",
        "Maya Reyes",
        MESSAGE,
    )
    assert saved.acknowledged_at is not None
    [email] = receipts()
    assert "North High School" in email.subject
    body = email.body_text + email.body_html + email.subject
    assert "911" in body and "988" in body
    for private in ("Maya", "Reyes", "lunch", "Lucía", "555"):
        assert private not in body, private
    page = client.get(thanks)
    assert page.status_code == 200 and "988" in page.content.decode()


@time_machine.travel("2025-10-15 15:00:00-05:00", tick=False)
def test_the_receipt_is_written_in_the_language_of_the_page(district, school):
    submit(school, language="es", asker_email="es@example.org")
    submit(school, language="en", asker_email="en@example.org")

    [spanish] = receipts("es@example.org")
    [english] = receipts("en@example.org")
    assert "15 de octubre de 2025" in spanish.body_text
    assert "October 15, 2025" in english.body_text
    assert '<html lang="es">' in spanish.body_html


def test_no_email_no_receipt(district, school):
    saved = submit(school, asker_email="")

    assert saved.acknowledged_at is None
    assert OutgoingEmail.objects.count() == 0


def test_closing_or_referring_tells_the_person_who_asked_nothing(district, school, counselor):
    saved = submit(school)
    act(help_request_close, by=counselor, help_request=saved, reason="handled", note="Met Maya.")

    assert len(receipts()) == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "x" * 4001}, "message"),
        ({"asker_kind": ""}, "asker_kind"),
        ({"asker_kind": "principal"}, "asker_kind"),
        ({"asker_email": "not-an-address"}, "asker_email"),
        ({"asker_phone": "call me maybe"}, "asker_phone"),
        ({"student_name": "x" * 201}, "student_name"),
        ({"message": "nul \x00 byte"}, "message"),
    ],
)
def test_a_bad_value_shows_the_form_again_with_the_problem_and_saves_nothing(
    client, district, school, changes, field
):
    response = client.post(form_url(district, school), {**GOOD, **changes})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="errorlist"' in response.content.decode()
    assert rows(district) == [] and OutgoingEmail.objects.count() == 0


def test_what_was_typed_is_kept_when_the_form_comes_back(client, district, school):
    response = client.post(form_url(district, school), {**GOOD, "asker_email": "nope"})

    assert MESSAGE in response.content.decode()


def test_the_service_checks_again_whatever_the_form(district, school):
    with pytest.raises(ValidationError) as refused:
        submit(school, asker_kind="robot", message="", asker_email="@@")

    assert {"asker_kind", "message", "asker_email"} <= set(refused.value.message_dict)
    assert rows(district) == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {name: "x" * 100_000 for name in GOOD if name != "homepage"},
        {"asker_kind": ["parent", "student"], "message": ["a", "b"]},
        {"message": "<script>alert(1)</script>", "asker_kind": "other"},
    ],
)
def test_garbage_never_breaks_the_form(client, district, school, data):
    response = client.post(form_url(district, school), data)

    assert response.status_code in (200, 302)


def test_the_honeypot_is_thanked_and_nothing_is_saved_or_sent(client, district, school):
    response = client.post(form_url(district, school), {**GOOD, "homepage": "http://spam.example"})

    assert response.status_code == 302
    assert "/thanks/" in response["Location"]
    assert rows(district) == [] and OutgoingEmail.objects.count() == 0


# --- Rate limits -----------------------------------------------------------------------------


def test_the_sixth_request_in_an_hour_from_one_address_is_refused_with_429(
    client, district, school, other_school
):
    for _ in range(service.HELP_REQUESTS_PER_ADDRESS):
        assert client.post(form_url(district, school), GOOD).status_code == 302

    refused = client.post(form_url(district, school), GOOD)

    assert refused.status_code == 429
    content = refused.content.decode()
    assert "was not sent" in content and "988" in content
    assert MESSAGE in content  # what was typed is still there to send later
    assert len(rows(district)) == service.HELP_REQUESTS_PER_ADDRESS
    # Another school's counter is its own.
    assert client.post(form_url(district, other_school), GOOD).status_code == 302


def test_honeypot_posts_count_against_the_limit_too(client, district, school):
    trap = {**GOOD, "homepage": "x"}
    for _ in range(service.HELP_REQUESTS_PER_ADDRESS):
        client.post(form_url(district, school), trap)

    assert client.post(form_url(district, school), GOOD).status_code == 429
    assert rows(district) == []


def test_a_school_takes_a_limited_number_from_everyone_in_an_hour(
    client, district, school, monkeypatch
):
    monkeypatch.setattr(service, "HELP_REQUESTS_PER_SCHOOL", 3)
    for n in range(3):
        response = client.post(form_url(district, school), GOOD, REMOTE_ADDR=f"198.51.100.{n}")
        assert response.status_code == 302

    refused = client.post(form_url(district, school), GOOD, REMOTE_ADDR="198.51.100.99")

    assert refused.status_code == 429
    assert len(rows(district)) == 3


def test_the_service_refuses_past_the_limit_and_saves_nothing(district, school, monkeypatch):
    monkeypatch.setattr(service, "HELP_REQUESTS_PER_ADDRESS", 1)
    submit(school, address="192.0.2.1")

    with pytest.raises(service.HelpRequestsLimited):
        submit(school, address="192.0.2.1")
    assert len(rows(district)) == 1


def test_the_limit_window_passes(client, district, school, monkeypatch):
    monkeypatch.setattr(service, "HELP_REQUESTS_PER_ADDRESS", 1)
    assert client.post(form_url(district, school), GOOD).status_code == 302
    assert client.post(form_url(district, school), GOOD).status_code == 429

    later = service.time.time() + service.RATE_WINDOW_SECONDS
    monkeypatch.setattr(service.time, "time", lambda: later)

    assert client.post(form_url(district, school), GOOD).status_code == 302


# --- Which schools have a form ---------------------------------------------------------------


def test_unknown_district_school_or_another_districts_school_is_404(
    client, district, other_district, school
):
    theirs = SchoolFactory(district=other_district, name="Harbor High School")

    assert client.get(f"/r/help/nowhere/{school.pk}/").status_code == 404
    assert client.get(f"/r/help/{district.slug}/999999999/").status_code == 404
    assert client.get(f"/r/help/{district.slug}/{theirs.pk}/").status_code == 404
    assert client.post(f"/r/help/{district.slug}/{theirs.pk}/", GOOD).status_code == 404
    assert client.get(f"/r/help/{district.slug}/99999999999999999999999/").status_code == 404
    assert client.get(f"/r/help/{district.slug}/{theirs.pk}/thanks/").status_code == 404
    assert rows(other_district) == []


def test_the_form_needs_no_account(client, district, school):
    response = client.get(form_url(district, school))

    assert response.status_code == 200
    assert "/accounts/login/" not in response.get("Location", "")


# --- The queue -------------------------------------------------------------------------------


def test_a_counselor_of_the_school_sees_the_request_in_the_queue(
    client, district, school, counselor
):
    saved = submit(school)
    signed_in(client, counselor)

    response = client.get(reverse("help_request_list", args=[district.slug]))

    assert response.status_code == 200
    content = response.content.decode()
    assert saved.reference in content and "Maya Reyes" in content
    detail = client.get(reverse("help_request_detail", args=[district.slug, saved.pk]))
    assert detail.status_code == 200
    assert MESSAGE in detail.content.decode()
    assert "lucia.reyes@example.org" in detail.content.decode()


def test_a_counselor_of_another_school_does_not(client, district, school, limited_counselor):
    saved = submit(school)
    signed_in(client, limited_counselor)

    listing = client.get(reverse("help_request_list", args=[district.slug]))
    detail = client.get(reverse("help_request_detail", args=[district.slug, saved.pk]))

    assert listing.status_code == 200 and saved.reference not in listing.content.decode()
    assert detail.status_code == 404


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_viewers_and_partners_never_see_the_queue(client, district, school, member, role):
    saved = submit(school)
    signed_in(client, member(role))

    assert client.get(reverse("help_request_list", args=[district.slug])).status_code == 403
    detail = reverse("help_request_detail", args=[district.slug, saved.pk])
    assert client.get(detail).status_code == 403
    assert client.post(detail, {"action": "close", "reason": "spam"}).status_code == 403
    assert rows(district)[0].status == HelpRequestStatus.NEW


def test_another_districts_member_gets_404(client, district, other_district, school):
    saved = submit(school)
    outsider = MembershipFactory(district=other_district, role="admin")
    signed_in(client, outsider)

    assert client.get(reverse("help_request_list", args=[district.slug])).status_code == 404
    detail = reverse("help_request_detail", args=[district.slug, saved.pk])
    assert client.get(detail).status_code == 404
    own = reverse("help_request_detail", args=[other_district.slug, saved.pk])
    assert client.get(own).status_code == 404


def test_the_queue_puts_new_requests_first_and_filters(client, district, school, counselor):
    closed = submit(school, message="First")
    act(help_request_close, by=counselor, help_request=closed, reason="duplicate")
    newest = submit(school, message="Second")
    signed_in(client, counselor)

    listing = client.get(reverse("help_request_list", args=[district.slug]))
    only_closed = client.get(
        reverse("help_request_list", args=[district.slug]), {"status": "closed"}
    )
    garbage = client.get(
        reverse("help_request_list", args=[district.slug]), {"status": "x", "school": "y"}
    )

    assert [r.pk for r in listing.context["page"].object_list] == [newest.pk, closed.pk]
    assert [r.pk for r in only_closed.context["page"].object_list] == [closed.pk]
    assert garbage.status_code == 200


def test_the_queue_costs_the_same_queries_at_any_size(
    client, district, school, counselor, count_queries
):
    signed_in(client, counselor)
    url = reverse("help_request_list", args=[district.slug])
    students = [StudentFactory(district=district, school=school) for _ in range(3)]
    for n in range(3):
        saved = submit(school, message=f"Request {n}")
        act(help_request_link_student, by=counselor, help_request=saved, student=students[n])
    client.get(url)  # the first page of a session records the visit
    small = count_queries(lambda: client.get(url))
    for n in range(12):
        saved = submit(school, message=f"More {n}")
        with tenant_context(district):
            HelpRequest.objects.filter(pk=saved.pk).update(
                student=students[n % 3], status=HelpRequestStatus.LINKED
            )
    large = count_queries(lambda: client.get(url))

    assert small == large


def test_the_queue_lists_each_schools_public_address(client, district, school, counselor):
    signed_in(client, counselor)

    response = client.get(reverse("help_request_list", args=[district.slug]))

    assert f"http://testserver/r/help/{district.slug}/{school.pk}/" in response.content.decode()


def test_a_limited_counselor_sees_only_their_schools_addresses(
    client, district, school, other_school, limited_counselor
):
    signed_in(client, limited_counselor)

    content = client.get(reverse("help_request_list", args=[district.slug])).content.decode()

    assert f"/r/help/{district.slug}/{other_school.pk}/" in content
    assert f"/r/help/{district.slug}/{school.pk}/" not in content


def test_the_home_page_inbox_lists_new_requests_and_the_navigation_links_the_queue(
    client, district, school, counselor, member
):
    first, second = submit(school), submit(school)
    signed_in(client, counselor)

    home = client.get(reverse("district_home", args=[district.slug])).content.decode()

    assert home.count("Request for help") == 2
    for help_request in (first, second):
        assert (
            f'href="{reverse("help_request_detail", args=[district.slug, help_request.pk])}"'
            in home
        )
    assert reverse("help_request_list", args=[district.slug]) in home  # the navigation
    viewer_home = signed_in(client, member("viewer")).get(
        reverse("district_home", args=[district.slug])
    )
    assert "Request for help" not in viewer_home.content.decode()


# --- The request's page ----------------------------------------------------------------------


@pytest.fixture
def student(district, school):
    return StudentFactory(
        district=district, school=school, first_name="Maya", last_name="Reyes", local_id="S-77"
    )


def detail_url(district, help_request) -> str:
    return reverse("help_request_detail", args=[district.slug, help_request.pk])


def logged_views(district, help_request) -> int:
    with tenant_context(district):
        return AccessLog.objects.filter(
            object_type="help_request", object_id=str(help_request.pk)
        ).count()


def test_the_page_lists_the_likely_student_and_links_them(
    client, district, school, counselor, student
):
    saved = submit(school)
    signed_in(client, counselor)

    page = client.get(detail_url(district, saved))
    assert "Reyes, Maya" in page.content.decode()  # found by the name as written
    assert logged_views(district, saved) == 0  # no student yet: nothing identifies one

    response = client.post(detail_url(district, saved), {"action": "link", "student": student.pk})

    assert response.status_code == 302
    [linked] = rows(district)
    assert linked.status == HelpRequestStatus.LINKED and linked.student_id == student.pk
    assert linked.handled_by_id == counselor.pk and linked.handled_at is not None
    page = client.get(detail_url(district, saved))
    assert logged_views(district, saved) == 1
    assert f"?student={student.pk}" in page.content.decode()  # the new-referral page, chosen


def test_linking_a_student_outside_the_members_schools_is_refused_on_the_form(
    client, district, other_district, school, other_school, counselor, limited_counselor
):
    saved = submit(other_school)
    north_student = StudentFactory(district=district, school=school)
    foreign = StudentFactory(district=other_district)
    signed_in(client, limited_counselor)

    for value in (north_student.pk, foreign.pk, "abc", "-1", "99999999999999999999999"):
        response = client.post(detail_url(district, saved), {"action": "link", "student": value})
        assert response.status_code == 200, value
        assert response.context["link_form"].errors, value
    assert rows(district)[0].status == HelpRequestStatus.NEW


def test_recording_the_referral_the_request_became(client, district, school, counselor, student):
    saved = submit(school)
    act(help_request_link_student, by=counselor, help_request=saved, student=student)
    referral = ReferralFactory(district=district, student=student, referred_by=counselor)
    other = ReferralFactory(
        district=district, student=StudentFactory(district=district, school=school)
    )
    signed_in(client, counselor)

    wrong = client.post(detail_url(district, saved), {"action": "refer", "referral": other.pk})
    assert wrong.status_code == 200 and wrong.context["refer_form"].errors
    response = client.post(
        detail_url(district, saved), {"action": "refer", "referral": referral.pk}
    )

    assert response.status_code == 302
    [done] = rows(district)
    assert done.status == HelpRequestStatus.REFERRED and done.referral_id == referral.pk
    page = client.get(detail_url(district, saved)).content.decode()
    assert referral.reference in page and 'name="action"' not in page


def test_closing_with_a_reason(client, district, school, counselor):
    saved = submit(school)
    signed_in(client, counselor)

    missing = client.post(detail_url(district, saved), {"action": "close", "reason": "other"})
    assert missing.status_code == 200 and "note" in missing.context["close_form"].errors
    nothing = client.post(detail_url(district, saved), {})
    assert nothing.status_code == 200 and "There is a problem" in nothing.content.decode()
    response = client.post(
        detail_url(district, saved), {"action": "close", "reason": "handled", "note": "Met her."}
    )

    assert response.status_code == 302
    [closed] = rows(district)
    assert (closed.status, closed.close_reason, closed.close_note) == (
        "closed",
        "handled",
        "Met her.",
    )
    again = client.post(detail_url(district, saved), {"action": "close", "reason": "spam"})
    assert again.status_code == 200 and "This request is closed." in again.content.decode()


# --- The services ----------------------------------------------------------------------------


def test_link_refuses_another_districts_or_schools_student(
    district, other_district, school, other_school, counselor, limited_counselor
):
    saved = submit(school)
    foreign = StudentFactory(district=other_district)
    south = StudentFactory(district=district, school=other_school)
    theirs = submit(other_school)

    with pytest.raises(ValidationError) as refused:
        act(help_request_link_student, by=counselor, help_request=saved, student=foreign)
    assert "student" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        act(help_request_link_student, by=limited_counselor, help_request=saved, student=south)
    with pytest.raises(ValidationError):
        act(help_request_link_student, by=limited_counselor, help_request=theirs, student=None)
    north_student = StudentFactory(district=district, school=school)
    with pytest.raises(ValidationError):
        act(
            help_request_link_student,
            by=limited_counselor,
            help_request=theirs,
            student=north_student,
        )


@pytest.mark.parametrize("role", ["viewer", "partner"])
def test_only_the_care_team_triages(district, school, member, role, student):
    saved = submit(school)
    someone = member(role)

    for service_call, arguments in (
        (help_request_link_student, {"student": student}),
        (help_request_close, {"reason": "spam"}),
        (help_request_mark_referred, {"referral": None}),
    ):
        with pytest.raises(PermissionDenied):
            act(service_call, by=someone, help_request=saved, **arguments)


def test_a_member_of_another_district_is_refused(district, other_district, school):
    saved = submit(school)
    outsider = MembershipFactory(district=other_district, role="admin")

    with pytest.raises(PermissionDenied):
        act(help_request_close, by=outsider, help_request=saved, reason="spam")


def test_mark_referred_needs_the_linked_students_live_referral(
    district, school, counselor, student
):
    saved = submit(school)
    referral = ReferralFactory(district=district, student=student, referred_by=counselor)

    with pytest.raises(ValidationError) as unlinked:
        act(help_request_mark_referred, by=counselor, help_request=saved, referral=referral)
    assert "referral" in unlinked.value.message_dict
    act(help_request_link_student, by=counselor, help_request=saved, student=student)
    someone_else = ReferralFactory(
        district=district, student=StudentFactory(district=district, school=school)
    )
    withdrawn = ReferralFactory(
        district=district,
        student=student,
        referred_by=counselor,
        status="withdrawn",
        withdrawn_at=timezone.now(),
    )
    for wrong in (someone_else, withdrawn, None):
        with pytest.raises(ValidationError):
            act(help_request_mark_referred, by=counselor, help_request=saved, referral=wrong)

    act(help_request_mark_referred, by=counselor, help_request=saved, referral=referral)

    assert saved.status == HelpRequestStatus.REFERRED and saved.referral_id == referral.pk
    with pytest.raises(ValidationError):
        act(help_request_close, by=counselor, help_request=saved, reason="handled")
    with pytest.raises(ValidationError):
        act(help_request_link_student, by=counselor, help_request=saved, student=student)


def test_close_needs_a_known_reason_and_a_note_for_other(district, school, counselor):
    saved = submit(school)

    for reason, note, field in (
        ("nope", "", "reason"),
        ("other", "", "note"),
        ("spam", "x" * 2001, "note"),
    ):
        with pytest.raises(ValidationError) as refused:
            act(help_request_close, by=counselor, help_request=saved, reason=reason, note=note)
        assert field in refused.value.message_dict
    act(help_request_close, by=counselor, help_request=saved, reason="other", note="Moved away.")

    assert saved.status == HelpRequestStatus.CLOSED
    with tenant_context(district):
        assert HelpRequest.objects.get(pk=saved.pk).close_reason == "other"
    with pytest.raises(ValidationError):
        act(help_request_close, by=counselor, help_request=saved, reason="spam")


# --- The demo --------------------------------------------------------------------------------


def _demo_states(district) -> dict:
    with tenant_context(district):
        requests = HelpRequest.objects.for_district(district)
        return {
            status: requests.filter(status=status).count() for status in HelpRequestStatus.values
        } | {"receipts": requests.exclude(acknowledged_at=None).count()}


@pytest.mark.django_db
def test_the_demo_has_requests_in_several_states_and_reseeding_adds_nothing(settings, tmp_path):
    from django.core.management import call_command

    from config.demo_help_requests import seed_help_requests
    from schools.models import District

    settings.LOCAL_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    district = District.objects.get(slug="demo")
    with tenant_context(district):
        seed_help_requests(district)
    first = _demo_states(district)

    assert first["new"] >= 2 and first["linked"] >= 1
    assert first["referred"] == 1 and first["closed"] == 1
    assert first["receipts"] >= 2
    with tenant_context(district):
        seed_help_requests(district)
    assert _demo_states(district) == first
