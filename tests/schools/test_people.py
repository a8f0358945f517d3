"""The people pages: members list, inviting, changing, deactivating (points 5 and 6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from schools.models import Invitation, Membership, MembershipSchool, OutgoingEmail, Role
from schools.services import people as services
from schools.tenancy import tenant_context
from tests.factories import (
    InvitationFactory,
    PartnerFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    enable_totp,
)


@pytest.fixture
def admin(member):
    admin = member("admin", user=UserFactory(full_name="Ada Admin"))
    enable_totp(admin.user)
    return admin


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def people_url(district, name="people_list", *args):
    return reverse(name, args=[district.slug, *args])


def school_of(district):
    with tenant_context(district):
        return district_school(district)


def district_school(district):
    from schools.models import School

    return School.objects.filter(district=district).order_by("pk").first()


def reload(model, pk, district):
    with tenant_context(district):
        return model.objects.get(pk=pk)


# --- The trio on every page --------------------------------------------------------------

PAGES = ["people_list", "people_invite", "person_change", "person_deactivate"]


def page_path(name, district, subject):
    if name in ("person_change", "person_deactivate"):
        return reverse(name, args=[district.slug, subject.pk])
    return reverse(name, args=[district.slug])


@pytest.mark.parametrize("name", PAGES)
def test_administrator_opens_the_people_pages(admin_client, district, member, name):
    subject = member("counselor")

    response = admin_client.get(page_path(name, district, subject))

    assert response.status_code == 200


@pytest.mark.parametrize("role", ["coordinator", "counselor", "partner", "viewer"])
@pytest.mark.parametrize("name", PAGES)
def test_weaker_roles_are_refused_the_people_pages(client, district, member, name, role):
    subject = member("counselor")
    someone = member(role)
    client.force_login(someone.user)

    path = page_path(name, district, subject)

    assert client.get(path).status_code == 403
    assert client.post(path, {"role": "admin", "email": "x@example.org"}).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_another_districts_administrator_gets_404(client, district, other_district, member, name):
    subject = member("counselor")
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    client.force_login(outsider.user)

    assert client.get(page_path(name, district, subject)).status_code == 404
    # and this district's member is not reachable under the outsider's own district either
    if name in ("person_change", "person_deactivate"):
        assert client.get(page_path(name, other_district, subject)).status_code == 404


def test_navigation_shows_people_to_administrators_only(admin_client, district, member):
    assert b'href="/north/people/"' in admin_client.get("/north/").content

    client = Client()
    client.force_login(member("coordinator").user)
    assert b'href="/north/people/"' not in client.get("/north/").content


# --- The members list -------------------------------------------------------------------


def test_members_list_shows_role_schools_partner_and_status(admin_client, district, member):
    school = school_of(district)
    counselor = member("counselor", user=UserFactory(full_name="Cory Counselor"))
    with tenant_context(district):
        MembershipSchool.objects.create(district=district, membership=counselor, school=school)
    partner = member("partner", user=UserFactory(full_name="Pat Partner"))
    member("coordinator", crisis_responder=True, user=UserFactory(full_name="Cris Responder"))
    member("viewer", active=False, user=UserFactory(full_name="Vic Former"))

    response = admin_client.get(people_url(district))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cory Counselor" in html and counselor.user.email in html
    assert "North High School" in html  # the counselor's school
    assert "All schools" in html  # everyone else
    assert partner.partner.name in html
    assert "Crisis responder" in html
    assert "Deactivated" in html
    assert "Never" in html  # nobody has signed in through the form yet
    names = [m.user.full_name for m in response.context["page"].object_list]
    assert names[-1] == "Vic Former"  # deactivated people come last


def test_search_filters_by_name_and_email(admin_client, district, member):
    member("counselor", user=UserFactory(full_name="Maria Lopez", email="m.lopez@example.org"))
    member("counselor", user=UserFactory(full_name="John Smith", email="jsmith@example.org"))

    by_name = admin_client.get(people_url(district), {"q": "lopez"}).context["page"]
    by_email = admin_client.get(people_url(district), {"q": "JSMITH@"}).context["page"]

    assert [m.user.full_name for m in by_name.object_list] == ["Maria Lopez"]
    assert [m.user.full_name for m in by_email.object_list] == ["John Smith"]


def test_search_ignores_accents_and_case_and_needs_every_word(admin_client, district, member):
    member("counselor", user=UserFactory(full_name="José García Núñez"))
    member("counselor", user=UserFactory(full_name="Josefina Smith"))

    def found(query):
        page = admin_client.get(people_url(district), {"q": query}).context["page"]
        return [m.user.full_name for m in page.object_list]

    assert found("garcia") == ["José García Núñez"]
    assert found("JOSE nunez") == ["José García Núñez"]
    assert sorted(found("jose")) == ["Josefina Smith", "José García Núñez"]
    assert found("jose smith") == ["Josefina Smith"]


def test_role_filter(admin_client, district, member):
    member("coordinator", user=UserFactory(full_name="Casey Coordinator"))
    member("counselor", user=UserFactory(full_name="Chris Counselor"))

    page = admin_client.get(people_url(district), {"role": "coordinator"}).context["page"]

    assert [m.user.full_name for m in page.object_list] == ["Casey Coordinator"]


def test_htmx_filter_returns_only_the_results_fragment(admin_client, district, member):
    member("counselor", user=UserFactory(full_name="Maria Lopez"))

    response = admin_client.get(
        people_url(district), {"q": "maria"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="people-results"' in html
    assert "Maria Lopez" in html and "Ada Admin" not in html
    assert 'hx-swap-oob="innerHTML:#people-announce"' in html  # the count is announced


def test_filter_without_matches_shows_the_empty_state(admin_client, district):
    response = admin_client.get(people_url(district), {"q": "nobody-has-this-name"})

    assert b"Nobody matches" in response.content


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"q": "nul\x00byte"},
        {"role": "superuser"},
        {"role": ["admin", "viewer"], "q": ["a", "b"]},
        {"page": "-1"},
        {"page": "99999999999999999999999"},
        {"page": "abc"},
    ],
)
def test_garbage_filters_do_not_break_the_list(admin_client, district, params):
    response = admin_client.get(people_url(district), params)

    assert response.status_code == 200


def test_members_list_query_count_does_not_grow_with_rows(
    admin_client, district, member, count_queries
):
    schools = [school_of(district), SchoolFactory(district=district)]

    def add_people(n):
        for _ in range(n):
            person = member("counselor")
            with tenant_context(district):
                for school in schools:
                    MembershipSchool.objects.create(
                        district=district, membership=person, school=school
                    )
        member("partner")
        InvitationFactory(district=district, school_ids=[s.pk for s in schools])

    def load():
        assert admin_client.get(people_url(district)).status_code == 200

    add_people(2)
    load()  # warm the session
    few = count_queries(load)
    add_people(25)
    many = count_queries(load)

    assert few == many


# --- Inviting ---------------------------------------------------------------------------


def test_invite_creates_the_invitation_and_queues_the_email(admin_client, admin, district):
    school = school_of(district)

    response = admin_client.post(
        people_url(district, "people_invite"),
        {"email": "  New.Person@Example.org ", "role": "counselor", "schools": [school.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == people_url(district)
    with tenant_context(district):
        invitation = Invitation.objects.get()
    assert invitation.email == "new.person@example.org"
    assert invitation.role == Role.COUNSELOR
    assert invitation.school_ids == [school.pk]
    assert invitation.invited_by_id == admin.pk
    assert len(invitation.nonce) >= 32
    days = (invitation.expires_at - timezone.now()).total_seconds() / 86400
    assert 6.99 < days <= 7
    email = OutgoingEmail.objects.get()
    assert email.to == ["new.person@example.org"]
    assert services.invitation_link(invitation) in email.body_text
    # the list then shows the invitation with its actions
    html = admin_client.get(people_url(district)).content.decode()
    assert "new.person@example.org" in html
    assert reverse("invitation_resend", args=[district.slug, invitation.pk]) in html


def test_invitation_email_names_only_the_district_and_the_inviter(admin, district):
    student = StudentFactory(district=district, first_name="Zephyrine", last_name="Quillfeather")

    with tenant_context(district):
        invitation = services.invitation_create(
            by=admin, email="new@example.org", role=Role.COUNSELOR
        )

    email = OutgoingEmail.objects.get()
    link = services.invitation_link(invitation)
    assert email.subject == "Invitation to join North Valley Unified on Trellis"
    assert "Ada Admin invited you to join North Valley Unified" in email.body_text
    assert link in email.body_text
    assert link.replace("&", "&amp;") in email.body_html
    for text in (email.subject, email.body_text, email.body_html):
        assert student.first_name not in text and student.last_name not in text
        assert student.local_id not in text
        assert "Counselor" not in text  # not even the role: the link shows it behind the token


def test_invitation_email_is_sent_by_the_worker_after_commit(
    admin_client, district, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            people_url(district, "people_invite"), {"email": "new@example.org", "role": "viewer"}
        )

    assert [m.to for m in mailoutbox] == [["new@example.org"]]
    assert "/invitations/" in mailoutbox[0].body
    assert mailoutbox[0].alternatives[0][1] == "text/html"


def invite(client, district, **data):
    data.setdefault("email", "new@example.org")
    data.setdefault("role", "counselor")
    return client.post(people_url(district, "people_invite"), data)


def test_invalid_email_is_refused_next_to_the_field(admin_client, district):
    response = invite(admin_client, district, email="not an address")

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert b'value="not an address"' in response.content  # what was typed is kept
    assert not OutgoingEmail.objects.exists()


def test_an_active_member_cannot_be_invited_again(admin_client, district, member):
    counselor = member("counselor")

    response = invite(admin_client, district, email=counselor.user.email.upper())

    assert response.context["form"].errors["email"] == ["This person is already an active member."]


def test_a_deactivated_member_can_be_invited_back(admin_client, district, member):
    former = member("counselor", active=False)

    response = invite(admin_client, district, email=former.user.email)

    assert response.status_code == 302


def test_a_second_waiting_invitation_to_the_same_address_is_refused(admin_client, district):
    InvitationFactory(district=district, email="new@example.org")

    response = invite(admin_client, district, email="NEW@example.org")

    assert "already waiting" in response.context["form"].errors["email"][0]


def test_partner_role_requires_a_partner_organisation(admin_client, district):
    response = invite(admin_client, district, role="partner")

    assert response.context["form"].errors["partner"] == [
        "Choose the organization this partner works for."
    ]


def test_partner_organisation_is_refused_for_other_roles(admin_client, district):
    partner = PartnerFactory(district=district)

    response = invite(admin_client, district, role="counselor", partner=partner.pk)

    assert "Only people with the Partner role" in response.context["form"].errors["partner"][0]


def test_partner_role_with_its_organisation_is_accepted(admin_client, district):
    partner = PartnerFactory(district=district)

    response = invite(admin_client, district, role="partner", partner=partner.pk)

    assert response.status_code == 302
    with tenant_context(district):
        assert Invitation.objects.get().partner == partner


@pytest.mark.parametrize("role", ["partner", "viewer"])
def test_crisis_responders_are_staff_who_see_students(admin_client, district, role):
    partner = PartnerFactory(district=district)
    data = {"partner": partner.pk} if role == "partner" else {}

    response = invite(admin_client, district, role=role, crisis_responder="on", **data)

    assert "crisis responders" in response.context["form"].errors["crisis_responder"][0]


def test_another_districts_school_or_partner_is_not_a_choice(
    admin_client, district, other_district
):
    their_school = SchoolFactory(district=other_district)
    their_partner = PartnerFactory(district=other_district)

    response = invite(
        admin_client, district, role="partner", partner=their_partner.pk, schools=[their_school.pk]
    )

    errors = response.context["form"].errors
    assert "schools" in errors and "partner" in errors
    assert not OutgoingEmail.objects.exists()


GARBAGE = [
    {"email": "a" * 10_000 + "@example.org", "role": "counselor"},
    {"email": "new@example.org", "role": "r" * 10_000},
    {"email": "new@example.org", "role": "counselor", "schools": ["abc", "9" * 30]},
    {"email": "new@example.org", "role": "partner", "partner": "not-a-number"},
    {"email": "new@example.org", "role": "partner", "partner": "9" * 30},
    {"email": "nul\x00@example.org", "role": "counselor"},
    {"email": ["a@example.org", "b@"], "role": ["admin", "nope"]},
    {"email": "", "role": "", "crisis_responder": "x" * 10_000},
    {},
]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_invitations_get_form_errors_not_500(admin_client, district, data):
    response = admin_client.post(people_url(district, "people_invite"), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert b"There is a problem" in response.content
    assert not OutgoingEmail.objects.exists()


def test_only_people_managers_of_the_district_may_invite(district, other_district, member):
    coordinator = member("coordinator")
    outsider = member("admin", in_district=other_district)

    with tenant_context(district), pytest.raises(PermissionDenied):
        services.invitation_create(by=coordinator, email="x@example.org", role="viewer")
    with tenant_context(district), pytest.raises(PermissionDenied):
        services.membership_deactivate(by=outsider, membership=coordinator)


# --- Waiting invitations: resend and withdraw -------------------------------------------


def test_withdrawing_an_invitation(admin_client, district):
    invitation = InvitationFactory(district=district)

    response = admin_client.post(reverse("invitation_revoke", args=[district.slug, invitation.pk]))

    assert response.status_code == 302
    assert reload(Invitation, invitation.pk, district).revoked_at is not None
    assert admin_client.get(people_url(district)).context["invitations"] == []


def test_resending_sends_a_new_link_and_kills_the_old_one(admin_client, district):
    invitation = InvitationFactory(district=district, expires_at=timezone.now())
    old_link = services.invitation_link(invitation)

    response = admin_client.post(reverse("invitation_resend", args=[district.slug, invitation.pk]))

    assert response.status_code == 302
    fresh = reload(Invitation, invitation.pk, district)
    assert fresh.nonce != invitation.nonce
    assert fresh.expires_at > timezone.now()
    email = OutgoingEmail.objects.get()
    assert services.invitation_link(fresh) in email.body_text
    assert old_link not in email.body_text
    assert admin_client.get(old_link.removeprefix("http://testserver")).status_code == 404


def test_resend_and_withdraw_answer_get_with_the_list(admin_client, district):
    invitation = InvitationFactory(district=district)

    for name in ("invitation_resend", "invitation_revoke"):
        response = admin_client.get(reverse(name, args=[district.slug, invitation.pk]))
        assert response.status_code == 302
    fresh = reload(Invitation, invitation.pk, district)
    assert fresh.revoked_at is None and fresh.nonce == invitation.nonce  # GET changes nothing


def test_an_accepted_invitation_cannot_be_withdrawn_or_resent(admin_client, district):
    invitation = InvitationFactory(district=district, accepted_at=timezone.now())

    for name in ("invitation_resend", "invitation_revoke"):
        response = admin_client.post(
            reverse(name, args=[district.slug, invitation.pk]), follow=True
        )
        assert b"already accepted" in response.content
    assert reload(Invitation, invitation.pk, district).revoked_at is None
    assert not OutgoingEmail.objects.exists()


# --- Changing a member ------------------------------------------------------------------


def test_changing_role_schools_and_flag(admin_client, district, member):
    counselor = member("counselor")
    school = school_of(district)

    response = admin_client.post(
        people_url(district, "person_change", counselor.pk),
        {"role": "coordinator", "schools": [school.pk], "crisis_responder": "on"},
    )

    assert response.status_code == 302
    with tenant_context(district):
        changed = Membership.objects.get(pk=counselor.pk)
        assert changed.role == Role.COORDINATOR
        assert changed.crisis_responder is True
        assert list(changed.schools.all()) == [school]


def test_change_form_starts_from_the_current_values(admin_client, district, member):
    partner_member = member("partner")

    form = admin_client.get(people_url(district, "person_change", partner_member.pk)).context[
        "form"
    ]

    assert form["role"].value() == "partner"
    assert form["partner"].value() == partner_member.partner.pk


def test_making_someone_a_partner_needs_the_organisation(admin_client, district, member):
    counselor = member("counselor")

    response = admin_client.post(
        people_url(district, "person_change", counselor.pk), {"role": "partner"}
    )

    assert "partner" in response.context["form"].errors
    assert reload(Membership, counselor.pk, district).role == Role.COUNSELOR


def test_the_last_administrator_keeps_the_role(admin_client, admin, district):
    response = admin_client.post(
        people_url(district, "person_change", admin.pk), {"role": "coordinator"}
    )

    assert response.status_code == 200
    assert "only active administrator" in response.context["form"].errors["role"][0]
    assert reload(Membership, admin.pk, district).role == Role.ADMIN


def test_an_administrator_can_step_down_when_another_remains(admin_client, admin, member):
    other_admin = member("admin")

    response = admin_client.post(
        people_url(admin.district, "person_change", admin.pk), {"role": "coordinator"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/north/"  # the people pages are no longer theirs
    assert reload(Membership, admin.pk, admin.district).role == Role.COORDINATOR
    assert reload(Membership, other_admin.pk, admin.district).role == Role.ADMIN


def test_a_deactivated_administrator_does_not_count(admin_client, admin, member):
    member("admin", active=False)

    response = admin_client.post(
        people_url(admin.district, "person_change", admin.pk), {"role": "viewer"}
    )

    assert response.status_code == 200
    assert "only active administrator" in response.context["form"].errors["role"][0]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_changes_get_form_errors_not_500(admin_client, district, member, data):
    counselor = member("counselor")

    response = admin_client.post(people_url(district, "person_change", counselor.pk), data)

    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["form"].errors


def test_service_refuses_a_role_that_does_not_exist(admin, member):
    counselor = member("counselor")

    with tenant_context(admin.district), pytest.raises(ValidationError) as error:
        services.membership_change(by=admin, membership=counselor, role="superuser")

    assert "role" in error.value.message_dict


# --- Deactivating and reactivating ----------------------------------------------------


def test_deactivation_page_shows_an_empty_state_without_open_work(admin_client, member):
    counselor = member("counselor")

    response = admin_client.get(people_url(counselor.district, "person_deactivate", counselor.pk))

    assert b"Nothing open" in response.content


def test_deactivation_page_lists_open_work_from_registered_providers(
    admin_client, member, monkeypatch
):
    counselor = member("counselor")
    other = member("counselor")
    monkeypatch.setattr(services, "OPEN_WORK_PROVIDERS", [])

    @services.open_work_register
    def referrals_waiting(membership):
        count = 3 if membership.pk == counselor.pk else 0
        return [("Referrals waiting for a response", count, "/north/referrals/?owner=1")]

    html = admin_client.get(
        people_url(counselor.district, "person_deactivate", counselor.pk)
    ).content.decode()
    other_html = admin_client.get(
        people_url(other.district, "person_deactivate", other.pk)
    ).content.decode()

    assert "Referrals waiting for a response" in html
    assert 'href="/north/referrals/?owner=1"' in html and ">3<" in html
    assert "Referrals waiting for a response" not in other_html  # count 0: nothing to show
    assert "Nothing open" in other_html


def test_deactivated_member_can_no_longer_open_the_district(admin_client, district, member):
    counselor = member("counselor")
    client = Client()
    client.force_login(counselor.user)
    assert client.get("/north/").status_code == 200

    response = admin_client.post(people_url(district, "person_deactivate", counselor.pk))

    assert response.status_code == 302
    former = reload(Membership, counselor.pk, district)
    assert former.active is False and former.deactivated_at is not None
    assert client.get("/north/").status_code == 404
    assert b"Deactivated" in admin_client.get(people_url(district)).content


def test_the_last_administrator_cannot_deactivate_themselves(admin_client, admin, district):
    response = admin_client.post(people_url(district, "person_deactivate", admin.pk))

    assert response.status_code == 200
    assert b"only active administrator" in response.content
    assert reload(Membership, admin.pk, district).active is True


def test_an_administrator_may_leave_when_another_remains(admin_client, admin, district, member):
    member("admin")

    response = admin_client.post(people_url(district, "person_deactivate", admin.pk))

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert admin_client.get("/north/").status_code == 404


def test_two_administrators_cannot_both_be_deactivated(admin, member):
    second = member("admin")

    with tenant_context(admin.district):
        services.membership_deactivate(by=admin, membership=second)
        with pytest.raises(ValidationError):
            services.membership_deactivate(by=admin, membership=admin)


def test_reactivating_gives_access_back_with_the_same_role(admin_client, district, member):
    former = member("coordinator", active=False, deactivated_at=timezone.now())
    client = Client()
    client.force_login(former.user)

    page = admin_client.get(people_url(district, "person_change", former.pk))
    response = admin_client.post(people_url(district, "person_reactivate", former.pk))

    assert b"Reactivate" in page.content
    assert response.status_code == 302
    again = reload(Membership, former.pk, district)
    assert again.active is True and again.deactivated_at is None and again.role == "coordinator"
    assert client.get("/north/").status_code == 200


def test_deactivating_an_already_deactivated_member_goes_to_their_page(admin_client, member):
    former = member("counselor", active=False)

    response = admin_client.get(people_url(former.district, "person_deactivate", former.pk))

    assert response.status_code == 302
    assert response["Location"] == people_url(former.district, "person_change", former.pk)


ACTIONS = ["person_reactivate", "invitation_resend", "invitation_revoke"]


def action_path(name, district, subject, invitation):
    target = subject.pk if name == "person_reactivate" else invitation.pk
    return reverse(name, args=[district.slug, target])


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_are_refused_to_weaker_roles_and_other_districts(
    client, district, other_district, member, name
):
    subject = member("counselor", active=False)
    invitation = InvitationFactory(district=district)
    coordinator = member("coordinator")
    outsider = member("admin", in_district=other_district)
    enable_totp(outsider.user)
    path = action_path(name, district, subject, invitation)

    client.force_login(coordinator.user)
    assert client.post(path).status_code == 403
    client.force_login(outsider.user)
    assert client.post(path).status_code == 404
    assert client.post(action_path(name, other_district, subject, invitation)).status_code == 404

    assert reload(Membership, subject.pk, district).active is False
    fresh = reload(Invitation, invitation.pk, district)
    assert fresh.revoked_at is None and fresh.nonce == invitation.nonce
    assert not OutgoingEmail.objects.exists()
