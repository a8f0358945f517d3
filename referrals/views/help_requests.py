"""Requests for help: the school's public form (no account) and the counselors' queue."""

from __future__ import annotations

urlpatterns: list = []
public_urlpatterns: list = []
