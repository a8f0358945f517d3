"""Reads of the referrals app: concerns, consents, the disclosure log, emergency overrides.

Each takes the viewer (or the district) and owns its joins, so a list costs the same few
queries at any length. A consent's uploaded form is never loaded by a list (`defer`).
"""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.db.models import Case, DateField, Exists, F, OuterRef, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerships.selectors.partner_filter import with_partner_named
from referrals.models import (
    OPEN_STATUSES,
    SENT_STATUSES,
    ConcernCategory,
    Consent,
    ConsentRevocation,
    Disclosure,
    EmergencyOverride,
    Outcome,
    Referral,
    ReferralStatus,
)
from referrals.rules import CONCERN_TAXONOMY, IDENTIFIABLE_FIELDS, Urgency
from schools.access_log import access_log_record
from schools.capabilities import can, require, roles_holding
from schools.models import AccessLog, Membership, Role
from schools.selectors import in_membership_schools, limited_school_ids

# --- Concerns -------------------------------------------------------------------------------


def concern_categories(district) -> list[tuple[str, str]]:
    """(code, label) of every concern: the shipped taxonomy, then the district's own."""
    shipped = [(code, str(label)) for code, label in CONCERN_TAXONOMY]
    known = {code for code, _label in shipped}
    own = [
        (category.code, category.name)
        for category in ConcernCategory.objects.for_district(district).order_by("name")
        if category.code not in known
    ]
    return shipped + own


def concern_labels(district) -> dict[str, str]:
    return dict(concern_categories(district))


# --- Referrals ------------------------------------------------------------------------------


def referrals_visible_to(membership: Membership):
    """The referrals the membership may see: a partner only those sent to its organization;
    staff those of their schools (every school when not limited). One query, no joins."""
    referrals = Referral.objects.for_district(membership.district_id)
    if not can(membership, "referrals.view"):
        return referrals.none()
    if membership.role == Role.PARTNER:
        # (loop) Every referral sent to it, whatever became of it since (its history).
        return referrals.filter(partner_id=membership.partner_id, status__in=SENT_STATUSES)
    return referrals.filter(in_membership_schools(membership))


def access_referral(membership: Membership, pk: int) -> Referral:
    """A referral the membership may see, with its student, school and partner, or 404."""
    return get_object_or_404(
        referrals_visible_to(membership).select_related(
            "student", "school", "partner", "referred_by__user"
        ),
        pk=pk,
    )


def may_read_confidential_notes(membership: Membership, referral: Referral) -> bool:
    """Only the referring school's care team reads a referral's confidential notes: staff
    who work with students, in that school (or every school). Never a partner."""
    if membership is None or membership.district_id != referral.district_id:
        return False
    if not can(membership, "referrals.create") or membership.role == Role.PARTNER:
        return False
    allowed = limited_school_ids(membership)
    return allowed is None or referral.school_id in allowed


def access_referral_logged(request, pk: int, *, action: str | None = AccessLog.Action.VIEW):
    """access_referral for a page: the access-log row (`action`: view, export or print) is
    written here once the referral is authorized, so no page that shows a referral can
    leave it out; nothing is logged on a 404. `action=None` only where the request shows
    nothing of it (a refused method)."""
    referral = access_referral(request.membership, pk)
    if action is not None:
        access_log_record(
            request=request,
            object_type="referral",
            object_id=referral.pk,
            student=referral.student,
            action=action,
        )
    return referral


def referral_list(
    membership: Membership,
    *,
    view: str = "",
    status: str = "",
    school_id=None,
    partner_id=None,
    partner_name: str = "",
    concern: str = "",
    urgency: str = "",
    overdue: bool = False,
    referred_from: datetime.date | None = None,
    referred_to: datetime.date | None = None,
    sort: str = "",
):
    """The referrals the membership may see, filtered and sorted (LIST_SORTS; newest first
    by default), each with its partner. One query.

    `view`: LIST_CASELOAD narrows staff to their caseload (list_caseload_filter); anything
    else is every referral they may see. `overdue`: sent and past its answer's due date
    (the district's today). Staff rows carry the student and the school. A partner's rows
    never join the student, and carry the school's name (`shown_school`) only where a
    disclosure to that partner included it: for a de-identified consultation the student's
    school is an identifying detail like any other.
    """
    referrals = referrals_visible_to(membership).select_related("partner")
    if membership.role == Role.PARTNER:
        school_disclosed = Exists(
            Disclosure.objects.for_district(membership.district_id).filter(
                referral_id=OuterRef("pk"),
                partner_id=membership.partner_id,
                fields__contains=["school"],
            )
        )
        referrals = referrals.annotate(
            shown_school=Case(When(school_disclosed, then=F("school__name")), default=Value(""))
        )
    else:
        # Not an annotation: the page's count would join the schools for nothing.
        referrals = referrals.select_related("student", "school")
        if view == LIST_CASELOAD:
            referrals = referrals.filter(
                list_caseload_filter(membership.district_id, membership.pk)
            )
    if status:
        referrals = referrals.filter(status=status)
    if school_id:
        referrals = referrals.filter(school_id=school_id)
    if partner_id:
        referrals = referrals.filter(partner_id=partner_id)
    referrals = with_partner_named(referrals, partner_name)
    if concern:
        referrals = referrals.filter(concerns__contains=[concern])
    if urgency:
        referrals = referrals.filter(urgency=urgency)
    if overdue:
        referrals = referrals.filter(
            status=ReferralStatus.SENT, response_due_on__lt=membership.district.today()
        )
    if referred_from:
        referrals = referrals.filter(referred_on__gte=referred_from)
    if referred_to:
        referrals = referrals.filter(referred_on__lte=referred_to)
    return referrals.order_by(*list_ordering(sort))


