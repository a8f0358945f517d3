"""The MOU's text and rules: what every MOU page, PDF, service and selector agrees on.

Pure: no queries and no service here, so selectors and services both import it (and a
selector never imports a service).

- The text: the sections (MOU_SECTIONS), the shipped template, placeholders filled from a
  version's own terms (a missing value shows visibly: "[end date]"), the sections as
  people read them (version_sections), and word-level differences between two versions.
- The terms: the student data fields a partner may receive (SHARED_FIELDS), how a
  version's terms are recorded (terms_of) and labelled.
- The workflow: which statuses may still be edited, which a partner sees, which count as
  delivering services or as under way, and what a person may do with an MOU now
  (mou_allowed_actions), computed from MOU_TRANSITIONS, the capabilities and the partner's
  ownership of its MOUs. Views guard with it, templates show its buttons, and every service
  asserts it again on the locked row.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from partnerships.models import MOU, MOU_TRANSITIONS, MOUStatus, MOUVersion
from schools.capabilities import can
from schools.models import Role, School

# Structured sections of an MOU, in order (RULES.md, "MOU contents").
MOU_SECTIONS: list[tuple[str, str]] = [
    ("purpose", _("Purpose and objectives")),
    ("services", _("Services, schedule and location")),
    ("school_duties", _("School responsibilities")),
    ("partner_duties", _("Partner responsibilities")),
    ("referral", _("Referral procedure and response time")),
    ("crisis", _("Crisis protocol")),
    ("confidentiality", _("Confidentiality and data sharing")),
    ("insurance", _("Insurance and liability")),
    ("costs", _("Costs and funding")),
    ("evaluation", _("Evaluation and measurable goals")),
    ("term", _("Term, renewal and termination")),
    ("signatures", _("Signatures")),
]
SECTION_KEYS = [key for key, _label in MOU_SECTIONS]
SECTION_LABELS = dict(MOU_SECTIONS)
MAX_SECTION_CHARS = 20_000

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

# --- Status sets ------------------------------------------------------------------------------

# What an MOU may still be changed in; a change outside draft sends it back to draft.
EDITABLE_STATUSES = frozenset(
    {MOUStatus.DRAFT, MOUStatus.INTERNAL_REVIEW, MOUStatus.SENT, MOUStatus.PARTNER_SIGNED}
)
# Statuses a partner organization sees its MOUs in (drafts stay inside the district).
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
# Signed by both parties and not ended: the statuses of an MOU that may be in force. Whether
# it is in force today also needs today within its term: mou_in_force / in_force_q below.
SIGNED_STATUSES = ("active", "expiring")
# The statuses an MOU delivering services is in (kept for the seeds and older callers);
# what counts as delivering services is `in_force_q` / `mou_in_force`, never the status alone.
COVERING_MOU_STATUSES = SIGNED_STATUSES
# The MOUs under way (on their way to being signed, or coming up for renewal): the home
# page's MOU panel counts them.
MOUS_UNDER_WAY = ("internal_review", "sent", "partner_signed", "expiring")


# --- In force: the one rule -------------------------------------------------------------------


def mou_in_force(mou, today: datetime.date) -> bool:
    """Whether `mou` is in force on `today`: signed by both parties and not ended (status
    active or expiring), and `today` within its term (a missing start or end is open).

    The one rule, with `in_force_q` its query form: the coverage map, the referral
    suggestions, the referral loop and the scorecard all ask it."""
    return (
        mou.status in SIGNED_STATUSES
        and (mou.start_date is None or mou.start_date <= today)
        and (mou.end_date is None or today <= mou.end_date)
    )


def in_force_q(today: datetime.date, prefix: str = "") -> Q:
    """`mou_in_force` as a filter: on MOU itself (prefix ""), or through a relation
    (`prefix="mou"` on a model with a foreign key to MOU, `"mous"` on Partner...)."""
    p = f"{prefix}__" if prefix and not prefix.endswith("__") else prefix
    return (
        Q(**{f"{p}status__in": list(SIGNED_STATUSES)})
        & (Q(**{f"{p}start_date__isnull": True}) | Q(**{f"{p}start_date__lte": today}))
        & (Q(**{f"{p}end_date__isnull": True}) | Q(**{f"{p}end_date__gte": today}))
    )


# What a reader is told about where an MOU stands, beyond its status: display states.
STATE_NOT_STARTED = "not_started"  # signed, its term starts later
STATE_CHANGES_REQUESTED = "changes_requested"  # back in the district after the partner saw it


def mou_display_state(mou, today: datetime.date, *, sent_before: bool = False) -> str:
    """The state shown for an MOU: its status, or one of the display states computed from
    status and dates. `sent_before`: a version was sent to the partner (a draft or internal
    review then means the partner asked for changes, or the district took it back)."""
    if mou.status in SIGNED_STATUSES and mou.start_date is not None and today < mou.start_date:
        return STATE_NOT_STARTED
    if sent_before and mou.status in (MOUStatus.DRAFT, MOUStatus.INTERNAL_REVIEW):
        return STATE_CHANGES_REQUESTED
    return mou.status


def mou_state_label(mou, today: datetime.date, *, sent_before: bool = False) -> str:
    """The words for `mou_display_state`: "Signed, starts on <date>", "Changes requested",
    else the status's own label."""
    state = mou_display_state(mou, today, sent_before=sent_before)
    if state == STATE_NOT_STARTED:
        return _("Signed, starts on %(date)s") % {
            "date": formats.date_format(mou.start_date, "DATE_FORMAT")
        }
    if state == STATE_CHANGES_REQUESTED:
        return str(_("Changes requested"))
    return str(MOUStatus(mou.status).label)


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
        "By signing, the authorized representatives of {district} and {partner} agree to "
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


