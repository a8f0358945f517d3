from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    """Referral, Consent, ReferralEvent, Disclosure; the partner portal."""

    name = "referrals"
