"""Referral pages, one module per area; each lists its own `urlpatterns` (under
/<district_slug>/) and `public_urlpatterns` (signed links, no account)."""