def student_referrals(membership: Membership, student) -> list[Referral]:
    """The student's referrals the membership may see, newest first, with their partners
    (one query), for the student page."""
    return list(
        referrals_visible_to(membership)
        .filter(student_id=student.pk)
        .select_related("partner")
        .order_by("-referred_on", "-created_at", "-pk")
    )


def referral_disclosures(membership: Membership, referral: Referral) -> list[Disclosure]:
    """The disclosures made by sending this referral, oldest first (one query): every one
    for the care team, a partner only those made to it."""
    disclosures = (
        Disclosure.objects.for_district(membership.district_id)
        .filter(referral_id=referral.pk)
        .select_related("partner", "disclosed_by__user", "consent__revocation", "emergency")
        .defer("consent__form")
        .order_by("disclosed_at", "pk")
    )
    if membership.role == Role.PARTNER:
        return list(disclosures.filter(partner_id=membership.partner_id))
    require(membership, "disclosures.view")
    return list(disclosures)


def partner_visible_fields(referral: Referral, on: datetime.date) -> list[str]:
    """The identifiable field codes (rules.IDENTIFIABLE_FIELDS order) the receiving partner
    may read on `on` (the district's date), by whatever door it comes (signed in, or the
    intake link after its code). Two queries.

    A field is readable when it was disclosed to this partner by sending this referral and
    the disclosure's basis still holds: the consent is not revoked and still valid (a
    health or safety emergency's disclosure stays). Where an MOU is in force with the
    partner, only the fields it lets the partner receive. Nothing once the referral is
    withdrawn or declined, or for a partner it was not sent to.
    """
    from partnerships.models import MOU
    from partnerships.mou_rules import in_force_q

    if referral.partner_id is None or referral.status in (
        ReferralStatus.DRAFT,
        ReferralStatus.WITHDRAWN,
        # Declined: the partner will not serve the student and needs no more of them.
        ReferralStatus.DECLINED,
    ):
        return []
    readable: set[str] = set()
    disclosures = (
        Disclosure.objects.for_district(referral.district_id)
        .filter(referral_id=referral.pk, partner_id=referral.partner_id)
        .select_related("consent__revocation")
        .defer("consent__form")
    )
    for disclosure in disclosures:
        consent = disclosure.consent
        if consent is not None:
            revocation = getattr(consent, "revocation", None)
            if revocation is not None or consent.valid_until < on:
                continue
        readable.update(disclosure.fields)
    if not readable:
        return []
    mou = (
        MOU.objects.for_district(referral.district_id)
        .filter(in_force_q(on), partner_id=referral.partner_id)
        .order_by("-start_date", "-pk")
        .only("shared_fields")
        .first()
    )
    if mou is not None:
        readable &= set(mou.shared_fields or ())
    return [code for code, _label in IDENTIFIABLE_FIELDS if code in readable]


def referral_emergency(membership: Membership, referral: Referral) -> EmergencyOverride | None:
    """The emergency declared for this referral, with who declared it; for the care team
    (a partner never reads the threat as written). One query."""
    if not can(membership, "emergency.declare") or membership.role == Role.PARTNER:
        return None
    return (
        EmergencyOverride.objects.for_district(membership.district_id)
        .filter(referral_id=referral.pk)
        .select_related("declared_by__user")
        .first()
    )


# --- Consents -------------------------------------------------------------------------------


