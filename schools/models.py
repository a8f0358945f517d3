"""The tenant (District) and its people.

Every tenant-owned model inherits TenantModel: it carries `district`, leads its
constraints and indexes with it, and is read through queryset methods that take the
district or the viewer's membership.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pghistory
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase
from timezone_field import TimeZoneField

from core.languages import validate_language_code
from core.search import Fold, LastWord

# field -> {stored value: its label (lazy)}, for get_<field>_display().
_CHOICE_LABELS: dict[models.Field, dict] = {}


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        """get_<field>_display(), as Django's, from a dict made once per field: Django's
        makes it on every call, hashing every label, which translates each one. The lists
        show a status or two per row; across the benchmark's pages that was a fifteenth
        of the time (issue 19). The label is translated when asked, as before."""
        labels = _CHOICE_LABELS.get(field)
        if labels is None:
            labels = _CHOICE_LABELS[field] = {
                make_hashable(value): label for value, label in field.flatchoices
            }
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


# --- People ------------------------------------------------------------------------------


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with their email address; belongs to districts through Membership."""

    email = models.EmailField(_("email address"), max_length=254)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Platform staff (the Django admin), never a district role.
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # The district opened last, so the next sign-in lands there; never used for scoping.
    last_district_slug = models.SlugField(max_length=64, blank=True)
    # The name folded (accents and case aside, core.search), written by PostgreSQL with the
    # row: what the members search and the meeting form's people picker read (folding a
    # large district's two thousand names on each request would cost tens of milliseconds).
    name_key = models.GeneratedField(
        expression=Fold("full_name"),
        output_field=models.TextField(db_collation="C"),
        db_persist=True,
        editable=False,
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name.split() or [self.email])[0]


# --- Tenant ------------------------------------------------------------------------------


# Kept for migration 0001; District.time_zone is now a TimeZoneField, whose choices are
# the known zones.
def validate_time_zone(value) -> None:
    if str(value) not in zoneinfo.available_timezones():
        raise ValidationError(_("%(zone)s is not a known time zone."), params={"zone": value})


# First path segments that belong to the product, never to a district.
RESERVED_SLUGS = frozenset(
    {"accounts", "admin", "dev", "healthz", "i18n", "invitations", "media", "p", "static"}
)


def validate_district_slug(value: str) -> None:
    if value.lower() in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved; choose another."), params={"slug": value})


DEFAULT_CRISIS_PROTOCOL = _(
    "If a student is in immediate danger, call 911. For a mental health crisis, call or "
    "text 988, the Suicide and Crisis Lifeline, with the student, and stay with them until "
    "help arrives. Tell your school's crisis team lead and the family at once, following "
    "your school's crisis plan. Then record the referral here."
)


