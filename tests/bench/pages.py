"""What `manage.py bench` measures: the key pages (PAGES) and the background jobs (JOBS).

Each later capability extends the benchmark with its own pages and jobs, here:

- a page: append a `Page(name, role, url, htmx=False)` to PAGES. `role` is the role that
  uses the page (the seeded `<role>@<slug>.bench.test` person signs in); `url(site)`
  returns the path and query for one district, built with `reverse()` from ids found in
  that district's rows. Write a finder for an id as a function of the site decorated with
  `@lookup` (run once per district, inside its row-level-security context, as the
  runtime role) and call it from `url`. `htmx=True` sends `HX-Request` (a fragment, as
  typed in a search box). The page is requested in the largest and in a small district.
- a job: append a `Job(name, run, prepare=None)`. `run(site)` is timed in the benchmark's
  own process, in the largest district's context and in a transaction rolled back at the
  end (a job may write; nothing stays); `prepare(site)`, untimed, builds its input first.
  Call the function the worker or the service calls, not a view.

For example, a referral page (the rows it needs come from a seed builder, see
tests/bench/seed/__init__.py):

    @lookup
    def referral_with_events(site):
        return Referral.objects.for_district(site.district).order_by("-updated_at").first()

    PAGES.append(
        Page("referral page", "counselor",
             lambda s: _path("referral_detail", s, referral_with_events(s).pk))
    )
"""

from __future__ import annotations

import collections
import csv
import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from tests.bench.seed import bench_email
from tests.bench.seed.base import LARGE_SLUG, SMALL_SLUG

LARGE, SMALL = LARGE_SLUG, SMALL_SLUG  # the measured districts: the largest, and a small one
ROSTER_ROWS = 10_000


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # admin, coordinator, counselor, partner or viewer
    url: Callable[[Site], str]
    htmx: bool = False  # sent as htmx does for a fragment (search as typed)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Site], object]
    prepare: Callable[[Site], object] | None = None


@dataclass
class Site:
    """One district as the benchmark sees it: its row, its seeded people, found ids."""

    district: object
    found: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.district.slug

    def user(self, role: str):
        from schools.models import User

        return User.objects.get(email__iexact=bench_email(role, self.slug))

    def member(self, role: str):
        from schools.models import Membership

        return (
            Membership.objects.for_district(self.district)
            .select_related("district", "user")
            .get(user=self.user(role), active=True)
        )


def lookup(finder: Callable[[Site], object]):
    """A value the pages need, found once per district (the runner calls it inside the
    district's context)."""

    @functools.wraps(finder)
    def cached(site: Site):
        if finder not in site.found:
            site.found[finder] = finder(site)
        return site.found[finder]

    return cached


def _path(name: str, site: Site, *args, **query) -> str:
    url = reverse(name, args=[site.slug, *args])
    query = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


# --- Ids found in each district ----------------------------------------------------------------


@lookup
def student_with_access_log(site: Site):
    """The counselor's student whose page was opened last (it has access-log rows)."""
    from schools.models import AccessLog, Student
    from schools.selectors import students_visible_to

    visible = students_visible_to(site.member("counselor"))
    entry = (
        AccessLog.objects.for_district(site.district)
        .filter(student__in=visible.values("pk"))
        .order_by("-at")
        .values_list("student_id", flat=True)
        .first()
    )
    if entry is None:
        student = visible.order_by("pk").first()
    else:
        student = Student.objects.for_district(site.district).get(pk=entry)
    if student is None:
        raise LookupError(f"{site.slug} has no student the counselor may see")
    return student


@lookup
def student_in_the_log(site: Site):
    """Another student with access-log rows, the most recently viewed one that the student
    page does not open: the benchmark adds no rows about it, so every run (and the EXPLAIN
    made after the run) filters the log by the same rows."""
    from schools.models import AccessLog, Student

    opened = student_with_access_log(site).pk
    entry = (
        AccessLog.objects.for_district(site.district)
        .filter(student__isnull=False)
        .exclude(student_id=opened)
        .order_by("-at")
        .values_list("student_id", flat=True)
        .first()
    )
    if entry is None:
        return student_with_access_log(site)
    return Student.objects.for_district(site.district).get(pk=entry)


@lookup
def last_student_page(site: Site) -> str:
    """The cursor of the Next link to the page before the last of the counselor's student
    list (50 a page): keyset pages (core.pagination) are reached by their cursor."""
    from core.pagination import cursor_after
    from schools.selectors import student_search

    students = student_search(site.member("counselor"))
    count = students.count()
    return cursor_after(students, name="student_list", position=max(1, count - 100))


