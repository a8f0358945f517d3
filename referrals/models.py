"""Referrals to partners, the consents that allow them to identify a student, and the log
of every disclosure (FERPA 34 CFR 99.30, 99.32, 99.36; RULES.md, "Consent to disclose").

Every model is a tenant model under row-level security (migration 0001). Consents, their
revocations, verbal agreements, emergency overrides and disclosures are append-only: the
runtime role may insert and read them, never update or delete them (config/db.py). A
consent stops counting when a ConsentRevocation row names it, never by being changed.
"""

from __future__ import annotations

import datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.languages import CODE_MAX
from partnerships.models import Partner
from referrals.rules import (
    THREAT_MIN_CHARS,
    ConsenterKind,
    ConsentMethod,
    ConsentRule,
    Urgency,
)
from schools.models import Membership, School, Student, TenantModel


class ConcernCategory(TenantModel):
    """A concern the district adds to the shipped taxonomy (rules.CONCERN_TAXONOMY)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("concern category")
        verbose_name_plural = _("concern categories")
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="concern_category_unique"),
        ]

    def __str__(self):
        return self.name


# --- Referral -------------------------------------------------------------------------------


class ReferralStatus(models.TextChoices):
    """The loop (issue 14): draft -> sent -> accepted | declined -> scheduled -> in service
    -> closed; a missed first appointment returns a scheduled referral to accepted. The
    school withdraws it at any step before it closes. referrals.loop.TRANSITIONS is the
    one list of the moves allowed."""

    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    SCHEDULED = "scheduled", _("Appointment scheduled")
    IN_SERVICE = "in_service", _("In service")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Waiting for someone: the school (draft) or the partner (every other open step).
OPEN_STATUSES = frozenset(
    {
        ReferralStatus.DRAFT,
        ReferralStatus.SENT,
        ReferralStatus.ACCEPTED,
        ReferralStatus.SCHEDULED,
        ReferralStatus.IN_SERVICE,
    }
)
# Sent to the partner and not ended: what a partner sees and acts on.
WITH_PARTNER_STATUSES = frozenset(
    {
        ReferralStatus.SENT,
        ReferralStatus.ACCEPTED,
        ReferralStatus.SCHEDULED,
        ReferralStatus.IN_SERVICE,
    }
)
# Every status a referral can have once it has been sent (the partner's history).
SENT_STATUSES = WITH_PARTNER_STATUSES | {ReferralStatus.DECLINED, ReferralStatus.CLOSED}


class DeclineReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", _("No capacity")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    SERVICE_NOT_OFFERED = "not_offered", _("Service not offered")
    FAMILY_UNREACHABLE = "unreachable", _("Family unreachable")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    COMPLETED = "completed", _("Service completed")
    FAMILY_DECLINED = "family_declined", _("Family declined")
    UNABLE_TO_REACH = "unable_to_reach", _("Unable to reach")
    TRANSFERRED = "transferred", _("Transferred")
    MOVED = "moved", _("Moved")
    OTHER = "other", _("Other")


# What the referral list's filters compare besides the status (see Referral.Meta.indexes).
LIST_FILTER_COLUMNS = ["school", "urgency", "concerns", "partner", "owner"]


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Referral(TenantModel):
    """A school's request that a partner serve one student.

    What reaches the partner is the referral's service details (concerns, urgency, services,
    language, payment, availability) and only those of the student's identifiable fields
    listed in `shared_fields`, each covered by a consent or by an emergency override.
    `confidential_notes` never leave the referring school's care team.
    """

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("student")
    )
    # The student's school when referred (a student may change schools later).
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    referred_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("referred by")
    )
    # The district's date when the referral was made (not the server's or UTC's).
    referred_on = models.DateField(_("referred on"))
    # rules.CONCERN_TAXONOMY codes and the district's ConcernCategory codes.
    concerns = ArrayField(
        models.CharField(max_length=40), default=list, blank=True, verbose_name=_("concerns")
    )
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    # Service category codes: partnerships.SERVICE_TAXONOMY and the district's own.
    services = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        verbose_name=_("services requested"),
    )
    # An ISO 639 code ("es", "hmn", "es-MX"); blank: not recorded.
    family_language = models.CharField(
        _("family's preferred language"), max_length=CODE_MAX, blank=True
    )
    interpreter_needed = models.BooleanField(_("interpreter needed"), default=False)
    # rules.PAYMENT_CHOICES codes.
    payment = ArrayField(
        models.CharField(max_length=16),
        default=list,
        blank=True,
        verbose_name=_("how the family pays"),
    )
    availability = models.TextField(_("availability"), blank=True)
    telehealth_ok = models.BooleanField(_("telehealth is acceptable"), default=False)
    # NULL while drafting: chosen before the referral is sent.
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("receiving partner"),
    )
    # Identifiable field codes (rules.IDENTIFIABLE_FIELDS) the referral carries to the
    # partner. Empty: a de-identified consultation, which needs no consent.
    shared_fields = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        verbose_name=_("student information shared"),
    )
    confidential_notes = models.TextField(_("confidential notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Chosen by the form when it is shown: submitting it twice makes one referral.
    submission_key = models.UUIDField(_("submission key"), editable=False)

    # --- The loop (issue 14) ---
    # The member who sees the referral through (the referrer at first; reassigned when they
    # leave). Their caseload.
    owner = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("counselor responsible"),
    )
    # The last business day on which the partner answers in time (set when sent, from the
    # MOU's response time or the district's, skipping weekends and closed days).
    response_due_on = models.DateField(_("answer due by"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decline_reason = models.CharField(
        _("reason declined"), max_length=12, choices=DeclineReason.choices, blank=True
    )
    # The next (first) appointment's date, the district's calendar.
    appointment_on = models.DateField(_("appointment"), null=True, blank=True)
    # The date the first appointment was kept.
    first_appointment_on = models.DateField(_("first appointment kept"), null=True, blank=True)
    no_shows = models.PositiveSmallIntegerField(_("missed appointments"), default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    # The declined referral this one sends again, to another partner.
    resent_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resent_as",
        verbose_name=_("sent again from"),
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "submission_key"], name="referral_submission_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[ReferralStatus.DRAFT, ReferralStatus.WITHDRAWN])
                | (models.Q(partner__isnull=False) & models.Q(sent_at__isnull=False)),
                name="referral_sent_has_partner",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.DECLINED) | ~models.Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.CLOSED)
                | (~models.Q(outcome="") & models.Q(closed_at__isnull=False)),
                name="referral_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.SCHEDULED)
                | models.Q(appointment_on__isnull=False),
                name="referral_scheduled_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "student", "referred_on"], name="referral_student_idx"
            ),
            # The list (referrals/selectors.py referral_list): newest first, read backwards,
            # and with a status chosen. Each includes what the list's filters compare, so
            # that a filtered list's count and page are index-only scans: with only the
            # keys, each match was a visit to the table, and the rows of a status are
            # spread over all of it (issue 19: 49 ms for a count became 3 ms).
            models.Index(
                fields=["district", "referred_on", "created_at", "id"],
                include=["status", *LIST_FILTER_COLUMNS],
                name="referral_list_idx",
            ),
            models.Index(
                fields=["district", "status", "referred_on", "created_at", "id"],
                include=LIST_FILTER_COLUMNS,
                name="referral_status_idx",
            ),
            models.Index(fields=["district", "partner", "status"], name="referral_partner_idx"),
            models.Index(fields=["district", "owner", "status"], name="referral_owner_idx"),
            models.Index(fields=["district", "status", "response_due_on"], name="referral_due_idx"),
        ]

    def __str__(self):
        return f"R-{self.pk}"

    @property
    def reference(self) -> str:
        """The number people quote (in mail, on the phone): no student data in it."""
        return f"R-{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == ReferralStatus.DRAFT

    @property
    def is_consultation(self) -> bool:
        """De-identified: carries none of the student's identifiable fields."""
        return not self.shared_fields

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: datetime.date) -> bool:
        """Sent, not answered, and past the last business day of the response time."""
        return (
            self.status == ReferralStatus.SENT
            and self.response_due_on is not None
            and today > self.response_due_on
        )