class District(TimeStampedModel):
    """The tenant. Created by platform staff in the Django admin."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("web address"), max_length=64, unique=True, validators=[validate_district_slug]
    )
    # A ZoneInfo in Python (its key in the database); only known zones are accepted.
    time_zone = TimeZoneField(_("time zone"), max_length=64, default="America/New_York")
    default_language = models.CharField(
        _("default language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    # Policy. Administrators always need MFA; this extends it to every role.
    mfa_required = models.BooleanField(
        _("require two-factor authentication for everyone"), default=False
    )
    # Age from which a student may consent to mental health care on their own (state
    # law: e.g. California 12, Washington 13). 18 means no minor consents alone.
    student_self_consent_age = models.PositiveSmallIntegerField(
        _("student self-consent age"),
        default=18,
        validators=[MinValueValidator(10), MaxValueValidator(18)],
    )
    # A partner listing not verified for this many days is flagged as stale.
    directory_freshness_days = models.PositiveSmallIntegerField(
        _("directory freshness (days)"),
        default=180,
        validators=[MinValueValidator(7), MaxValueValidator(1095)],
    )
    referral_response_days = models.PositiveSmallIntegerField(
        _("referral response time (business days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # What staff must do in a mental health emergency, shown before an emergency referral
    # is logged (Trellis does not replace a call). Blank: the product's general text.
    crisis_protocol = models.TextField(_("crisis protocol (English)"), blank=True)
    crisis_protocol_es = models.TextField(_("crisis protocol (Spanish)"), blank=True)
    # The earliest planned meeting reminder of the district (NULL: none planned). Kept
    # beside the reminders, which are under row-level security, so that the minute sweep
    # finds the districts with something due in one indexed query over every district
    # (partnerships.services.reminders).
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                condition=models.Q(next_reminder_at__isnull=False),
                name="district_next_reminder_idx",
            )
        ]

    def __str__(self):
        return self.name

    def now(self) -> datetime.datetime:
        """The time now on the district's clock."""
        return timezone.localtime(timezone=self.time_zone)

    def today(self) -> datetime.date:
        """The date now in the district's zone: its day, not the server's or UTC's."""
        return timezone.localdate(timezone=self.time_zone)

    @property
    def is_demo(self) -> bool:
        """A demo district (settings.DEMO_DISTRICTS, set only by `./trellis run`): its
        administrators sign in without two-factor authentication, and its pages say so."""
        return self.slug in settings.DEMO_DISTRICTS

    def crisis_protocol_text(self, language: str | None = None) -> str:
        """The district's crisis protocol in `language` (the active one by default): the
        Spanish text for Spanish readers when there is one, else the English; the product's
        general text when the district has written none."""
        language = (language or translation.get_language() or "en").split("-")[0]
        own = self.crisis_protocol_es if language == "es" else ""
        own = (own or self.crisis_protocol).strip()
        if own:
            return own
        with translation.override(language):
            return str(DEFAULT_CRISIS_PROTOCOL)


class TenantQuerySet(models.QuerySet):
    def for_district(self, district: District | int):
        """The rows of one district (a District or its id): the one way to scope a query.

        None is refused rather than read as "no district" (`district_id IS NULL`), so a
        missing district fails loudly instead of quietly matching nothing.
        """
        district_id = district.pk if isinstance(district, District) else district
        if district_id is None:
            raise TypeError("for_district() needs a saved district or a district id, not None")
        return self.filter(district_id=district_id)


class TenantModel(TimeStampedModel):
    """Base of every district-owned row."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class ClosedDay(TenantModel):
    """A weekday the district is closed (a holiday, a break, a snow day): not a business day
    for the referral response time (core.business_days). Kept by administrators."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["district", "date"], name="closed_day_unique"),
        ]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Grade(models.TextChoices):
    PK = "PK", _("Pre-kindergarten")
    K = "KG", _("Kindergarten")
    G1 = "01", _("Grade 1")
    G2 = "02", _("Grade 2")
    G3 = "03", _("Grade 3")
    G4 = "04", _("Grade 4")
    G5 = "05", _("Grade 5")
    G6 = "06", _("Grade 6")
    G7 = "07", _("Grade 7")
    G8 = "08", _("Grade 8")
    G9 = "09", _("Grade 9")
    G10 = "10", _("Grade 10")
    G11 = "11", _("Grade 11")
    G12 = "12", _("Grade 12")


GRADE_ORDER = [value for value, _label in Grade.choices]


class School(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    lowest_grade = models.CharField(
        _("lowest grade"), max_length=2, choices=Grade.choices, default=Grade.K
    )
    highest_grade = models.CharField(
        _("highest grade"), max_length=2, choices=Grade.choices, default=Grade.G12
    )
    state_id = models.CharField(_("state school id"), max_length=32, blank=True)
    nces_id = models.CharField(_("NCES id"), max_length=12, blank=True)
    # The school's id in the student information system (OneRoster orgs.csv sourcedId):
    # roster imports match users.csv orgSourcedIds against it, then against state_id.
    sis_id = models.CharField(_("SIS id"), max_length=64, blank=True)
    # Set when the district closes the school: it keeps its students and referrals, and is
    # shown as closed on the schools page. Blank: open.
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="school_name_unique"),
        ]

    def __str__(self):
        return self.name

    @property
    def grades(self) -> list[str]:
        low, high = GRADE_ORDER.index(self.lowest_grade), GRADE_ORDER.index(self.highest_grade)
        return GRADE_ORDER[low : high + 1]


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    COUNSELOR = "counselor", _("Counselor")
    PARTNER = "partner", _("Partner")
    VIEWER = "viewer", _("Viewer")


class MembershipQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(active=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Membership(TenantModel):
    """A person's role in one district."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)
    # Empty: every school of the district. Otherwise only these schools' students.
    schools = models.ManyToManyField(
        School,
        through="MembershipSchool",
        blank=True,
        related_name="+",
        verbose_name=_("limited to schools"),
    )
    # Set for the partner role only: the organization whose referrals this person sees.
    partner = models.ForeignKey(
        "partnerships.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("partner organization"),
    )
    crisis_responder = models.BooleanField(_("crisis responder"), default=False)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["district", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role="partner", partner__isnull=False)
                | (~models.Q(role="partner") & models.Q(partner__isnull=True)),
                name="membership_partner_iff_partner_role",
            ),
        ]
        indexes = [models.Index(fields=["user", "active"], name="membership_user_idx")]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.district_id})"

    @property
    def sees_students(self) -> bool:
        return self.role in (Role.ADMIN, Role.COORDINATOR, Role.COUNSELOR, Role.PARTNER)

    @property
    def needs_mfa(self) -> bool:
        # A demo district (never a real one: see settings.DEMO_DISTRICTS) lets everyone in.
        if self.district.is_demo:
            return False
        return self.role == Role.ADMIN or self.district.mfa_required


class MembershipSchool(TenantModel):
    """A school a membership is limited to (explicit so it carries district_id)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "membership", "school"], name="membership_school_unique"
            ),
        ]

    def __str__(self):
        return f"{self.membership_id} → {self.school_id}"


# --- Students ----------------------------------------------------------------------------


def _prefix_key(field: str, max_length: int) -> models.GeneratedField:
    """A folded copy of a name column (accents stripped, case folded: core.search.fold) in
    the "C" collation, kept by PostgreSQL.

    Prefix search compares it with plain `>=` and `<`: those operators are leakproof, so
    under row-level security PostgreSQL still uses the (district, key) index, which it
    cannot do for LIKE or for lower()/upper() (not leakproof).
    """
    return models.GeneratedField(
        expression=Fold(field),
        output_field=models.CharField(max_length=max_length, db_collation="C"),
        db_persist=True,
        editable=False,
    )


def _last_word_key(field: str) -> models.GeneratedField:
    """The last word of a folded name of several words ("lopez" of "García López"), NULL
    for a one-word name (core.search.LastWord): "lopez" finds "García López" by prefix,
    through its own (district, key) index."""
    return models.GeneratedField(
        expression=LastWord(Fold(field)),
        output_field=models.CharField(max_length=100, db_collation="C"),
        db_persist=True,
        editable=False,
    )


