"""The district's own settings, kept by its administrators in Trellis (issue 15): its name,
time zone, default language and policy (two-factor for everyone, the student self-consent
age, the referral response time, directory freshness, the crisis protocol).

The web address (slug) is not here: links already sent carry it, so only platform staff
change it, in the Django admin.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from schools.capabilities import require
from schools.models import AuditEvent, District, Membership
from schools.services.audit import audit_record

# The fields an administrator may change, in the order the page shows them.
EDITABLE_FIELDS = (
    "name",
    "time_zone",
    "default_language",
    "mfa_required",
    "student_self_consent_age",
    "referral_response_days",
    "directory_freshness_days",
    "crisis_protocol",
    "crisis_protocol_es",
)
CRISIS_PROTOCOL_MAX = 10_000


def _clean_text(fields: dict, errors: dict) -> None:
    if "name" in fields:
        name = " ".join(str(fields["name"] or "").split())
        if not name:
            errors["name"] = [_("Give the district's name.")]
        fields["name"] = name
    for key in ("crisis_protocol", "crisis_protocol_es"):
        if key in fields:
            text = str(fields[key] or "").strip()
            if len(text) > CRISIS_PROTOCOL_MAX:
                errors[key] = [
                    _("Keep the protocol under %(count)s characters.")
                    % {"count": CRISIS_PROTOCOL_MAX}
                ]
            fields[key] = text


@transaction.atomic
def district_settings_update(*, by: Membership, district: District, **fields) -> District:
    """Change some of the district's settings (any of EDITABLE_FIELDS). Problems are raised
    as a ValidationError by field; nothing is saved then. The change is on the audit trail,
    naming the fields that changed."""
    require(by, "district.settings")
    if district is None or district.pk != by.district_id:
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not a district setting: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    _clean_text(fields, errors)
    # A fresh copy: the caller's object stays as it was when the input is refused.
    current = District.objects.select_for_update().get(pk=district.pk)
    candidate = District.objects.get(pk=district.pk)
    for key, value in fields.items():
        if key in errors:
            continue
        if key == "time_zone" and not str(value or "").strip():
            errors[key] = [_("Choose the district's time zone.")]
            continue
        try:
            setattr(candidate, key, value)  # the time zone field checks the zone here
        except ValidationError:
            errors[key] = [_("Choose a time zone from the list.")]
    try:
        candidate.full_clean(
            exclude=[
                f.name for f in District._meta.fields if f.name not in fields or f.name in errors
            ],
            validate_unique=False,
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    changed = [
        key for key in EDITABLE_FIELDS if key in fields and _differs(current, candidate, key)
    ]
    if not changed:
        return candidate
    candidate.save(update_fields=[*changed, "updated_at"])
    audit_record(
        by=by,
        action=AuditEvent.Action.SETTINGS_CHANGED,
        obj=candidate,
        about=candidate.name,
        detail={"fields": changed},
    )
    for key in changed:
        setattr(district, key, getattr(candidate, key))
    return candidate


def _differs(old: District, new: District, key: str) -> bool:
    return str(getattr(old, key)) != str(getattr(new, key))