def _day_after(on: datetime.date, district) -> datetime.datetime:
    """The first moment of the day after `on`, on the district's clock."""
    return datetime.datetime.combine(
        on + datetime.timedelta(days=1), datetime.time(0), tzinfo=district.time_zone
    )


def covering_consent(*, student, partner, fields, on: datetime.date) -> Consent | None:
    """The consent that allows disclosing `fields` of the student to the partner on `on`
    (the district's date), or None.

    It must name this student and this partner, be signed on or before `on`, still be valid
    on `on` (valid_until is the last day), name every field, and not be revoked. Verbal
    agreements are notes and never count. The latest signed qualifying consent wins.
    """
    fields = sorted(set(fields))
    if not fields or partner is None:
        return None
    return (
        Consent.objects.for_district(student.district_id)
        .filter(
            student_id=student.pk,
            partner_id=partner.pk,
            fields__contains=fields,
            signed_at__lt=_day_after(on, student.district),
            valid_until__gte=on,
        )
        .exclude(
            Exists(
                ConsentRevocation.objects.for_district(student.district_id).filter(
                    consent_id=OuterRef("pk")
                )
            )
        )
        .defer("form")
        .order_by("-signed_at", "-pk")
        .first()
    )


def consents_of(membership: Membership, student) -> list[Consent]:
    """The student's consents, newest first, with partner, revocation and who recorded them
    (without the forms). Two queries at most however many there are."""
    require(membership, "consent.record")
    return list(
        Consent.objects.for_district(membership.district_id)
        .filter(student_id=student.pk)
        .select_related("partner", "recorded_by__user", "revocation__recorded_by__user")
        .defer("form")
        .order_by("-signed_at", "-pk")
    )


def access_consent(membership: Membership, pk: int, *, with_form: bool = True) -> Consent:
    """One consent of the district, of a student of the member's schools (every school when
    not limited), with its form unless `with_form` is False, for the care team; or 404."""
    require(membership, "consent.record")
    consents = (
        Consent.objects.for_district(membership.district_id)
        .filter(in_membership_schools(membership, "student__school_id"))
        .select_related("student__school", "partner", "revocation__recorded_by__user")
    )
    if not with_form:
        consents = consents.defer("form")
    return get_object_or_404(consents, pk=pk)


def access_consent_logged(
    request, pk: int, *, action: str | None = AccessLog.Action.VIEW, with_form: bool = False
) -> Consent:
    """access_consent for a page or a download: writes the access-log row (`action`) once
    the consent is authorized, so no page or download of a consent can leave it out."""
    consent = access_consent(request.membership, pk, with_form=with_form)
    if action is not None:
        access_log_record(
            request=request,
            object_type="consent",
            object_id=consent.pk,
            student=consent.student,
            action=action,
        )
    return consent


# --- The disclosure log and overrides -------------------------------------------------------


def student_disclosures(membership: Membership, student) -> list[Disclosure]:
    """Every disclosure of the student's records (FERPA 99.32), newest first: who received
    what, when, by whom, and the consent or emergency relied on. One query."""
    require(membership, "disclosures.view")
    return list(
        Disclosure.objects.for_district(membership.district_id)
        .filter(student_id=student.pk)
        .select_related(
            "partner", "disclosed_by__user", "referral", "emergency", "consent__revocation"
        )
        .defer("consent__form")
        .order_by("-disclosed_at", "-pk")
    )


def emergency_overrides(membership: Membership) -> list[EmergencyOverride]:
    """Every emergency override of the district, newest first, for administrators: the
    threat, who declared it, the referral, its student and partner. One query."""
    return list(emergency_override_list(membership))


def emergency_override_list(membership: Membership):
    """emergency_overrides as a queryset, for a page of it (one query a page)."""
    require(membership, "overrides.view")
    return (
        EmergencyOverride.objects.for_district(membership.district_id)
        .select_related(
            "declared_by__user",
            "referral__student",
            "referral__school",
            "referral__partner",
        )
        .order_by("-declared_at", "-pk")
    )


# --- Consent requests -------------------------------------------------------------------------


def consent_requests_for(membership: Membership, referral: Referral) -> list:
    """The electronic consent requests asked for a referral, newest first, with who asked and
    the consent each made (without forms); empty for anyone who may not record consent (a
    partner never sees the family's address). One query however many there are."""
    from referrals.models import ConsentRequest

    if not can(membership, "consent.record") or membership.district_id != referral.district_id:
        return []
    return list(
        ConsentRequest.objects.for_district(membership.district_id)
        .filter(referral_id=referral.pk)
        .select_related("district", "student", "partner", "requested_by__user", "consent")
        .defer("consent__form")
        .order_by("-created_at", "-pk")
    )


