"""People: inviting someone into a district, accepting, changing and deactivating memberships.

Every rule about who may hold which role lives here (forms only check the shape of what
was typed). Rule violations raise `ValidationError` keyed by the form field they concern,
so a view can hand them to its form and show them next to the field.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from core.mail import recipient_language, send_templated
from core.signed import BadLink, SignedLink, payload_id, payload_str
from schools.capabilities import can
from schools.models import AuditEvent, Invitation, Membership, MembershipSchool, Role, School, User
from schools.selectors import forget_school_limits
from schools.services.audit import audit_record, person_label
from schools.tenancy import outside, require_same_district

INVITATION_SALT = "trellis.schools.invitation"
INVITATION_VALID_FOR = timedelta(days=7)

# Crisis responders receive risk alerts, which name a student: only staff who see students.
CRISIS_RESPONDER_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR})


# --- Open work (what a person still has to do, shown before deactivating them) -----------


@dataclass(frozen=True)
class OpenWork:
    label: str
    count: int
    url: str


# Later apps register `fn(membership) -> list[(label, count, url)]` (in AppConfig.ready):
# referrals waiting on this person, action items assigned to them, and so on.
OPEN_WORK_PROVIDERS: list[Callable[[Membership], Iterable[tuple[str, int, str]]]] = []


def open_work_register(provider):
    """Add a provider to OPEN_WORK_PROVIDERS (usable as a decorator); twice is a no-op."""
    if provider not in OPEN_WORK_PROVIDERS:
        OPEN_WORK_PROVIDERS.append(provider)
    return provider


def open_work_of(membership: Membership) -> list[OpenWork]:
    """Everything the registered providers report as still open for this person (count > 0)."""
    return [
        OpenWork(str(label), count, url)
        for provider in OPEN_WORK_PROVIDERS
        for label, count, url in provider(membership)
        if count
    ]


# --- Rules shared by invitations and memberships ----------------------------------------


def _check_manager(by: Membership | None, district) -> None:
    """The actor must manage people in this very district (None: platform staff, the admin)."""
    if by is None:
        return
    require_same_district(by, district)
    if not can(by, "people.manage"):
        raise PermissionDenied


def _check_role_fields(*, district, role, schools, partner, crisis_responder) -> None:
    """Partner iff the partner role (the database insists too); crisis responders are staff."""
    errors: dict[str, list] = {}
    if role not in Role.values:
        errors["role"] = [_("Choose one of the roles.")]
    if role == Role.PARTNER and partner is None:
        errors["partner"] = [_("Choose the organization this partner works for.")]
    if role != Role.PARTNER and partner is not None:
        errors["partner"] = [
            _("Only people with the Partner role belong to a partner organization.")
        ]
    if outside(district, partner):
        errors["partner"] = [_("Choose one of your district's partner organizations.")]
    if crisis_responder and role not in CRISIS_RESPONDER_ROLES:
        errors["crisis_responder"] = [
            _("Only administrators, coordinators and counselors can be crisis responders.")
        ]
    if outside(district, list(schools)):
        errors["schools"] = [_("Choose among your district's schools.")]
    if errors:
        raise ValidationError(errors)


def _lock_active_admin_ids(district_id) -> list[int]:
    """Lock the district's active administrators, so that two admins removing each other at
    the same moment cannot leave the district with none."""
    return list(
        Membership.objects.select_for_update()
        .filter(district_id=district_id, role=Role.ADMIN, active=True)
        .values_list("pk", flat=True)
    )


LAST_ADMIN_MESSAGE = _(
    "This is the district's only active administrator. Make someone else an administrator first."
)


def _check_not_last_admin(membership: Membership, *, field: str | None) -> None:
    if membership.role != Role.ADMIN or not membership.active:
        return
    if _lock_active_admin_ids(membership.district_id) == [membership.pk]:
        raise ValidationError({field: [LAST_ADMIN_MESSAGE]} if field else LAST_ADMIN_MESSAGE)


def _set_schools(membership: Membership, schools: Iterable[School]) -> None:
    membership.schools.set(list(schools), through_defaults={"district_id": membership.district_id})
    forget_school_limits(membership)


# --- Invitations ---------------------------------------------------------------------------


# No timestamp: the invitation row carries the expiry, and the same invitation always has
# the same link until a resend changes its nonce (the token format of links already sent).
INVITATION_LINK = SignedLink(
    salt=INVITATION_SALT,
    fields={
        "d": payload_id,
        "i": payload_id,
        "n": partial(payload_str, pattern=r"[A-Za-z0-9_-]{1,64}"),  # secrets.token_urlsafe
    },
    timestamped=False,
    url_name="invitation_accept",
)


def _invitation_payload(invitation: Invitation) -> dict:
    return {"d": invitation.district_id, "i": invitation.pk, "n": invitation.nonce}


def invitation_token(invitation: Invitation) -> str:
    """The signed part of the invitation link: district, invitation and nonce."""
    return INVITATION_LINK.make(**_invitation_payload(invitation))


def invitation_path(invitation: Invitation) -> str:
    return INVITATION_LINK.path(**_invitation_payload(invitation))


def invitation_link(invitation: Invitation) -> str:
    """The link mailed to the invitee, on SITE_URL."""
    return INVITATION_LINK.url(**_invitation_payload(invitation))


@dataclass(frozen=True)
class InvitationClaim:
    district_id: int
    invitation_id: int
    nonce: str


def invitation_claim_read(token: str) -> InvitationClaim | None:
    """What a link claims, if its signature holds; None for anything tampered or malformed."""
    try:
        data = INVITATION_LINK.read(token)
    except BadLink:
        return None
    return InvitationClaim(data["d"], data["i"], data["n"])


def invitation_for_claim(claim: InvitationClaim) -> Invitation | None:
    """The invitation a verified claim names; call inside tenant_context(claim.district_id).

    None when it does not exist or the nonce no longer matches (resent: the old link died).
    """
    invitation = (
        Invitation.objects.select_related("district", "invited_by__user", "partner")
        .filter(district_id=claim.district_id, pk=claim.invitation_id)
        .first()
    )
    if invitation is None or not constant_time_compare(invitation.nonce, claim.nonce):
        return None
    return invitation


def _invitation_email(invitation: Invitation) -> None:
    """Mail the link. Names only the district and the inviter: nothing about any student.

    In the invitee's language when they already have an account, else the district's.
    """
    district = invitation.district
    inviter = invitation.invited_by.user.get_full_name() if invitation.invited_by else ""
    invitee = User.objects.filter(email__iexact=invitation.email, is_active=True).first()
    context = {
        "district_name": district.name,
        "inviter_name": inviter,
        "link": invitation_link(invitation),
        "expires_at": invitation.expires_at,
    }
    send_templated(
        "schools/email/invitation",
        to=invitation.email,
        context=context,
        language=recipient_language(invitee, district),
        district=district,
    )


@transaction.atomic
def invitation_create(
    *,
    by: Membership | None,
    district=None,
    email: str,
    role: str,
    schools: Iterable[School] = (),
    partner=None,
    crisis_responder: bool = False,
) -> Invitation:
    """Invite a person into a role and email them the link (valid for 7 days).

    `by` is the inviting administrator; None only for platform staff creating a district
    (then `district` names it). Refuses an address that is already an active member or
    has an invitation waiting; partner and crisis-responder rules as for memberships.
    """
    district = by.district if by is not None else district
    if district is None:
        raise ValueError("invitation_create needs `by` or `district`")
    _check_manager(by, district)
    schools = list(schools)
    email = email.strip().lower()
    _check_role_fields(
        district=district,
        role=role,
        schools=schools,
        partner=partner,
        crisis_responder=crisis_responder,
    )
    if (
        Membership.objects.for_district(district)
        .active()
        .filter(user__email__iexact=email)
        .exists()
    ):
        raise ValidationError({"email": [_("This person is already an active member.")]})
    if (
        Invitation.objects.for_district(district)
        .filter(email__iexact=email, accepted_at=None, revoked_at=None)
        .filter(expires_at__gt=timezone.now())
        .exists()
    ):
        raise ValidationError(
            {
                "email": [
                    _(
                        "An invitation to this address is already waiting. Resend it from "
                        "the list of invitations instead."
                    )
                ]
            }
        )
    invitation = Invitation.objects.create(
        district=district,
        email=email,
        role=role,
        school_ids=sorted(school.pk for school in schools),
        partner=partner,
        crisis_responder=crisis_responder,
        invited_by=by,
        nonce=secrets.token_urlsafe(32),
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )
    # Platform staff (by=None) act in the admin, which records the district they create.
    audit_record(
        by=by, action=AuditEvent.Action.INVITED, obj=invitation, about=email, detail={"role": role}
    )
    _invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_resend(*, by: Membership, invitation: Invitation) -> Invitation:
    """Send a waiting (or expired) invitation again with a new link valid for 7 more days.

    The nonce changes, so the previous link stops working.
    """
    _check_manager(by, invitation.district)
    if not invitation.is_open:
        raise ValidationError(_("This invitation was already accepted or withdrawn."))
    invitation.nonce = secrets.token_urlsafe(32)
    invitation.expires_at = timezone.now() + INVITATION_VALID_FOR
    invitation.save(update_fields=["nonce", "expires_at", "updated_at"])
    _invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, by: Membership, invitation: Invitation) -> Invitation:
    """Withdraw a waiting invitation; its link then says so. Revoking twice changes nothing."""
    _check_manager(by, invitation.district)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already accepted."))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            by=by,
            action=AuditEvent.Action.INVITATION_WITHDRAWN,
            obj=invitation,
            about=invitation.email,
        )
    return invitation


class InvitationUnavailable(Exception):
    """The invitation cannot be accepted; `reason` says why (for the page to explain)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def invitation_state(invitation: Invitation) -> str | None:
    """Why an invitation cannot be accepted ("accepted", "revoked", "expired"), or None."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.is_expired:
        return "expired"
    return None


def _lock_open(invitation: Invitation) -> Invitation:
    """Re-read the invitation under a row lock: two clicks of the link accept it once."""
    locked = Invitation.objects.select_for_update().get(
        district_id=invitation.district_id, pk=invitation.pk
    )
    reason = invitation_state(locked)
    if reason:
        raise InvitationUnavailable(reason)
    return locked


def _join(invitation: Invitation, user: User) -> Membership:
    """Create the membership the invitation describes, or reactivate and reshape an old one."""
    district_id = invitation.district_id
    schools = School.objects.filter(district_id=district_id, pk__in=invitation.school_ids)
    membership = Membership.objects.filter(district_id=district_id, user=user).first()
    if membership is None:
        membership = Membership.objects.create(
            district_id=district_id,
            user=user,
            role=invitation.role,
            partner_id=invitation.partner_id,
            crisis_responder=invitation.crisis_responder,
        )
    else:
        membership.role = invitation.role
        membership.partner_id = invitation.partner_id
        membership.crisis_responder = invitation.crisis_responder
        membership.active = True
        membership.deactivated_at = None
        membership.save(
            update_fields=[
                "role",
                "partner",
                "crisis_responder",
                "active",
                "deactivated_at",
                "updated_at",
            ]
        )
    _set_schools(membership, schools)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


def invitation_account_exists(invitation: Invitation) -> bool:
    return User.objects.filter(email__iexact=invitation.email).exists()


@transaction.atomic
def invitation_accept_new_account(
    *, invitation: Invitation, full_name: str, password: str
) -> Membership:
    """Accept for someone without an account: the account (its email verified by this very
    link), the membership and its schools, all in one transaction.

    Call inside tenant_context(invitation.district). The password must already have
    passed Django's validators (the form's job).
    """
    invitation = _lock_open(invitation)
    if invitation_account_exists(invitation):
        raise InvitationUnavailable("account_exists")
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(invitation.email, password, full_name=full_name.strip())
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return _join(invitation, user)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Accept for the signed-in person whose address the invitation was sent to: creates their
    membership, or reactivates it with the invited role and schools.

    Call inside tenant_context(invitation.district).
    """
    invitation = _lock_open(invitation)
    if user.email.lower() != invitation.email.lower():
        raise InvitationUnavailable("wrong_person")
    return _join(invitation, user)


