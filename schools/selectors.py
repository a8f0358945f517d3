"""Reads of the schools app; each takes the viewer and owns its joins."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from schools.access_log import access_log_record
from schools.models import AccessLog, Membership


def memberships_of(user) -> list[Membership]:
    """The active memberships of a person, with their districts, for the switcher."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.active()
        .filter(user=user)
        .select_related("district")
        .order_by("district__name")
    )


def access_membership(user, district_slug: str) -> Membership:
    """The person's active membership in the district at `district_slug`, or 404.

    404 both when the district does not exist and when the person is not a member,
    so nobody learns which districts exist.
    """
    return get_object_or_404(
        Membership.objects.active().select_related("district", "user"),
        user=user,
        district__slug=district_slug,
    )


def schools_in(district) -> list:
    """The district's schools, open ones first, by name."""
    from django.db.models import F

    from schools.models import School

    return list(
        School.objects.for_district(district).order_by(F("closed_on").asc(nulls_first=True), "name")
    )


# --- People (the members page) -------------------------------------------------------------

MEMBERS_ORDER = ["-active", "user__full_name", "user__email"]


def members_of_district(viewer: Membership, *, query: str = "", role: str = ""):
    """The viewer's district's memberships, active first, filtered by name/email and role.

    A queryset with its joins (person, partner) and the schools prefetched: a page of it
    costs the same few queries however many rows there are.
    """
    from django.db.models import Q

    members = (
        Membership.objects.for_district(viewer.district)
        .select_related("user", "partner")
        .prefetch_related("schools")
        .order_by(*MEMBERS_ORDER)
    )
    if query:
        members = members.filter(
            Q(user__full_name__icontains=query) | Q(user__email__icontains=query)
        )
    if role:
        members = members.filter(role=role)
    return members


def invitations_waiting(viewer: Membership) -> list:
    """Invitations of the viewer's district not yet accepted or withdrawn (expired ones too,
    so they can be resent), newest first, with who sent them."""
    from schools.models import Invitation, School

    invitations = list(
        Invitation.objects.for_district(viewer.district)
        .filter(accepted_at=None, revoked_at=None)
        .select_related("invited_by__user", "partner")
        .order_by("-created_at")
    )
    if invitations:
        names = dict(School.objects.for_district(viewer.district).values_list("pk", "name"))
        for invitation in invitations:
            invitation.school_names = [names[i] for i in invitation.school_ids if i in names]
    return invitations


def access_member(viewer: Membership, membership_id: int) -> Membership:
    """A membership of the viewer's district (active or not), or 404; for people managers."""
    return get_object_or_404(
        Membership.objects.for_district(viewer.district_id)
        .select_related("district", "user", "partner")
        .prefetch_related("schools"),
        pk=membership_id,
    )


def access_invitation(viewer: Membership, invitation_id: int):
    """An invitation of the viewer's district, or 404; for people managers."""
    from schools.models import Invitation

    return get_object_or_404(
        Invitation.objects.for_district(viewer.district_id).select_related(
            "district", "invited_by__user"
        ),
        pk=invitation_id,
    )


def partners_in(district):
    """The district's partner organizations, by name (a queryset, for form choices).

    Reached through Membership.partner: schools does not import the partnerships app.
    """
    partner_model = Membership._meta.get_field("partner").related_model
    return partner_model.objects.for_district(district).order_by("name")


def schools_of_district(district, *, keep=()):
    """The district's open schools, by name (a queryset, for form choices), and of the
    closed ones only those in `keep` (the schools, or their ids, that a thing being
    edited already names): a
    closed school is never offered for something new, and never dropped silently."""
    from django.db.models import Q

    from schools.models import School

    keep = [getattr(school, "pk", school) for school in keep if school is not None]
    return (
        School.objects.for_district(district)
        .filter(Q(closed_on__isnull=True) | Q(pk__in=keep))
        .order_by("name")
    )


# --- Students --------------------------------------------------------------------------------


def limited_school_ids(membership: Membership) -> frozenset | None:
    """The schools a membership is limited to, or None when it sees every school."""
    from schools.models import MembershipSchool

    ids = frozenset(
        MembershipSchool.objects.for_district(membership.district_id)
        .filter(membership_id=membership.pk)
        .values_list("school_id", flat=True)
    )
    return ids or None


