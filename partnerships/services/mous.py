"""MOUs: templates, drafting, versions, the review and signing workflow, goals.

An MOU's text lives in numbered versions (MOUVersion): every saved change makes a new
one carrying all sections and the terms as they stood. Sections keep their placeholders
({district}, {partner}, {end_date}...) and are filled from the version's own terms when
shown, so the text always agrees with the terms it was saved with; a missing value shows
visibly ("[end date]").

Workflow (MOU_TRANSITIONS): draft -> internal review (a coordinator submits) -> sent to
the partner (an administrator approves; the partner's leadership and intake contacts get
a signed link) or back to draft with comments -> the partner comments (back to draft) or
signs -> the district signs (an administrator) -> active -> expiring -> expired, or
terminated early with a reason. Every status change goes through `_move`, which refuses
anything MOU_TRANSITIONS does not allow.

Signatures are on an exact version; the first one locks it (locked_at). A change after
that makes a new version and sends the MOU back to draft: review and signatures again.

Rule violations raise ValidationError (keyed by form field where one applies); acting
without the capability raises PermissionDenied.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from core.signed import payload_id, payload_int
from partnerships.models import (
    MOU,
    MOU_SECTIONS,
    ContactRole,
    Goal,
    GoalProgress,
    MOUComment,
    MOUSignature,
    MOUStatus,
    MOUTemplate,
    MOUVersion,
    Partner,
)
from partnerships.services.unsubscribe import mailable, unsubscribe_url
from schools.capabilities import can
from schools.models import Membership, Role, School
from schools.services.email import email_queue
from schools.tenancy import district_locale, outside, require_same_district

SECTION_KEYS = [key for key, _label in MOU_SECTIONS]
SECTION_LABELS = dict(MOU_SECTIONS)

# Student record fields a partner may be allowed to receive (FERPA: name each one; HIPAA:
# the minimum necessary). Codes are stored on MOU.shared_fields.
SHARED_FIELDS: list[tuple[str, str]] = [
    ("name", _("Student's name")),
    ("date_of_birth", _("Date of birth")),
    ("grade", _("Grade")),
    ("school", _("School")),
    ("guardian_contact", _("Parent or guardian contact details")),
    ("referral_reason", _("Reason for referral")),
    ("screening_results", _("Screening results")),
]
SHARED_FIELD_LABELS = dict(SHARED_FIELDS)

# What an MOU may still be changed in; a change outside draft sends it back to draft.
EDITABLE_STATUSES = frozenset(
    {MOUStatus.DRAFT, MOUStatus.INTERNAL_REVIEW, MOUStatus.SENT, MOUStatus.PARTNER_SIGNED}
)
# Statuses a partner organisation sees its MOUs in (drafts stay inside the district).
PARTNER_VISIBLE_STATUSES = frozenset(
    {
        MOUStatus.SENT,
        MOUStatus.PARTNER_SIGNED,
        MOUStatus.ACTIVE,
        MOUStatus.EXPIRING,
        MOUStatus.EXPIRED,
        MOUStatus.TERMINATED,
    }
)

MAX_SECTION_CHARS = 20_000
MOU_LINK_SALT = "trellis.partnerships.mou-review"
MOU_LINK_VALID_FOR = datetime.timedelta(days=30)


# --- The shipped template --------------------------------------------------------------------

DEFAULT_TEMPLATE_NAME = _("Trellis standard school mental health MOU")

DEFAULT_SECTIONS: dict[str, str] = {
    "purpose": _(
        "This Memorandum of Understanding (MOU) is made between {district} (“the District”) "
        "and {partner} (“the Partner”).\n\n"
        "Its purpose is to give students of {schools} timely access to mental health and "
        "wellbeing support, delivered by the Partner in close coordination with school staff. "
        "Together the parties aim to:\n"
        "- promote the mental health and wellbeing of every student (Tier 1, promotion);\n"
        "- identify students who need support early and respond quickly (Tier 2, early "
        "intervention);\n"
        "- provide or connect students to treatment when they need it (Tier 3, treatment);\n"
        "- keep families informed and involved at every step.\n\n"
        "This MOU describes what each party will do. It does not create a partnership, "
        "joint venture or employment relationship between the parties."
    ),
    "services": _(
        "The Partner will provide the following services: {services}.\n\n"
        "Tiers served: the Partner will say for each service whether it supports promotion "
        "(Tier 1), early intervention (Tier 2) or treatment (Tier 3).\n\n"
        "Schools and locations: {schools}. Services are delivered on site in a private room "
        "the school provides, by telehealth, or at the Partner's location, as agreed with "
        "each school.\n\n"
        "Schedule: [days and hours at each school]. Services follow the school calendar; "
        "the Partner will tell the school in advance of any absence and arrange cover where "
        "it can."
    ),
    "school_duties": _(
        "{district} will:\n"
        "- provide a private, accessible space at each school for confidential sessions, "
        "with access to a telephone and the internet;\n"
        "- give Partner staff access to school buildings during agreed hours, under the "
        "school's visitor and safety procedures;\n"
        "- name a contact person at each school and at the district office;\n"
        "- follow the referral procedure in this MOU and share only the information it "
        "allows;\n"
        "- invite Partner staff to the school's student support or wellness team meetings;\n"
        "- help the Partner reach families, including translation where needed;\n"
        "- tell the Partner promptly of any change that affects the services (school "
        "calendar, closures, safety concerns)."
    ),
    "partner_duties": _(
        "{partner} will:\n"
        "- assign licensed or certified staff, or trainees under the clinical supervision "
        "of licensed staff, and keep their licences current;\n"
        "- complete criminal background checks and any clearances state law requires "
        "before any staff member works with students, and share confirmation with the "
        "District;\n"
        "- take part in the school's student support team and coordinate with school "
        "counselors, psychologists and nurses;\n"
        "- obtain the releases of information and consents needed before any exchange of "
        "student information;\n"
        "- bill Medicaid, private insurance or other payers for eligible services, and "
        "never bill families or the District for services this MOU says are free;\n"
        "- follow school rules, policies and procedures while on school premises;\n"
        "- keep professional records as the law and its licensing body require."
    ),
    "referral": _(
        "Entry: school staff refer a student through Trellis after the family (or the "
        "student, where the law allows) has consented to the referral. In an emergency the "
        "crisis protocol applies instead.\n\n"
        "Response time: {partner} will respond to every referral within {response_days} "
        "business days of receiving it, by accepting it and contacting the family, or by "
        "declining it with a reason so that the school can refer elsewhere.\n\n"
        "During service: the Partner records in Trellis when services start and tells the "
        "school contact of missed appointments or changes that affect the student at "
        "school, within what the family has agreed to share.\n\n"
        "Exit: when services end, the Partner records the outcome in Trellis (completed, "
        "referred on, family withdrew, no contact), and agrees a transition plan with the "
        "school and family where continuing support is needed."
    ),
    "crisis": _(
        "When a student is at imminent risk of harm to themselves or others, the student "
        "is never left alone. Partner staff follow the school's crisis protocol: they "
        "alert the school's crisis responder and the principal at once, and call 911 or the "
        "988 Suicide & Crisis Lifeline when the situation requires it.\n\n"
        "The school contacts the parent or guardian unless doing so would put the student "
        "at greater risk. Partner staff record the event in Trellis the same day and take "
        "part in the school's follow-up and re-entry planning.\n\n"
        "Partner staff are trained in the crisis protocol before working with students, "
        "and again each school year."
    ),
    "confidentiality": _(
        "Student education records are protected by the Family Educational Rights and "
        "Privacy Act (FERPA, 34 CFR Part 99). Health information the Partner holds as a "
        "health care provider is protected by HIPAA; substance use treatment records by "
        "42 CFR Part 2, and are never re-disclosed.\n\n"
        "Fields shared: with a signed and dated consent that names the records, the "
        "purpose and the Partner, the District may share only these fields: "
        "{shared_fields}. No other student information is shared. Each disclosure is "
        "recorded in the District's disclosure log.\n\n"
        "Releases: the Partner obtains its own release of information, signed by the "
        "parent or guardian (or the student where the law allows), before sharing "
        "anything back with the school, and shares only what the release allows.\n\n"
        "Minors' consent: students aged {self_consent_age} or older may consent to "
        "outpatient mental health services themselves where state law allows; the Partner "
        "records who consented and under which rule, and involves families whenever it "
        "is safe and appropriate.\n\n"
        "Both parties keep student information secure, limit access to staff who need it, "
        "and report any breach to the other party within 24 hours of learning of it."
    ),
    "insurance": _(
        "{partner} will hold, for the term of this MOU, general liability insurance and "
        "professional liability (malpractice) insurance of at least [amount] per "
        "occurrence, and workers' compensation as required by law, and will give the "
        "District certificates of insurance before services start.\n\n"
        "Each party is responsible for the acts and omissions of its own employees and "
        "agents, and will indemnify the other against claims arising from its own "
        "negligence, to the extent the law allows."
    ),
    "costs": _(
        "Services are paid for as follows: through Medicaid, private insurance or a "
        "sliding fee scale for eligible students, billed by {partner}; services for "
        "students without coverage are [free of charge / funded by the District / funded "
        "by a grant].\n\n"
        "District funds: [amount and what it pays for, or “none”]. The District provides "
        "space and access in kind.\n\n"
        "No family is refused a service covered by this MOU because they cannot pay."
    ),
    "evaluation": _(
        "The parties will measure whether the partnership works, with the goals recorded "
        "in Trellis for this MOU (what, target, unit and period).\n\n"
        "Documentation and reporting: the Partner records referral responses, services "
        "started and outcomes in Trellis as they happen, and reports aggregate figures "
        "each [month / quarter]. Figures shared beyond the care team never identify a "
        "student. Records are kept for as long as the law and the District's retention "
        "schedule require.\n\n"
        "The parties meet at least each [term / quarter] to review the figures, the "
        "goals and any concerns."
    ),
    "term": _(
        "Term: this MOU runs from {start_date} to {end_date}.\n\n"
        "Renewal: the parties will decide on renewal at least 60 days before the end date. "
        "A renewal is a new signed version of this MOU.\n\n"
        "Changes: any change to this MOU is made in writing and signed by both parties.\n\n"
        "Termination: either party may end this MOU with 30 days' written notice, or at "
        "once for a breach of confidentiality or a risk to student safety. On termination "
        "the Partner helps each student it serves move to other support, and returns or "
        "destroys District information as the law requires.\n\n"
        "Attachments: [list any attachments, such as the school schedule or the fee "
        "scale]."
    ),
    "signatures": _(
        "By signing, the authorised representatives of {district} and {partner} agree to "
        "this MOU. Each signature is recorded with the signer's name, title, the date and "
        "time, and the exact version signed; a change after signing needs new signatures."
    ),
}


def default_template_sections() -> dict[str, str]:
    """The shipped template's sections, in the active language."""
    return {key: str(DEFAULT_SECTIONS.get(key, "")) for key in SECTION_KEYS}


