"""The MOU's review and signing workflow (MOU_TRANSITIONS): submit, approve or return,
send the link again, take back, the partner's comment or signature, the district's
signature, termination, and the moves Trellis makes itself on dates.

Each action a person takes is first authorized (PermissionDenied for whoever may never
take it), then asserted on the locked row against mou_allowed_actions, the rule the views
and the buttons use too; every status change goes through `_move`, which refuses anything
MOU_TRANSITIONS does not allow.
"""

from __future__ import annotations

from typing import NoReturn

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, MOUComment, MOUSignature, MOUStatus
from partnerships.mou_rules import is_own_partner, mou_allowed_actions
from partnerships.selectors.mous import current_version
from partnerships.services.mous.common import (
    MOUAlreadySigned,
    MOUTransitionRefused,
    _assert_allowed,
    _authorize,
    _check_version,
    _comment,
    _locked,
    _move,
    _new_version,
    _refuse_placeholders,
    _require_text,
)
from partnerships.services.mous.mail import (
    mou_notify_signers,
    mou_notify_staff,
    mou_send_to_partner,
)
from schools.capabilities import can
from schools.models import Membership, Role
from schools.tenancy import require_same_district


@transaction.atomic
def mou_submit(*, by: Membership, mou: MOU) -> MOU:
    """A coordinator sends the draft for internal review; administrators are told.

    Refused (MOUPlaceholdersLeft, listing where) while bracketed placeholders are left in
    the text: "[amount]", "[month / quarter]", a term left empty ("[end date]")."""
    _authorize(by, mou, "submit")
    locked = _locked(mou)
    _assert_allowed(by, locked, "submit")
    _refuse_placeholders(locked, current_version(locked))
    _move(locked, MOUStatus.INTERNAL_REVIEW)
    mou.status = locked.status
    mou_notify_staff(locked, kind="review", roles=(Role.ADMIN,), exclude=by)
    return mou


@transaction.atomic
def mou_approve(*, by: Membership, mou: MOU) -> MOU:
    """An administrator approves the draft: it is sent to the partner for review and signing.

    The partner's leadership and intake contacts get a signed link; the partner's
    Trellis members find it in their MOU list (and get an email pointing there).
    """
    _authorize(by, mou, "approve")
    locked = _locked(mou)
    _assert_allowed(by, locked, "approve")
    _refuse_placeholders(locked, current_version(locked))
    _move(locked, MOUStatus.SENT)
    mou.status = locked.status
    mou_send_to_partner(locked)
    return mou


@transaction.atomic
def mou_return(*, by: Membership, mou: MOU, comment: str) -> MOU:
    """An administrator returns the draft from internal review with what to change."""
    _authorize(by, mou, "return")
    comment = _require_text(comment, "comment", _("Say what needs to change."))
    locked = _locked(mou)
    not_in_review = MOUTransitionRefused(
        _("This MOU is not waiting for internal review."), code="transition"
    )
    _assert_allowed(by, locked, "return", not_in_review)
    _move(locked, MOUStatus.DRAFT)
    mou.status = locked.status
    author = by.user.get_full_name()
    _comment(locked, current_version(locked), by=by, author=author, body=comment)
    return mou


@transaction.atomic
def mou_withdraw(*, by: Membership, mou: MOU, comment: str = "") -> MOU:
    """The district takes an MOU back to draft from the partner (sent or partner-signed).

    A version the partner already signed stays as it is, with its signature; the draft
    continues as a new unsigned copy, so the next round is signed again by both parties.
    """
    _authorize(by, mou, "withdraw")
    locked = _locked(mou)
    not_with_partner = MOUTransitionRefused(
        _("Only an MOU that is with the partner can be taken back."), code="transition"
    )
    _assert_allowed(by, locked, "withdraw", not_with_partner)
    _move(locked, MOUStatus.DRAFT)
    mou.status = locked.status
    latest = current_version(locked)
    if latest.locked_at is not None:
        # The partner signed it: the next round needs a fresh, unsigned copy to sign.
        _new_version(locked, by=by, sections=latest.sections, terms=latest.terms, after=latest)
    if comment.strip():
        author = by.user.get_full_name()
        _comment(locked, current_version(locked), by=by, author=author, body=comment.strip())
    return mou