# Bracketed text left in an MOU's text: the shipped template's choices ("[amount]",
# "[month / quarter]") and a placeholder without its value ("[end date]").
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,200})\]")


def bracketed(text: str) -> list[str]:
    """The bracketed texts left in `text` ("amount", "month / quarter"), each once, in order."""
    return list(dict.fromkeys(match.group(1) for match in _BRACKETED.finditer(text)))


def answer_brackets(text: str, answers: dict[str, str]) -> str:
    """`text` with each "[choice]" that `answers` has a value for replaced by that value
    (the author's answers to the template's choices, when drafting)."""

    def replace(match):
        answer = answers.get(match.group(1))
        return match.group(0) if answer in (None, "") else str(answer)

    return _BRACKETED.sub(replace, text)


# Answers to the shipped template's choices for demos and tests (English); any other
# choice is answered with its first option.
_SAMPLE_ANSWERS = {
    "days and hours at each school": "Monday to Thursday, 8 a.m. to 4 p.m., at each school",
    "amount": "$1,000,000",
    "amount and what it pays for, or “none”": "none",
    "list any attachments, such as the school schedule or the fee scale": "none",
}


def sample_answers(language: str) -> dict[str, str]:
    """Answers to every bracketed choice of the shipped template in `language`, for demo
    data and tests (people answer them themselves): `mou_create(answers=...)`."""
    with translation.override(language):
        text = "\n".join(default_template_sections().values())
    return {
        choice: _SAMPLE_ANSWERS.get(choice) or choice.split(" / ")[0] for choice in bracketed(text)
    }


def unfilled_placeholders(sections: Iterable[RenderedSection]) -> list[tuple[str, str]]:
    """Where bracketed text is left in the text as people read it (placeholders filled):
    (section heading, "[the placeholder]"), in reading order, each once per section.

    An MOU with any is not submitted, approved or signed: a signed MOU never says
    "[amount]"."""
    found: list[tuple[str, str]] = []
    for section in sections:
        seen = set()
        for match in _BRACKETED.finditer(section.text):
            text = match.group(0)
            if text not in seen:
                seen.add(text)
                found.append((f"{section.number}. {section.heading}", text))
    return found


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


# --- What a person may do with an MOU now -----------------------------------------------------

# Who takes an action: district staff, or the MOU's own partner (a member of the partner
# organization, or whoever holds the signed link the partner was emailed).
DISTRICT, PARTNER = "district", "partner"


