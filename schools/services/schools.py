"""The district's schools, kept by its administrators (issue 15): add, change, close and
reopen. A closed school keeps its students and referrals; it is shown as closed."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from schools.capabilities import require
from schools.models import GRADE_ORDER, AuditEvent, Membership, School
from schools.services.audit import audit_record
from schools.tenancy import require_same_district

FIELDS = ("name", "lowest_grade", "highest_grade", "state_id", "nces_id", "sis_id")
NAME_MAX = 200
STATE_ID_MAX = 32
NCES_ID_MAX = 12
SIS_ID_MAX = 64


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _clean(district, fields: dict, *, school: School | None = None) -> dict:
    """The fields checked and tidied; ValidationError by field."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"not a school field: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    data = {key: _text(fields.get(key)) for key in FIELDS}
    if not data["name"]:
        errors["name"] = [_("Give the school's name.")]
    elif len(data["name"]) > NAME_MAX:
        errors["name"] = [_("Keep the name under %(count)s characters.") % {"count": NAME_MAX}]
    for key in ("lowest_grade", "highest_grade"):
        if data[key] not in GRADE_ORDER:
            errors[key] = [_("Choose a grade from the list.")]
    if (
        "lowest_grade" not in errors
        and "highest_grade" not in errors
        and GRADE_ORDER.index(data["lowest_grade"]) > GRADE_ORDER.index(data["highest_grade"])
    ):
        errors["highest_grade"] = [_("The highest grade comes before the lowest grade.")]
    if len(data["state_id"]) > STATE_ID_MAX:
        errors["state_id"] = [
            _("Keep the state id under %(count)s characters.") % {"count": STATE_ID_MAX}
        ]
    if data["nces_id"] and not re.fullmatch(rf"[0-9]{{1,{NCES_ID_MAX}}}", data["nces_id"]):
        errors["nces_id"] = [
            _("An NCES id is digits only, %(count)s at most.") % {"count": NCES_ID_MAX}
        ]
    if len(data["sis_id"]) > SIS_ID_MAX:
        errors["sis_id"] = [
            _("Keep the SIS id under %(count)s characters.") % {"count": SIS_ID_MAX}
        ]
    if "name" not in errors:
        same = School.objects.for_district(district).filter(name__iexact=data["name"])
        if school is not None:
            same = same.exclude(pk=school.pk)
        if same.exists():
            errors["name"] = [_("The district already has a school with this name.")]
    if errors:
        raise ValidationError(errors)
    return data


def _duplicate_name() -> ValidationError:
    return ValidationError({"name": [_("The district already has a school with this name.")]})


@transaction.atomic
def school_create(*, by: Membership, **fields) -> School:
    """Add a school to the member's district."""
    require(by, "district.settings")
    district = by.district
    data = _clean(district, fields)
    try:
        with transaction.atomic():
            school = School.objects.create(district=district, **data)
    except IntegrityError:  # someone added it a moment ago
        raise _duplicate_name() from None
    audit_record(by=by, action=AuditEvent.Action.SCHOOL_ADDED, obj=school, about=school.name)
    return school


@transaction.atomic
def school_update(*, by: Membership, school: School, **fields) -> School:
    """Change a school of the member's district (the fields not given stay as they are)."""
    require(by, "district.settings")
    require_same_district(by, school)
    school = School.objects.for_district(by.district_id).select_for_update().get(pk=school.pk)
    given = {key: getattr(school, key) for key in FIELDS} | fields
    data = _clean(by.district, given, school=school)
    changed = [key for key in FIELDS if getattr(school, key) != data[key]]
    if not changed:
        return school
    for key in changed:
        setattr(school, key, data[key])
    try:
        with transaction.atomic():
            school.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise _duplicate_name() from None
    audit_record(
        by=by,
        action=AuditEvent.Action.SCHOOL_CHANGED,
        obj=school,
        about=school.name,
        detail={"fields": changed},
    )
    return school


@transaction.atomic
def school_close(*, by: Membership, school: School) -> School:
    """Mark a school closed from today (the district's day). Its students and referrals
    stay. Closing a closed school changes nothing."""
    require(by, "district.settings")
    require_same_district(by, school)
    school = School.objects.for_district(by.district_id).select_for_update().get(pk=school.pk)
    if school.closed_on is None:
        school.closed_on = by.district.today()
        school.save(update_fields=["closed_on", "updated_at"])
        audit_record(by=by, action=AuditEvent.Action.SCHOOL_CLOSED, obj=school, about=school.name)
    return school


@transaction.atomic
def school_reopen(*, by: Membership, school: School) -> School:
    """Open a closed school again. Reopening an open school changes nothing."""
    require(by, "district.settings")
    require_same_district(by, school)
    school = School.objects.for_district(by.district_id).select_for_update().get(pk=school.pk)
    if school.closed_on is not None:
        school.closed_on = None
        school.save(update_fields=["closed_on", "updated_at"])
        audit_record(by=by, action=AuditEvent.Action.SCHOOL_REOPENED, obj=school, about=school.name)
    return school


def school_list(district):
    """The district's schools by name, open ones first (one query)."""
    return School.objects.for_district(district).order_by(
        F("closed_on").asc(nulls_first=True), "name"
    )


def find_school(district, pk) -> School | None:
    """The district's school `pk` (from a URL or form: anything), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return School.objects.for_district(district).filter(pk=pk).first()