def in_membership_schools(membership: Membership, field: str = "school_id"):
    """A filter for rows whose `field` names one of the membership's schools, or every row
    when the membership is not limited to schools. The limit is a subquery, so looking up
    and authorizing stay one query."""
    from django.db.models import Exists, OuterRef, Q

    from schools.models import MembershipSchool

    limits = MembershipSchool.objects.for_district(membership.district_id).filter(
        membership_id=membership.pk
    )
    return ~Exists(limits) | Q(Exists(limits.filter(school_id=OuterRef(field))))


def students_visible_to(membership: Membership):
    """The students of the membership's district, limited to its schools when it has any
    (one query)."""
    from schools.models import Student

    return Student.objects.for_district(membership.district_id).filter(
        in_membership_schools(membership)
    )


def student_name_matches(query: str, *, limit: int = 8):
    """A filter (Q) for students whose first, last or preferred name or student id starts
    with each word of `query`, accents and case ignored.

    The words are folded as the name keys are (core.search.fold; Student.last_name_key...)
    and compared as ranges: leakproof `>=` and `<`, so the (district, key) indexes serve
    them under row-level security. No word, no filter.
    """
    from django.db.models import Q

    from core.search import name_words, prefix_range

    matches = Q()
    for word in name_words(query, limit=limit):
        low, high = prefix_range(word)
        matches &= (
            Q(last_name_key__gte=low, last_name_key__lt=high)
            | Q(first_name_key__gte=low, first_name_key__lt=high)
            | Q(preferred_name_key__gte=low, preferred_name_key__lt=high)
            | Q(local_id_key__gte=low, local_id_key__lt=high)
        )
    return matches


def student_search(membership: Membership, *, query: str = "", school_id=None, grade: str = ""):
    """The students the membership may see, filtered, by name, with their schools.

    Every word of `query` must start the first, last or preferred name or the student id,
    accents and case ignored ("garcia" finds "García"; see student_name_matches).
    """
    from django.db.models.functions import Upper

    from core.search import name_words

    students = students_visible_to(membership).select_related("school")
    students = students.filter(student_name_matches(query, limit=8))
    if school_id:
        students = students.filter(school_id=school_id)
    if grade:
        students = students.filter(grade=grade)
    words = name_words(query, limit=8)
    if len(words) > 1 or (words and len(words[0]) >= 3):
        # Few matches: in an order no index gives, so that PostgreSQL finds them through
        # the (district, key) indexes and sorts them, instead of walking the district in
        # name order until a page of them match ("mart" at 150,000 students: 21 ms
        # against 122 ms). One or two letters match so many that the walk finds a page
        # at once ("m": 4 ms walked, 104 ms sorted). docs/benchmarks.md, issue 16.
        return students.order_by(Upper("last_name"), Upper("first_name"), "pk")
    return students.order_by("last_name", "first_name", "pk")


def student_schools(membership: Membership) -> list:
    """The schools whose students the membership may see (for the school filter)."""
    from schools.models import School

    return list(
        School.objects.for_district(membership.district_id)
        .filter(in_membership_schools(membership, "pk"))
        .order_by("name")
    )


def student_school_choices(membership: Membership) -> list[tuple[int, str]]:
    """(id, name) of the schools student_schools gives, for a filter's choices: no model
    rows (a large district has hundreds of schools)."""
    from schools.models import School

    return list(
        School.objects.for_district(membership.district_id)
        .filter(in_membership_schools(membership, "pk"))
        .order_by("name")
        .values_list("pk", "name")
    )


def access_student(request, pk: int, *, action: str | None = AccessLog.Action.VIEW):
    """A student the request's membership may see, with its school, or 404; logged.

    One query: district, and for a school-limited membership its schools. 404 both
    when there is no such student and when it is not the viewer's to see. The access-log
    row (`action`: view, export or print) is written here, once the student is authorized,
    so no page, export or print of a student can leave it out; nothing is logged on a 404.
    `action=None` only where the request shows nothing of the student (a refused method).
    """
    student = get_object_or_404(
        students_visible_to(request.membership).select_related("school"), pk=pk
    )
    if action is not None:
        access_log_record(
            request=request,
            object_type="student",
            object_id=student.pk,
            student=student,
            action=action,
        )
    return student


