"""The loop on the referral's own page (issue 14): where it stands, the timeline, and the step
forms, as the referring school's counselor and as the receiving partner's member."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from referrals.models import Consent, ConsentRequest, Referral, ReferralStep, StepKind
from referrals.services.loop import Actor, record_step, referral_reassign, referral_step
from referrals.services.referrals import referral_send
from schools.models import AccessLog, MembershipSchool
from schools.tenancy import tenant_context
from tests.factories import (
    ConsentFactory,
    ConsentRevocationFactory,
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    ReferralFactory,
    SchoolFactory,
    enable_totp,
)
from tests.referrals.helpers import act

NOTES = "Mother mentioned a custody dispute; do not call the father."


# --- Helpers --------------------------------------------------------------------------------


def detail_url(referral):
    return f"/{referral.district.slug}/referrals/{referral.pk}/"


def step_url(referral, action):
    return f"{detail_url(referral)}step/{action}/"


def text(response) -> str:
    return response.content.decode()


def fresh(referral) -> Referral:
    with tenant_context(referral.district):
        return Referral.objects.get(pk=referral.pk)


def steps_of(referral) -> list[ReferralStep]:
    with tenant_context(referral.district):
        return list(
            ReferralStep.objects.for_district(referral.district)
            .filter(referral_id=referral.pk)
            .order_by("at", "pk")
        )


def post_step(client, referral, action, headers=None, **fields):
    """The step's form as a browser posts it (fields prefixed by the action)."""
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(step_url(referral, action), data, headers=headers or {})


def named(role_member, name):
    with tenant_context(role_member.district):
        role_member.user.full_name = name
        role_member.user.save(update_fields=["full_name"])
    return role_member


@pytest.fixture
def counselor(member):
    return named(member("counselor"), "Carla Counselor")


@pytest.fixture
def partner_member(member, partner):
    return named(member("partner", partner=partner), "Pat Partner")


@pytest.fixture
def sign_in(client):
    def sign(membership):
        if membership.role == "admin":
            enable_totp(membership.user)
        client.force_login(membership.user)
        return membership

    return sign


@pytest.fixture
def sent(district, student, partner, counselor):
    """A referral the counselor sent under the family's consent (name and grade)."""
    ConsentFactory(district=district, student=student, partner=partner)
    draft = ReferralFactory(
        district=district,
        student=student,
        partner=partner,
        referred_by=counselor,
        shared_fields=["name", "grade"],
        confidential_notes=NOTES,
    )
    return act(referral_send, by=counselor, referral=draft)


def as_partner(referral, member, action, **arguments):
    with tenant_context(referral.district):
        return referral_step(
            actor=Actor(membership=member), referral=referral, action=action, **arguments
        )


# --- The whole loop through the pages ------------------------------------------------------