@lookup
def logged_person(site: Site) -> str:
    """The email of the person who opened a student page last (the access-log filter)."""
    from schools.models import AccessLog

    email = (
        AccessLog.objects.for_district(site.district)
        .order_by("-at")
        .values_list("user__email", flat=True)
        .first()
    )
    return email or site.user("counselor").email


@lookup
def member_search_word(site: Site) -> str:
    """The start of a member's surname, as typed in the members' search (a member other
    than the benchmark's sign-in accounts when there is one)."""
    from schools.models import Membership

    named = (
        Membership.objects.for_district(site.district)
        .select_related("user")
        .exclude(user__full_name="")
    )
    name = (
        named.exclude(user__email__iendswith=".bench.test").order_by("pk").first()
        or named.order_by("pk").first()
    )
    return name.user.full_name.split()[-1][:5].lower() if name else "coord"


@lookup
def partner_with_mous(site: Site):
    from partnerships.models import MOU, Partner

    row = (
        MOU.objects.for_district(site.district)
        .values("partner_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "partner_id")
        .first()
    )
    partners = Partner.objects.for_district(site.district)
    partner = partners.get(pk=row["partner_id"]) if row else partners.order_by("pk").first()
    if partner is None:
        raise LookupError(f"{site.slug} has no partner")
    return partner


@lookup
def mou_with_versions(site: Site):
    from partnerships.models import MOU, MOUVersion

    row = (
        MOUVersion.objects.for_district(site.district)
        .values("mou_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "mou_id")
        .first()
    )
    if row is None:
        raise LookupError(f"{site.slug} has no MOU with a version")
    return MOU.objects.for_district(site.district).select_related("partner").get(pk=row["mou_id"])


@lookup
def common_mou_status(site: Site) -> str:
    from partnerships.models import MOU

    row = (
        MOU.objects.for_district(site.district)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by("-n", "status")
        .first()
    )
    return row["status"] if row else "active"


@lookup
def directory_word(site: Site) -> str:
    """A word that many partner names share (what someone would type in the directory)."""
    from partnerships.models import Partner

    names = (
        Partner.objects.for_district(site.district).order_by("pk").values_list("name", flat=True)
    )
    words = collections.Counter(
        word.lower() for name in names[:500] for word in re.findall(r"[A-Za-z]{5,}", name)
    )
    return words.most_common(1)[0][0] if words else "family"


@lookup
def directory_filters(site: Site) -> dict:
    """The most offered service category and a language partners speak (Spanish if any)."""
    from partnerships.models import Service
    from partnerships.selectors.directory import directory_languages

    row = (
        Service.objects.for_district(site.district)
        .values("category")
        .annotate(n=Count("pk"))
        .order_by("-n", "category")
        .first()
    )
    languages = directory_languages(site.district)
    language = "es" if "es" in languages else (languages[0] if languages else "")
    return {"category": row["category"] if row else "", "language": language}


# --- Referral logging (issue 13, engineer "logging") ----------------------------------------------


@lookup
def student_to_refer(site: Site):
    """An enrolled student the counselor may refer (the first by id)."""
    from schools.selectors import students_visible_to

    student = (
        students_visible_to(site.member("counselor")).filter(active=True).order_by("pk").first()
    )
    if student is None:
        raise LookupError(f"{site.slug} has no student the counselor may refer")
    return student


@lookup
def referral_search_word(site: Site) -> str:
    """The first four letters of the surname most common among the counselor's students:
    what matches the most rows when typed in the referral form's student search."""
    from schools.selectors import students_visible_to

    names = (
        students_visible_to(site.member("counselor"))
        .filter(active=True)
        .order_by("pk")
        .values_list("last_name", flat=True)[:2000]
    )
    starts = collections.Counter(name[:4].lower() for name in names if len(name) >= 4)
    return starts.most_common(1)[0][0] if starts else "mart"


def _suggestions_path(site: Site) -> str:
    return _path(
        "referral_suggestions",
        site,
        student=student_to_refer(site).pk,
        services=directory_filters(site)["category"],
        family_language="es",
        payment="medicaid",
        telehealth_ok="on",
    )


# --- Pages ---------------------------------------------------------------------------------------

PAGES: list[Page] = [
    Page("student list", "counselor", lambda s: _path("student_list", s)),
    Page(
        "student list, page near the end",
        "counselor",
        lambda s: _path("student_list", s, cursor=last_student_page(s)),
    ),
    Page(
        "student search as typed: mart",
        "counselor",
        lambda s: _path("student_list", s, q="mart"),
        htmx=True,
    ),
    Page(
        "student search as typed: m",  # one letter: many matches (issue 16)
        "counselor",
        lambda s: _path("student_list", s, q="m"),
        htmx=True,
    ),
    Page(
        "student search as typed: martinez",
        "counselor",
        lambda s: _path("student_list", s, q="martinez"),
        htmx=True,
    ),
    Page(
        "student page",
        "counselor",
        lambda s: _path("student_detail", s, student_with_access_log(s).pk),
    ),
    Page("members", "admin", lambda s: _path("people_list", s)),
    Page("members search", "admin", lambda s: _path("people_list", s, q=member_search_word(s))),
    Page("access log", "admin", lambda s: _path("access_log", s)),
    Page(
        "access log, by student",
        "admin",
        lambda s: _path("access_log", s, student=student_in_the_log(s).local_id),
    ),
    Page(
        "access log, by person", "admin", lambda s: _path("access_log", s, person=logged_person(s))
    ),
    Page("directory", "coordinator", lambda s: _path("partner_list", s)),
    Page(
        "directory search as typed",
        "coordinator",
        lambda s: _path("partner_list", s, q=directory_word(s)),
        htmx=True,
    ),
    Page(
        "directory, service and language",
        "coordinator",
        lambda s: _path("partner_list", s, **directory_filters(s)),
    ),
    Page(
        "partner page", "coordinator", lambda s: _path("partner_detail", s, partner_with_mous(s).pk)
    ),
    Page("MOU list", "coordinator", lambda s: _path("mou_list", s)),
    Page(
        "MOU list, by status",
        "coordinator",
        lambda s: _path("mou_list", s, status=common_mou_status(s)),
    ),
    Page("MOU page", "coordinator", lambda s: _path("mou_detail", s, mou_with_versions(s).pk)),
    Page("coverage map", "coordinator", lambda s: _path("partner_coverage", s)),
    Page("funding", "coordinator", lambda s: _path("funding_list", s)),
    # The meeting form: a thousand partners, contacts and people as pickers (issue 19).
    Page("meeting form", "coordinator", lambda s: _path("meeting_new", s)),
    Page(
        "meeting form: partner search as typed",
        "coordinator",
        lambda s: _path("meeting_pick", s, field="partners", partners_q="family"),
        htmx=True,
    ),
    # Referral logging (issue 13): the student picker as typed, and the partner suggestions.
    Page(
        "referral: student search as typed",
        "counselor",
        lambda s: _path("referral_student_search", s, q=referral_search_word(s)),
        htmx=True,
    ),
    Page("referral: partner suggestions", "counselor", _suggestions_path, htmx=True),
    # Referral lists (issue 14, engineer "helperb"): 100,000 referrals in the large district,
    # the list under 100 ms with the same number of queries as in the small one.
    Page("referral list", "counselor", lambda s: _path("referral_list", s)),
    Page(
        "referral list: filtered",
        "counselor",
        lambda s: _path(
            "referral_list",
            s,
            status="sent",
            urgency="urgent",
            concern="anxiety",
            sort="-referred_on",
        ),
    ),
    Page(
        "referral list: filtered as picked",
        "counselor",
        lambda s: _path("referral_list", s, status="accepted", concern="anxiety", sort="partner"),
        htmx=True,
    ),
    Page("referral list: overdue", "counselor", lambda s: _path("referral_list", s, overdue=1)),
    Page(
        "referral list: my caseload",
        "counselor",
        lambda s: _path("referral_list", s, view="caseload"),
    ),
]


# --- Jobs ----------------------------------------------------------------------------------------


class _Upload(io.BytesIO):
    """An uploaded file as the roster service reads it."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name
        self.size = len(data)


@lookup
def roster_file(site: Site) -> bytes:
    """ROSTER_ROWS new students spread over the district's schools (Trellis layout)."""
    from schools.models import School
    from tests.bench.bench_roster_import import SIMPLE_HEADER

    schools = list(
        School.objects.for_district(site.district).order_by("pk").values_list("name", flat=True)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SIMPLE_HEADER)
    for n in range(ROSTER_ROWS):
        writer.writerow(
            [
                f"BENCHJOB{n:07d}",
                f"First{n}",
                f"Last{n}",
                "",
                f"20{10 + n % 8:02d}-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                str(n % 12 + 1),
                schools[n % len(schools)],
                f"Guardian {n}",
                f"family{n}@example.org",
                "555-0100",
                "English",
            ]
        )
    return out.getvalue().encode()


def roster_import(site: Site) -> None:
    """Upload (parse + preview) and confirm, as the coordinator does."""
    from schools.services.students import roster_import_confirm, roster_import_create

    by = site.member("coordinator")
    preview = roster_import_create(by=by, uploaded_file=_Upload(roster_file(site), "bench.csv"))
    if not preview.can_confirm or preview.new_count != ROSTER_ROWS:
        raise AssertionError(
            f"roster preview: {preview.new_count} new, {preview.error_total} errors "
            f"(first: {preview.errors[:1]})"
        )
    roster_import_confirm(by=by, roster_import=preview)


def mou_pdf(site: Site) -> None:
    """The PDF of the MOU with the most versions, its latest version (what the worker's
    `render_mou_pdf` renders, without the queue row around it)."""
    from partnerships.models import MOUVersion
    from partnerships.services.documents import mou_version_pdf

    version = (
        MOUVersion.objects.for_district(site.district)
        .filter(mou=mou_with_versions(site))
        .order_by("-number")
        .first()
    )
    mou_version_pdf(version, district=site.district, language=site.district.default_language)


def hsds_export(site: Site) -> None:
    from partnerships.services.hsds import hsds_export as export

    export(site.district)


@lookup
def hsds_package(site: Site) -> bytes:
    """The district's directory as an HSDS package (what the export writes)."""
    from partnerships.services.hsds import hsds_export as export

    return export(site.district)


def hsds_import_own(site: Site) -> None:
    """The district's own export imported again, as a coordinator does after editing it in a
    spreadsheet: every organization, service, contact and link read, checked and matched
    to its partner, and the unchanged rows saved again (the largest district: 1,000
    organizations and 135,000 rows in all, most of them service areas)."""
    from partnerships.services.hsds import hsds_import

    plan = hsds_import(by=site.member("coordinator"), data=hsds_package(site), filename="own.zip")
    if not plan.importable:
        raise AssertionError("the district's own export imported nothing")


REMINDERS_DUE = 10_000


def reminders_due(site: Site) -> None:
    """REMINDERS_DUE reminders due now in the district (one meeting, 100 contacts, 100
    daily dates), then the minute sweep claims them all and hands each to the broker, as
    beat's sweep does (issue 18: under 60 s on one worker). The rows are made in the timed
    transaction (bulk inserts, a second or two) because the job's writes are rolled back;
    the messages go to a queue of their own, emptied afterwards, so no worker sends them."""
    import datetime

    from django.utils import timezone

    from config.celery import app
    from partnerships.models import Attendee, Contact, Meeting, Partner, Reminder
    from partnerships.services import reminders

    now = timezone.now()
    district = site.district
    partner = Partner.objects.for_district(district).order_by("pk").first()
    meeting = Meeting.objects.create(
        district=district,
        title="Bench daily check-in",
        organizer=site.member("coordinator"),
        starts_at=now + datetime.timedelta(hours=2),
        ends_at=now + datetime.timedelta(hours=3),
        recurrence="FREQ=DAILY;COUNT=100",
        reminder_offsets=[60],
    )
    contacts = Contact.objects.bulk_create(
        Contact(district=district, partner=partner, name=f"Bench {n}", email=f"b{n}@x.test")
        for n in range(100)
    )
    attendees = Attendee.objects.bulk_create(
        Attendee(district=district, meeting=meeting, contact=contact) for contact in contacts
    )
    Reminder.objects.bulk_create(
        Reminder(
            district=district,
            meeting=meeting,
            attendee=attendee,
            occurrence_start=meeting.starts_at + datetime.timedelta(days=day),
            offset_minutes=60,
            due_at=now - datetime.timedelta(seconds=30),
        )
        for attendee in attendees
        for day in range(REMINDERS_DUE // len(attendees))
    )
    type(district).objects.filter(pk=district.pk).update(next_reminder_at=now)
    queue = "bench-reminders"

    def publish(task, *args):
        task.apply_async(args=args, queue=queue)
        return True

    original = reminders.enqueue
    reminders.enqueue = publish
    try:
        claimed = 0
        while True:
            counts = reminders.reminder_sweep(now=now)
            claimed += counts["claimed"]
            if not counts["claimed"]:
                break
    finally:
        reminders.enqueue = original
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    if claimed != REMINDERS_DUE:
        raise AssertionError(f"claimed {claimed} of {REMINDERS_DUE} reminders")


JOBS: list[Job] = [
    Job(f"roster import, {ROSTER_ROWS:,} new rows", roster_import, prepare=roster_file),
    Job("MOU PDF", mou_pdf, prepare=mou_with_versions),
    Job("HSDS export", hsds_export),
    Job("HSDS import, the district's own export", hsds_import_own, prepare=hsds_package),
    Job(f"reminder sweep, {REMINDERS_DUE:,} due", reminders_due),
]