# --- Memberships ---------------------------------------------------------------------------


@transaction.atomic
def membership_change(
    *,
    by: Membership,
    membership: Membership,
    role: str,
    schools: Iterable[School] = (),
    partner=None,
    crisis_responder: bool = False,
) -> Membership:
    """Change a member's role, schools, partner organization and crisis-responder flag.

    The district's last active administrator keeps the administrator role. Writes what
    changed to the audit trail (role, organization and flag as one event, schools as another).
    """
    district = membership.district
    _check_manager(by, district)
    schools = list(schools)
    _check_role_fields(
        district=district,
        role=role,
        schools=schools,
        partner=partner,
        crisis_responder=crisis_responder,
    )
    if role != Role.ADMIN:
        _check_not_last_admin(membership, field="role")
    changes: dict[str, list] = {}
    if membership.role != role:
        changes["role"] = [membership.role, role]
    if membership.partner_id != (partner.pk if partner is not None else None):
        changes["partner"] = [str(membership.partner or ""), str(partner or "")]
    if membership.crisis_responder != crisis_responder:
        changes["crisis_responder"] = [membership.crisis_responder, crisis_responder]
    schools_before = set(
        MembershipSchool.objects.filter(
            district_id=membership.district_id, membership=membership
        ).values_list("school_id", flat=True)
    )
    membership.role = role
    membership.partner = partner
    membership.crisis_responder = crisis_responder
    membership.save(update_fields=["role", "partner", "crisis_responder", "updated_at"])
    _set_schools(membership, schools)
    about = person_label(membership.user)
    if changes:
        audit_record(
            by=by,
            action=AuditEvent.Action.ROLE_CHANGED,
            obj=membership,
            about=about,
            detail=changes,
        )
    if schools_before != {school.pk for school in schools}:
        audit_record(
            by=by,
            action=AuditEvent.Action.SCHOOLS_CHANGED,
            obj=membership,
            about=about,
            detail={"schools": sorted(school.name for school in schools)},
        )
    return membership


@transaction.atomic
def membership_deactivate(*, by: Membership, membership: Membership) -> Membership:
    """Take away a member's access (the row stays: their history keeps its author).

    The district's last active administrator cannot be deactivated, not even by themselves.
    """
    _check_manager(by, membership.district)
    if not membership.active:
        return membership
    _check_not_last_admin(membership, field=None)
    membership.active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["active", "deactivated_at", "updated_at"])
    audit_record(
        by=by,
        action=AuditEvent.Action.DEACTIVATED,
        obj=membership,
        about=person_label(membership.user),
    )
    return membership


@transaction.atomic
def membership_reactivate(*, by: Membership, membership: Membership) -> Membership:
    """Give a deactivated member their access back, with the role and schools they had."""
    _check_manager(by, membership.district)
    if membership.active:
        return membership
    membership.active = True
    membership.deactivated_at = None
    membership.save(update_fields=["active", "deactivated_at", "updated_at"])
    audit_record(
        by=by,
        action=AuditEvent.Action.REACTIVATED,
        obj=membership,
        about=person_label(membership.user),
    )
    return membership
