"""The loop's steps on the referral page: accept, decline, schedule, kept or missed, update,
close, withdraw, send to another partner, reassign."""

from __future__ import annotations

urlpatterns: list = []
public_urlpatterns: list = []
