"""Helpers for the referral tests."""

from __future__ import annotations

import uuid

from schools.tenancy import tenant_context


def act(service, **arguments):
    """Call a service as `by`, inside by's district, as a request would."""
    with tenant_context(arguments["by"].district):
        return service(**arguments)


def new_key() -> uuid.UUID:
    return uuid.uuid4()
