"""What the MOU services share: their refusals, the row lock, status moves, new versions,
comments, and the assertion that a person may take an action now (mou_rules)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, MOUComment, MOUStatus, MOUVersion
from partnerships.mou_rules import (
    MOU_ACTIONS,
    PARTNER,
    mou_allowed_actions,
    unfilled_placeholders,
    version_sections,
)
from partnerships.selectors.categories import service_labels
from partnerships.selectors.mous import current_version
from schools.models import Membership
from schools.tenancy import require_same_district


class MOUTransitionRefused(ValidationError):
    """A status change MOU_TRANSITIONS does not allow, or not allowed to this person now."""


class MOUAlreadySigned(MOUTransitionRefused):
    """The partner's link was used to sign a version the partner has signed already."""


class MOUPlaceholdersLeft(ValidationError):
    """The MOU's text still has bracketed placeholders ("[amount]"): it is not submitted,
    approved or signed. `places` is [(section heading, "[placeholder]"), ...]; the messages
    are the first line, then one per place."""

    def __init__(self, places: list[tuple[str, str]]):
        self.places = places
        intro = ValidationError(
            _("Fill in every placeholder in brackets first. Still to fill in:"),
            code="placeholders",
        )
        super().__init__(
            [intro]
            + [
                ValidationError(
                    _("%(section)s: %(placeholder)s"),
                    code="placeholders",
                    params={"section": section, "placeholder": placeholder},
                )
                for section, placeholder in places
            ]
        )


def _refuse_placeholders(mou: MOU, version: MOUVersion) -> None:
    """MOUPlaceholdersLeft when the version, as people read it, has bracketed text left."""
    places = unfilled_placeholders(version_sections(version, service_labels(mou.district)))
    if places:
        raise MOUPlaceholdersLeft(places)


class MOUEditConflict(Exception):
    """Someone saved the same part of the MOU after the version the editor started from."""

    def __init__(self, current: MOUVersion):
        super().__init__(f"MOU {current.mou_id} changed: now version {current.number}")
        self.current = current


def _locked(mou: MOU) -> MOU:
    """The MOU row, locked until the transaction ends: transitions and saves take turns."""
    return MOU.objects.select_for_update().get(district_id=mou.district_id, pk=mou.pk)


def _version_numbered(mou: MOU, latest: MOUVersion, number) -> MOUVersion | None:
    if number == latest.number:
        return latest
    return MOUVersion.objects.filter(
        district_id=mou.district_id, mou_id=mou.pk, number=number
    ).first()


_TRANSITION_REFUSED = _("A “%(from)s” MOU cannot become “%(to)s”.")


def _transition_refused(mou: MOU, to: str) -> MOUTransitionRefused:
    to_label = MOUStatus(to).label if to in MOUStatus.values else to
    return MOUTransitionRefused(
        _TRANSITION_REFUSED,
        code="transition",
        params={"from": mou.get_status_display(), "to": to_label},
    )


def _authorize(by: Membership | None, mou: MOU, action: str) -> None:
    """PermissionDenied unless `by` may ever take `action` (MOU_ACTIONS) on this MOU: an MOU
    of its district, the capability, the right party. `by` None is the partner's verified
    link, and may take only the partner's actions. Checked before anything else."""
    rule = MOU_ACTIONS[action]
    if by is not None or rule.party != PARTNER:
        require_same_district(by, mou)
    if not rule.permits(by, mou):
        raise PermissionDenied


def _assert_allowed(
    by: Membership | None, locked: MOU, action: str, refusal: ValidationError | None = None
) -> None:
    """`action` is among mou_allowed_actions on the locked row (its status now), the rule the
    views guard with and the buttons show; otherwise raise `refusal` (by default: this MOU
    cannot make the action's move), a ValidationError the page shows."""
    if action in mou_allowed_actions(by, locked):
        return
    if refusal is None:
        (to,) = MOU_ACTIONS[action].moves_to
        refusal = _transition_refused(locked, to)
    raise refusal


def _move(mou: MOU, to: str, **fields) -> None:
    """Change the (locked) MOU's status if MOU_TRANSITIONS allows it; refuse otherwise."""
    if to not in MOUStatus.values or not mou.can_transition_to(to):
        raise _transition_refused(mou, to)
    mou.status = to
    for name, value in fields.items():
        setattr(mou, name, value)
    mou.save(update_fields=["status", "updated_at", *fields])


def _new_version(mou: MOU, *, by, sections: dict, terms: dict, after: MOUVersion | None):
    return MOUVersion.objects.create(
        district_id=mou.district_id,
        mou=mou,
        number=(after.number + 1) if after is not None else 1,
        sections=sections,
        terms=terms,
        created_by=by,
    )


def _comment(mou: MOU, version: MOUVersion, *, by: Membership | None, author: str, body: str):
    return MOUComment.objects.create(
        district_id=mou.district_id,
        mou=mou,
        version=version,
        author_name=author[:200],
        membership=by,
        body=body,
    )


def _require_text(text: str, field: str, message) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    return text


def _check_version(locked: MOU, version_number) -> MOUVersion:
    latest = current_version(locked)
    if latest.pk is None:
        raise ValidationError(_("This MOU has no text yet."), code="no_text")
    if str(version_number) != str(latest.number):
        raise ValidationError(
            _(
                "The MOU changed since you opened it: version %(number)s is now current. "
                "Read it again before you sign or comment."
            ),
            code="stale_version",
            params={"number": latest.number},
        )
    return latest