# --- Placeholders ---------------------------------------------------------------------------

# Placeholder -> what shows when its value is missing ("[end date]").
PLACEHOLDERS: dict[str, str] = {
    "district": _("district"),
    "partner": _("partner"),
    "title": _("title"),
    "schools": _("schools"),
    "services": _("services"),
    "start_date": _("start date"),
    "end_date": _("end date"),
    "response_days": _("response time in business days"),
    "shared_fields": _("data fields shared"),
    "self_consent_age": _("self-consent age"),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, values: dict) -> str:
    """Replace {name} with its value; a missing value shows as "[label]".

    Braces around unknown words are left alone (they may be the author's own text).
    """

    def replace(match):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name)
        if value in (None, "", [], ()):
            return f"[{PLACEHOLDERS[name]}]"
        return str(value)

    return _PLACEHOLDER.sub(replace, text)


def service_labels(district) -> dict[str, str]:
    """Category code -> name: the shipped taxonomy plus the district's own categories."""
    from partnerships.selectors import service_categories

    return dict(service_categories(district))


def _date_text(value: str | None) -> str:
    if not value:
        return ""
    try:
        return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
    except ValueError:
        return ""


def placeholder_values(terms: dict, labels: dict[str, str]) -> dict:
    """The placeholder values of a version's terms, as people read them."""
    return {
        "district": terms.get("district", ""),
        "partner": terms.get("partner", ""),
        "title": terms.get("title", ""),
        "schools": ", ".join(s["name"] for s in terms.get("schools", [])),
        "services": ", ".join(labels.get(c, c) for c in terms.get("services", [])),
        "start_date": _date_text(terms.get("start_date")),
        "end_date": _date_text(terms.get("end_date")),
        "response_days": terms.get("response_days") or "",
        "shared_fields": ", ".join(
            str(SHARED_FIELD_LABELS.get(c, c)) for c in terms.get("shared_fields", [])
        ),
        "self_consent_age": terms.get("self_consent_age") or "",
    }


