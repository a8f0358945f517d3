"""One id per request, for the access log (and the logs) to tie a row to one request."""

from __future__ import annotations

import re
import uuid

from django.conf import settings

# What a proxy's id may look like; anything else (or any id from the client itself) is
# replaced, so the access log never records a value an outsider chose.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_for(request) -> str:
    """The trusted proxy's X-Request-ID when there is one and it is well formed, else a new id.

    Without a trusted proxy (TRUSTED_PROXY_COUNT = 0) the header comes from the client,
    who could plant or reuse ids in the access log: it is ignored.
    """
    if getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0) > 0:
        incoming = request.headers.get("X-Request-ID", "")
        if _WELL_FORMED.fullmatch(incoming):
            return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets `request.request_id` and echoes it in the response's X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
