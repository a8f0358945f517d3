"""Things people do with referrals and consents, one module per area."""