@pytest.mark.parametrize("who", ["partner", "counselor"])
def test_the_whole_loop_through_the_page(
    client, district, sign_in, sent, counselor, partner_member, who
):
    """Accept, schedule, missed, schedule again, kept, an update, close: the partner's member
    signed in, or the school recording what the partner said on the phone."""
    sign_in(partner_member if who == "partner" else counselor)
    today = district.today()
    first = today + datetime.timedelta(days=3)
    second = today + datetime.timedelta(days=10)

    walk = [
        ("accept", {"note": "We have a therapist free on Tuesdays."}, "accepted"),
        ("schedule", {"appointment_on": first.isoformat()}, "scheduled"),
        ("missed", {"note": "The family did not come."}, "accepted"),
        ("schedule", {"appointment_on": second.isoformat()}, "scheduled"),
    ]
    for action, fields, status in walk:
        response = post_step(client, sent, action, **fields)
        assert response.status_code == 302, (action, text(response)[:500])
        assert response["Location"] == detail_url(sent) + "#loop"
        assert fresh(sent).status == status, action

    with time_machine.travel(timezone.now() + datetime.timedelta(days=11)):
        sign_in(partner_member if who == "partner" else counselor)  # a new day, a new session
        for action, fields in [
            ("kept", {}),
            ("update", {"note": "Weekly sessions, going well."}),
            ("close", {"outcome": "completed", "note": "Goals met."}),
        ]:
            response = post_step(client, sent, action, **fields)
            assert response["Location"] == detail_url(sent) + "#loop", action
        page = client.get(detail_url(sent))

    referral = fresh(sent)
    assert referral.status == "closed" and referral.outcome == "completed"
    assert referral.no_shows == 1
    assert referral.first_appointment_on == second
    assert [step.kind for step in steps_of(sent)] == [
        "sent",
        "accepted",
        "scheduled",
        "missed",
        "scheduled",
        "kept",
        "updated",
        "closed",
    ]
    html = text(page)
    assert f"Referral {sent.reference} closed." in html  # the message after the redirect
    assert "Service completed" in html
    assert "We have a therapist free on Tuesdays." in html
    assert "Weekly sessions, going well." in html
    assert "Missed appointments" in html
    if who == "partner":
        assert html.count("by Pat Partner, Riverbend Counseling") == 7
        assert html.count("by Carla Counselor") == 1  # sent it
    else:
        assert html.count("by Carla Counselor") == 8
    assert NOTES not in html.split('id="timeline-heading"')[1].split("</section>")[0]
    assert (NOTES in html) == (who == "counselor")  # the care team's own card only