@transaction.atomic
def mou_link_resend(*, by: Membership, mou: MOU) -> list[str]:
    """Send the partner's review link again (a contact lost it, or it expired)."""
    _authorize(by, mou, "resend")
    locked = _locked(mou)
    not_sent = ValidationError(_("Only an MOU waiting for the partner can be sent again."))
    _assert_allowed(by, locked, "resend", not_sent)
    return mou_send_to_partner(locked)


@transaction.atomic
def mou_partner_comment(
    *,
    by: Membership | None,
    mou: MOU,
    version_number,
    author_name: str,
    comment: str,
) -> MOUComment:
    """The partner asks for changes: the comment is kept and the MOU goes back to draft.

    `by` is the partner's membership, or None through the signed link (the view has
    verified it). The comment is on the version the partner read.
    """
    _authorize(by, mou, "partner_review")
    comment = _require_text(comment, "comment", _("Write what you would like to change."))
    author = _require_text(author_name, "name", _("Enter your name."))
    locked = _locked(mou)
    not_with_partner = MOUTransitionRefused(
        _("This MOU is not waiting for the partner's review."), code="transition"
    )
    _assert_allowed(by, locked, "partner_review", not_with_partner)
    version = _check_version(locked, version_number)
    _move(locked, MOUStatus.DRAFT)
    mou.status = locked.status
    note = _comment(locked, version, by=by, author=author, body=comment)
    mou_notify_staff(locked, kind="commented", roles=(), note=comment)
    return note


@transaction.atomic
def mou_sign(
    *,
    by: Membership | None,
    mou: MOU,
    version_number,
    name: str,
    title: str,
    ip_address: str | None,
) -> MOUSignature:
    """Sign the current version, exactly as the signer read it (`version_number`).

    The partner signs first (status sent: a member of the partner organization, or
    anyone holding the signed link, by=None); then a district administrator (status
    partner-signed), which makes the MOU active. The first signature locks the version.
    Refused while bracketed placeholders are left in the text (MOUPlaceholdersLeft). The
    last signature emails every signer a link to the executed PDF (mou_notify_signers).
    """
    name = _require_text(name, "name", _("Enter your full name."))
    title = _require_text(title, "title", _("Enter your title or role."))
    locked = _locked(mou)
    if by is None and locked.status != MOUStatus.SENT:
        _refuse_link_signature(locked, version_number)
    allowed = mou_allowed_actions(by, locked)
    if "partner_review" in allowed:
        party, to = MOUSignature.Party.PARTNER, MOUStatus.PARTNER_SIGNED
    elif "district_sign" in allowed:
        party, to = MOUSignature.Party.DISTRICT, MOUStatus.ACTIVE
    else:
        _refuse_signature(by, locked)
    version = _check_version(locked, version_number)
    _refuse_placeholders(locked, version)  # a signed MOU never says "[amount]"
    now = timezone.now()
    try:
        with transaction.atomic():
            signature = MOUSignature.objects.create(
                district_id=locked.district_id,
                version=version,
                party=party,
                name=name[:200],
                title=title[:200],
                signed_at=now,
                ip_address=ip_address or None,
                membership=by,
            )
    except IntegrityError:
        raise MOUAlreadySigned(
            _("This version has this party's signature already."), code="already_signed"
        ) from None
    if version.locked_at is None:
        version.locked_at = now
        version.save(update_fields=["locked_at", "updated_at"])
    _move(locked, to)
    mou.status = locked.status
    if party == MOUSignature.Party.PARTNER:
        mou_notify_staff(locked, kind="signed", roles=(Role.ADMIN,))
    else:
        # The last signature: every signer gets one email with the executed PDF. Once: a
        # second signature of the same party is refused above, before anything is sent.
        mou_notify_signers(locked, version)
    return signature


def _refuse_signature(by: Membership, locked: MOU) -> NoReturn:
    """Why `by` may not sign the MOU now (neither partner_review nor district_sign is
    allowed): only the partner signs what was sent to it; a district signature needs the
    capability, and the partner does not sign twice; nothing else is signed."""
    if locked.status == MOUStatus.SENT:
        raise PermissionDenied
    if locked.status == MOUStatus.PARTNER_SIGNED:
        require_same_district(by, locked)
        if not can(by, "mous.sign"):
            raise PermissionDenied
        raise MOUTransitionRefused(
            _("The partner has signed; the district signs next."), code="transition"
        )
    raise MOUTransitionRefused(
        _("A “%(status)s” MOU cannot be signed."),
        code="transition",
        params={"status": locked.get_status_display()},
    )