# --- Consent --------------------------------------------------------------------------------


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # The form itself stays in one place: history records who and when, not a second copy.
    exclude=["form"],
)
class Consent(TenantModel):
    """A signed and dated consent to disclose named records to one partner for a purpose
    (34 CFR 99.30). Append-only; a ConsentRevocation ends it."""

    append_only = True

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="consents", verbose_name=_("student")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="consents", verbose_name=_("partner")
    )
    # Identifiable field codes (rules.IDENTIFIABLE_FIELDS) the consent allows to disclose.
    fields = ArrayField(models.CharField(max_length=40), verbose_name=_("records"))
    purpose = models.TextField(_("purpose"))
    consenter_kind = models.CharField(
        _("consent given by"), max_length=10, choices=ConsenterKind.choices
    )
    consenter_name = models.CharField(_("name of the person who consented"), max_length=200)
    rule = models.CharField(_("rule applied"), max_length=12, choices=ConsentRule.choices)
    # The age threshold the rule applied (18, or the district's self-consent age then);
    # NULL for a guardian, who may always consent.
    rule_age = models.PositiveSmallIntegerField(_("age applied"), null=True, blank=True)
    method = models.CharField(_("how it was signed"), max_length=12, choices=ConsentMethod.choices)
    # For a form: noon, district time, of the date written on it.
    signed_at = models.DateTimeField(_("signed"))
    # The last day on which it allows a disclosure (the district's date).
    valid_until = models.DateField(_("valid until"))
    # NULL: signed electronically by the consenter themselves.
    recorded_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # Electronic signing (99.30(d)): how the signer was identified and authenticated.
    # Blank for an uploaded form.
    verified_address = models.EmailField(_("verified email address"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    # The signed form, kept in the database so that it stays under row-level security.
    # Checked by content (PDF, JPEG or PNG) and size when uploaded; NULL when electronic.
    form = models.BinaryField(_("signed form"), null=True, blank=True, editable=False)
    form_name = models.CharField(_("file name"), max_length=255, blank=True)
    # As the content showed it, never as the browser claimed.
    form_content_type = models.CharField(_("file type"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(consenter_kind=ConsenterKind.GUARDIAN, rule=ConsentRule.GUARDIAN)
                    & models.Q(rule_age__isnull=True)
                )
                | (
                    models.Q(consenter_kind=ConsenterKind.STUDENT)
                    & models.Q(rule__in=[ConsentRule.ADULT, ConsentRule.SELF_CONSENT])
                    & models.Q(rule_age__isnull=False)
                ),
                name="consent_rule_matches_consenter",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(method=ConsentMethod.SIGNED_FORM)
                    & models.Q(form__isnull=False)
                    & models.Q(recorded_by__isnull=False)
                )
                | (models.Q(method=ConsentMethod.ELECTRONIC) & ~models.Q(verified_address="")),
                name="consent_evidence_of_signature",
            ),
            models.CheckConstraint(
                condition=models.Q(fields__len__gt=0), name="consent_names_records"
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "student", "partner", "valid_until"],
                name="consent_student_partner_idx",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return f"C-{self.pk}"


class ConsentRevocation(TenantModel):
    """The end of a consent: no disclosure relies on it from `revoked_at` on. Append-only."""

    append_only = True

    consent = models.OneToOneField(
        Consent, on_delete=models.PROTECT, related_name="revocation", verbose_name=_("consent")
    )
    revoked_at = models.DateTimeField(_("revoked"), default=timezone.now)
    recorded_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    revoked_by_name = models.CharField(_("revoked by"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    # The partner's addresses told of the revocation when it was recorded.
    notified = ArrayField(
        models.EmailField(), default=list, blank=True, verbose_name=_("partner told at")
    )

    class Meta:
        verbose_name = _("consent revocation")
        verbose_name_plural = _("consent revocations")

    def __str__(self):
        return f"{self.consent_id} revoked"


class VerbalAgreement(TenantModel):
    """A family's spoken agreement, written down as a note. It never allows a disclosure:
    FERPA asks for a signed and dated consent. Append-only."""

    append_only = True

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="+", verbose_name=_("student")
    )
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partner"),
    )
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referral"),
    )
    note = models.TextField(_("note"))
    recorded_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("verbal agreement")
        verbose_name_plural = _("verbal agreements")
        ordering = ["-at"]
        indexes = [models.Index(fields=["district", "student", "at"], name="verbal_student_idx")]

    def __str__(self):
        return f"{self.student_id} {self.at:%Y-%m-%d}"


