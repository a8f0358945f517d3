"""Partners, what they offer, the agreements (MOUs) with them, funding and stories.

The directory follows the Open Referral Human Services Data Specification (HSDS 3):
Partner ~ organization (+ its location), Service ~ service, Contact ~ contact.
Every model is a tenant model under row-level security (migration 0005).
"""

from __future__ import annotations

import datetime
from itertools import chain

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.languages import CODE_MAX, validate_language_code
from core.search import Fold, searchable
from schools.models import Membership, School, TenantModel

# --- Vocabularies --------------------------------------------------------------------------


class PartnerKind(models.TextChoices):
    MENTAL_HEALTH = "mental_health", _("Licensed mental health provider")
    SOCIAL_SERVICES = "social_services", _("Social services")
    HEALTHCARE = "healthcare", _("Healthcare")
    YOUTH = "youth", _("Youth development or mentoring")
    FAITH_CULTURAL = "faith_cultural", _("Faith-based or cultural center")
    OTHER = "other", _("Other")


class DeliveryMode(models.TextChoices):
    ON_SITE = "on_site", _("On site at school")
    TELEHEALTH = "telehealth", _("Telehealth")
    AT_PARTNER = "at_partner", _("At the partner's location")


class Payment(models.TextChoices):
    MEDICAID = "medicaid", _("Medicaid")
    PRIVATE = "private", _("Private insurance")
    SLIDING_SCALE = "sliding_scale", _("Sliding scale")
    FREE = "free", _("Free")


class Intake(models.TextChoices):
    ACCEPTING = "accepting", _("Accepting referrals")
    WAITLIST = "waitlist", _("Waitlist")
    CLOSED = "closed", _("Not accepting")


# The shipped service taxonomy; a district adds its own as ServiceCategory rows.
SERVICE_TAXONOMY: list[tuple[str, str]] = [
    ("counselling_individual", _("Counseling, individual")),
    ("counselling_group", _("Counseling, group")),
    ("therapy", _("Therapy")),
    ("crisis_intervention", _("Crisis intervention")),
    ("psychiatric_care", _("Psychiatric care and medication management")),
    ("substance_use", _("Substance use")),
    ("food_assistance", _("Food assistance")),
    ("housing", _("Housing")),
    ("emergency_aid", _("Emergency aid")),
    ("health_screening", _("Health screening")),
    ("mentoring", _("Mentoring")),
    ("after_school", _("After-school programs")),
    ("peer_support", _("Peer support")),
    ("family_support", _("Family support")),
    ("cultural_liaison", _("Cultural liaison")),
    ("other", _("Other")),
]


class ContactRole(models.TextChoices):
    INTAKE = "intake", _("Intake")
    LEADERSHIP = "leadership", _("Leadership")
    BILLING = "billing", _("Billing")


# --- Directory -----------------------------------------------------------------------------