# --- Verbal agreements (issue 13, engineer "pages2") ------------------------------------------


def _verbal_agreements(membership: Membership):
    from referrals.models import VerbalAgreement

    if not can(membership, "consent.record") or membership.role == Role.PARTNER:
        return VerbalAgreement.objects.none()
    return (
        VerbalAgreement.objects.for_district(membership.district_id)
        .select_related("partner", "recorded_by__user")
        .order_by("-at", "-pk")
    )


def verbal_agreements_for(membership: Membership, referral: Referral) -> list:
    """The verbal agreements noted on a referral, newest first, with who noted them; for the
    care team only (a family's words are never a partner's to read). One query."""
    if membership.district_id != referral.district_id:
        return []
    return list(_verbal_agreements(membership).filter(referral_id=referral.pk))


def verbal_agreements_of(membership: Membership, student) -> list:
    """The student's verbal agreements, newest first, with partner and who noted them; for
    the care team only. One query."""
    if membership.district_id != student.district_id:
        return []
    return list(_verbal_agreements(membership).filter(student_id=student.pk))


# --- Lists (issue 14, engineer "helperb") -----------------------------------------------------

# The list's views (?view=): every referral the member may see, or their caseload.
LIST_SCHOOL = "school"
LIST_CASELOAD = "caseload"

# ?sort= keys (a leading "-" reverses): the columns a person may sort the list by.
LIST_SORTS = ("referred_on", "status", "partner", "due")
LIST_DEFAULT_SORT = "-referred_on"


def list_sort_choices() -> list[str]:
    """Every valid ?sort= value."""
    return [prefix + key for key in LIST_SORTS for prefix in ("", "-")]


def list_ordering(sort: str) -> tuple:
    """ORDER BY for a ?sort= value (LIST_SORTS; anything else is the default, newest
    first). Ties fall back to newest first, then to the id, so pages never overlap."""
    sort = sort if sort in list_sort_choices() else LIST_DEFAULT_SORT
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key == "referred_on":
        return (
            ("-referred_on", "-created_at", "-pk")
            if descending
            else ("referred_on", "created_at", "pk")
        )
    if key == "status":
        # The loop's order (draft, sent, accepted, ...), not the alphabet's.
        step = Case(
            *(When(status=value, then=Value(n)) for n, value in enumerate(ReferralStatus.values)),
            default=Value(len(ReferralStatus.values)),
        )
        first = step.desc() if descending else step.asc()
    elif key == "partner":
        name = F("partner__name")
        first = name.desc(nulls_last=True) if descending else name.asc(nulls_last=True)
    else:  # due: the answer's due date, which only a referral waiting for it has
        due = Case(
            When(status=ReferralStatus.SENT, then=F("response_due_on")),
            default=None,
            output_field=DateField(),
        )
        first = due.desc(nulls_last=True) if descending else due.asc(nulls_last=True)
    return (first, "-referred_on", "-created_at", "-pk")


def list_caseload_filter(district_id: int, membership_id: int) -> Q:
    """A member's caseload: the referrals they own that still need them. Open ones (a
    draft, or with the partner), and declined ones not yet sent to another partner (a
    declined referral is withdrawn or sent again by its counselor)."""
    # IS NOT NULL lets the planner read the few re-sent rows from the resent_from index
    # instead of the whole table.
    resent = Referral.objects.for_district(district_id).filter(
        resent_from_id__isnull=False, resent_from_id=OuterRef("pk")
    )
    return Q(owner_id=membership_id) & (
        Q(status__in=OPEN_STATUSES) | (Q(status=ReferralStatus.DECLINED) & ~Exists(resent))
    )


def open_caseload(district_id: int, membership_id: int):
    """The referrals a member's caseload holds (list_caseload_filter), whatever their
    schools: what must pass to someone else when they leave. Not filtered for a viewer:
    callers that show rows narrow it to referrals_visible_to their viewer."""
    return Referral.objects.for_district(district_id).filter(
        list_caseload_filter(district_id, membership_id)
    )


def caseload_count(membership: Membership) -> int:
    """How many referrals the member's caseload holds, of those they may see (one query;
    none for a partner, who has no caseload)."""
    if membership.role == Role.PARTNER or not can(membership, "referrals.create"):
        return 0
    return (
        referrals_visible_to(membership)
        .filter(list_caseload_filter(membership.district_id, membership.pk))
        .count()
    )