def is_own_partner(membership, mou) -> bool:
    """A member of the MOU's partner organization."""
    return (
        membership is not None
        and membership.role == Role.PARTNER
        and membership.partner_id == mou.partner_id
    )


@dataclass(frozen=True)
class MOUAction:
    """One thing a person does with an MOU.

    `capability`: what the person's role must hold. `statuses`: the MOU statuses it is taken
    from (empty: any). `moves_to`: the statuses it may move the MOU to, each of which
    MOU_TRANSITIONS must allow from the current status. `party`: district staff, or the
    MOU's own partner.
    """

    capability: str
    statuses: frozenset = frozenset()
    moves_to: frozenset = frozenset()
    party: str = DISTRICT

    def permits(self, membership, mou) -> bool:
        """Whether this person may ever take the action on this MOU (whatever its status).

        `membership` None is the holder of the partner's signed link (verified by the
        caller): the partner, with no account.
        """
        if self.party == PARTNER:
            if membership is None:
                return True
            return is_own_partner(membership, mou) and can(membership, self.capability)
        return (
            membership is not None
            and membership.role != Role.PARTNER
            and can(membership, self.capability)
        )

    def applies_to(self, status: str) -> bool:
        """Whether an MOU in `status` may be acted on (MOU_TRANSITIONS has the last word)."""
        if self.statuses and status not in self.statuses:
            return False
        return all(to in MOU_TRANSITIONS.get(status, ()) for to in self.moves_to)


MOU_ACTIONS: dict[str, MOUAction] = {
    # Change the terms or a section; outside draft the change sends it back to draft.
    "edit": MOUAction("mous.manage", EDITABLE_STATUSES),
    "submit": MOUAction(
        "mous.manage", frozenset({MOUStatus.DRAFT}), frozenset({MOUStatus.INTERNAL_REVIEW})
    ),
    "approve": MOUAction(
        "mous.approve", frozenset({MOUStatus.INTERNAL_REVIEW}), frozenset({MOUStatus.SENT})
    ),
    "return": MOUAction(
        "mous.approve", frozenset({MOUStatus.INTERNAL_REVIEW}), frozenset({MOUStatus.DRAFT})
    ),
    # The district takes it back from the partner.
    "withdraw": MOUAction(
        "mous.manage",
        frozenset({MOUStatus.SENT, MOUStatus.PARTNER_SIGNED}),
        frozenset({MOUStatus.DRAFT}),
    ),
    "resend": MOUAction("mous.manage", frozenset({MOUStatus.SENT})),
    # The partner signs, or asks for changes (back to draft).
    "partner_review": MOUAction(
        "mous.sign",
        frozenset({MOUStatus.SENT}),
        frozenset({MOUStatus.PARTNER_SIGNED, MOUStatus.DRAFT}),
        party=PARTNER,
    ),
    "district_sign": MOUAction(
        "mous.sign", frozenset({MOUStatus.PARTNER_SIGNED}), frozenset({MOUStatus.ACTIVE})
    ),
    "terminate": MOUAction(
        "mous.approve",
        frozenset({MOUStatus.ACTIVE, MOUStatus.EXPIRING}),
        frozenset({MOUStatus.TERMINATED}),
    ),
    "goals": MOUAction("mous.manage"),
    # Not a step: the office's view of the MOU (the signers' addresses).
    "manage": MOUAction("mous.manage"),
}


class MOUActions(frozenset):
    """The names of the MOU_ACTIONS a person may take now: `"submit" in actions` in code,
    `{% if actions.submit %}` in templates."""

    def __getattr__(self, name: str) -> bool:
        if name in MOU_ACTIONS:
            return name in self
        raise AttributeError(name)


def mou_allowed_actions(membership, mou) -> MOUActions:
    """What `membership` may do with `mou` now: the one answer views guard with, templates
    show buttons for, and services assert (on the locked row).

    An action needs the capability, the right party (district staff; or the MOU's own
    partner, for whom `membership` None stands when the signed link was verified), and an
    MOU status it is taken from, with every move it makes allowed by MOU_TRANSITIONS.
    """
    return MOUActions(
        name
        for name, action in MOU_ACTIONS.items()
        if action.applies_to(mou.status) and action.permits(membership, mou)
    )