# search_text and search_vector are derived (from the partner and its services): history
# keeps their sources.
@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["search_text", "search_vector", "name_key", "synced_values"],
)
class Partner(TenantModel):
    """A community organization the district works with (HSDS organization + location)."""

    # What a form's choice of partners reads (queryset.only()): the rest of a partner (its
    # description, search text, synced values) cost most of a form with a thousand of them.
    CHOICE_FIELDS = ("id", "district_id", "name")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=PartnerKind.choices, default=PartnerKind.OTHER
    )
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=32, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    schools = models.ManyToManyField(
        School,
        through="PartnerSchool",
        blank=True,
        related_name="+",
        verbose_name=_("schools served"),
    )
    # Languages services are offered in, as ISO 639 codes ("es", "vi"; core/languages.py),
    # shown by name in the reader's language. Each stays 40 wide: the history table keeps
    # the names written before languages were codes (migration 0009).
    languages = ArrayField(
        models.CharField(max_length=40, validators=[validate_language_code]),
        default=list,
        blank=True,
        verbose_name=_("languages"),
    )
    delivery_modes = ArrayField(
        models.CharField(max_length=12, choices=DeliveryMode.choices),
        default=list,
        blank=True,
        verbose_name=_("delivery modes"),
    )
    payments = ArrayField(
        models.CharField(max_length=16, choices=Payment.choices),
        default=list,
        blank=True,
        verbose_name=_("fees and insurance accepted"),
    )
    min_age = models.PositiveSmallIntegerField(_("youngest age served"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("oldest age served"), null=True, blank=True)
    eligibility = models.TextField(_("other eligibility"), blank=True)
    intake = models.CharField(
        _("referrals"), max_length=10, choices=Intake.choices, default=Intake.ACCEPTING
    )
    # Open places for new students; NULL when the partner does not say.
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    # Who verified: a person's name (a partner contact confirms without an account).
    last_verified_by = models.CharField(_("verified by"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # What directory search matches: the name, description and services' names and
    # descriptions, accents and case folded and British spellings made US
    # (core.search.searchable). Kept by save() and, for service changes and rows written
    # in bulk, by Partner.refresh_search().
    search_text = models.TextField(editable=False, blank=True, default="", db_default="")
    # search_text's words for full-text search ('simple': no stemming), written by
    # PostgreSQL with the row: a search reads them instead of computing them for each of
    # the district's partners on every request.
    search_vector = models.GeneratedField(
        expression=SearchVector("search_text", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # The name folded (accents and case aside, core.search), written by PostgreSQL with the
    # row: what a picker of partners by name reads (folding a thousand names on each
    # request took 47 ms).
    name_key = models.GeneratedField(
        expression=Fold("name"),
        output_field=models.TextField(db_collation="C"),
        db_persist=True,
        editable=False,
    )
    # Where a listing imported from another directory came from (a regional 211, another
    # district's export: the package's title) and its id there, so that a newer version of
    # the same package updates it (partnerships/services/hsds.py). Empty for a partner
    # made in Trellis.
    hsds_source = models.CharField(
        _("listing source"), max_length=200, blank=True, default="", db_default=""
    )
    hsds_id = models.CharField(
        _("id in the source"), max_length=200, blank=True, default="", db_default=""
    )
    synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    # The listing as the source gave it at the last sync: a field that differs from it now
    # was changed in Trellis since, and a sync never overwrites it without asking.
    synced_values = models.JSONField(
        default=dict, blank=True, editable=False, db_default=models.Value({}, models.JSONField())
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="partner_name_unique"),
            models.UniqueConstraint(
                fields=["district", "hsds_source", "hsds_id"],
                condition=~models.Q(hsds_id=""),
                name="partner_source_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(min_age__lte=models.F("max_age")),
                name="partner_age_range",
            ),
        ]
        indexes = [models.Index(fields=["district", "intake"], name="partner_intake_idx")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"name", "description"} & set(update_fields):
            services = []
            if self.pk is not None:
                services = Service.objects.for_district(self.district_id).filter(partner_id=self.pk)
                services = services.values_list("name", "description")
            self.search_text = searchable(self.name, self.description, *chain(*services))
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @classmethod
    def refresh_search(cls, district_id, partner_ids=None) -> None:
        """Rewrite search_text of the district's partners (those of `partner_ids`, or all):
        after their services change, or rows written in bulk. Three queries at most."""
        partners = cls.objects.for_district(district_id)
        if partner_ids is not None:
            partners = partners.filter(pk__in=list(partner_ids))
        partners = list(partners.only("id", "district_id", "name", "description", "search_text"))
        texts: dict[int, list[str]] = {partner.pk: [] for partner in partners}
        services = Service.objects.for_district(district_id).filter(partner_id__in=list(texts))
        for partner_id, name, description in services.values_list(
            "partner_id", "name", "description"
        ):
            texts[partner_id] += [name, description]
        changed = []
        for partner in partners:
            text = searchable(partner.name, partner.description, *texts[partner.pk])
            if text != partner.search_text:
                partner.search_text = text
                changed.append(partner)
        cls.objects.for_district(district_id).bulk_update(changed, ["search_text"], batch_size=500)

    def is_stale(self, days: int, now: datetime.datetime | None = None) -> bool:
        """Not verified within `days` (the district's freshness setting)."""
        if self.last_verified_at is None:
            return True
        return (now or timezone.now()) - self.last_verified_at > datetime.timedelta(days=days)


class PartnerSchool(TenantModel):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "partner", "school"], name="partner_school_unique"
            ),
        ]

    def __str__(self):
        return f"{self.partner_id} @ {self.school_id}"


class ServiceCategory(TenantModel):
    """A category the district adds to the shipped taxonomy (SERVICE_TAXONOMY)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="service_category_unique"),
        ]

    def __str__(self):
        return self.name


class Service(TenantModel):
    """A service a partner offers (HSDS service), in one taxonomy category."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="services")
    # A SERVICE_TAXONOMY code, or a ServiceCategory.code of the district.
    category = models.CharField(_("category"), max_length=40)
    name = models.CharField(_("name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    # Its id in the directory its partner was imported from (Partner.hsds_source); empty
    # for a service added in Trellis, which a sync never removes.
    hsds_id = models.CharField(
        _("id in the source"), max_length=200, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category", "name"]
        indexes = [models.Index(fields=["district", "category"], name="service_category_idx")]

    def __str__(self):
        return self.name or self.category

    # The partner's search_text includes its services: kept in step with every change.
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Partner.refresh_search(self.district_id, [self.partner_id])

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        Partner.refresh_search(self.district_id, [self.partner_id])
        return result


class Contact(TenantModel):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # An ISO 639 code (core/languages.py); mail is written in it when Trellis speaks it.
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=CODE_MAX,
        blank=True,
        validators=[validate_language_code],
    )
    roles = ArrayField(
        models.CharField(max_length=12, choices=ContactRole.choices),
        default=list,
        blank=True,
        verbose_name=_("roles"),
    )
    reminders = models.BooleanField(_("receives meeting reminders"), default=False)
    # Set by the signed unsubscribe link in our mail; such a contact gets no more mail.
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    # When the mail server refused this address while sending to it (a meeting email):
    # shown to the coordinator until the address is changed.
    email_refused_at = models.DateTimeField(_("address refused"), null=True, blank=True)
    # As Service.hsds_id: its id in the directory its partner was imported from.
    hsds_id = models.CharField(
        _("id in the source"), max_length=200, blank=True, default="", db_default=""
    )
    # The name and email address folded, written by PostgreSQL with the row: what a picker
    # of contacts reads (as Partner.name_key).
    search_key = models.GeneratedField(
        expression=Fold(Concat("name", Value(" "), "email", output_field=models.TextField())),
        output_field=models.TextField(db_collation="C"),
        db_persist=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]

    def __str__(self):
        return self.name


# --- MOUs ----------------------------------------------------------------------------------


class MOUStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    INTERNAL_REVIEW = "internal_review", _("In internal review")
    SENT = "sent", _("Sent to partner")
    PARTNER_SIGNED = "partner_signed", _("Signed by partner")
    ACTIVE = "active", _("Active")
    EXPIRING = "expiring", _("Expiring")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


# Allowed transitions: MOU.can_transition_to refuses anything else, and what a person may do
# with an MOU now (partnerships.mou_rules.mou_allowed_actions) is computed from them.
MOU_TRANSITIONS: dict[str, set[str]] = {
    MOUStatus.DRAFT: {MOUStatus.INTERNAL_REVIEW},
    MOUStatus.INTERNAL_REVIEW: {MOUStatus.DRAFT, MOUStatus.SENT},
    MOUStatus.SENT: {MOUStatus.DRAFT, MOUStatus.PARTNER_SIGNED},
    MOUStatus.PARTNER_SIGNED: {MOUStatus.ACTIVE, MOUStatus.DRAFT},
    MOUStatus.ACTIVE: {MOUStatus.EXPIRING, MOUStatus.EXPIRED, MOUStatus.TERMINATED},
    MOUStatus.EXPIRING: {MOUStatus.EXPIRED, MOUStatus.TERMINATED, MOUStatus.ACTIVE},
    MOUStatus.EXPIRED: set(),
    MOUStatus.TERMINATED: set(),
}


class MOUTemplate(TenantModel):
    """A district's starting text for new MOUs; placeholders like {district} and {partner}."""

    name = models.CharField(_("name"), max_length=200)
    sections = models.JSONField(_("sections"), default=dict)

    class Meta:
        verbose_name = _("MOU template")
        verbose_name_plural = _("MOU templates")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="mou_template_unique"),
        ]

    def __str__(self):
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class MOU(TenantModel):
    """An agreement with one partner. Its text lives in numbered versions."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="mous")
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=MOUStatus.choices, default=MOUStatus.DRAFT
    )
    schools = models.ManyToManyField(
        School, through="MOUSchool", blank=True, related_name="+", verbose_name=_("schools covered")
    )
    services = ArrayField(
        models.CharField(max_length=40), default=list, blank=True, verbose_name=_("services")
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # Business days within which referrals to this partner get a response.
    response_days = models.PositiveSmallIntegerField(
        _("referral response time (business days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # Fields of student records the partner may receive (FERPA minimum necessary).
    shared_fields = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        verbose_name=_("data fields shared"),
    )
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    terminated_reason = models.TextField(_("reason for termination"), blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    # The one language the document is written in, chosen when drafted (the district's by
    # default): its text, section labels and PDF read in it whatever the reader's language.
    language = models.CharField(
        _("language of the document"), max_length=8, choices=settings.LANGUAGES, default="en"
    )

    class Meta:
        verbose_name = _("MOU")
        verbose_name_plural = _("MOUs")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["district", "status", "end_date"], name="mou_status_end_idx"),
            models.Index(fields=["district", "partner"], name="mou_partner_idx"),
            # The MOU list, newest change first: its page of 50 read in order, no sort of
            # the district's MOUs (partnerships.selectors.mous.mou_list).
            models.Index(fields=["district", "-updated_at", "-id"], name="mou_list_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__isnull=True)
                | models.Q(end_date__isnull=True)
                | models.Q(start_date__lte=models.F("end_date")),
                name="mou_term_order",
            ),
        ]

    def __str__(self):
        return self.title

    def can_transition_to(self, status: str) -> bool:
        return status in MOU_TRANSITIONS.get(self.status, set())


class MOUSchool(TenantModel):
    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["district", "mou", "school"], name="mou_school_unique"),
        ]

    def __str__(self):
        return f"{self.mou_id} @ {self.school_id}"


class MOUVersion(TenantModel):
    """One saved state of an MOU's text. A signed version never changes."""

    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sections = models.JSONField(default=dict)  # section key -> text
    # The structured terms as they stood in this version (schools, services, dates...).
    terms = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)  # set at the first signature
    # When this version was first sent to the partner; NULL: never sent (still internal to
    # the district). Partners read only versions sent to them (or signed).
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mou", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "mou", "number"], name="mou_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.mou_id} v{self.number}"