class EmergencyOverride(TenantModel):
    """A health or safety emergency (34 CFR 99.36) that lets one referral be sent without
    consent, with the threat written down. Listed for administrators. Append-only."""

    append_only = True

    referral = models.OneToOneField(
        Referral,
        on_delete=models.PROTECT,
        related_name="emergency_override",
        verbose_name=_("referral"),
    )
    threat = models.TextField(_("the threat"))
    declared_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("declared by")
    )
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)

    class Meta:
        verbose_name = _("emergency override")
        verbose_name_plural = _("emergency overrides")
        ordering = ["-declared_at"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length(Trim("threat")), THREAT_MIN_CHARS),
                name="emergency_threat_written",
            ),
        ]
        indexes = [models.Index(fields=["district", "declared_at"], name="emergency_at_idx")]

    def __str__(self):
        return f"{self.referral_id} emergency"


class DisclosureBasis(models.TextChoices):
    CONSENT = "consent", _("Signed consent")
    EMERGENCY = "emergency", _("Health or safety emergency")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Disclosure(TenantModel):
    """One send of a student's identifiable information to a partner (34 CFR 99.32): who
    received what, when, and the consent or emergency it relied on. Append-only, kept as
    long as the student's records."""

    append_only = True

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="disclosures", verbose_name=_("student")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("partner")
    )
    # NULL: a disclosure made otherwise than by sending a referral (none yet).
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("referral"),
    )
    # Identifiable field codes disclosed.
    fields = ArrayField(models.CharField(max_length=40), verbose_name=_("records disclosed"))
    disclosed_at = models.DateTimeField(_("disclosed"), default=timezone.now)
    disclosed_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("disclosed by")
    )
    basis = models.CharField(_("basis"), max_length=10, choices=DisclosureBasis.choices)
    consent = models.ForeignKey(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("consent"),
    )
    emergency = models.ForeignKey(
        EmergencyOverride,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disclosures",
        verbose_name=_("emergency"),
    )
    # Copied when sent (the partner's name and intake addresses), so the log reads the same
    # after the directory changes.
    recipient = models.TextField(_("recipient"))
    purpose = models.TextField(_("purpose"))
    # Holds records under 42 CFR Part 2 (from a partner's substance use treatment program).
    part2 = models.BooleanField(_("42 CFR Part 2 records"), default=False)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-disclosed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(basis=DisclosureBasis.CONSENT)
                    & models.Q(consent__isnull=False)
                    & models.Q(emergency__isnull=True)
                )
                | (
                    models.Q(basis=DisclosureBasis.EMERGENCY)
                    & models.Q(emergency__isnull=False)
                    & models.Q(consent__isnull=True)
                ),
                name="disclosure_basis_named",
            ),
            models.CheckConstraint(
                condition=models.Q(fields__len__gt=0), name="disclosure_names_records"
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "student", "disclosed_at"], name="disclosure_student_idx"
            ),
            models.Index(fields=["district", "partner"], name="disclosure_partner_idx"),
        ]

    def __str__(self):
        return f"{self.student_id} → {self.partner_id} at {self.disclosed_at}"


