"""Drafting MOUs: the district's templates, a new MOU from a template, and edits to a
section or to the terms. Every saved change is a new version; a change past draft sends the
MOU back to draft (review and signatures again)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, MOUStatus, MOUTemplate, MOUVersion, Partner
from partnerships.mou_rules import (
    MAX_SECTION_CHARS,
    SECTION_KEYS,
    SHARED_FIELD_LABELS,
    answer_brackets,
    default_template_sections,
    terms_of,
)
from partnerships.selectors.categories import service_labels
from partnerships.selectors.mous import current_version
from partnerships.services.mous.common import (
    MOUEditConflict,
    _assert_allowed,
    _authorize,
    _locked,
    _move,
    _new_version,
    _version_numbered,
)
from schools.capabilities import can
from schools.models import Membership, School
from schools.tenancy import outside, require_same_district


def _check_terms(*, district, partner, schools, services, start_date, end_date, shared_fields):
    errors: dict[str, list] = {}
    if outside(district, partner):
        errors["partner"] = [_("Choose one of your district's partners.")]
    if outside(district, list(schools)):
        errors["schools"] = [_("Choose among your district's schools.")]
    unknown = set(services) - set(service_labels(district))
    if unknown:
        errors["services"] = [_("Choose services from the list.")]
    if set(shared_fields) - set(SHARED_FIELD_LABELS):
        errors["shared_fields"] = [_("Choose data fields from the list.")]
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = [_("The end date must be on or after the start date.")]
    if errors:
        raise ValidationError(errors)


def _set_schools(mou: MOU, schools: list[School]) -> None:
    mou.schools.set(schools, through_defaults={"district_id": mou.district_id})


# --- Templates ------------------------------------------------------------------------------


def _clean_sections(sections: dict) -> dict[str, str]:
    cleaned = {}
    for key in SECTION_KEYS:
        text = str(sections.get(key, "") or "").replace("\r\n", "\n")
        if len(text) > MAX_SECTION_CHARS:
            raise ValidationError({key: [_("Keep each section under 20,000 characters.")]})
        cleaned[key] = text
    return cleaned


@transaction.atomic
def mou_template_create(*, by: Membership, name: str, sections: dict) -> MOUTemplate:
    """A district's own MOU template (usually a copy of the shipped one, adapted)."""
    if not can(by, "mous.manage"):
        raise PermissionDenied
    name = name.strip()
    if MOUTemplate.objects.filter(district_id=by.district_id, name__iexact=name).exists():
        raise ValidationError({"name": [_("A template with this name exists already.")]})
    return MOUTemplate.objects.create(
        district_id=by.district_id, name=name, sections=_clean_sections(sections)
    )


@transaction.atomic
def mou_template_update(
    *, by: Membership, template: MOUTemplate, name: str, sections: dict
) -> MOUTemplate:
    """Change a template; MOUs drafted from it earlier keep their own text."""
    require_same_district(by, template)
    if not can(by, "mous.manage"):
        raise PermissionDenied
    name = name.strip()
    if (
        MOUTemplate.objects.filter(district_id=by.district_id, name__iexact=name)
        .exclude(pk=template.pk)
        .exists()
    ):
        raise ValidationError({"name": [_("A template with this name exists already.")]})
    template.name = name
    template.sections = _clean_sections(sections)
    template.save(update_fields=["name", "sections", "updated_at"])
    return template


# --- Drafting and editing -------------------------------------------------------------------


@transaction.atomic
def mou_create(
    *,
    by: Membership,
    partner: Partner,
    template: MOUTemplate | None = None,
    title: str,
    schools: Iterable[School] = (),
    services: Iterable[str] = (),
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
    response_days: int | None = None,
    shared_fields: Iterable[str] = (),
    language: str = "",
    answers: dict[str, str] | None = None,
) -> MOU:
    """Draft an MOU from a template (None: the shipped one): the MOU and its version 1.

    The response time defaults to the district's (District.referral_response_days).
    `language` is the one language the document is written in (default: the district's);
    the shipped template's text is written in it. `answers` fills the template's bracketed
    choices ("amount" -> "$1,000,000"); any left must be filled before the MOU is submitted.
    """
    if not can(by, "mous.manage"):
        raise PermissionDenied
    district = by.district
    schools, services, shared_fields = list(schools), list(services), list(shared_fields)
    _check_terms(
        district=district,
        partner=partner,
        schools=schools,
        services=services,
        start_date=start_date,
        end_date=end_date,
        shared_fields=shared_fields,
    )
    if outside(district, template):
        raise ValidationError({"template": [_("Choose one of your district's templates.")]})
    language = language or district.default_language or settings.LANGUAGE_CODE
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": [_("Choose one of the languages in the list.")]})
    if template is None:
        with translation.override(language):
            sections = default_template_sections()
    else:
        sections = {key: template.sections.get(key, "") for key in SECTION_KEYS}
    if answers:
        sections = {key: answer_brackets(text, answers) for key, text in sections.items()}
    mou = MOU.objects.create(
        district=district,
        partner=partner,
        title=title.strip(),
        services=services,
        start_date=start_date,
        end_date=end_date,
        response_days=response_days or district.referral_response_days,
        shared_fields=shared_fields,
        created_by=by,
        language=language,
    )
    _set_schools(mou, schools)
    _new_version(mou, by=by, sections=sections, terms=terms_of(mou, schools), after=None)
    return mou