class MOUSignature(TenantModel):
    """A signature on an exact version: who, as what, when, from where."""

    append_only = True

    class Party(models.TextChoices):
        PARTNER = "partner", _("Partner")
        DISTRICT = "district", _("District")

    version = models.ForeignKey(MOUVersion, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(max_length=8, choices=Party.choices)
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True)
    # The signer's membership when signed in; NULL when signed through an emailed link.
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "version", "party"], name="mou_signature_once_per_party"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.party}) v{self.version_id}"


class MOUComment(TenantModel):
    """A review note: an administrator returning a draft, or a partner's comment."""

    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="comments")
    version = models.ForeignKey(MOUVersion, on_delete=models.CASCADE, related_name="+")
    author_name = models.CharField(max_length=200)
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"))

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.author_name}: {self.body[:40]}"


class MOUDocument(TenantModel):
    """A PDF of one version, rendered in the `reports` queue and kept in the database."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    version = models.ForeignKey(MOUVersion, on_delete=models.CASCADE, related_name="documents")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    pdf = models.BinaryField(null=True, editable=False)
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The language the PDF is written in: a render is reused for the same version and
    # language. Blank on rows made before it was recorded (they are not reused).
    language = models.CharField(max_length=16, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="mou_document_status_idx")]

    def __str__(self):
        return f"PDF of {self.version_id} ({self.status})"


class MOURenewalNotice(TenantModel):
    """Claims one renewal email (60 or 30 days before the end): unique, so sent once."""

    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="+")
    days_before = models.PositiveSmallIntegerField()
    end_date = models.DateField()  # the end date the notice was about (a renewal resets it)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "mou", "end_date", "days_before"],
                name="mou_renewal_notice_once",
            ),
        ]

    def __str__(self):
        return f"{self.mou_id} −{self.days_before}d"


class Goal(TenantModel):
    """A measurable goal of an MOU: what, target, unit, period."""

    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(_("goal"), max_length=300)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=60)
    period = models.CharField(_("period"), max_length=60)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.description


class GoalProgress(TenantModel):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField(_("date"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.goal_id}: {self.value} on {self.date}"


# --- Funding and stories -------------------------------------------------------------------


class FundingKind(models.TextChoices):
    GRANT = "grant", _("Grant")
    DISTRICT_BUDGET = "district_budget", _("District budget")
    DONATION = "donation", _("Donation")
    IN_KIND = "in_kind", _("In-kind or shared resource")
    BILLING = "billing", _("Medicaid or insurance billing")
    OTHER = "other", _("Other")


class FundingSource(TenantModel):
    kind = models.CharField(_("kind"), max_length=16, choices=FundingKind.choices)
    funder = models.CharField(_("funder"), max_length=200)
    amount = models.DecimalField(
        _("amount (USD)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    restrictions = models.TextField(_("restrictions"), blank=True)
    partners = models.ManyToManyField(
        Partner, through="FundingPartner", blank=True, related_name="+"
    )
    mous = models.ManyToManyField(MOU, through="FundingMOU", blank=True, related_name="+")

    class Meta:
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__lte=models.F("end_date")),
                name="funding_period_order",
            ),
        ]

    def __str__(self):
        return f"{self.funder} ({self.get_kind_display()})"


class FundingPartner(TenantModel):
    funding = models.ForeignKey(FundingSource, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "funding", "partner"], name="funding_partner_unique"
            ),
        ]

    def __str__(self):
        return f"{self.funding_id} → {self.partner_id}"


class FundingMOU(TenantModel):
    funding = models.ForeignKey(FundingSource, on_delete=models.CASCADE, related_name="+")
    mou = models.ForeignKey(MOU, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "funding", "mou"], name="funding_mou_unique"
            ),
        ]

    def __str__(self):
        return f"{self.funding_id} → {self.mou_id}"


class SuccessStory(TenantModel):
    """A story for newsletters and reports; publishable only after consent and review."""

    title = models.CharField(_("title"), max_length=200)
    story = models.TextField(_("story"))
    partner = models.ForeignKey(
        Partner, on_delete=models.SET_NULL, null=True, blank=True, related_name="stories"
    )
    school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    date = models.DateField(_("date"))
    consent_given_by = models.CharField(
        _("consent to publish given by"), max_length=200, blank=True
    )
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("de-identification reviewed"), null=True, blank=True)
    publishable = models.BooleanField(_("publishable"), default=False)

    class Meta:
        verbose_name = _("success story")
        verbose_name_plural = _("success stories")
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(publishable=False)
                | (models.Q(consent_at__isnull=False) & models.Q(reviewed_at__isnull=False)),
                name="story_publishable_needs_consent_and_review",
            ),
        ]

    def __str__(self):
        return self.title


# --- Meetings and HSDS exports (partnerships/models/meetings.py, exports.py) -----------------

from partnerships.models.exports import DirectoryExport  # noqa: E402, F401
from partnerships.models.meetings import (  # noqa: E402, F401
    DEFAULT_REMINDER_OFFSETS,
    ActionDigest,
    ActionItem,
    ActionStatus,
    Attendee,
    CalendarFeed,
    Meeting,
    MeetingEmail,
    MeetingEmailKind,
    MeetingKind,
    MeetingOccurrence,
    MeetingPartner,
    MeetingSchool,
    Reminder,
    ReminderStatus,
    Response,
)
