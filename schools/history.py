"""Who changed a row, from which request: the context django-pghistory keeps with each event.

The context is stored in the event row itself (PGHISTORY_CONTEXT_FIELD is JSON), so it
sits under the event table's row-level security with the district's other rows. Only
requests that may write get a context: a GET costs nothing extra.
"""

from __future__ import annotations

import pghistory

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class HistoryContextMiddleware:
    """After TenantMiddleware: every change made by a request records who made it and where.

    Recorded: the person's and membership's ids, the request id (the access log's), the
    view's URL name. Never a name, an email or a query string: history is read by
    administrators, and logs stay free of student data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in _READS:
            return self.get_response(request)
        user = getattr(request, "user", None)
        with pghistory.context(
            user=user.pk if user is not None and user.is_authenticated else None,
            request_id=getattr(request, "request_id", None),
        ):
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in _READS:
            return None
        membership = getattr(request, "membership", None)
        match = request.resolver_match
        # Adds to the context entered above (pghistory ignores it when none is active).
        pghistory.context(
            membership=membership.pk if membership is not None else None,
            url_name=match.view_name if match is not None else None,
        )
        return None
