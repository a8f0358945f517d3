"""factory_boy factories. A second district always exists in fixtures (see fixtures.py)."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from partnerships.models import Partner
from referrals.rules import IDENTIFIABLE_FIELDS
from schools.models import District, Invitation, Membership, Role, School, Student, User
from schools.tenancy import tenant_context

PASSWORD = "correct horse battery staple"


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates rows inside their district's row-level-security context."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["district"]):
            return super()._create(model_class, *args, **kwargs)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")
    time_zone = "America/Chicago"


class SchoolFactory(TenantFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class PartnerFactory(TenantFactory):
    class Meta:
        model = Partner

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Partner organisation {n}")


class MembershipFactory(TenantFactory):
    class Meta:
        model = Membership

    district = factory.SubFactory(DistrictFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.COUNSELOR
    partner = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Role.PARTNER),
        yes_declaration=factory.SubFactory(
            PartnerFactory, district=factory.SelfAttribute("..district")
        ),
        no_declaration=None,
    )


class StudentFactory(TenantFactory):
    class Meta:
        model = Student

    district = factory.SubFactory(DistrictFactory)
    school = factory.SubFactory(SchoolFactory, district=factory.SelfAttribute("..district"))
    local_id = factory.Sequence(lambda n: f"S{100000 + n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=10, maximum_age=17)
    grade = "09"
    guardian_name = factory.Faker("name")
    guardian_email = factory.Faker("email")


class InvitationFactory(TenantFactory):
    class Meta:
        model = Invitation

    district = factory.SubFactory(DistrictFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.COUNSELOR
    nonce = factory.Faker("sha256")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class OutgoingEmailFactory(factory.django.DjangoModelFactory):
    """A message in the outbox, not sent (no worker involved): status as asked."""

    class Meta:
        model = "schools.OutgoingEmail"

    to = factory.Sequence(lambda n: [f"contact{n}@partner.example.org"])
    from_email = "Trellis <no-reply@trellis.test>"
    subject = factory.Sequence(lambda n: f"Please confirm your listing {n}")
    body_text = "Please confirm."
    message_id = factory.Sequence(lambda n: f"<{n}.test@trellis.test>")


class DistrictEmailFactory(TenantFactory):
    """A message written for a district; by default one that could not be delivered."""

    class Meta:
        model = "schools.DistrictEmail"

    district = factory.SubFactory(DistrictFactory)
    email = factory.SubFactory(
        OutgoingEmailFactory,
        status="failed",
        failure="refused",
        attempts=1,
        last_error="SMTPRecipientsRefused: 550 5.1.1 no such user",
    )


def enable_totp(user):
    """Give a person an authenticator app, as if they had enrolled (admins need one)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# --- Partnerships (issue 4): MOUs, versions, signatures, documents, funding, stories --------
# Models named as "app.Model" strings: no import of partnerships here beyond Partner.


class ContactFactory(TenantFactory):
    class Meta:
        model = "partnerships.Contact"

    district = factory.SubFactory(DistrictFactory)
    partner = factory.SubFactory(PartnerFactory, district=factory.SelfAttribute("..district"))
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@partner.example.org")
    roles = factory.LazyFunction(lambda: ["leadership"])


class MOUFactory(TenantFactory):
    class Meta:
        model = "partnerships.MOU"

    district = factory.SubFactory(DistrictFactory)
    partner = factory.SubFactory(PartnerFactory, district=factory.SelfAttribute("..district"))
    title = factory.Sequence(lambda n: f"School-based counselling agreement {n}")
    status = "active"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=200))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=165))


def _sections():
    from partnerships.mou_rules import MOU_SECTIONS

    return {key: f"Agreed text about {key}." for key, _label in MOU_SECTIONS}


class MOUVersionFactory(TenantFactory):
    class Meta:
        model = "partnerships.MOUVersion"

    district = factory.SubFactory(DistrictFactory)
    mou = factory.SubFactory(MOUFactory, district=factory.SelfAttribute("..district"))
    number = factory.Sequence(lambda n: n + 1)
    sections = factory.LazyFunction(_sections)
    terms = factory.LazyFunction(dict)


class MOUSignatureFactory(TenantFactory):
    class Meta:
        model = "partnerships.MOUSignature"

    district = factory.SubFactory(DistrictFactory)
    version = factory.SubFactory(MOUVersionFactory, district=factory.SelfAttribute("..district"))
    party = "partner"
    name = factory.Faker("name")
    title = "Executive Director"
    ip_address = "192.0.2.10"


class MOUDocumentFactory(TenantFactory):
    class Meta:
        model = "partnerships.MOUDocument"

    district = factory.SubFactory(DistrictFactory)
    version = factory.SubFactory(MOUVersionFactory, district=factory.SelfAttribute("..district"))
    status = "queued"