def test_a_step_with_htmx_answers_the_panel_alone(client, district, sign_in, sent, partner_member):
    sign_in(partner_member)

    response = post_step(client, sent, "accept", headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<div id="loop"')
    assert "<html" not in html
    assert f"Referral {sent.reference} accepted." in html
    assert 'id="referral-status" hx-swap-oob="true"' in html  # the header's badge follows
    assert fresh(sent).status == "accepted"
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_a_refusal_with_htmx_answers_the_panel_with_the_message(
    client, district, sign_in, sent, counselor
):
    sign_in(counselor)

    response = post_step(client, sent, "close", headers={"HX-Request": "true"}, outcome="moved")

    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith('<div id="loop"')
    assert "“Close with an outcome” is not possible now" in html


def test_each_step_writes_the_access_log_when_it_shows_the_referral(
    client, district, sign_in, sent, partner_member
):
    sign_in(partner_member)

    def logged():
        with tenant_context(district):
            return AccessLog.objects.filter(
                district=district, object_type="referral", object_id=str(sent.pk)
            ).count()

    before = logged()
    post_step(client, sent, "accept")  # a redirect: the page it leads to logs
    assert logged() == before
    post_step(client, sent, "accept")  # refused: the page is shown again
    assert logged() == before + 1
    post_step(client, sent, "update", headers={"HX-Request": "true"}, note="Called the family.")
    assert logged() == before + 2


# --- Decline, send to another partner, withdraw -----------------------------------------------


@pytest.fixture
def second_partner(district):
    partner = PartnerFactory(district=district, name="Harbor Family Services", intake="accepting")
    ContactFactory(district=district, partner=partner, roles=["intake"])
    return partner


def test_a_declined_referral_is_sent_at_once_to_a_partner_the_consent_covers(
    client, district, sign_in, sent, student, counselor, partner_member, second_partner
):
    ConsentFactory(district=district, student=student, partner=second_partner)
    as_partner(sent, partner_member, "decline", reason="no_capacity")
    sign_in(counselor)

    page = text(client.get(detail_url(sent)))
    assert "Send to another partner" in page
    assert "Harbor Family Services" in page
    resend_form = page.split('id="step-resend"')[1].split("</details>")[0]
    assert f'value="{second_partner.pk}"' in resend_form
    assert f'value="{sent.partner_id}"' not in resend_form  # not the one that declined

    response = client.post(f"{detail_url(sent)}resend/", {"partner": second_partner.pk})

    with tenant_context(district):
        new = Referral.objects.get(resent_from=sent)
    assert response.status_code == 302 and response["Location"] == detail_url(new)
    assert new.status == "sent" and new.partner_id == second_partner.pk
    shown = text(client.get(detail_url(new)))
    assert f"Sent to Harbor Family Services at once as referral {new.reference}." in shown
    old = text(client.get(detail_url(sent)))
    assert "Sent to another partner" in old and f"Referral {new.reference}" in old
    assert "Sent to Harbor Family Services." in old


def test_with_htmx_a_resend_takes_the_browser_to_the_new_referral(
    client, district, sign_in, sent, student, counselor, partner_member, second_partner
):
    ConsentFactory(district=district, student=student, partner=second_partner)
    as_partner(sent, partner_member, "decline", reason="unreachable")
    sign_in(counselor)

    response = client.post(
        f"{detail_url(sent)}resend/", {"partner": second_partner.pk}, headers={"HX-Request": "true"}
    )

    with tenant_context(district):
        new = Referral.objects.get(resent_from=sent)
    assert response.status_code == 200 and response["HX-Redirect"] == detail_url(new)


def test_a_declined_referral_not_covered_asks_the_family_and_stays_a_draft(
    client, district, sign_in, sent, student, counselor, partner_member, second_partner
):
    as_partner(sent, partner_member, "decline", reason="not_eligible")
    sign_in(counselor)

    response = client.post(
        f"{detail_url(sent)}resend/", {"partner": second_partner.pk}, follow=True
    )

    with tenant_context(district):
        new = Referral.objects.get(resent_from=sent)
        asked = ConsentRequest.objects.filter(district=district, referral=new).count()
    assert new.status == "draft" and new.partner_id == second_partner.pk
    assert asked == 1
    assert response.status_code == 200
    assert "waits for the family&#x27;s consent" in text(response)


def test_a_resend_refused_shows_why_on_the_form(
    client, district, sign_in, sent, counselor, partner_member, second_partner
):
    as_partner(sent, partner_member, "decline", reason="no_capacity")
    sign_in(counselor)
    other = PartnerFactory(district=district, intake="closed")

    for data in ({}, {"partner": other.pk}, {"partner": sent.partner_id}, {"partner": "x"}):
        response = client.post(f"{detail_url(sent)}resend/", data)
        assert response.status_code == 200
        assert "errorlist" in text(response)
    with tenant_context(district):
        assert not Referral.objects.filter(resent_from=sent).exists()


def test_resend_is_refused_for_a_referral_that_was_not_declined(
    client, district, sign_in, sent, counselor, second_partner
):
    sign_in(counselor)

    response = client.post(f"{detail_url(sent)}resend/", {"partner": second_partner.pk})

    assert response.status_code == 200
    assert "That step was not taken" in text(response)
    with tenant_context(district):
        assert not Referral.objects.filter(resent_from=sent).exists()


def test_the_school_withdraws_a_referral(client, district, sign_in, sent, counselor):
    sign_in(counselor)

    response = post_step(client, sent, "withdraw", note="The family moved away.")

    assert response.status_code == 302
    assert fresh(sent).status == "withdrawn"
    page = text(client.get(detail_url(sent)))
    assert "The family moved away." in page and "Withdrawn" in page


# --- Refusals ----------------------------------------------------------------------------------


def _refused(response, message):
    assert response.status_code == 200
    assert message in text(response), text(response)[:2000]


def test_accepting_twice_is_refused_with_a_message(client, district, sign_in, sent, partner_member):
    sign_in(partner_member)
    post_step(client, sent, "accept")

    _refused(post_step(client, sent, "accept"), "“Accept” is not possible now")
    assert [s.kind for s in steps_of(sent)].count("accepted") == 1


def test_closing_a_sent_referral_is_refused(client, district, sign_in, sent, counselor):
    sign_in(counselor)

    _refused(post_step(client, sent, "close", outcome="completed"), "is not possible now")
    assert fresh(sent).status == "sent"


def test_scheduling_in_the_past_is_refused_next_to_the_date(
    client, district, sign_in, sent, partner_member
):
    sign_in(partner_member)
    as_partner(sent, partner_member, "accept")
    yesterday = district.today() - datetime.timedelta(days=1)

    response = post_step(client, sent, "schedule", appointment_on=yesterday.isoformat())

    _refused(response, "The appointment&#x27;s date cannot be in the past.")
    assert 'id="step-schedule" open' in text(response)  # the form stays open, with the date
    assert f'value="{yesterday.isoformat()}"' in text(response)
    assert fresh(sent).status == "accepted"


def test_withdrawing_a_closed_referral_is_refused(
    client, district, sign_in, sent, counselor, partner_member
):
    as_partner(sent, partner_member, "accept")
    as_partner(sent, partner_member, "close", outcome="family_declined")
    sign_in(counselor)

    _refused(post_step(client, sent, "withdraw"), "“Withdraw” is not possible now")
    assert fresh(sent).status == "closed"


def test_a_partner_may_not_withdraw(client, district, sign_in, sent, partner_member):
    sign_in(partner_member)

    page = text(client.get(detail_url(sent)))
    assert "Withdraw the referral" not in page  # not offered

    _refused(post_step(client, sent, "withdraw"), "Only the school that made the referral")
    assert fresh(sent).status == "sent"


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("decline", {}, "Choose why you decline."),
        ("decline", {"reason": "other"}, "Say why in a note."),
        ("decline", {"reason": "bored"}, "Select a valid choice."),
        ("update", {"note": "   "}, "This field is required."),
        ("schedule", {"appointment_on": "2024-02-30"}, "Give the date as month, day and year."),
        ("schedule", {"appointment_on": "2999-01-01"}, "Give a date within the next year."),
        ("accept", {"note": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_a_step_with_bad_input_says_what_is_wrong(
    client, district, sign_in, sent, partner_member, action, fields, message
):
    if action == "schedule":
        as_partner(sent, partner_member, "accept")
    status = fresh(sent).status
    sign_in(partner_member)

    _refused(post_step(client, sent, action, **fields), message)
    assert fresh(sent).status == status


def test_an_unknown_action_is_404_and_a_get_goes_back_to_the_page(
    client, district, sign_in, sent, counselor
):
    sign_in(counselor)

    assert client.post(step_url(sent, "resend")).status_code == 404
    assert client.post(step_url(sent, "explode")).status_code == 404
    response = client.get(step_url(sent, "accept"))
    assert response.status_code == 302 and response["Location"] == detail_url(sent)
    assert fresh(sent).status == "sent"


# --- Who may: the trio --------------------------------------------------------------------------


def test_a_viewer_may_not_take_a_step(client, district, sign_in, sent, member):
    sign_in(member("viewer"))

    assert post_step(client, sent, "accept").status_code == 403
    assert client.post(f"{detail_url(sent)}reassign/").status_code == 403
    assert client.post(f"{detail_url(sent)}resend/").status_code == 403
    assert fresh(sent).status == "sent"


def test_another_partners_member_gets_404(client, district, sign_in, sent, member):
    stranger = member("partner", partner=PartnerFactory(district=district))
    sign_in(stranger)

    assert client.get(detail_url(sent)).status_code == 404
    assert post_step(client, sent, "accept").status_code == 404
    assert fresh(sent).status == "sent"


def test_a_partner_may_not_resend_or_reassign(client, district, sign_in, sent, partner_member):
    sign_in(partner_member)

    assert client.post(f"{detail_url(sent)}reassign/").status_code == 403
    assert client.post(f"{detail_url(sent)}resend/").status_code == 403


def test_a_counselor_of_another_school_gets_404(client, district, sign_in, sent, member):
    elsewhere = member("counselor")
    with tenant_context(district):
        MembershipSchool.objects.create(
            district=district, membership=elsewhere, school=SchoolFactory(district=district)
        )
    sign_in(elsewhere)

    assert post_step(client, sent, "withdraw").status_code == 404
    assert fresh(sent).status == "sent"


@pytest.mark.parametrize("path", ["step/accept/", "step/withdraw/", "resend/", "reassign/"])
def test_another_districts_admin_gets_404(client, other_district, member, sent, path):
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.post(detail_url(sent) + path).status_code == 404
    assert client.get(detail_url(sent) + path).status_code == 404
    assert fresh(sent).status == "sent"


# --- What the page shows -----------------------------------------------------------------------


def test_the_timeline_says_who_when_and_the_note(
    client, district, sign_in, sent, counselor, partner_member, member
):
    contact = ContactFactory(
        district=district, partner=sent.partner, name="Ivy Intake", roles=["intake"]
    )
    with tenant_context(district):
        referral_step(
            actor=Actor(contact=contact), referral=sent, action="accept", note="Seen the link."
        )
        record_step(sent, kind=StepKind.REMINDED_PARTNER, actor=None)
    colleague = named(member("counselor"), "Colin Colleague")
    sign_in(counselor)
    client.post(f"{detail_url(sent)}reassign/", {"to": colleague.pk, "note": "Carla is away."})

    page = text(client.get(detail_url(sent)))

    assert "by Ivy Intake (from the emailed link)" in page
    assert "Seen the link." in page
    assert "by Trellis" in page
    assert "Partner reminded: answer overdue" in page
    assert "From Carla Counselor to Colin Colleague." in page
    assert "Carla is away." in page
    assert "Answer due by" in page
    [step] = [s for s in steps_of(sent) if s.kind == "accepted"]
    local = timezone.localtime(step.at, timezone=district.time_zone)
    assert f'datetime="{local.isoformat()}"' in page  # in the district's time zone
    labels = ["Sent", "Accepted", "Partner reminded", "Reassigned"]
    timeline = page.split('id="timeline-heading"')[1]
    positions = [timeline.index(f"<strong>{label}") for label in labels]
    assert positions == sorted(positions)  # oldest first


def test_the_partner_sees_the_same_timeline_but_never_the_confidential_notes(
    client, district, sign_in, sent, counselor, partner_member
):
    as_partner(sent, partner_member, "accept", note="Intake call booked.")
    sign_in(partner_member)

    page = text(client.get(detail_url(sent)))

    assert "Intake call booked." in page
    assert "by Carla Counselor" in page  # who sent it
    assert NOTES not in page
    assert "Counselor responsible" in page and "Carla Counselor" in page


def test_the_header_shows_times_to_accept_and_to_first_appointment(
    client, district, sign_in, counselor, partner, student
):
    # Sent on a Monday, accepted on Wednesday: 2 business days.
    monday = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)
    ConsentFactory(
        district=district,
        student=student,
        partner=partner,
        signed_at=monday - datetime.timedelta(days=1),
        valid_until=datetime.date(2027, 3, 1),
    )
    with time_machine.travel(monday, tick=False):
        draft = ReferralFactory(district=district, student=student, partner=partner)
        referral = act(referral_send, by=counselor, referral=draft)
    member_ = MembershipFactory(district=district, role="partner", partner=partner)
    with time_machine.travel(monday + datetime.timedelta(days=2), tick=False):
        as_partner(referral, member_, "accept")
        as_partner(referral, member_, "schedule", appointment_on=datetime.date(2026, 3, 11))
    with time_machine.travel(monday + datetime.timedelta(days=10), tick=False):
        as_partner(referral, member_, "kept")
        sign_in(counselor)
        page = text(client.get(detail_url(referral)))

    assert "2 business days after it was sent" in page
    assert "9 days after it was sent" in page
    assert "Missed appointments" in page


def test_an_overdue_referral_says_so_at_the_top(
    client, district, sign_in, sent, counselor, partner_member
):
    due = fresh(sent).response_due_on
    zone = zoneinfo.ZoneInfo(str(district.time_zone))
    with time_machine.travel(
        datetime.datetime.combine(due + datetime.timedelta(days=1), datetime.time(15, 0), zone)
    ):
        sign_in(counselor)
        staff = text(client.get(detail_url(sent)))
        sign_in(partner_member)
        partner_page = text(client.get(detail_url(sent)))

    assert "Overdue: Riverbend Counseling has not answered" in staff
    assert "alert alert--urgent" in staff
    assert "Overdue: the school is waiting for your answer" in partner_page
    on_time = text(client.get(detail_url(sent)))
    assert "Overdue" not in on_time


def test_a_partner_reads_the_fields_only_while_the_consent_stands(
    client, district, sign_in, sent, student, partner, partner_member
):
    sign_in(partner_member)
    with tenant_context(district):
        student.refresh_from_db()
    assert f"{student.first_name} {student.last_name}" in text(client.get(detail_url(sent)))

    with tenant_context(district):
        consent = Consent.objects.for_district(district).get(student=student, partner=partner)
    ConsentRevocationFactory(district=district, consent=consent)

    page = text(client.get(detail_url(sent)))  # the same page, opened again after revoking
    assert f"{student.first_name} {student.last_name}" not in page
    assert "Student information" in page


def test_reassign_offers_the_schools_active_counselors_only(
    client, district, sign_in, sent, counselor, member, school
):
    colleague = named(member("counselor"), "Colin Colleague")
    named(member("counselor", active=False), "Ina Inactive")
    named(member("coordinator"), "Cora Coordinator")
    limited = named(member("counselor"), "Lena Limited")
    with tenant_context(district):
        MembershipSchool.objects.create(
            district=district, membership=limited, school=SchoolFactory(district=district)
        )
    sign_in(counselor)

    form = text(client.get(detail_url(sent))).split('id="step-reassign"')[1].split("</details>")[0]

    assert "Colin Colleague" in form
    assert "Ina Inactive" not in form
    assert "Cora Coordinator" not in form
    assert "Lena Limited" not in form
    assert ">Carla Counselor<" not in form  # already theirs

    refused = client.post(f"{detail_url(sent)}reassign/", {"to": limited.pk})
    _refused(refused, "Choose one of the counselors listed.")
    done = client.post(f"{detail_url(sent)}reassign/", {"to": colleague.pk})
    assert done.status_code == 302
    assert fresh(sent).owner_id == colleague.pk


@pytest.mark.parametrize("viewer", ["counselor", "partner"])
def test_the_page_costs_the_same_queries_with_2_or_20_steps(
    client, district, sign_in, sent, counselor, partner_member, member, count_queries, viewer
):
    as_partner(sent, partner_member, "accept", note="Accepted.")  # sent, accepted
    sign_in(counselor if viewer == "counselor" else partner_member)
    client.get(detail_url(sent))  # warm the session
    few = count_queries(lambda: client.get(detail_url(sent)))

    colleague = named(member("counselor"), "Colin Colleague")
    contact = ContactFactory(district=district, partner=sent.partner, roles=["intake"])
    with tenant_context(district):
        for number in range(15):
            actor = Actor(contact=contact) if number % 2 else Actor(membership=partner_member)
            referral_step(actor=actor, referral=sent, action="update", note=f"Update {number}.")
        record_step(sent, kind=StepKind.REMINDED_COUNSELOR, actor=None)
        referral_reassign(by=counselor, referral=fresh(sent), to=colleague)
        referral_reassign(by=counselor, referral=fresh(sent), to=counselor)
        referral_reassign(by=counselor, referral=fresh(sent), to=colleague)
    assert len(steps_of(sent)) == 21
    page = text(client.get(detail_url(sent)))
    many = count_queries(lambda: client.get(detail_url(sent)))

    assert "From Colin Colleague to Carla Counselor." in page
    assert few == many


def test_a_contact_steps_name_and_users_are_shown_escaped(
    client, district, sign_in, sent, counselor
):
    contact = ContactFactory(
        district=district, partner=sent.partner, name="<b>Ivy</b>", roles=["intake"]
    )
    with tenant_context(district):
        referral_step(actor=Actor(contact=contact), referral=sent, action="update", note="<i>x</i>")
    sign_in(counselor)

    page = text(client.get(detail_url(sent)))

    assert "<b>Ivy</b>" not in page and "&lt;b&gt;Ivy&lt;/b&gt;" in page
    assert "<i>x</i>" not in page
