"""Reads of the schools app; each takes the viewer and owns its joins."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from core.picker import every_word
from schools.access_log import access_log_record
from schools.models import AccessLog, Membership


def memberships_of(user) -> list[Membership]:
    """The active memberships of a person, with their districts, for the switcher."""
    if not user.is_authenticated:
        return []
    memberships = list(
        Membership.objects.active()
        .filter(user=user)
        .select_related("district")
        .order_by("district__name")
    )
    person = getattr(user, "_wrapped", user)  # request.user is a lazy object, evaluated above
    for membership in memberships:
        membership.user = person  # the person asked about: no query to read them again
    return memberships


def access_membership(user, district_slug: str, memberships=None) -> Membership:
    """The person's active membership in the district at `district_slug`, or 404.

    404 both when the district does not exist and when the person is not a member,
    so nobody learns which districts exist. Picked from `memberships` (memberships_of:
    the middleware reads them once per request, for this and for the district switcher).
    """
    if memberships is None:
        memberships = memberships_of(user)
    for membership in memberships:
        if membership.district.slug == district_slug:
            return membership
    raise Http404


def schools_in(district) -> list:
    """The district's schools, open ones first, by name."""
    from django.db.models import F

    from schools.models import School

    return list(
        School.objects.for_district(district).order_by(F("closed_on").asc(nulls_first=True), "name")
    )


# --- People (the members page) -------------------------------------------------------------

MEMBERS_ORDER = ["-active", "user__full_name", "user__email"]


# search_members(memberships, query): those whose person has every word of `query` in
# their name (the stored folded key, User.name_key) or their email.
search_members = every_word("user__name_key__contains", raw=("user__email__icontains",))


def members_of_district(viewer: Membership, *, query: str = "", role: str = ""):
    """The viewer's district's memberships, active first, filtered by name/email and role.

    Every word typed is found in the name (accents and case ignored, as "garcia" finds
    "García") or the email. A queryset with its joins (person, partner) and the schools
    prefetched: a page of it costs the same few queries however many rows there are.
    """
    members = (
        Membership.objects.for_district(viewer.district)
        .select_related("user", "partner")
        .prefetch_related("schools")
        .order_by(*MEMBERS_ORDER)
    )
    if query.split():
        members = search_members(members, query)
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
    return (
        partner_model.objects.for_district(district)
        .order_by("name")
        .only(*partner_model.CHOICE_FIELDS)
    )


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
    """The schools a membership is limited to, or None when it sees every school.

    Read once per membership object (a request's membership asks several times: the list,
    its school filter, the count); `forget_school_limits` after changing them.
    """
    from schools.models import MembershipSchool

    cached = getattr(membership, "_limited_school_ids", False)
    if cached is not False:
        return cached
    ids = frozenset(
        MembershipSchool.objects.for_district(membership.district_id)
        .filter(membership_id=membership.pk)
        .values_list("school_id", flat=True)
    )
    membership._limited_school_ids = ids or None
    return membership._limited_school_ids


def forget_school_limits(membership: Membership) -> None:
    """Make the next limited_school_ids(membership) read the limits again."""
    membership.__dict__.pop("_limited_school_ids", None)


def in_membership_schools(membership: Membership, field: str = "school_id"):
    """A filter (Q) for rows whose `field` names one of the membership's schools, or every
    row when the membership is not limited to schools.

    The limits are read first (limited_school_ids: one small indexed query, once per
    membership object) so that the filter is one plain `IN (ids)`, or for a membership
    without limits a constant TRUE that PostgreSQL drops: a planner estimates both well,
    where `NOT EXISTS (limits) OR EXISTS (limit of this row)` left it guessing (at 150,000
    students it sorted the district instead of walking the name index). TRUE, not an
    empty Q, so that `Q(school=None) | in_membership_schools(m)` stays right.
    """
    from django.db.models import BooleanField, Q, Value

    allowed = limited_school_ids(membership)
    if allowed is None:
        return Q(Value(True, output_field=BooleanField()))
    return Q(**{f"{field}__in": sorted(allowed)})


def students_visible_to(membership: Membership):
    """The students of the membership's district, limited to its schools when it has any
    (one query, after the membership's limits are read once)."""
    from schools.models import Student

    return Student.objects.for_district(membership.district_id).filter(
        in_membership_schools(membership)
    )


def student_name_matches(query: str, *, limit: int = 8):
    """A filter (Q) for students whose first, last or preferred name or student id starts
    with each word of `query`, accents and case ignored; the last word of a first or last
    name of several words counts too ("lopez" finds "García López", "cruz" "De la Cruz").

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
            | Q(last_name_word_key__gte=low, last_name_word_key__lt=high)
            | Q(first_name_word_key__gte=low, first_name_word_key__lt=high)
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

    One query (once the membership's school limits are read). 404 both
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


# A log filter names at most this many students or people by id; past it, a subquery (so
# many match that the log's newest-first walk finds a page of theirs at once).
LOG_FILTER_IDS = 500


def access_log_students(membership: Membership, text: str):
    """The students the log's "student" filter names, among those the viewer may see: the
    one whose student id is `text` (accents and case ignored), else those whose names or id
    start with its words (student_name_matches). A list of at most LOG_FILTER_IDS ids, or
    a subquery when more match. One query, two when no student id matches."""
    from core.search import fold

    visible = students_visible_to(membership).order_by()
    text = text.replace("\x00", "").strip()
    exact = list(
        visible.filter(local_id_key=fold(text)[:64], local_id__iexact=text).values_list(
            "pk", flat=True
        )
    )
    if exact:
        return exact
    named = visible.filter(student_name_matches(text, limit=8))
    return _ids_or_subquery(named.values_list("pk", flat=True))


def access_log_people(membership: Membership, text: str):
    """The people the log's "person" filter names: members of the viewer's district (active
    or not) whose email address contains `text`; never a user of another district. A list
    of at most LOG_FILTER_IDS user ids, or a subquery when more match. One query."""
    members = Membership.objects.for_district(membership.district_id).filter(
        user__email__icontains=text.replace("\x00", "").strip()
    )
    return _ids_or_subquery(members.order_by().values_list("user_id", flat=True).distinct())


def _ids_or_subquery(ids):
    found = list(ids[: LOG_FILTER_IDS + 1])
    return found if len(found) <= LOG_FILTER_IDS else ids


def access_log_search(
    membership: Membership, *, student: str = "", person: str = "", since=None, until=None
):
    """The district's access log, newest first (at, then id), with who and which student.

    `student` names students (access_log_students: within the district, visible to the
    viewer) and `person` members of the district (access_log_people): both are resolved
    first and the log filtered by their ids, which its (district, student, at) and
    (district, user, at) indexes serve; a join filtered by name made PostgreSQL walk the
    whole log newest first, probing each row's student (825 ms at a million rows).
    `since`/`until` are aware datetimes (until exclusive). A school-limited viewer sees
    the rows about its schools' students and rows about no student.
    """
    from django.db.models import Q

    entries = AccessLog.objects.for_district(membership.district_id).select_related(
        "user", "student", "membership", "contact__partner"
    )
    if student:
        # Only students the viewer may see: the school limit is in there.
        entries = entries.filter(student_id__in=access_log_students(membership, student))
    else:
        allowed = limited_school_ids(membership)
        if allowed is not None:
            entries = entries.filter(Q(student=None) | Q(student__school_id__in=allowed))
    if person:
        entries = entries.filter(user_id__in=access_log_people(membership, person))
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
