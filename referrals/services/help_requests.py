"""Requests for help (issue 14, part 5): a teacher, parent or student asks a school's
counselors for help through the school's public form, and the counselors triage it.

- `help_request_submit` (no account): one HelpRequest, status new, in the page's language.
  When the person left an email address, one "we received your request" email in that
  language, queued in the same transaction that sets `acknowledged_at`: it names the
  school and the day, repeats the crisis lines, and says nothing of what was written or
  of what follows.
- Rate limits (Django's cache, Redis in production): HELP_REQUESTS_PER_ADDRESS submissions
  per hour from one address to one school, HELP_REQUESTS_PER_SCHOOL per hour to one school
  from everyone. A submission the honeypot caught counts too (`help_request_count`), so a
  script learns nothing from the limit. Over it: HelpRequestsLimited, nothing saved.
- The counselors' queue: `help_requests_visible_to` (district, capability, the member's
  schools), `help_request_list`, `access_help_request`.
- Triage, each by a member with "referrals.create" in the request's school:
  `help_request_link_student`, `help_request_mark_referred` (one of the linked student's
  referrals), `help_request_close` (a reason, a note). A request referred or closed is
  done: nothing changes it again.

Refusals are ValidationErrors keyed by the form field they concern ("__all__" for the
request's state); acting without the capability, outside one's schools or on another
district's row is PermissionDenied.

The reads live here rather than in referrals/selectors.py only because this area was
built beside the others in parallel; they import no service.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.mail import send_templated
from referrals.models import (
    AskerKind,
    HelpCloseReason,
    HelpRequest,
    HelpRequestStatus,
    Referral,
    ReferralStatus,
)
from referrals.services.common import in_my_schools, require_my_school
from schools.capabilities import can, require
from schools.models import Membership, School, Student
from schools.selectors import in_membership_schools, students_visible_to
from schools.tenancy import require_same_district

CAPABILITY = "referrals.create"

MESSAGE_MAX = 4000
NAME_MAX = 200
PHONE_MAX = 40
CLOSE_NOTE_MAX = 2000

# One family, class or script may ask a school a few times an hour; a whole school's
# community far more. Fixed one-hour windows in the cache.
HELP_REQUESTS_PER_ADDRESS = 5
HELP_REQUESTS_PER_SCHOOL = 50
RATE_WINDOW_SECONDS = 60 * 60

# Requests still to act on first, then those acted on, each newest first.
QUEUE_ORDER = [
    HelpRequestStatus.NEW,
    HelpRequestStatus.LINKED,
    HelpRequestStatus.REFERRED,
    HelpRequestStatus.CLOSED,
]
OPEN_HELP_STATUSES = frozenset({HelpRequestStatus.NEW, HelpRequestStatus.LINKED})
# A referral the school withdrew answers nothing.
UNLINKABLE_REFERRAL_STATUSES = frozenset({ReferralStatus.WITHDRAWN})


class HelpRequestsLimited(ValidationError):
    """Too many requests for help from one address, or to one school, this hour."""


# --- Rate limits -----------------------------------------------------------------------------


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf8")).hexdigest()[:32]


def _keys(school: School, address: str | None) -> list[tuple[str, int]]:
    """(cache key, limit) of each counter a submission to `school` from `address` uses."""
    window = int(time.time() // RATE_WINDOW_SECONDS)
    school_key = f"help-requests:{school.district_id}:{school.pk}:{window}"
    keys = [(school_key, HELP_REQUESTS_PER_SCHOOL)]
    # An unknown address (no REMOTE_ADDR) shares one counter: stricter, never looser.
    keys.append((f"{school_key}:{_digest(address or '-')}", HELP_REQUESTS_PER_ADDRESS))
    return keys


def _refusal() -> HelpRequestsLimited:
    return HelpRequestsLimited(
        _(
            "We have received many requests from here in the last hour, so this one was not "
            "sent. Please try again later. If someone is in danger now, call 911. For a "
            "mental health crisis, call or text 988."
        ),
        code="rate_limited",
    )


def help_request_limited(school: School, address: str | None) -> bool:
    """True when one more submission to `school` from `address` would be refused now (reads
    the counters, counts nothing)."""
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(school, address))


def help_request_count(school: School, address: str | None) -> None:
    """Count one submission to `school` from `address`; HelpRequestsLimited when it goes past
    a limit (it is then not to be saved). Each counter is one atomic increment."""
    over = False
    for key, limit in _keys(school, address):
        # add() starts the window's counter; incr() is atomic in Redis. The counter may
        # vanish in between (expired, Redis restarted): it starts again at one.
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
            count = 1
        over = over or count > limit
    if over:
        raise _refusal()


# --- The public form -------------------------------------------------------------------------


def _language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def help_request_submit(
    *,
    school: School,
    asker_kind: str,
    message: str,
    student_name: str = "",
    asker_name: str = "",
    asker_email: str = "",
    asker_phone: str = "",
    language: str = "en",
    address: str | None = None,
) -> HelpRequest:
    """Save a request for help to `school` from its public form (inside the school's
    district), and queue the receipt when an email address was given.

    Counted against the rate limits first (HelpRequestsLimited: nothing saved). Every value
    is checked again here (ValidationError by field), whatever form sent it. The receipt
    goes once: `acknowledged_at` is set in the transaction that queues it.
    """
    values = {
        "asker_kind": str(asker_kind or ""),
        "message": str(message or "").strip(),
        "student_name": str(student_name or "").strip(),
        "asker_name": str(asker_name or "").strip(),
        "asker_email": str(asker_email or "").strip(),
        "asker_phone": str(asker_phone or "").strip(),
    }
    help_request = HelpRequest(
        district_id=school.district_id, school=school, language=_language(language), **values
    )
    errors: dict[str, list[str]] = {}
    if values["asker_kind"] not in AskerKind.values:
        errors["asker_kind"] = [_("Choose who is asking.")]
    if not values["message"]:
        errors["message"] = [_("Say what is happening.")]
    elif len(values["message"]) > MESSAGE_MAX:
        errors["message"] = [_("Keep it under %(max)s characters.") % {"max": f"{MESSAGE_MAX:,}"}]
    try:
        help_request.full_clean(
            exclude=["district", "school", "status", "student", "referral", "handled_by"]
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)
    help_request_count(school, address)
    with transaction.atomic():
        help_request.save()
        if help_request.asker_email:
            _send_receipt(help_request, school)
    return help_request


def _send_receipt(help_request: HelpRequest, school: School) -> None:
    """The "we received your request" email: the school and the day, the crisis lines.
    Nothing the person wrote, nothing about what the counselors will do."""
    district = school.district
    send_templated(
        "referrals/email/help_received",
        to=help_request.asker_email,
        context={
            "school_name": school.name,
            "received_on": timezone.localdate(help_request.created_at, district.time_zone),
        },
        language=help_request.language,
        district=district,
    )
    help_request.acknowledged_at = timezone.now()
    help_request.save(update_fields=["acknowledged_at", "updated_at"])


# --- The counselors' queue (reads) -----------------------------------------------------------


def help_requests_visible_to(membership: Membership):
    """The requests for help the membership triages: its district's, of its schools (every
    school when not limited); none without "referrals.create" (partners, viewers). One
    query, no joins."""
    requests = HelpRequest.objects.for_district(membership.district_id)
    if not can(membership, CAPABILITY):
        return requests.none()
    return requests.filter(in_membership_schools(membership))


def _queue_rank():
    return Case(
        *[When(status=status, then=Value(rank)) for rank, status in enumerate(QUEUE_ORDER)],
        default=Value(len(QUEUE_ORDER)),
        output_field=IntegerField(),
    )


def help_request_list(membership: Membership, *, status: str = "", school_id=None):
    """The queue: new requests first, then linked, referred and closed, each newest first;
    filtered by status and school. A queryset with its joins (school, student), so a page of
    it costs the same few queries however many rows there are."""
    requests = (
        help_requests_visible_to(membership)
        .select_related("school", "student")
        .annotate(queue_rank=_queue_rank())
        .order_by("queue_rank", "-created_at", "-pk")
    )
    if status:
        requests = requests.filter(status=status)
    if school_id:
        requests = requests.filter(school_id=school_id)
    return requests


def access_help_request(membership: Membership, pk) -> HelpRequest:
    """A request for help the membership triages, with its school, student, referral and
    who handled it, or 404 (another district's, another school's, or no such request)."""
    return get_object_or_404(
        help_requests_visible_to(membership).select_related(
            "school", "student__school", "referral__partner", "handled_by__user"
        ),
        pk=pk,
    )


def help_request_student_referrals(membership: Membership, help_request: HelpRequest) -> list:
    """The linked student's referrals the membership may see, newest first, that the
    request can be marked as turned into (not withdrawn). One query; none when unlinked."""
    if help_request.student_id is None:
        return []
    return list(
        Referral.objects.for_district(membership.district_id)
        .filter(in_membership_schools(membership), student_id=help_request.student_id)
        .exclude(status__in=UNLINKABLE_REFERRAL_STATUSES)
        .select_related("partner")
        .order_by("-referred_on", "-created_at", "-pk")
    )


def help_request_schools(membership: Membership) -> list[School]:
    """The schools whose requests the membership triages (for the filter and the list of
    public addresses), by name."""
    if not can(membership, CAPABILITY):
        return []
    return list(
        School.objects.for_district(membership.district_id)
        .filter(in_membership_schools(membership, "pk"))
        .order_by("name")
    )


# --- Triage ----------------------------------------------------------------------------------


def _check(by: Membership, help_request: HelpRequest) -> None:
    """What every triage step checks first: the capability, the district, the school."""
    require(by, CAPABILITY)
    require_same_district(by, help_request)
    require_my_school(by, help_request.school_id)


def _locked(help_request: HelpRequest) -> HelpRequest:
    """The request's row, locked: two counselors acting at once act one after the other,
    and the second sees what the first did."""
    return (
        HelpRequest.objects.for_district(help_request.district_id)
        .select_for_update()
        .get(pk=help_request.pk)
    )


def _require_open(locked: HelpRequest) -> None:
    if locked.status == HelpRequestStatus.REFERRED:
        raise ValidationError({"__all__": [_("This request was already turned into a referral.")]})
    if locked.status == HelpRequestStatus.CLOSED:
        raise ValidationError({"__all__": [_("This request is closed.")]})


def _handled(locked: HelpRequest, help_request: HelpRequest, by: Membership, fields) -> None:
    locked.handled_by = by
    locked.handled_at = timezone.now()
    locked.save(update_fields=[*fields, "handled_by", "handled_at", "updated_at"])
    for field in [*fields, "handled_by", "handled_at", "updated_at"]:
        setattr(help_request, field, getattr(locked, field))


def help_request_link_student(
    *, by: Membership, help_request: HelpRequest, student: Student | None
) -> HelpRequest:
    """Say which student the request is about (status linked). The student must be one the
    member may see: their district, their schools. A request referred or closed is done."""
    _check(by, help_request)
    if student is None or _outside_schools(by, student):
        raise ValidationError({"student": [_("Choose a student of your schools.")]})
    with transaction.atomic():
        locked = _locked(help_request)
        _require_open(locked)
        locked.student = student
        locked.status = HelpRequestStatus.LINKED
        _handled(locked, help_request, by, ["student", "status"])
        help_request.student = student
    return help_request


def _outside_schools(by: Membership, student: Student) -> bool:
    """True when the student is not one the member may see (district, schools)."""
    if student.district_id != by.district_id:
        return True
    return not students_visible_to(by).filter(pk=student.pk).exists()


def help_request_mark_referred(
    *, by: Membership, help_request: HelpRequest, referral: Referral | None
) -> HelpRequest:
    """Record that the request was turned into `referral` (status referred): a referral of
    the linked student, of the member's schools, not withdrawn. The request must be linked
    to the student first."""
    _check(by, help_request)
    with transaction.atomic():
        locked = _locked(help_request)
        _require_open(locked)
        if locked.student_id is None:
            raise ValidationError(
                {"referral": [_("Link the request to a student first, then to a referral.")]}
            )
        if (
            referral is None
            or referral.district_id != by.district_id
            or referral.student_id != locked.student_id
            or not in_my_schools(by, referral.school_id)
            or referral.status in UNLINKABLE_REFERRAL_STATUSES
        ):
            raise ValidationError({"referral": [_("Choose one of this student's referrals.")]})
        locked.referral = referral
        locked.status = HelpRequestStatus.REFERRED
        _handled(locked, help_request, by, ["referral", "status"])
        help_request.referral = referral
    return help_request


def help_request_close(
    *, by: Membership, help_request: HelpRequest, reason: str, note: str = ""
) -> HelpRequest:
    """Close the request with a reason (HelpCloseReason) and a note ("other" needs one).
    Nothing is sent to the person who asked: they were told only that it was received."""
    reason = str(reason or "")
    note = str(note or "").strip()
    errors: dict[str, list[str]] = {}
    if reason not in HelpCloseReason.values:
        errors["reason"] = [_("Choose why the request is closed.")]
    if len(note) > CLOSE_NOTE_MAX:
        errors["note"] = [_("Keep it under %(max)s characters.") % {"max": f"{CLOSE_NOTE_MAX:,}"}]
    elif reason == HelpCloseReason.OTHER and not note:
        errors["note"] = [_("Say why in a few words.")]
    _check(by, help_request)
    with transaction.atomic():
        locked = _locked(help_request)
        _require_open(locked)
        if errors:
            raise ValidationError(errors)
        locked.status = HelpRequestStatus.CLOSED
        locked.close_reason = reason
        locked.close_note = note
        _handled(locked, help_request, by, ["status", "close_reason", "close_note"])
    return help_request