def _before_edit(by: Membership, mou: MOU) -> MOU:
    _authorize(by, mou, "edit")
    locked = _locked(mou)
    refusal = ValidationError(
        _("A “%(status)s” MOU can no longer be changed. Draft a new MOU (a renewal) instead."),
        code="not_editable",
        params={"status": locked.get_status_display()},
    )
    _assert_allowed(by, locked, "edit", refusal)
    return locked


def _after_edit(locked: MOU, mou: MOU) -> None:
    """A change to an MOU that is past draft sends it back: review and signatures again."""
    if locked.status != MOUStatus.DRAFT:
        _move(locked, MOUStatus.DRAFT)
    else:
        locked.save(update_fields=["updated_at"])  # the list shows recently changed first
    mou.status = locked.status
    mou.updated_at = locked.updated_at


@transaction.atomic
def mou_section_update(
    *, by: Membership, mou: MOU, section: str, text: str, based_on: int
) -> MOUVersion | None:
    """Save one section as a new version; None when nothing changed.

    `based_on` is the version number the editor started from. If this section was
    changed by someone else since, raise MOUEditConflict (their text wins until the
    editor merges): never a silent overwrite. Other sections' newer text is kept.
    """
    if section not in SECTION_KEYS:
        raise ValidationError({"text": [_("There is no such section.")]})
    locked = _before_edit(by, mou)
    latest = current_version(locked)
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_SECTION_CHARS:
        raise ValidationError({"text": [_("Keep each section under 20,000 characters.")]})
    base = _version_numbered(mou, latest, based_on)
    if base is None or base.sections.get(section, "") != latest.sections.get(section, ""):
        raise MOUEditConflict(latest)
    if latest.sections.get(section, "") == text:
        return None
    version = _new_version(
        locked, by=by, sections={**latest.sections, section: text}, terms=latest.terms, after=latest
    )
    _after_edit(locked, mou)
    return version


@transaction.atomic
def mou_terms_update(
    *,
    by: Membership,
    mou: MOU,
    based_on: int,
    title: str,
    schools: Iterable[School],
    services: Iterable[str],
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    response_days: int,
    shared_fields: Iterable[str],
) -> MOUVersion | None:
    """Change the structured terms (a new version); None when nothing changed.

    Refused with MOUEditConflict when the terms changed since version `based_on`.
    """
    locked = _before_edit(by, mou)
    schools, services, shared_fields = list(schools), list(services), list(shared_fields)
    _check_terms(
        district=locked.district,
        partner=None,
        schools=schools,
        services=services,
        start_date=start_date,
        end_date=end_date,
        shared_fields=shared_fields,
    )
    latest = current_version(locked)
    base = _version_numbered(mou, latest, based_on)
    if base is None or base.terms != latest.terms:
        raise MOUEditConflict(latest)
    locked.title = title.strip()
    locked.services = services
    locked.start_date = start_date
    locked.end_date = end_date
    locked.response_days = response_days
    locked.shared_fields = shared_fields
    terms = terms_of(locked, schools)
    if terms == latest.terms:
        return None
    locked.save(
        update_fields=[
            "title",
            "services",
            "start_date",
            "end_date",
            "response_days",
            "shared_fields",
            "updated_at",
        ]
    )
    _set_schools(locked, schools)
    version = _new_version(locked, by=by, sections=latest.sections, terms=terms, after=latest)
    _after_edit(locked, mou)
    for name in ("title", "services", "start_date", "end_date", "response_days", "shared_fields"):
        setattr(mou, name, getattr(locked, name))
    return version