@dataclass(frozen=True)
class RenderedSection:
    key: str
    heading: str
    text: str  # placeholders filled
    raw: str  # as stored
    number: int = 0  # 1-based position, for "3. Partner responsibilities"


def version_sections(version: MOUVersion, labels: dict[str, str]) -> list[RenderedSection]:
    """A version's sections in MOU_SECTIONS order, placeholders filled from its own terms.

    The PDF and every page show this; `labels` comes from `service_labels(district)`.
    """
    values = placeholder_values(version.terms, labels)
    return [
        RenderedSection(
            key,
            str(heading),
            fill_placeholders(version.sections.get(key, ""), values),
            version.sections.get(key, ""),
            number,
        )
        for number, (key, heading) in enumerate(MOU_SECTIONS, start=1)
    ]


TERM_LABELS: list[tuple[str, str]] = [
    ("title", _("Title")),
    ("partner", _("Partner")),
    ("schools", _("Schools")),
    ("services", _("Services")),
    ("start_date", _("Start date")),
    ("end_date", _("End date")),
    ("response_days", _("Referral response time (business days)")),
    ("shared_fields", _("Data fields shared")),
]

_TOKENS = re.compile(r"\s+|\S+")


def text_diff(old: str, new: str) -> tuple[list, list]:
    """Word-level differences: (old side, new side), each a list of (kind, text) where kind
    is "same", "del" (only on the old side) or "ins" (only on the new side).

    Spaces and line breaks are tokens too, so each side reads back exactly as written.
    """
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(("same", "".join(a[i1:i2])))
            right.append(("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(b[j1:j2])))
    return left, right


# --- Helpers --------------------------------------------------------------------------------


class MOUTransitionRefused(ValidationError):
    """A status change MOU_TRANSITIONS does not allow, or not allowed to this person now."""


class MOUAlreadySigned(MOUTransitionRefused):
    """The partner's link was used to sign a version the partner has signed already."""


class MOUEditConflict(Exception):
    """Someone saved the same part of the MOU after the version the editor started from."""

    def __init__(self, current: MOUVersion):
        super().__init__(f"MOU {current.mou_id} changed: now version {current.number}")
        self.current = current


def _check(by: Membership | None, mou: MOU, capability: str) -> None:
    require_same_district(by, mou)
    if not can(by, capability):
        raise PermissionDenied


def _is_own_partner(by: Membership | None, mou: MOU) -> bool:
    return by is not None and by.role == Role.PARTNER and by.partner_id == mou.partner_id


def _locked(mou: MOU) -> MOU:
    """The MOU row, locked until the transaction ends: transitions and saves take turns."""
    return MOU.objects.select_for_update().get(district_id=mou.district_id, pk=mou.pk)


def current_version(mou: MOU) -> MOUVersion:
    """The MOU's latest version; an unsaved, empty "version 0" if it has none (an MOU made
    outside these services), so that pages and the first save still work."""
    latest = (
        MOUVersion.objects.filter(district_id=mou.district_id, mou_id=mou.pk)
        .order_by("-number")
        .first()
    )
    if latest is None:
        latest = MOUVersion(district_id=mou.district_id, mou=mou, number=0, sections={}, terms={})
    return latest


def _version_numbered(mou: MOU, latest: MOUVersion, number) -> MOUVersion | None:
    if number == latest.number:
        return latest
    return MOUVersion.objects.filter(
        district_id=mou.district_id, mou_id=mou.pk, number=number
    ).first()


_TRANSITION_REFUSED = _("A “%(from)s” MOU cannot become “%(to)s”.")


def _move(mou: MOU, to: str, **fields) -> None:
    """Change the (locked) MOU's status if MOU_TRANSITIONS allows it; refuse otherwise."""
    if to not in MOUStatus.values or not mou.can_transition_to(to):
        to_label = MOUStatus(to).label if to in MOUStatus.values else to
        raise MOUTransitionRefused(
            _TRANSITION_REFUSED,
            code="transition",
            params={"from": mou.get_status_display(), "to": to_label},
        )
    mou.status = to
    for name, value in fields.items():
        setattr(mou, name, value)
    mou.save(update_fields=["status", "updated_at", *fields])


def terms_of(mou: MOU, schools: Iterable[School]) -> dict:
    """The structured terms as they stand, to be kept with a version."""
    return {
        "title": mou.title,
        "district": mou.district.name,
        "partner": mou.partner.name,
        "schools": [{"id": s.pk, "name": s.name} for s in sorted(schools, key=lambda s: s.name)],
        "services": list(mou.services),
        "start_date": mou.start_date.isoformat() if mou.start_date else None,
        "end_date": mou.end_date.isoformat() if mou.end_date else None,
        "response_days": mou.response_days,
        "shared_fields": list(mou.shared_fields),
        "self_consent_age": mou.district.student_self_consent_age,
    }


def _new_version(mou: MOU, *, by, sections: dict, terms: dict, after: MOUVersion | None):
    return MOUVersion.objects.create(
        district_id=mou.district_id,
        mou=mou,
        number=(after.number + 1) if after is not None else 1,
        sections=sections,
        terms=terms,
        created_by=by,
    )


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
) -> MOU:
    """Draft an MOU from a template (None: the shipped one): the MOU and its version 1.

    The response time defaults to the district's (District.referral_response_days).
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
    if template is None:
        with translation.override(district.default_language):
            sections = default_template_sections()
    else:
        sections = {key: template.sections.get(key, "") for key in SECTION_KEYS}
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
    )
    _set_schools(mou, schools)
    _new_version(mou, by=by, sections=sections, terms=terms_of(mou, schools), after=None)
    return mou


def _before_edit(by: Membership, mou: MOU) -> MOU:
    _check(by, mou, "mous.manage")
    locked = _locked(mou)
    if locked.status not in EDITABLE_STATUSES:
        raise ValidationError(
            _("A “%(status)s” MOU can no longer be changed. Draft a new MOU (a renewal) instead."),
            code="not_editable",
            params={"status": locked.get_status_display()},
        )
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


TERM_FIELDS = (
    "title",
    "schools",
    "services",
    "start_date",
    "end_date",
    "response_days",
    "shared_fields",
)


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


# --- Workflow -------------------------------------------------------------------------------


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


@transaction.atomic
def mou_submit(*, by: Membership, mou: MOU, base_url: str = "") -> MOU:
    """A coordinator sends the draft for internal review; administrators are told."""
    _check(by, mou, "mous.manage")
    locked = _locked(mou)
    _move(locked, MOUStatus.INTERNAL_REVIEW)
    mou.status = locked.status
    _notify_staff(locked, kind="review", roles=(Role.ADMIN,), base_url=base_url, exclude=by)
    return mou


@transaction.atomic
def mou_approve(*, by: Membership, mou: MOU, base_url: str) -> MOU:
    """An administrator approves the draft: it is sent to the partner for review and signing.

    The partner's leadership and intake contacts get a signed link; the partner's
    Trellis members find it in their MOU list (and get an email pointing there).
    """
    _check(by, mou, "mous.approve")
    locked = _locked(mou)
    _move(locked, MOUStatus.SENT)
    mou.status = locked.status
    _send_to_partner(locked, base_url=base_url)
    return mou


@transaction.atomic
def mou_return(*, by: Membership, mou: MOU, comment: str) -> MOU:
    """An administrator returns the draft from internal review with what to change."""
    _check(by, mou, "mous.approve")
    comment = _require_text(comment, "comment", _("Say what needs to change."))
    locked = _locked(mou)
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
    _check(by, mou, "mous.manage")
    locked = _locked(mou)
    if locked.status not in (MOUStatus.SENT, MOUStatus.PARTNER_SIGNED):
        raise MOUTransitionRefused(
            _("Only an MOU that is with the partner can be taken back."), code="transition"
        )
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


def _check_partner_reviewer(by: Membership | None, mou: MOU) -> None:
    """Through the link (by=None, the token was verified) or a member of the partner."""
    if by is None:
        return
    if not (_is_own_partner(by, mou) and can(by, "mous.sign")):
        raise PermissionDenied


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


@transaction.atomic
def mou_partner_comment(
    *,
    by: Membership | None,
    mou: MOU,
    version_number,
    author_name: str,
    comment: str,
    base_url: str = "",
) -> MOUComment:
    """The partner asks for changes: the comment is kept and the MOU goes back to draft.

    `by` is the partner's membership, or None through the signed link (the view has
    verified it). The comment is on the version the partner read.
    """
    _check_partner_reviewer(by, mou)
    comment = _require_text(comment, "comment", _("Write what you would like to change."))
    author = _require_text(author_name, "name", _("Enter your name."))
    locked = _locked(mou)
    if locked.status != MOUStatus.SENT:
        raise MOUTransitionRefused(
            _("This MOU is not waiting for the partner's review."), code="transition"
        )
    version = _check_version(locked, version_number)
    _move(locked, MOUStatus.DRAFT)
    mou.status = locked.status
    note = _comment(locked, version, by=by, author=author, body=comment)
    _notify_staff(locked, kind="commented", roles=(), base_url=base_url, note=comment)
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
    base_url: str = "",
) -> MOUSignature:
    """Sign the current version, exactly as the signer read it (`version_number`).

    The partner signs first (status sent: a member of the partner organisation, or
    anyone holding the signed link, by=None); then a district administrator (status
    partner-signed), which makes the MOU active. The first signature locks the version.
    """
    name = _require_text(name, "name", _("Enter your full name."))
    title = _require_text(title, "title", _("Enter your title or role."))
    locked = _locked(mou)
    if by is None and locked.status != MOUStatus.SENT:
        _refuse_link_signature(locked, version_number)
    if locked.status == MOUStatus.SENT:
        _check_partner_reviewer(by, locked)
        party, to = MOUSignature.Party.PARTNER, MOUStatus.PARTNER_SIGNED
    elif locked.status == MOUStatus.PARTNER_SIGNED:
        _check(by, locked, "mous.sign")
        if by.role == Role.PARTNER:
            raise MOUTransitionRefused(
                _("The partner has signed; the district signs next."), code="transition"
            )
        party, to = MOUSignature.Party.DISTRICT, MOUStatus.ACTIVE
    else:
        raise MOUTransitionRefused(
            _("A “%(status)s” MOU cannot be signed."),
            code="transition",
            params={"status": locked.get_status_display()},
        )
    version = _check_version(locked, version_number)
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
        _notify_staff(locked, kind="signed", roles=(Role.ADMIN,), base_url=base_url)
    return signature


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
    _check(by, mou, "mous.approve")
    reason = _require_text(reason, "reason", _("Give the reason for ending the MOU early."))
    locked = _locked(mou)
    _move(locked, MOUStatus.TERMINATED, terminated_reason=reason, terminated_at=timezone.now())
    mou.status, mou.terminated_reason = locked.status, locked.terminated_reason
    mou.terminated_at = locked.terminated_at
    return mou


@transaction.atomic
def mou_mark_expiring(mou: MOU) -> MOU:
    """Trellis itself (the renewal sweep): an active MOU is within 60 days of its end."""
    locked = _locked(mou)
    _move(locked, MOUStatus.EXPIRING)
    mou.status = locked.status
    return mou


@transaction.atomic
def mou_mark_expired(mou: MOU) -> MOU:
    """Trellis itself (the sweep): the end date has passed."""
    locked = _locked(mou)
    _move(locked, MOUStatus.EXPIRED)
    mou.status = locked.status
    return mou


@transaction.atomic
def mou_mark_active_again(mou: MOU) -> MOU:
    """Trellis itself: an expiring MOU whose end date moved more than 60 days away."""
    locked = _locked(mou)
    _move(locked, MOUStatus.ACTIVE)
    mou.status = locked.status
    return mou


def mou_transition(
    *, by: Membership | None, mou: MOU, to: str, comment: str = "", base_url: str = ""
) -> MOU:
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
        return mou_submit(by=by, mou=mou, base_url=base_url)
    if to == MOUStatus.SENT:
        return mou_approve(by=by, mou=mou, base_url=base_url)
    if to == MOUStatus.DRAFT and current == MOUStatus.INTERNAL_REVIEW:
        return mou_return(by=by, mou=mou, comment=comment)
    if to == MOUStatus.DRAFT and current == MOUStatus.SENT and _is_own_partner(by, mou):
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


# --- The partner's link ---------------------------------------------------------------------


@dataclass(frozen=True)
class MOULinkClaim:
    district_id: int
    mou_id: int
    version_number: int


class MOULinkExpired(Exception):
    def __init__(self, district_id: int | None):
        super().__init__("expired MOU link")
        self.district_id = district_id


def mou_link_token(mou: MOU, version: MOUVersion) -> str:
    """The signed part of the partner's link: district, MOU and the version sent."""
    return signing.dumps(
        {"d": mou.district_id, "m": mou.pk, "v": version.number}, salt=MOU_LINK_SALT
    )