class FundingSourceFactory(TenantFactory):
    class Meta:
        model = "partnerships.FundingSource"

    district = factory.SubFactory(DistrictFactory)
    kind = "grant"
    funder = factory.Sequence(lambda n: f"Foundation {n}")
    amount = 10000
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=265))


class SuccessStoryFactory(TenantFactory):
    class Meta:
        model = "partnerships.SuccessStory"

    district = factory.SubFactory(DistrictFactory)
    title = factory.Sequence(lambda n: f"A better year {n}")
    story = "A student found their footing with weekly sessions."
    date = factory.LazyFunction(timezone.localdate)

    class Params:
        # ready=True records consent and review: what publishable=True needs (check constraint).
        ready = factory.Trait(
            consent_given_by="The student's mother",
            consent_at=factory.LazyFunction(timezone.now),
            reviewed_at=factory.LazyFunction(timezone.now),
        )


# --- Referrals (issue 13): referrals, consents, revocations, overrides, disclosures --------
# Append-only rows (consents, revocations, verbal agreements, overrides, disclosures) are
# made here directly; tests of the rules make them through the services.

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class ConcernCategoryFactory(TenantFactory):
    class Meta:
        model = "referrals.ConcernCategory"

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"local_concern_{n}")
    name = factory.Sequence(lambda n: f"Local concern {n}")


class ReferralFactory(TenantFactory):
    """A draft referral of a student to a partner that takes referrals."""

    class Meta:
        model = "referrals.Referral"

    district = factory.SubFactory(DistrictFactory)
    student = factory.SubFactory(StudentFactory, district=factory.SelfAttribute("..district"))
    school = factory.SelfAttribute("student.school")
    referred_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )
    owner = factory.SelfAttribute("referred_by")
    referred_on = factory.LazyAttribute(lambda o: o.district.today())
    concerns = factory.LazyFunction(lambda: ["anxiety"])
    urgency = "routine"
    partner = factory.SubFactory(PartnerFactory, district=factory.SelfAttribute("..district"))
    shared_fields = factory.LazyFunction(lambda: ["name", "grade"])
    submission_key = factory.Faker("uuid4", cast_to=None)


class ConsentFactory(TenantFactory):
    """A guardian's signed form, valid for a year, covering every identifiable field."""

    class Meta:
        model = "referrals.Consent"

    district = factory.SubFactory(DistrictFactory)
    student = factory.SubFactory(StudentFactory, district=factory.SelfAttribute("..district"))
    partner = factory.SubFactory(PartnerFactory, district=factory.SelfAttribute("..district"))
    fields = factory.LazyFunction(lambda: [code for code, _label in IDENTIFIABLE_FIELDS])
    purpose = "Counseling services at school"
    consenter_kind = "guardian"
    consenter_name = factory.Faker("name")
    rule = "guardian"
    rule_age = None
    method = "signed_form"
    signed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyAttribute(lambda o: o.district.today() + timedelta(days=365))
    recorded_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )
    form = PDF_BYTES
    form_name = "consent.pdf"
    form_content_type = "application/pdf"


class ConsentRevocationFactory(TenantFactory):
    class Meta:
        model = "referrals.ConsentRevocation"

    district = factory.SubFactory(DistrictFactory)
    consent = factory.SubFactory(ConsentFactory, district=factory.SelfAttribute("..district"))
    recorded_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )
    revoked_by_name = factory.Faker("name")


class VerbalAgreementFactory(TenantFactory):
    class Meta:
        model = "referrals.VerbalAgreement"

    district = factory.SubFactory(DistrictFactory)
    student = factory.SubFactory(StudentFactory, district=factory.SelfAttribute("..district"))
    note = "The student's mother agreed on the phone to a referral."
    recorded_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )


class EmergencyOverrideFactory(TenantFactory):
    class Meta:
        model = "referrals.EmergencyOverride"

    district = factory.SubFactory(DistrictFactory)
    referral = factory.SubFactory(ReferralFactory, district=factory.SelfAttribute("..district"))
    threat = "The student described a specific plan to harm themselves tonight."
    declared_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )


class DisclosureFactory(TenantFactory):
    """A disclosure under a consent (basis "consent")."""

    class Meta:
        model = "referrals.Disclosure"

    district = factory.SubFactory(DistrictFactory)
    consent = factory.SubFactory(ConsentFactory, district=factory.SelfAttribute("..district"))
    student = factory.SelfAttribute("consent.student")
    partner = factory.SelfAttribute("consent.partner")
    fields = factory.LazyFunction(lambda: ["name"])
    disclosed_by = factory.SubFactory(
        MembershipFactory, district=factory.SelfAttribute("..district"), role=Role.COUNSELOR
    )
    basis = "consent"
    recipient = factory.LazyAttribute(lambda o: o.partner.name)
    purpose = factory.LazyAttribute(lambda o: o.consent.purpose)