# --- Electronic consent requests (issue 13: e-consent) --------------------------------------
# What is asked of a family and where the asking stands is mutable (ConsentRequest: pending,
# signed, cancelled; expired and locked are computed); what the family gave is final (the
# Consent row it creates, append-only). The request is the guardian's signed link's target.

# How long the emailed link works; how long a one-time code works; the caps on wrong codes
# (then the request is locked) and on codes sent for one request.
CONSENT_REQUEST_VALID_FOR = datetime.timedelta(days=14)
CONSENT_CODE_VALID_FOR = datetime.timedelta(minutes=15)
CONSENT_CODE_ATTEMPTS_MAX = 5
CONSENT_CODE_SENDS_MAX = 5


class ConsentRequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the family")
    SIGNED = "signed", _("Signed")
    CANCELLED = "cancelled", _("Withdrawn or replaced")


class ConsentRequestState(models.TextChoices):
    """What the family's page shows: the stored status, or expired / locked (computed)."""

    PENDING = "pending", _("Waiting for the family")
    SIGNED = "signed", _("Signed")
    CANCELLED = "cancelled", _("Withdrawn or replaced")
    EXPIRED = "expired", _("Expired")
    LOCKED = "locked", _("Locked: too many wrong codes")


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # A hash of a 15-minute code: history keeps who and when, not every hash.
    exclude=["code_hash"],
)
class ConsentRequest(TenantModel):
    """A request, emailed to the guardian on the student's record, to consent electronically
    to disclose named records to one partner (34 CFR 99.30(d)): the signer is identified by
    that address and authenticated by a one-time code sent to it. Signing makes one Consent
    (method "electronic") and marks the request signed, in one transaction."""

    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        related_name="consent_requests",
        verbose_name=_("student"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="+", verbose_name=_("partner")
    )
    # NULL: asked outside a referral (none yet; the page asks from a referral).
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_requests",
        verbose_name=_("referral"),
    )
    # Identifiable field codes (rules.IDENTIFIABLE_FIELDS) the consent would allow.
    fields = ArrayField(models.CharField(max_length=40), verbose_name=_("records"))
    purpose = models.TextField(_("purpose"))
    # The last day the consent, once signed, allows a disclosure (the district's date).
    valid_until = models.DateField(_("valid until"))
    consenter_kind = models.CharField(
        _("asked of"), max_length=10, choices=ConsenterKind.choices, default=ConsenterKind.GUARDIAN
    )
    # Copied from the student's record when sent: the code goes here and nowhere else, and
    # the consent records it as the address that authenticated the signer.
    sent_to = models.EmailField(_("sent to"))
    # The page's and the mail's language (the family's when Spanish, else English).
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    requested_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    # The link works until then (CONSENT_REQUEST_VALID_FOR after it was sent).
    expires_at = models.DateTimeField(_("link expires"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ConsentRequestStatus.choices,
        default=ConsentRequestStatus.PENDING,
    )
    # django.contrib.auth's hash of "<request id>:<code>"; never the code itself. Blank: no
    # code sent yet, or the request was signed (the code is spent).
    code_hash = models.CharField(_("code hash"), max_length=200, blank=True, editable=False)
    # NULL: no code sent yet.
    code_sent_at = models.DateTimeField(_("code sent"), null=True, blank=True)
    code_sends = models.PositiveSmallIntegerField(_("codes sent"), default=0)
    # Wrong codes entered, over every code of the request; at the cap it is locked.
    code_attempts = models.PositiveSmallIntegerField(_("wrong codes entered"), default=0)
    # NULL until signed.
    consent = models.OneToOneField(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_request",
        verbose_name=_("consent"),
    )
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent request")
        verbose_name_plural = _("consent requests")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status=ConsentRequestStatus.SIGNED)
                    & models.Q(consent__isnull=False)
                    & models.Q(signed_at__isnull=False)
                )
                | (
                    ~models.Q(status=ConsentRequestStatus.SIGNED)
                    & models.Q(consent__isnull=True)
                    & models.Q(signed_at__isnull=True)
                ),
                name="consent_request_signed_has_consent",
            ),
            models.CheckConstraint(
                condition=models.Q(fields__len__gt=0), name="consent_request_names_records"
            ),
            models.CheckConstraint(
                condition=~models.Q(sent_to=""), name="consent_request_has_address"
            ),
            models.CheckConstraint(
                condition=models.Q(code_attempts__lte=CONSENT_CODE_ATTEMPTS_MAX)
                & models.Q(code_sends__lte=CONSENT_CODE_SENDS_MAX),
                name="consent_request_code_caps",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "referral"], name="consent_request_referral_idx"),
            models.Index(
                fields=["district", "student", "partner", "status"],
                name="consent_request_student_idx",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return f"CR-{self.pk}"

    def state(self, now: datetime.datetime | None = None) -> str:
        """Where the request stands (ConsentRequestState): signed and cancelled are stored;
        a pending request whose address is no longer the guardian email on the student's
        record counts as cancelled (the old address must not sign); past its link's expiry,
        or when its consent would already have ended, it is expired; with
        CONSENT_CODE_ATTEMPTS_MAX wrong codes, locked. Reads the student and district."""
        if self.status != ConsentRequestStatus.PENDING:
            return self.status
        if (self.student.guardian_email or "").strip().lower() != self.sent_to.lower():
            return ConsentRequestState.CANCELLED
        now = now or timezone.now()
        if now >= self.expires_at or self.valid_until < self._district_date(now):
            return ConsentRequestState.EXPIRED
        if self.code_attempts >= CONSENT_CODE_ATTEMPTS_MAX:
            return ConsentRequestState.LOCKED
        return ConsentRequestState.PENDING

    def _district_date(self, now: datetime.datetime) -> datetime.date:
        return timezone.localtime(now, timezone=self.district.time_zone).date()

    def code_is_fresh(self, now: datetime.datetime | None = None) -> bool:
        """A code was sent and is still within CONSENT_CODE_VALID_FOR."""
        if not self.code_hash or self.code_sent_at is None:
            return False
        return (now or timezone.now()) < self.code_sent_at + CONSENT_CODE_VALID_FOR


# --- The loop's record (issue 14) -----------------------------------------------------------


class StepKind(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    SCHEDULED = "scheduled", _("Appointment scheduled")
    KEPT = "kept", _("First appointment kept")
    MISSED = "missed", _("Appointment missed")
    UPDATED = "updated", _("Update")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RESENT = "resent", _("Sent to another partner")
    REASSIGNED = "reassigned", _("Reassigned")
    REMINDED_PARTNER = "reminded_partner", _("Partner reminded: answer overdue")
    REMINDED_COUNSELOR = "reminded_counselor", _("Counselor told: answer overdue")


class ReferralStep(TenantModel):
    """One step of a referral's loop: what changed, who did it, when, and their note (the
    timeline). Append-only. Written by the loop's services only (referrals.services.loop)."""

    append_only = True

    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="steps", verbose_name=_("referral")
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=StepKind.choices)
    from_status = models.CharField(_("from"), max_length=10, blank=True)
    to_status = models.CharField(_("to"), max_length=10, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)
    # Who: a member (staff, or a signed-in partner member), or a partner's contact acting
    # from the emailed link; neither for Trellis's own reminders.
    by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    by_contact = models.ForeignKey(
        "partnerships.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by partner contact"),
    )
    note = models.TextField(_("note"), blank=True)
    # What the step recorded: {"reason": ...}, {"outcome": ...}, {"appointment_on": ISO date},
    # {"to": membership id}, {"referral": id of the referral sent again}.
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("referral step")
        verbose_name_plural = _("referral steps")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(by__isnull=True) | models.Q(by_contact__isnull=True),
                name="referral_step_one_actor",
            ),
        ]
        indexes = [models.Index(fields=["district", "referral", "at"], name="referral_step_idx")]

    def __str__(self):
        return f"{self.referral_id} {self.kind}"