def mou_link(mou: MOU, version: MOUVersion, *, base_url: str) -> str:
    path = reverse("mou_review_link", args=[mou_link_token(mou, version)])
    return base_url.rstrip("/") + path


def _claim(data) -> MOULinkClaim:
    """Checked before use (core.signed): a bad payload is a bad link; raises ValueError."""
    return MOULinkClaim(
        payload_id(data, "d"), payload_id(data, "m"), payload_int(data, "v", minimum=1)
    )


def mou_link_claim_read(token: str) -> MOULinkClaim | None:
    """What a link claims if its signature holds and it is fresh; None if tampered.

    Raises MOULinkExpired (with the district, so the page can say whom to ask) when the
    signature holds but the link is older than MOU_LINK_VALID_FOR.
    """
    try:
        return _claim(
            signing.loads(token, salt=MOU_LINK_SALT, max_age=MOU_LINK_VALID_FOR.total_seconds())
        )
    except signing.SignatureExpired:
        try:
            district_id = _claim(signing.loads(token, salt=MOU_LINK_SALT)).district_id
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            return None  # expired or not, a malformed payload is not a valid link
        raise MOULinkExpired(district_id) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def mou_for_claim(claim: MOULinkClaim) -> MOU | None:
    """The MOU a verified claim names; call inside tenant_context(claim.district_id)."""
    return (
        MOU.objects.select_related("district", "partner")
        .filter(district_id=claim.district_id, pk=claim.mou_id)
        .first()
    )