def _refuse_link_signature(mou: MOU, version_number) -> None:
    """The link signs only an MOU waiting for the partner: say why not (already signed?)."""
    number = str(version_number)
    signed = (
        number.isdigit()
        and len(number) < 10
        and MOUSignature.objects.filter(
            district_id=mou.district_id,
            version__mou_id=mou.pk,
            version__number=int(number),
            party=MOUSignature.Party.PARTNER,
        ).exists()
    )
    if signed:
        raise MOUAlreadySigned(
            _("Your organization has already signed this version of the MOU."),
            code="already_signed",
        )
    raise MOUTransitionRefused(_("This MOU is not waiting for your signature."), code="transition")


@transaction.atomic
def mou_terminate(*, by: Membership, mou: MOU, reason: str) -> MOU:
    """An administrator ends an active (or expiring) MOU early; the reason is required."""
    _authorize(by, mou, "terminate")
    reason = _require_text(reason, "reason", _("Give the reason for ending the MOU early."))
    locked = _locked(mou)
    _assert_allowed(by, locked, "terminate")
    _move(locked, MOUStatus.TERMINATED, terminated_reason=reason, terminated_at=timezone.now())
    mou.status, mou.terminated_reason = locked.status, locked.terminated_reason
    mou.terminated_at = locked.terminated_at
    return mou


@transaction.atomic
def _mark(mou: MOU, to: str) -> MOU:
    """A move Trellis makes itself (no person acts): on the locked row, by the transitions."""
    locked = _locked(mou)
    _move(locked, to)
    mou.status = locked.status
    return mou


def mou_mark_expiring(mou: MOU) -> MOU:
    """Trellis itself (the renewal sweep): an active MOU is within 60 days of its end."""
    return _mark(mou, MOUStatus.EXPIRING)


def mou_mark_expired(mou: MOU) -> MOU:
    """Trellis itself (the sweep): the end date has passed."""
    return _mark(mou, MOUStatus.EXPIRED)


def mou_mark_active_again(mou: MOU) -> MOU:
    """Trellis itself: an expiring MOU whose end date moved more than 60 days away."""
    return _mark(mou, MOUStatus.ACTIVE)


def mou_transition(*, by: Membership | None, mou: MOU, to: str, comment: str = "") -> MOU:
    """One entry point for every status change: dispatches to the action that makes it.

    Anything MOU_TRANSITIONS does not allow is refused (MOUTransitionRefused); so is a
    change that only signing makes (signing is `mou_sign`), and, for a person, the
    changes Trellis makes itself on dates (expiring, expired).
    """
    current = mou.status
    if to not in MOUStatus.values or not mou.can_transition_to(to):
        with transaction.atomic():
            _move(_locked(mou), to)  # raises the refusal with its message
    if to == MOUStatus.INTERNAL_REVIEW:
        return mou_submit(by=by, mou=mou)
    if to == MOUStatus.SENT:
        return mou_approve(by=by, mou=mou)
    if to == MOUStatus.DRAFT and current == MOUStatus.INTERNAL_REVIEW:
        return mou_return(by=by, mou=mou, comment=comment)
    if to == MOUStatus.DRAFT and current == MOUStatus.SENT and is_own_partner(by, mou):
        author = by.user.get_full_name()
        version = current_version(mou)
        mou_partner_comment(
            by=by, mou=mou, version_number=version.number, author_name=author, comment=comment
        )
        return mou
    if to == MOUStatus.DRAFT:
        return mou_withdraw(by=by, mou=mou, comment=comment)
    if to == MOUStatus.TERMINATED:
        return mou_terminate(by=by, mou=mou, reason=comment)
    if by is None and to == MOUStatus.EXPIRING:
        return mou_mark_expiring(mou)
    if by is None and to == MOUStatus.EXPIRED:
        return mou_mark_expired(mou)
    if by is None and to == MOUStatus.ACTIVE and current == MOUStatus.EXPIRING:
        return mou_mark_active_again(mou)
    if to in (MOUStatus.PARTNER_SIGNED, MOUStatus.ACTIVE) and current != MOUStatus.EXPIRING:
        message = _("An MOU moves on by being signed: use Sign.")
    else:
        message = _("Trellis makes this change itself when the end date nears or passes.")
    raise MOUTransitionRefused(message, code="transition")