class ReminderAudience(models.TextChoices):
    PARTNER = "partner", _("Partner")
    COUNSELOR = "counselor", _("Counselor")


class ReferralReminder(TenantModel):
    """Claims one overdue reminder (to the partner, then to the counselor) for the answer
    due on `due_on`: unique, so two sweeps at once still send one."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=10, choices=ReminderAudience.choices)
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "referral", "audience", "due_on"],
                name="referral_reminder_once",
            ),
        ]

    def __str__(self):
        return f"{self.referral_id} {self.audience} {self.due_on}"


# How long a partner contact's emailed link works; how long a one-time code works; the caps
# on wrong codes (then locked) and codes sent; how long a verified browser keeps access.
INTAKE_LINK_VALID_FOR = datetime.timedelta(days=30)
INTAKE_CODE_VALID_FOR = datetime.timedelta(minutes=15)
INTAKE_CODE_ATTEMPTS_MAX = 5
INTAKE_CODE_SENDS_MAX = 5
INTAKE_VERIFIED_FOR = datetime.timedelta(hours=10)


class IntakeCode(TenantModel):
    """The one-time code that lets a partner's intake contact, on the emailed link, see the
    student information the consent and the MOU allow. One row per referral and contact."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("partnerships.Contact", on_delete=models.CASCADE, related_name="+")
    # django.contrib.auth's hash of "<referral>:<contact>:<code>"; blank when none is live.
    code_hash = models.CharField(max_length=200, blank=True, editable=False)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_sends = models.PositiveSmallIntegerField(default=0)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "referral", "contact"], name="intake_code_once"
            ),
        ]

    def __str__(self):
        return f"{self.referral_id} {self.contact_id}"