# --- Email ----------------------------------------------------------------------------------


def _render_email(name: str, context: dict, district):
    with district_locale(district):
        subject = render_to_string(f"partnerships/email/{name}-subject.txt", context)
        body_text = render_to_string(f"partnerships/email/{name}-body.txt", context)
        body_html = render_to_string(f"partnerships/email/{name}-body.html", context)
    return {"subject": subject, "body_text": body_text, "body_html": body_html}


def _send(to: list[str], name: str, context: dict, district) -> None:
    if not to:
        return
    email_queue(
        to=to,
        from_email=settings.DEFAULT_FROM_EMAIL,
        unsubscribe_url=context.get("unsubscribe_url", ""),  # mail to a contact (RFC 8058)
        **_render_email(name, context, district),
    )


def _mou_page_url(mou: MOU, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("mou_detail", args=[mou.district.slug, mou.pk])


def _send_to_partner(mou: MOU, *, base_url: str) -> list[str]:
    """Email the partner's leadership and intake contacts a signed link to the version sent,
    and the partner's Trellis members a link into Trellis. Returns the addresses mailed."""
    from partnerships.models import Contact

    version = current_version(mou)
    if version.pk is not None and version.sent_at is None:
        # From now on the partner may read this version (see partner_may_read_version).
        version.sent_at = timezone.now()
        version.save(update_fields=["sent_at", "updated_at"])
    context = {
        "district_name": mou.district.name,
        "partner_name": mou.partner.name,
        "title": mou.title,
        "version": version.number,
        "valid_days": MOU_LINK_VALID_FOR.days,
    }
    contacts = mailable(
        Contact.objects.filter(district_id=mou.district_id, partner_id=mou.partner_id)
        .filter(roles__overlap=[ContactRole.LEADERSHIP, ContactRole.INTAKE])
        .order_by("pk")
    )
    mailed: list[str] = []
    link = mou_link(mou, version, base_url=base_url)
    for contact in contacts:
        email = contact.email.lower()
        if email in mailed:
            continue
        unsubscribe = unsubscribe_url(contact, base_url)
        _send(
            [email],
            "mou-sent",
            {**context, "link": link, "by_link": True, "unsubscribe_url": unsubscribe},
            mou.district,
        )
        mailed.append(email)
    members = Membership.objects.filter(
        district_id=mou.district_id, partner_id=mou.partner_id, role=Role.PARTNER, active=True
    ).select_related("user")
    page = _mou_page_url(mou, base_url)
    for email in dict.fromkeys(m.user.email.lower() for m in members):
        if email not in mailed:
            _send([email], "mou-sent", {**context, "link": page, "by_link": False}, mou.district)
            mailed.append(email)
    return mailed


@transaction.atomic
def mou_link_resend(*, by: Membership, mou: MOU, base_url: str) -> list[str]:
    """Send the partner's review link again (a contact lost it, or it expired)."""
    _check(by, mou, "mous.manage")
    locked = _locked(mou)
    if locked.status != MOUStatus.SENT:
        raise ValidationError(_("Only an MOU waiting for the partner can be sent again."))
    return _send_to_partner(locked, base_url=base_url)


def _notify_staff(
    mou: MOU, *, kind: str, roles, base_url: str, note: str = "", exclude=None
) -> None:
    """Tell district staff what happened: administrators (roles) and whoever drafted it."""
    if not base_url:
        return
    people = Membership.objects.filter(district_id=mou.district_id, active=True).filter(
        role__in=list(roles)
    )
    emails = {m.user.email.lower() for m in people.select_related("user")}
    if mou.created_by_id:
        creator = (
            Membership.objects.filter(
                district_id=mou.district_id, pk=mou.created_by_id, active=True
            )
            .select_related("user")
            .first()
        )
        if creator is not None:
            emails.add(creator.user.email.lower())
    if exclude is not None:
        emails.discard(exclude.user.email.lower())
    context = {
        "kind": kind,
        "district_name": mou.district.name,
        "partner_name": mou.partner.name,
        "title": mou.title,
        "link": _mou_page_url(mou, base_url),
        "note": note,
    }
    for email in sorted(emails):
        _send([email], "mou-update", context, mou.district)


# --- Goals ----------------------------------------------------------------------------------


@transaction.atomic
def goal_create(
    *, by: Membership, mou: MOU, description: str, target: Decimal, unit: str, period: str
) -> Goal:
    """A measurable goal of the MOU (what, target, unit, period)."""
    _check(by, mou, "mous.manage")
    if target is None or target <= 0:
        raise ValidationError({"target": [_("The target must be more than zero.")]})
    return Goal.objects.create(
        district_id=mou.district_id,
        mou=mou,
        description=description.strip(),
        target=target,
        unit=unit.strip(),
        period=period.strip(),
    )


@transaction.atomic
def goal_progress_add(
    *, by: Membership, goal: Goal, date: datetime.date, value: Decimal, note: str = ""
) -> GoalProgress:
    """Record where a goal stands on a date (the total reached so far, not an increase)."""
    _check(by, goal.mou, "mous.manage")
    if value is None or value < 0:
        raise ValidationError({"value": [_("Enter zero or more.")]})
    return GoalProgress.objects.create(
        district_id=goal.district_id,
        goal=goal,
        date=date,
        value=value,
        note=note.strip(),
        recorded_by=by,
    )
