"""A partner member's inbox in each district it serves, and the partner's scorecard."""

from __future__ import annotations

urlpatterns: list = []
public_urlpatterns: list = []