def roster_imports_visible_to(membership: Membership):
    """The district's roster imports; a school-limited membership sees only its own."""
    from schools.models import RosterImport

    imports = RosterImport.objects.for_district(membership.district_id)
    if limited_school_ids(membership) is not None:
        imports = imports.filter(uploaded_by_id=membership.pk)
    return imports


def access_roster_import(request, pk: int, *, action: str | None = AccessLog.Action.VIEW):
    """A roster import the request's membership may see, with its uploader, or 404; logged.

    Its preview names students (the sample, the rows in error), so it is logged like their
    pages: the row is written here. `action=None` only where the request acts on the
    import and shows none of it (confirm or cancel, then a redirect to the logged preview).
    """
    roster_import = get_object_or_404(
        roster_imports_visible_to(request.membership)
        .select_related("uploaded_by__user")
        .defer("rows"),  # megabytes; only the confirmation reads them
        pk=pk,
    )
    if action is not None:
        access_log_record(
            request=request, object_type="roster_import", object_id=roster_import.pk, action=action
        )
    return roster_import


def recent_roster_imports(membership: Membership, limit: int = 5) -> list:
    """The latest imports, without their rows (which can be many megabytes)."""
    return list(
        roster_imports_visible_to(membership)
        .select_related("uploaded_by__user")
        .defer("rows", "errors", "sample")
        .order_by("-created_at")[:limit]
    )


# --- Access log ------------------------------------------------------------------------------


def access_log_search(
    membership: Membership, *, student: str = "", person: str = "", since=None, until=None
):
    """The district's access log, newest first, with who and which student.

    `student` matches a student id exactly or a name in part; `person` an email address
    in part; `since`/`until` are aware datetimes (until exclusive). A school-limited
    viewer sees the rows about its schools' students and rows about no student.
    """
    from django.db.models import Q

    entries = AccessLog.objects.for_district(membership.district_id).select_related(
        "user", "student", "membership", "contact__partner"
    )
    allowed = limited_school_ids(membership)
    if allowed is not None:
        entries = entries.filter(Q(student=None) | Q(student__school_id__in=allowed))
    if student:
        words = student.split()[:8]
        match = Q(student__local_id__iexact=student.strip())
        by_name = Q()
        for word in words:
            by_name &= (
                Q(student__first_name__icontains=word)
                | Q(student__last_name__icontains=word)
                | Q(student__preferred_name__icontains=word)
            )
        entries = entries.filter(match | by_name)
    if person:
        entries = entries.filter(user__email__icontains=person.strip())
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-at", "-pk")


# --- Audit trail -----------------------------------------------------------------------------


def audit_events(membership: Membership):
    """The district's audit trail, newest first, with who acted (a fixed number of queries:
    what changed is stored on the row)."""
    from schools.models import AuditEvent

    return (
        AuditEvent.objects.for_district(membership.district_id)
        .select_related("user", "membership")
        .order_by("-at", "-pk")
    )


# --- Mail delivery -------------------------------------------------------------------------

# What a coordinator must look at: not delivered, or waiting to be tried again.
MAIL_PROBLEMS = "problems"


def _district_mail(membership: Membership):
    from schools.models import DistrictEmail

    return DistrictEmail.objects.for_district(membership.district_id).select_related("email")


def _problems(links):
    from django.db.models import Q

    from schools.models import OutgoingEmail

    return links.filter(
        Q(email__status=OutgoingEmail.Status.FAILED)
        | Q(email__status=OutgoingEmail.Status.QUEUED, email__attempts__gt=0)
    )


def district_mail(membership: Membership, *, show: str = MAIL_PROBLEMS):
    """Mail written for the district, newest first, with its delivery (one query a page):
    `show` MAIL_PROBLEMS (not delivered, or waiting to be tried again) or "all"."""
    links = _district_mail(membership)
    if show == MAIL_PROBLEMS:
        links = _problems(links)
    return links.order_by("-created_at", "-pk")


def district_mail_problem_count(membership: Membership) -> int:
    """How many of the district's messages were not delivered (for the home page)."""
    from schools.models import OutgoingEmail

    return _district_mail(membership).filter(email__status=OutgoingEmail.Status.FAILED).count()


def access_district_email(viewer: Membership, pk: int):
    """One message written for the viewer's district (404 for any other)."""
    return get_object_or_404(_district_mail(viewer), pk=pk)
