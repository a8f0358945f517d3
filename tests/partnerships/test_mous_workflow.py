"""MOU services: drafting from the template, versions, the enforced workflow, signing,
locking, concurrent edits, the partner's signed link, goals."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from partnerships.models import (
    MOU,
    MOU_TRANSITIONS,
    MOUComment,
    MOUSignature,
    MOUStatus,
    MOUVersion,
)
from partnerships.mou_rules import (
    MOU_SECTIONS,
    default_template_sections,
    fill_placeholders,
    version_sections,
)
from partnerships.selectors.mous import current_version
from partnerships.services.mous.common import MOUEditConflict, MOUTransitionRefused
from partnerships.services.mous.drafting import (
    mou_create,
    mou_section_update,
    mou_template_create,
    mou_terms_update,
)
from partnerships.services.mous.goals import goal_create, goal_progress_add
from partnerships.services.mous.links import (
    MOULinkClaim,
    MOULinkExpired,
    mou_link_claim_read,
    mou_link_token,
)
from partnerships.services.mous.workflow import (
    mou_partner_comment,
    mou_return,
    mou_sign,
    mou_submit,
    mou_terminate,
    mou_transition,
    mou_withdraw,
)
from schools.models import OutgoingEmail
from schools.tenancy import tenant_context
from tests.factories import ContactFactory, PartnerFactory, SchoolFactory
from tests.partnerships.mou_setup import Cast, advance, draft, force_status, person

ALL = list(MOUStatus.values)
ILLEGAL = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in MOU_TRANSITIONS[a]]


@pytest.fixture
def cast(district):
    return Cast(district)


@pytest.fixture
def mou(cast):
    return draft(cast.coordinator, partner=cast.partner)


def status_in_db(mou):
    with tenant_context(mou.district_id):
        return MOU.objects.get(pk=mou.pk).status


def versions_of(mou):
    with tenant_context(mou.district_id):
        return list(MOUVersion.objects.filter(mou=mou).order_by("number"))


# --- The template and drafting --------------------------------------------------------------


def test_the_shipped_template_has_real_text_for_every_section():
    sections = default_template_sections()

    assert set(sections) == {key for key, _label in MOU_SECTIONS}
    assert all(len(text) > 150 for text in sections.values())
    text = " ".join(sections.values())
    for needed in (
        "{response_days} business days",
        "background checks",
        "FERPA",
        "HIPAA",
        "{shared_fields}",
        "988",
        "Medicaid",
        "{end_date}",
        "Termination",
    ):
        assert needed in text, needed


def test_drafting_fills_the_placeholders_from_district_partner_and_terms(cast, district):
    school = SchoolFactory(district=district, name="Hillside Middle")
    mou = draft(cast.coordinator, partner=cast.partner, schools=[school], response_days=3)

    (version,) = versions_of(mou)
    with tenant_context(district):
        sections = {s.key: s.text for s in version_sections(version, {})}
    assert version.number == 1
    assert version.created_by_id == cast.coordinator.pk
    assert "{district}" in version.sections["purpose"]  # stored with its placeholders
    assert f"made between {district.name}" in sections["purpose"]
    assert cast.partner.name in sections["purpose"]
    assert "Hillside Middle" in sections["purpose"]
    assert "within 3 business days" in sections["referral"]
    assert "Student's name, Grade" in sections["confidentiality"]
    assert "July 31, 2026" in sections["term"]


def test_a_missing_value_shows_visibly_in_brackets(cast):
    mou = draft(cast.coordinator, partner=cast.partner, end_date=None, schools=[])

    (version,) = versions_of(mou)
    with tenant_context(mou.district_id):
        sections = {s.key: s.text for s in version_sections(version, {})}
    assert "to [end date]" in sections["term"]
    assert "students of [schools]" in sections["purpose"]


def test_unknown_braces_are_left_as_written():
    assert fill_placeholders("{partner} and {not_a_placeholder}", {"partner": "P"}) == (
        "P and {not_a_placeholder}"
    )


def test_drafting_from_a_district_template_uses_its_text(cast):
    with tenant_context(cast.district):
        template = mou_template_create(
            by=cast.coordinator, name="Ours", sections={"purpose": "Our purpose with {partner}."}
        )
    mou = draft(cast.coordinator, partner=cast.partner, template=template)

    (version,) = versions_of(mou)
    assert version.sections["purpose"] == "Our purpose with {partner}."
    assert version.sections["crisis"] == ""


def test_a_counselor_cannot_draft(member, district):
    counselor = member("counselor")
    with pytest.raises(PermissionDenied), tenant_context(district):
        mou_create(by=counselor, partner=PartnerFactory(district=district), title="X")


def test_another_districts_partner_is_refused(cast, other_district):
    with pytest.raises(ValidationError) as refused, tenant_context(cast.district):
        mou_create(by=cast.coordinator, partner=PartnerFactory(district=other_district), title="X")
    assert "partner" in refused.value.error_dict


# --- Versions -------------------------------------------------------------------------------


def test_every_saved_change_is_a_new_version_carrying_all_sections_and_terms(cast, mou):
    with tenant_context(cast.district):
        mou_section_update(
            by=cast.coordinator, mou=mou, section="purpose", text="New purpose.", based_on=1
        )
        mou_section_update(
            by=cast.coordinator, mou=mou, section="crisis", text="New crisis.", based_on=2
        )

    v1, v2, v3 = versions_of(mou)
    assert [v.number for v in (v1, v2, v3)] == [1, 2, 3]
    assert v3.sections["purpose"] == "New purpose."
    assert v3.sections["crisis"] == "New crisis."
    assert v3.sections["referral"] == v1.sections["referral"]
    assert v3.terms == v1.terms
    assert v2.sections["crisis"] == v1.sections["crisis"]  # older versions never change


def test_saving_the_same_text_makes_no_version(cast, mou):
    (v1,) = versions_of(mou)
    with tenant_context(cast.district):
        result = mou_section_update(
            by=cast.coordinator, mou=mou, section="purpose", text=v1.sections["purpose"], based_on=1
        )
    assert result is None
    assert len(versions_of(mou)) == 1


def test_changing_the_terms_makes_a_version_and_updates_the_mou(cast, mou, district):
    school = SchoolFactory(district=district, name="Eastside Elementary")
    with tenant_context(district):
        version = mou_terms_update(
            by=cast.coordinator,
            mou=mou,
            based_on=1,
            title="Renamed",
            schools=[school],
            services=["therapy"],
            start_date=datetime.date(2025, 9, 1),
            end_date=datetime.date(2026, 6, 30),
            response_days=7,
            shared_fields=["name"],
        )
        mou.refresh_from_db()
        assert list(mou.schools.all()) == [school]
    assert version.number == 2
    assert version.terms["schools"] == [{"id": school.pk, "name": "Eastside Elementary"}]
    assert version.terms["response_days"] == 7
    assert (mou.title, mou.response_days, mou.end_date) == (
        "Renamed",
        7,
        datetime.date(2026, 6, 30),
    )


def test_concurrent_edits_of_one_section_refuse_the_second_save_with_the_newer_text(cast, mou):
    other = person(cast.district, "coordinator")
    with tenant_context(cast.district):
        # Both opened the section at version 1; the first to save wins...
        mou_section_update(
            by=other, mou=mou, section="crisis", text="Their crisis text.", based_on=1
        )
        # ...the second is told, with the text now saved, and nothing is overwritten.
        with pytest.raises(MOUEditConflict) as conflict:
            mou_section_update(
                by=cast.coordinator, mou=mou, section="crisis", text="My crisis text.", based_on=1
            )
    assert conflict.value.current.number == 2
    assert conflict.value.current.sections["crisis"] == "Their crisis text."
    assert versions_of(mou)[-1].sections["crisis"] == "Their crisis text."
    assert len(versions_of(mou)) == 2


def test_concurrent_edits_of_different_sections_both_keep_their_change(cast, mou):
    other = person(cast.district, "coordinator")
    with tenant_context(cast.district):
        mou_section_update(by=other, mou=mou, section="crisis", text="A.", based_on=1)
        mou_section_update(by=cast.coordinator, mou=mou, section="purpose", text="B.", based_on=1)
    latest = versions_of(mou)[-1]
    assert (latest.number, latest.sections["crisis"], latest.sections["purpose"]) == (3, "A.", "B.")


def test_concurrent_terms_edit_is_refused(cast, mou):
    arguments = {
        "schools": [],
        "services": [],
        "start_date": None,
        "end_date": None,
        "response_days": 5,
        "shared_fields": [],
    }
    with tenant_context(cast.district):
        mou_terms_update(by=cast.coordinator, mou=mou, based_on=1, title="First", **arguments)
        with pytest.raises(MOUEditConflict):
            mou_terms_update(by=cast.coordinator, mou=mou, based_on=1, title="Second", **arguments)
        mou.refresh_from_db()
    assert mou.title == "First"


def test_a_version_number_that_does_not_exist_is_a_conflict_not_a_crash(cast, mou):
    with pytest.raises(MOUEditConflict), tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="purpose", text="x", based_on=999)


# --- The workflow: every pair of statuses ---------------------------------------------------


@pytest.mark.parametrize(("start", "to"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_illegal_transition_is_refused_with_a_message(cast, mou, start, to):
    force_status(mou, start)

    with pytest.raises(MOUTransitionRefused) as refused, tenant_context(cast.district):
        mou_transition(by=cast.admin, mou=mou, to=to, comment="A reason.")

    assert refused.value.messages[0]  # says what happened, in words
    assert status_in_db(mou) == start
    assert not MOU(status=start).can_transition_to(to)


LEGAL = [(a, b) for a in ALL for b in sorted(MOU_TRANSITIONS[a])]


def test_the_legal_pairs_are_the_workflow_of_the_issue():
    assert set(LEGAL) == {
        ("draft", "internal_review"),
        ("internal_review", "draft"),
        ("internal_review", "sent"),
        ("sent", "draft"),
        ("sent", "partner_signed"),
        ("partner_signed", "active"),
        ("partner_signed", "draft"),
        ("active", "expiring"),
        ("active", "expired"),
        ("active", "terminated"),
        ("expiring", "expired"),
        ("expiring", "terminated"),
        ("expiring", "active"),
    }


def _make_legal_move(cast, mou, start, to):
    """Each legal move, made the way the product makes it (the right person, the right call)."""
    version = current_version(mou).number
    sign = {"version_number": version, "title": "Director", "ip_address": "192.0.2.9"}
    if (start, to) == ("sent", "partner_signed"):
        mou_sign(by=cast.partner_member, mou=mou, name="Pat", **sign)
    elif (start, to) == ("partner_signed", "active"):
        mou_sign(by=cast.admin, mou=mou, name="Ada", **sign)
    elif (start, to) == ("sent", "draft"):
        mou_transition(by=cast.partner_member, mou=mou, to=to, comment="Change 3.")
    elif (start, to) == ("partner_signed", "draft"):
        mou_transition(by=cast.coordinator, mou=mou, to=to, comment="Missed a school.")
    elif to in ("expiring", "expired") or (start, to) == ("expiring", "active"):
        mou_transition(by=None, mou=mou, to=to)
    elif start == "draft":
        mou_transition(by=cast.coordinator, mou=mou, to=to)
    else:
        mou_transition(by=cast.admin, mou=mou, to=to, comment="Why.")


@pytest.mark.parametrize(("start", "to"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_transition_is_made_by_its_action(cast, mou, start, to):
    force_status(mou, start)
    with tenant_context(cast.district):
        _make_legal_move(cast, mou, start, to)
    assert status_in_db(mou) == to


@pytest.mark.parametrize(
    ("start", "to", "role"),
    [
        ("draft", "internal_review", "viewer"),
        ("internal_review", "sent", "coordinator"),
        ("internal_review", "draft", "coordinator"),
        ("active", "terminated", "coordinator"),
        ("sent", "draft", "viewer"),
    ],
)
def test_a_weaker_role_cannot_move_an_mou(cast, mou, start, to, role):
    force_status(mou, start)
    weaker = person(cast.district, role)
    with pytest.raises(PermissionDenied), tenant_context(cast.district):
        mou_transition(by=weaker, mou=mou, to=to, comment="x")
    assert status_in_db(mou) == start


def test_people_cannot_make_the_calendar_moves(cast, mou):
    force_status(mou, "active")
    with pytest.raises(MOUTransitionRefused), tenant_context(cast.district):
        mou_transition(by=cast.admin, mou=mou, to="expiring")


def test_signing_is_the_only_way_to_partner_signed(cast, mou):
    force_status(mou, "sent")
    with pytest.raises(MOUTransitionRefused), tenant_context(cast.district):
        mou_transition(by=cast.partner_member, mou=mou, to="partner_signed")
    assert status_in_db(mou) == "sent"


def test_returning_needs_a_comment_and_keeps_it(cast, mou):
    force_status(mou, "internal_review")
    with tenant_context(cast.district):
        with pytest.raises(ValidationError):
            mou_return(by=cast.admin, mou=mou, comment="  ")
        mou_return(by=cast.admin, mou=mou, comment="Add the schedule.")
        (comment,) = MOUComment.objects.filter(mou=mou)
    assert comment.body == "Add the schedule."
    assert comment.membership_id == cast.admin.pk
    assert status_in_db(mou) == "draft"


def test_terminating_needs_a_reason(cast, mou):
    force_status(mou, "active")
    with tenant_context(cast.district):
        with pytest.raises(ValidationError):
            mou_terminate(by=cast.admin, mou=mou, reason="")
        mou_terminate(by=cast.admin, mou=mou, reason="The partner closed.")
        mou.refresh_from_db()
    assert (mou.status, mou.terminated_reason) == ("terminated", "The partner closed.")
    assert mou.terminated_at is not None


def test_a_partner_of_another_organisation_cannot_comment_or_sign(cast, mou):
    force_status(mou, "sent")
    stranger = person(cast.district, "partner")  # another organisation
    with tenant_context(cast.district):
        with pytest.raises(PermissionDenied):
            mou_sign(by=stranger, mou=mou, version_number=1, name="X", title="Y", ip_address=None)
        with pytest.raises(PermissionDenied):
            mou_partner_comment(
                by=stranger, mou=mou, version_number=1, author_name="X", comment="Y"
            )
    assert status_in_db(mou) == "sent"


def test_the_district_cannot_sign_before_the_partner(cast, mou):
    force_status(mou, "sent")
    with pytest.raises(PermissionDenied), tenant_context(cast.district):
        mou_sign(by=cast.admin, mou=mou, version_number=1, name="A", title="B", ip_address=None)


# --- Approving sends the link -----------------------------------------------------------------


def test_approving_emails_the_partners_leadership_and_intake_contacts_and_members(cast, mou):
    intake = ContactFactory(district=cast.district, partner=cast.partner, roles=["intake"])
    ContactFactory(district=cast.district, partner=cast.partner, roles=["billing"])
    ContactFactory(district=cast.district, roles=["leadership"])  # another partner's
    advance(mou, cast, "sent")

    sent = {tuple(m.to): m for m in OutgoingEmail.objects.all() if "review and sign" in m.subject}
    assert set(sent) == {
        (cast.contact.email.lower(),),
        (intake.email.lower(),),
        (cast.partner_member.user.email.lower(),),
    }
    assert "/p/mous/review/" in sent[(cast.contact.email.lower(),)].body_text
    member_mail = sent[(cast.partner_member.user.email.lower(),)].body_text
    assert f"/{cast.district.slug}/mous/{mou.pk}/" in member_mail
    assert "/p/mous/review/" not in member_mail  # members sign in instead


def test_submitting_tells_the_administrators(cast, mou):
    with tenant_context(cast.district):
        mou_submit(by=cast.coordinator, mou=mou)
    assert any(m.to == [cast.admin.user.email.lower()] for m in OutgoingEmail.objects.all())


# --- Signing and locking ------------------------------------------------------------------------


def test_signatures_record_who_what_when_where_and_the_exact_version(cast, mou):
    advance(mou, cast, "active")

    with tenant_context(cast.district):
        partner_sig, district_sig = MOUSignature.objects.filter(version__mou=mou).order_by(
            "signed_at"
        )
        version = current_version(mou)
    assert (partner_sig.party, partner_sig.name, partner_sig.title) == (
        "partner",
        "Pat Partner",
        "Director",
    )
    assert partner_sig.membership_id == cast.partner_member.pk
    assert partner_sig.ip_address == "192.0.2.1"
    assert district_sig.party == "district" and district_sig.membership_id == cast.admin.pk
    assert partner_sig.version_id == district_sig.version_id == version.pk
    assert version.locked_at is not None
    assert status_in_db(mou) == "active"


def test_the_first_signature_locks_the_version(cast, mou):
    advance(mou, cast, "sent")
    assert versions_of(mou)[-1].locked_at is None
    advance(mou, cast, "partner_signed")
    assert versions_of(mou)[-1].locked_at is not None


def test_a_signed_version_cannot_be_edited_an_edit_makes_a_new_version_needing_signatures(
    cast, mou
):
    advance(mou, cast, "partner_signed")
    signed = versions_of(mou)[-1]

    with tenant_context(cast.district):
        new = mou_section_update(
            by=cast.coordinator,
            mou=mou,
            section="costs",
            text="District pays.",
            based_on=signed.number,
        )
        old_signatures = list(MOUSignature.objects.filter(version=signed))

    signed_after = versions_of(mou)[-2]
    assert signed_after.sections == signed.sections  # the signed text never changed
    assert signed_after.locked_at == signed.locked_at
    assert new.number == signed.number + 1 and new.locked_at is None
    assert [s.party for s in old_signatures] == ["partner"]  # stays on the old version
    assert status_in_db(mou) == "draft"  # back to review and signing
    with tenant_context(cast.district):
        assert not MOUSignature.objects.filter(version=new).exists()
        mou.refresh_from_db()
        # The district can no longer countersign the old version...
        with pytest.raises(MOUTransitionRefused):
            mou_sign(
                by=cast.admin,
                mou=mou,
                version_number=new.number,
                name="A",
                title="B",
                ip_address=None,
            )
    # ...and the new version must be signed again, by the partner first.
    advance(mou, cast, "active")
    with tenant_context(cast.district):
        assert {s.party for s in MOUSignature.objects.filter(version=versions_of(mou)[-1])} == {
            "partner",
            "district",
        }


def test_an_active_mou_cannot_be_changed(cast, mou):
    advance(mou, cast, "active")
    with pytest.raises(ValidationError), tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text="x", based_on=1)
    assert len(versions_of(mou)) == 1


def test_signing_a_version_other_than_the_current_one_is_refused(cast, mou):
    advance(mou, cast, "sent")
    with tenant_context(cast.district):
        mou_section_update(by=cast.coordinator, mou=mou, section="costs", text="x", based_on=1)
    force_status(mou, "sent")  # (sent again without re-approval only to test the guard)
    with pytest.raises(ValidationError) as refused, tenant_context(cast.district):
        mou_sign(
            by=cast.partner_member, mou=mou, version_number=1, name="P", title="D", ip_address=None
        )
    assert "version 2" in refused.value.messages[0]


def test_a_signature_needs_a_name_and_a_title(cast, mou):
    advance(mou, cast, "sent")
    with pytest.raises(ValidationError) as refused, tenant_context(cast.district):
        mou_sign(
            by=cast.partner_member, mou=mou, version_number=1, name="P", title=" ", ip_address=None
        )
    assert "title" in refused.value.error_dict


# --- The signed link ------------------------------------------------------------------------


def test_a_link_names_district_mou_and_version(cast, mou):
    (version,) = versions_of(mou)
    token = mou_link_token(mou, version)
    assert mou_link_claim_read(token) == MOULinkClaim(cast.district.pk, mou.pk, 1)


def test_a_tampered_link_is_not_valid(cast, mou):
    (version,) = versions_of(mou)
    token = mou_link_token(mou, version)
    assert mou_link_claim_read(token[:-2] + "xx") is None
    assert mou_link_claim_read("garbage") is None
    assert mou_link_claim_read("") is None


def test_a_link_expires_after_thirty_days(cast, mou):
    (version,) = versions_of(mou)
    with time_machine.travel(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), tick=False):
        token = mou_link_token(mou, version)
    with time_machine.travel(datetime.datetime(2025, 1, 30, tzinfo=datetime.UTC), tick=False):
        assert mou_link_claim_read(token) is not None
    later = datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(MOULinkExpired) as expired,
    ):
        mou_link_claim_read(token)
    assert expired.value.district_id == cast.district.pk


def test_signing_through_the_link_records_no_membership(cast, mou):
    advance(mou, cast, "sent")
    with tenant_context(cast.district):
        signature = mou_sign(
            by=None,
            mou=mou,
            version_number=1,
            name="Lee Link",
            title="CEO",
            ip_address="198.51.100.7",
        )
    assert signature.membership is None and signature.party == "partner"
    assert status_in_db(mou) == "partner_signed"


# --- Goals --------------------------------------------------------------------------------------


def test_goals_and_progress(cast, mou):
    from partnerships.selectors.mous import mou_goals

    with tenant_context(cast.district):
        goal = goal_create(
            by=cast.coordinator,
            mou=mou,
            description="Students served",
            target=Decimal("120"),
            unit="students",
            period="2025-26",
        )
        goal_progress_add(
            by=cast.coordinator, goal=goal, date=datetime.date(2025, 10, 1), value=Decimal("30")
        )
        goal_progress_add(
            by=cast.coordinator, goal=goal, date=datetime.date(2025, 12, 1), value=Decimal("54")
        )
        (shown,) = mou_goals(mou)
        with pytest.raises(ValidationError):
            goal_create(
                by=cast.coordinator,
                mou=mou,
                description="x",
                target=Decimal(0),
                unit="u",
                period="p",
            )
        with pytest.raises(PermissionDenied):
            goal_create(
                by=person(cast.district, "viewer"),
                mou=mou,
                description="x",
                target=Decimal(1),
                unit="u",
                period="p",
            )
    assert shown.current == Decimal("54") and shown.percent == 45


def test_templates_are_unique_per_district_by_name(cast):
    with tenant_context(cast.district):
        mou_template_create(by=cast.coordinator, name="Standard", sections={})
        with pytest.raises(ValidationError):
            mou_template_create(by=cast.coordinator, name="standard", sections={})


def test_taking_back_a_partner_signed_mou_needs_both_signatures_on_a_fresh_copy(cast, mou):
    advance(mou, cast, "partner_signed")
    with tenant_context(cast.district):
        mou_withdraw(by=cast.coordinator, mou=mou, comment="One more school.")
    signed, fresh = versions_of(mou)
    assert (signed.number, fresh.number) == (1, 2)
    assert signed.locked_at is not None and fresh.locked_at is None
    assert fresh.sections == signed.sections
    advance(mou, cast, "active")  # the partner can sign again, then the district
    with tenant_context(cast.district):
        assert MOUSignature.objects.filter(version=fresh).count() == 2
        assert MOUSignature.objects.filter(version=signed).count() == 1