# The prefix keys are derived columns: history keeps the names they come from.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=[
        "last_name_key",
        "first_name_key",
        "preferred_name_key",
        "local_id_key",
        "last_name_word_key",
        "first_name_word_key",
    ],
)
class Student(TenantModel):
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="students", verbose_name=_("school")
    )
    local_id = models.CharField(_("student id"), max_length=64)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    # NULL: not recorded (OneRoster 1.1 users.csv carries no birth date).
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=2, choices=Grade.choices)
    guardian_name = models.CharField(_("parent or guardian"), max_length=200, blank=True)
    guardian_email = models.EmailField(_("guardian email"), blank=True)
    guardian_phone = models.CharField(_("guardian phone"), max_length=32, blank=True)
    # Language the family reads, as an ISO 639 code (core/languages.py): letters and consent
    # forms are sent in it. 35 wide, not CODE_MAX: the history table keeps the names
    # rosters wrote before languages were codes.
    family_language = models.CharField(
        _("family language"), max_length=35, blank=True, validators=[validate_language_code]
    )
    # What a roster had written, when the move to codes (migration 0011) found no language
    # in it ("Other", a misspelling): kept for a person to read and correct, not dropped.
    # Blank otherwise; a roster import that gives the family language clears it.
    family_language_unrecognized = models.CharField(
        _("family language as written"), max_length=35, blank=True, default="", db_default=""
    )
    active = models.BooleanField(_("enrolled"), default=True)
    last_name_key = _prefix_key("last_name", 100)
    first_name_key = _prefix_key("first_name", 100)
    preferred_name_key = _prefix_key("preferred_name", 100)
    local_id_key = _prefix_key("local_id", 64)
    last_name_word_key = _last_word_key("last_name")
    first_name_word_key = _last_word_key("first_name")

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "local_id"], name="student_local_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["district", "school", "last_name"], name="student_school_idx"),
            models.Index(fields=["district", "last_name", "first_name"], name="student_name_idx"),
            models.Index(fields=["district", "last_name_key"], name="student_last_key_idx"),
            models.Index(fields=["district", "first_name_key"], name="student_first_key_idx"),
            models.Index(fields=["district", "preferred_name_key"], name="student_pref_key_idx"),
            models.Index(fields=["district", "local_id_key"], name="student_local_key_idx"),
            models.Index(
                fields=["district", "last_name_word_key"],
                name="student_last_word_idx",
                condition=models.Q(last_name_word_key__isnull=False),
            ),
            models.Index(
                fields=["district", "first_name_word_key"],
                name="student_first_word_idx",
                condition=models.Q(first_name_word_key__isnull=False),
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"


class StudentUserObjectPermission(UserObjectPermissionBase):
    """Object grants on one student (direct foreign key: the generic table does not scale).

    Carries the student's district, like every table that points at tenant rows: it is
    under row-level security, and its key to the student is (district_id, student id).
    """

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    content_object = models.ForeignKey(Student, on_delete=models.CASCADE)

    def save(self, *args, **kwargs):
        # guardian's assign_perm() creates grants with (user, permission, object) only:
        # the district is the student's, never a caller's choice.
        if self.district_id is None and self.content_object_id is not None:
            self.district_id = self.content_object.district_id
        super().save(*args, **kwargs)


class RosterImport(TenantModel):
    """An uploaded roster file, parsed and previewed, waiting for confirmation.

    Nothing reaches Student until the uploader confirms; the parsed rows wait here.
    Confirming queues the import for the `reports` queue, where it is written in one
    transaction (or not at all: then it is "failed", with the reason).
    `rows` is cleared once the import is done or cancelled (no second copy of the roster).
    """

    class Layout(models.TextChoices):
        SIMPLE = "simple", _("Trellis roster")
        ONEROSTER = "oneroster", _("OneRoster 1.1 users.csv")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        QUEUED = "queued", _("Being imported")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Not imported")
        CANCELLED = "cancelled", _("Canceled")

    uploaded_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    layout = models.CharField(_("layout"), max_length=16, choices=Layout.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Student fields the file carries; an update leaves the others as they are.
    fields = models.JSONField(default=list)
    # Valid rows, each a list in the order of `fields` plus "row" (see services.roster).
    rows = models.JSONField(default=list)
    # Every problem: [row number, column, code, value, extra] (see services.roster).
    errors = models.JSONField(default=list)
    error_total = models.PositiveIntegerField(default=0)  # errors may be capped; this is not
    error_rows = models.PositiveIntegerField(default=0)
    # Columns of the file that are not used, shown as a notice.
    ignored_columns = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    # OneRoster rows of other roles (teachers, parents...), not imported.
    skipped_rows = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    # A few rows to be created or updated, shown on the preview.
    sample = models.JSONField(default=list)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    # Who confirmed it (the import runs as them, in the background) and when; NULL until then.
    confirmed_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Why a confirmed import failed: an English message, translated where it is shown.
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        indexes = [
            models.Index(fields=["district", "created_at"], name="rosterimport_created_idx"),
            # The sweep's one query: this district's confirmed imports still queued.
            models.Index(
                fields=["district", "updated_at"],
                condition=models.Q(status="queued"),
                name="rosterimport_queued_idx",
            ),
        ]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def can_confirm(self) -> bool:
        return self.is_pending and self.error_total == 0 and self.total_rows > 0

    @property
    def is_under_way(self) -> bool:
        """Confirmed and waiting for (or in) the worker: its progress page polls."""
        return self.status == self.Status.QUEUED


# --- Invitations -------------------------------------------------------------------------


class Invitation(TenantModel):
    """An administrator's invitation of a person into a role; the emailed link accepts it."""

    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    school_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    partner = models.ForeignKey(
        "partnerships.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    crisis_responder = models.BooleanField(default=False)
    invited_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Random part of the link, compared in constant time; the link is also signed.
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["district", "email"], name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} ({self.get_role_display()})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


# --- Access log --------------------------------------------------------------------------


class AccessLog(TenantModel):
    """Who opened, exported or printed which student-identifiable page. Append-only.

    The runtime role may INSERT and SELECT this table, never UPDATE or DELETE it.
    """

    append_only = True

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        PRINT = "print", _("Printed")

    # A member (and their user), or a partner's contact reading a referral from the signed
    # link the intake email carried (no account; issue 14).
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    contact = models.ForeignKey(
        "partnerships.Contact", on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.VIEW)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    # The student the page identifies (NULL for pages about no single student).
    student = models.ForeignKey(Student, on_delete=models.PROTECT, null=True, related_name="+")
    path = models.CharField(max_length=500)
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["district", "student", "at"], name="accesslog_student_idx"),
            models.Index(fields=["district", "user", "at"], name="accesslog_user_idx"),
            models.Index(fields=["district", "at"], name="accesslog_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(membership__isnull=False) & models.Q(user__isnull=False))
                | models.Q(contact__isnull=False),
                name="accesslog_has_reader",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.action} {self.object_type} {self.object_id} at {self.at}"


# --- Audit trail -------------------------------------------------------------------------


class AuditEvent(TenantModel):
    """Who changed people's access in a district, or what platform staff changed in the
    Django admin that concerns it. Append-only, like the access log.

    The runtime role may INSERT and SELECT this table, never UPDATE or DELETE it.
    """

    append_only = True

    class Action(models.TextChoices):
        ROLE_CHANGED = "role_changed", _("Role changed")
        SCHOOLS_CHANGED = "schools_changed", _("Schools changed")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")
        INVITED = "invited", _("Invited")
        INVITATION_WITHDRAWN = "invitation_withdrawn", _("Invitation withdrawn")
        STAFF_ADDED = "staff_added", _("Added by platform staff")
        STAFF_CHANGED = "staff_changed", _("Changed by platform staff")
        STAFF_DELETED = "staff_deleted", _("Deleted by platform staff")
        # The district's settings and schools, kept by its administrators (issue 15).
        SETTINGS_CHANGED = "settings_changed", _("District settings changed")
        SCHOOL_ADDED = "school_added", _("School added")
        SCHOOL_CHANGED = "school_changed", _("School changed")
        SCHOOL_CLOSED = "school_closed", _("School closed")
        SCHOOL_REOPENED = "school_reopened", _("School reopened")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    # NULL: platform staff acting in the Django admin, who hold no membership here.
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    # Copied when written (a name, an email address), so the trail reads the same after
    # the object changes or goes, and the page needs no query per row.
    object_repr = models.CharField(_("about"), max_length=200)
    # What changed, as data rendered in the reader's language (see services/audit.py).
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at"]
        indexes = [models.Index(fields=["district", "at"], name="auditevent_at_idx")]

    def __str__(self):
        return f"{self.user_id} {self.action} {self.object_type} {self.object_id} at {self.at}"

    @property
    def object_label(self) -> str:
        """The kind of object, in the reader's language ("membership", "school")."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type

    def _field_label(self, name) -> str:
        """A field of the object, named in the reader's language (the name itself if unknown)."""
        from django.apps import apps
        from django.core.exceptions import FieldDoesNotExist

        try:
            return str(apps.get_model(self.object_type)._meta.get_field(name).verbose_name)
        except (LookupError, ValueError, FieldDoesNotExist, TypeError):
            return str(name)

    @property
    def description(self) -> str:
        """What changed, in the reader's language (from `detail`; no query)."""
        import json

        def role(value):
            return Role(value).label if value in Role.values else value

        detail = self.detail if isinstance(self.detail, dict) else {}
        parts = []
        if "role" in detail and isinstance(detail["role"], list):
            old, new = detail["role"]
            parts.append(_("from %(old)s to %(new)s") % {"old": role(old), "new": role(new)})
        elif "role" in detail:
            parts.append(_("as %(role)s") % {"role": role(detail["role"])})
        if "partner" in detail:
            old, new = detail["partner"]
            parts.append(
                _("organization: %(old)s → %(new)s") % {"old": old or "—", "new": new or "—"}
            )
        if "crisis_responder" in detail:
            parts.append(
                _("now a crisis responder")
                if detail["crisis_responder"][1]
                else _("no longer a crisis responder")
            )
        if "schools" in detail:
            schools = detail["schools"]
            parts.append(
                _("limited to %(schools)s") % {"schools": ", ".join(schools)}
                if schools
                else _("every school")
            )
        if "fields" in detail and isinstance(detail["fields"], list):
            parts.append(
                _("changed: %(fields)s")
                % {"fields": ", ".join(self._field_label(name) for name in detail["fields"])}
            )
        if detail.get("admin"):
            from django.contrib.admin.models import LogEntry

            message = detail["admin"]
            if not isinstance(message, str):
                message = json.dumps(message)
            parts.append(LogEntry(change_message=message).get_change_message())
        return "; ".join(str(part) for part in parts)


# --- Mail --------------------------------------------------------------------------------


class OutgoingEmail(TimeStampedModel):
    """One message to send. The row is the source of truth; the task carries only its id.

    Its life (schools.services.email): queued -> sending (committed, with the row's own
    Message-ID, before the mail server is handed the message) -> sent, or failed with the
    reason. A transient failure (the mail server unreachable) puts it back in the queue
    with a later `due_at`, within a retry budget; a worker that died while sending leaves
    it in "sending", and the sweep sends it again with the same Message-ID and counts that
    in `resends`. Bodies are cleared once sent: they can hold one-time links.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")

    class Failure(models.TextChoices):
        """Why a message ended "failed", in words for the people who sent it."""

        NO_RECIPIENT = "no_recipient", _("No valid email address to send it to")
        REFUSED = "refused", _("The mail server refused the address")
        REJECTED = "rejected", _("The mail server rejected the message")
        INVALID = "invalid", _("The message could not be written")
        UNREACHABLE = "unreachable", _("The mail server could not be reached in time")
        INTERRUPTED = "interrupted", _("Sending was interrupted too many times")

    to = models.JSONField(default=list)
    # Addresses the caller gave that are not addresses at all: left out when queued, kept
    # here so that the people who sent it see who did not get it.
    refused = models.JSONField(default=list, blank=True)
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Extra headers, name -> value (List-Unsubscribe and List-Unsubscribe-Post, RFC 8058,
    # on mail to partner contacts). Cleared once sent, as the bodies: they hold the link.
    headers = models.JSONField(default=dict, blank=True)
    # Files sent with the message, [{"filename", "mimetype", "content"}] with text content
    # (a calendar invitation). Cleared once sent, as the bodies.
    attachments = models.JSONField(default=list, blank=True)
    # Fixed when queued: a resend after a crash carries the same one, so mail programs
    # that collapse duplicates show the message once.
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # When the next attempt may start: now when queued, later after a transient failure.
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sent again after a worker stopped between handing it over and recording it.
    resends = models.PositiveSmallIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=12, choices=Failure.choices, blank=True)
    # The technical reason of the last failure (the exception), for whoever investigates.
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="outgoing_email_status_idx"),
            models.Index(fields=["status", "due_at"], name="outgoing_email_due_idx"),
        ]

    def __str__(self):
        to = self.to if isinstance(self.to, list) else [str(self.to)]
        return f"{self.subject} → {', '.join(map(str, to))}"


class DistrictEmail(TenantModel):
    """Which district a message was written for: the district's people see its delivery
    (and retry it when it failed) without the outbox itself being a tenant table, since
    sign-in mail (password reset) belongs to no district."""

    email = models.OneToOneField(
        OutgoingEmail, on_delete=models.CASCADE, related_name="district_link"
    )

    class Meta:
        indexes = [models.Index(fields=["district", "created_at"], name="district_email_idx")]

    def __str__(self):
        return str(self.email)