# --- Requests for help (issue 14) -----------------------------------------------------------


class AskerKind(models.TextChoices):
    TEACHER = "teacher", _("A teacher or school staff member")
    PARENT = "parent", _("A parent or guardian")
    STUDENT = "student", _("A student")
    OTHER = "other", _("Someone else")


class HelpRequestStatus(models.TextChoices):
    NEW = "new", _("New")
    LINKED = "linked", _("Linked to a student")
    REFERRED = "referred", _("Referral made")
    CLOSED = "closed", _("Closed")


class HelpCloseReason(models.TextChoices):
    HANDLED = "handled", _("Handled by the school")
    NO_NEED = "no_need", _("No help needed")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_A_STUDENT = "not_student", _("Not about a student of this school")
    SPAM = "spam", _("Not a real request")
    OTHER = "other", _("Other")


class HelpRequest(TenantModel):
    """A teacher's, parent's or student's request that the school's counselors help a
    student, from the school's public form (no account). It lands in the counselors'
    queue; the person who asked is told only that it was received."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    asker_kind = models.CharField(_("who is asking"), max_length=10, choices=AskerKind.choices)
    asker_name = models.CharField(_("name of the person asking"), max_length=200, blank=True)
    asker_email = models.EmailField(_("email of the person asking"), blank=True)
    asker_phone = models.CharField(_("phone of the person asking"), max_length=40, blank=True)
    # Who needs help, as the person asking wrote it (not yet linked to a record).
    student_name = models.CharField(_("student who needs help"), max_length=200, blank=True)
    message = models.TextField(_("what is happening"))
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HelpRequestStatus.choices, default=HelpRequestStatus.NEW
    )
    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("student"),
    )
    referral = models.ForeignKey(
        Referral,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referral"),
    )
    close_reason = models.CharField(
        _("reason closed"), max_length=12, choices=HelpCloseReason.choices, blank=True
    )
    close_note = models.TextField(_("note"), blank=True)
    handled_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    # When the "we received it" email was queued (once; never what followed).
    acknowledged_at = models.DateTimeField(_("receipt sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("request for help")
        verbose_name_plural = _("requests for help")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=HelpRequestStatus.CLOSED) | ~models.Q(close_reason=""),
                name="help_request_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=HelpRequestStatus.REFERRED)
                | models.Q(referral__isnull=False),
                name="help_request_referred_has_referral",
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "school", "status", "created_at"], name="help_request_idx"
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return f"H-{self.pk}"
