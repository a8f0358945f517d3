"""What the referral form suggests: the students a counselor may refer, found as they type,
and the partners that fit a referral best, each with why it fits and what it lacks.

Both are reads for one page and cost a fixed handful of queries at any size: the student
search is one query (prefix matches, district first, LIMIT), the suggestions two (the
district's service categories, then the partners ranked and explained in SQL, LIMIT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext as _

from core.languages import language_name, normalize_code
from core.search import name_words, prefix_range  # noqa: F401 (prefix_range: importable here too)
from partnerships.models import MOU, Intake, Partner, PartnerSchool, Payment, Service
from partnerships.mou_rules import in_force_q
from partnerships.selectors.categories import service_labels
from referrals.services.common import TAKING_REFERRALS
from schools.models import Membership, School, Student
from schools.selectors import student_name_matches, students_visible_to

# --- Students ---------------------------------------------------------------------------------

STUDENT_MATCHES = 10
_MAX_WORDS = 3


def student_matches(membership: Membership, query: str, *, limit: int = STUDENT_MATCHES):
    """Up to `limit` enrolled students the membership may refer whose last, first or preferred
    name or student id starts with each word typed (accents and case ignored), by name,
    with their schools.

    One query: the district first, then the member's schools, prefix matches as ranges on
    the folded keys (Student.last_name_key, ...: an index serves them under row-level
    security; schools.selectors.student_name_matches), LIMIT and no COUNT. Nothing for an
    empty query.
    """
    if not name_words(query, limit=_MAX_WORDS):
        return []
    return list(student_matches_query(membership, query, limit=limit))


def student_matches_query(membership: Membership, query: str, *, limit: int = STUDENT_MATCHES):
    """The query of student_matches (for a non-empty query)."""
    students = students_visible_to(membership).filter(active=True)
    students = students.filter(student_name_matches(query, limit=_MAX_WORDS))
    return (
        students.select_related("school")
        .only(
            "id",
            "district_id",
            "local_id",
            "first_name",
            "last_name",
            "preferred_name",
            "grade",
            "family_language",
            "school__id",
            "school__name",
        )
        # Not in the order of any index: PostgreSQL finds the few matches through the
        # (district, key) indexes and sorts them, instead of walking the whole district
        # in name order until ten match (slow when the matches come late).
        .order_by(Upper("last_name"), Upper("first_name"), "pk")[:limit]
    )


def referable_student(membership: Membership, student_id) -> Student | None:
    """An enrolled student of the member's district and schools, with the school, or None
    (for garbage, another district's or school's id alike). One query."""
    try:
        pk = int(str(student_id).strip())
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return (
        students_visible_to(membership).filter(pk=pk, active=True).select_related("school").first()
    )


# --- Partners ---------------------------------------------------------------------------------

# The ranking is lexicographic, written as one integer score so that PostgreSQL sorts it
# (ORDER BY score DESC, name) and returns only `limit` rows. From the heaviest criterion down:
#
#   1. offers at least one of the services asked for (when some are asked for): a partner
#      that offers none of them cannot help, whatever else it has;
#   2. an MOU in force with the district today (partnerships.mou_rules.in_force_q);
#   3. accepting referrals now (a waitlist comes after);
#   4. how many of the services asked for it offers;
#   5. serves the student's school;
#   6. speaks the family's language (the base codes compared: "es-MX" speaks "es");
#   7. accepts a way the family pays ("uninsured": free or sliding scale);
#   8. has open places (capacity above zero);
#   9. offers telehealth, when telehealth is acceptable.
#
# Each criterion outweighs all those below it together: criteria 5-9 weigh 16, 8, 4, 2, 1
# (31 at most), each service offered weighs 32, and the weights above the services grow
# with the number asked for. Partners that are inactive or not taking referrals are left
# out: the service would refuse them.
W_TELEHEALTH, W_CAPACITY, W_PAYMENT, W_LANGUAGE, W_SCHOOL, W_SERVICE = 1, 2, 4, 8, 16, 32

# Ways to pay that a partner lists (Payment), and what an uninsured family can use.
_PARTNER_PAYMENTS = frozenset(Payment.values)
_UNINSURED_PAYMENTS = (Payment.FREE, Payment.SLIDING_SCALE)


@dataclass
class Suggestion:
    partner: Partner
    score: int
    fits: list[str] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)


def _weights(services_asked: int) -> dict[str, int]:
    above_services = W_SERVICE * (services_asked + 1)
    return {
        "accepting": above_services,
        "mou": 2 * above_services,
        "any_service": 4 * above_services,
    }


def _base_language(code: str) -> str:
    return (normalize_code(code) or "").split("-")[0]


def _speaks(base: str):
    """partner.languages holds ISO 639 codes: true when one has the family's base code.

    Raw because the ORM has no lookup into an array's elements; the code is a bound
    parameter and the table name comes from the model.
    """
    table = Partner._meta.db_table
    return RawSQL(  # noqa: S611
        f'EXISTS (SELECT 1 FROM unnest("{table}"."languages") AS lang '  # noqa: S608
        "WHERE split_part(lower(lang), '-', 1) = %s)",
        [base],
    )


def _payment_codes(payment) -> list[str]:
    codes = [code for code in payment if code in _PARTNER_PAYMENTS]
    if "uninsured" in payment:
        codes += [code for code in _UNINSURED_PAYMENTS if code not in codes]
    return codes


def _flag(condition) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def partner_suggestions(
    membership: Membership,
    *,
    school: School | None,
    services,
    language: str,
    payment,
    telehealth_ok: bool,
    limit: int = 8,
    partner_ids=None,
    labels: dict[str, str] | None = None,
) -> list[Suggestion]:
    """Up to `limit` of the district's partners taking referrals, best fit first (see the
    weights above), each with why it fits and what it lacks, in words.

    Unknown service codes are ignored; a blank language, no payment or no school leaves that
    criterion out. `partner_ids` explains those partners only (a choice made earlier that
    is no longer among the best); `labels` (service code -> name) saves reading them again.
    Two queries whatever the size of the directory (one when given the labels).
    """
    district_id = membership.district_id
    labels = labels if labels is not None else service_labels(membership.district)
    asked = [code for code in dict.fromkeys(services or ()) if code in labels]
    base = _base_language(language)
    pays = _payment_codes(list(payment or ()))
    weights = _weights(len(asked))

    offered = (
        Service.objects.for_district(district_id)
        .filter(partner_id=OuterRef("pk"), category__in=asked)
        .order_by()
        .values("partner_id")
        .annotate(categories=ArrayAgg("category", distinct=True))
        .values("categories")
    )
    partners = (
        Partner.objects.for_district(district_id)
        .filter(active=True, intake__in=TAKING_REFERRALS)
        .filter(**({"pk__in": list(partner_ids)} if partner_ids is not None else {}))
        .only(
            "id",
            "district_id",
            "name",
            "intake",
            "capacity",
            "languages",
            "payments",
            "delivery_modes",
            "active",
        )
        .annotate(
            mou_in_force=Exists(
                MOU.objects.for_district(district_id).filter(
                    in_force_q(membership.district.today()), partner_id=OuterRef("pk")
                )
            ),
            offered=Subquery(offered, output_field=ArrayField(CharField()))
            if asked
            else Value(None, output_field=ArrayField(CharField())),
            serves_school=Exists(
                PartnerSchool.objects.for_district(district_id).filter(
                    partner_id=OuterRef("pk"), school_id=school.pk
                )
            )
            if school is not None
            else Value(False),
            speaks=_speaks(base) if base else Value(False),
            takes_payment=Q(payments__overlap=pays) if pays else Value(False),
        )
        .annotate(
            offered_count=Coalesce(
                Func(F("offered"), function="cardinality", output_field=IntegerField()),
                Value(0),
            )
        )
    )
    score = (
        _flag(Q(mou_in_force=True)) * weights["mou"]
        + _flag(Q(intake=Intake.ACCEPTING)) * weights["accepting"]
        + F("offered_count") * W_SERVICE
        + _flag(Q(serves_school=True)) * W_SCHOOL
        + _flag(Q(speaks=True)) * W_LANGUAGE
        + _flag(Q(takes_payment=True)) * W_PAYMENT
        + _flag(Q(capacity__gt=0)) * W_CAPACITY
    )
    if asked:
        score = score + _flag(Q(offered_count__gt=0)) * weights["any_service"]
    if telehealth_ok:
        score = score + _flag(Q(delivery_modes__contains=["telehealth"])) * W_TELEHEALTH
    ranked = partners.annotate(score=score).order_by("-score", "name", "pk")[:limit]
    criteria = {
        "asked": asked,
        "labels": labels,
        "school": school,
        "language": language if base else "",
        "pays": pays,
        "telehealth_ok": telehealth_ok,
    }
    return [_explained(partner, **criteria) for partner in ranked]


def _explained(partner, *, asked, labels, school, language, pays, telehealth_ok) -> Suggestion:
    """Why the partner fits and what it lacks, in the order of the ranking."""
    fits: list[str] = []
    lacks: list[str] = []
    offers = set(partner.offered or ())
    for code in asked:
        label = labels.get(code, code)
        if code in offers:
            fits.append(_("Offers %(service)s") % {"service": label})
        else:
            lacks.append(_("Does not offer %(service)s") % {"service": label})
    if language:
        name = language_name(language, in_text=True)  # "Habla vietnamita"
        if partner.speaks:
            fits.append(_("Speaks %(language)s") % {"language": name})
        else:
            lacks.append(_("Does not list %(language)s") % {"language": name})
    if pays:
        payment_labels = dict(Payment.choices)
        accepted = [code for code in pays if code in (partner.payments or ())]
        if accepted:
            fits.extend(
                _("Accepts %(payment)s") % {"payment": payment_labels[code]} for code in accepted
            )
        else:
            lacks.extend(
                _("Does not list %(payment)s") % {"payment": payment_labels[code]} for code in pays
            )
    if school is not None:
        if partner.serves_school:
            fits.append(_("Serves %(school)s") % {"school": school.name})
        else:
            lacks.append(_("Does not list %(school)s") % {"school": school.name})
    if partner.mou_in_force:
        fits.append(_("MOU in force"))
    else:
        lacks.append(_("No MOU in force"))
    if partner.intake == Intake.ACCEPTING:
        fits.append(_("Accepting referrals"))
    else:
        lacks.append(_("Waitlist"))
    if partner.capacity is not None:
        if partner.capacity > 0:
            fits.append(_("Has capacity"))
        else:
            lacks.append(_("No open places"))
    if telehealth_ok and "telehealth" in (partner.delivery_modes or ()):
        fits.append(_("Offers telehealth"))
    return Suggestion(partner=partner, score=partner.score, fits=fits, lacks=lacks)
