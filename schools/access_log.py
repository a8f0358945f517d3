"""Writing the access log: who opened, exported or printed which student-identifiable page.

The access helpers of student data (`schools.selectors.access_student`, ...) call this
themselves once they have authorized the object, so a view cannot forget the row. It lives
outside `services` and `selectors` because both use it: a selector never imports a service.
"""

from __future__ import annotations

from schools.models import AccessLog

_USER_AGENT_MAX = 300


def client_ip(request) -> str | None:
    """The client's address as allauth sees it (honours TRUSTED_PROXY_COUNT)."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except Exception:  # a malformed forwarded header must not break the page
        return request.META.get("REMOTE_ADDR")


def access_log_record(
    *, request, object_type: str, object_id, student=None, action: str = AccessLog.Action.VIEW
) -> AccessLog:
    """Append one row for the request's membership (after the object was authorized, before
    it is shown). Call an access helper rather than this: it writes the row for you.
    """
    membership = request.membership
    return AccessLog.objects.create(
        district_id=membership.district_id,
        membership=membership,
        user_id=membership.user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        student=student,
        path=request.get_full_path()[:500],
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:_USER_AGENT_MAX],
        # Set by schools.request_id (never the client's header as it came).
        request_id=getattr(request, "request_id", "")[:64],
    )


def access_log_record_contact(
    *, request, contact, object_type: str, object_id, student=None
) -> AccessLog:
    """Append one row for a partner's contact who read a student's information from a
    signed link (no account: no membership or user). The row is in the contact's district,
    which the link's view has entered."""
    return AccessLog.objects.create(
        district_id=contact.district_id,
        contact=contact,
        action=AccessLog.Action.VIEW,
        object_type=object_type,
        object_id=str(object_id),
        student=student,
        path=request.get_full_path()[:500],
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:_USER_AGENT_MAX],
        request_id=getattr(request, "request_id", "")[:64],
    )