def open_referrals_by_partner(membership: Membership, student) -> dict[int, Referral]:
    """The student's open referrals (OPEN_STATUSES, a draft included) the member may see,
    by partner: the newest for each (one query). Warns before a second referral of the
    same student to the same partner."""
    if student is None or not can(membership, "referrals.create"):
        return {}
    referrals = (
        referrals_visible_to(membership)
        .filter(student_id=student.pk, status__in=OPEN_STATUSES, partner_id__isnull=False)
        .only("pk", "partner_id", "status", "referred_on")
        .order_by("referred_on", "created_at", "pk")
    )
    return {referral.partner_id: referral for referral in referrals}


EXPORT_HEADER = (
    _("Reference"),
    _("Referred on"),
    _("School"),
    _("Student"),
    _("Partner"),
    _("Concerns"),
    _("Urgency"),
    _("Status"),
    _("Answer due by"),
    _("Accepted"),
    _("First appointment"),
    _("Outcome"),
)


def referral_export_rows(membership: Membership, **filters):
    """The filtered list (referral_list) as CSV rows (EXPORT_HEADER), for staff who may
    export; never the confidential notes. One query, read in chunks."""
    require(membership, "referrals.export")
    district = membership.district
    labels = concern_labels(district)
    urgency = dict(Urgency.choices)
    status = dict(ReferralStatus.choices)
    outcomes = dict(Outcome.choices)
    referrals = (
        referral_list(membership, **filters)
        .only(
            "pk",
            "referred_on",
            "concerns",
            "urgency",
            "status",
            "response_due_on",
            "accepted_at",
            "first_appointment_on",
            "outcome",
            "created_at",
            "school__name",
            "student__first_name",
            "student__last_name",
            "student__preferred_name",
            "partner__name",
        )
        .iterator(chunk_size=2000)
    )
    for referral in referrals:
        accepted = (
            timezone.localtime(referral.accepted_at, timezone=district.time_zone).date()
            if referral.accepted_at
            else None
        )
        yield (
            referral.reference,
            referral.referred_on,
            referral.school.name,
            referral.student.display_name,
            referral.partner.name if referral.partner else "",
            "; ".join(labels.get(code, code) for code in referral.concerns),
            str(urgency.get(referral.urgency, referral.urgency)),
            str(status.get(referral.status, referral.status)),
            referral.response_due_on,
            accepted,
            referral.first_appointment_on,
            str(outcomes.get(referral.outcome, "")) if referral.outcome else "",
        )


def reassign_candidates(viewer: Membership, person: Membership):
    """Who a member's referrals may be given to: the district's active care team (those
    who may refer), by name, but the member themselves (a queryset, for form choices)."""
    return (
        Membership.objects.for_district(viewer.district_id)
        .filter(active=True, role__in=roles_holding("referrals.create"))
        .exclude(pk=person.pk)
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )


def caseload_to_reassign(viewer: Membership, person: Membership, *, limit: int):
    """(rows, visible, total) of a member's open caseload: up to `limit` of the referrals
    the viewer may see, oldest first, with student, school and partner; how many the
    viewer may see; how many there are in all. Three queries."""
    caseload = list_caseload_filter(viewer.district_id, person.pk)
    visible = referrals_visible_to(viewer).filter(caseload)
    rows = list(
        visible.select_related("student", "school", "partner").order_by(
            "referred_on", "created_at", "pk"
        )[:limit]
    )
    return rows, visible.count(), open_caseload(viewer.district_id, person.pk).count()


# The columns a list row shows (the rest, notes included, stay in the database).
LIST_ROW_COLUMNS = (
    "district_id",
    "referred_on",
    "created_at",
    "concerns",
    "urgency",
    "status",
    "response_due_on",
    "sent_at",
    "school_id",
    "student_id",
    "partner_id",
)


def referral_list_page(membership: Membership, *, page=None, per_page: int = 50, **filters):
    """One page of referral_list (a Django Page; its object_list the referrals, in order).

    The page's ids are found first from the referrals alone (and the partner's name when
    sorting by it), then only those rows are read with their student, school and partner:
    a sort no index gives (status, partner, due) reads the narrow rows of every match and
    joins fifty, where one query would join every match first. Three queries (the count,
    the ids, the rows); fewer for an empty page.
    """
    ids = referral_list(membership, **filters).values_list("pk", flat=True)
    found = Paginator(ids, per_page).get_page(page)
    wanted = list(found.object_list)
    columns = [*LIST_ROW_COLUMNS, "partner__name"]
    if membership.role != Role.PARTNER:
        columns += ["student__first_name", "student__last_name", "student__preferred_name"]
        columns += ["school__name"]
    rows = (
        {row.pk: row for row in referral_list(membership).filter(pk__in=wanted).only(*columns)}
        if wanted
        else {}
    )
    found.object_list = [rows[pk] for pk in wanted if pk in rows]
    return found
