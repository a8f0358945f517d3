"""The links of meetings that leave the product: a member's secret calendar feed (made
and revoked on the calendar page, read by calendar programs without a session) and the
signed accept or decline link in an invitation (partnerships.services.meeting_mail)."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.mail import absolute_url, link_page_language
from core.signed import BadLink, ExpiredLink
from partnerships import meeting_rules
from partnerships.models import ActionStatus, CalendarFeed, Response
from partnerships.selectors.meetings import action_items, calendar_occurrences, occurrences
from partnerships.services import meetings as service
from partnerships.services.calendar import feed_ics
from schools.capabilities import requires
from schools.models import District
from schools.tenancy import tenant_context

# --- The calendar feed ---------------------------------------------------------------------------


def _feed_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@requires("meetings.view")
@require_POST
def calendar_feed_manage(request, district_slug):
    """Make a new secret feed address (revoking the old one), or revoke it."""
    membership = request.membership
    with transaction.atomic():
        CalendarFeed.objects.for_district(membership.district_id).filter(
            membership=membership, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if request.POST.get("action") == "revoke":
            messages.success(request, _("Your calendar address no longer works."))
        else:
            secret = secrets.token_urlsafe(32)
            CalendarFeed.objects.create(
                district_id=membership.district_id,
                membership=membership,
                secret_hash=_feed_hash(secret),
            )
            request.session["new_feed_url"] = absolute_url(
                reverse("meeting_feed", args=[request.district.slug, secret])
            )
            messages.success(
                request,
                _("Your new calendar address is below. Copy it now: it is shown only once."),
            )
    return redirect("meeting_calendar", district_slug)


@require_GET
def meeting_feed(request, district, secret):
    """A member's meetings and action-item due dates as an iCalendar feed (no sign-in: the
    secret address is the key, revocable)."""
    district = District.objects.filter(slug=district).first()
    if district is None or len(secret) > 100:
        raise Http404
    with tenant_context(district):
        feed = (
            CalendarFeed.objects.for_district(district.pk)
            .filter(secret_hash=_feed_hash(secret), revoked_at__isnull=True)
            .select_related("membership__user", "membership__district")
            .first()
        )
        if feed is None or not feed.membership.active:
            raise Http404
        membership = feed.membership
        now = timezone.now()
        found = calendar_occurrences(
            membership,
            now - datetime.timedelta(days=31),
            now + datetime.timedelta(days=meeting_rules.PLAN_DAYS * 3),
        )
        due = list(
            action_items(membership)
            .filter(owner_membership=membership)
            .exclude(status__in=[ActionStatus.DONE, ActionStatus.DROPPED])
            .order_by("due_date")[:500]
        )
        with translation.override(membership.user.preferred_language or district.default_language):
            text = feed_ics(
                _("Trellis meetings, %(district)s") % {"district": district.name},
                found,
                due,
                district.time_zone,
            )
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- The answer link in an invitation --------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_response(request, token):
    """GET shows the meeting and the answer to confirm (link scanners must not answer for
    anyone); POST records it."""
    try:
        if request.method == "POST":
            service.attendee_respond(token=token)
        attendee, answer = service.attendee_lookup(token=token)
    except ExpiredLink:
        return render(
            request, "partnerships/meetings/response_invalid.html", {"expired": True}, status=410
        )
    except BadLink:
        attendee, answer = None, ""
    if attendee is None:
        return render(request, "partnerships/meetings/response_invalid.html", status=404)
    person = attendee.contact or attendee.membership
    language = link_page_language(request, person, attendee.meeting.district)
    with tenant_context(attendee.district_id):
        meeting = attendee.meeting
        coming = occurrences(
            meeting,
            timezone.now(),
            timezone.now() + datetime.timedelta(days=meeting_rules.PLAN_DAYS),
            include_cancelled=False,
        )[:3]
    with translation.override(language), timezone.override(meeting.district.time_zone):
        response = render(
            request,
            "partnerships/meetings/response.html",
            {
                "meeting": meeting,
                "attendee": attendee,
                "answer": answer,
                "done": request.method == "POST",
                "coming": coming,
                "answers": dict(Response.choices),
            },
        )
    response.headers["Content-Language"] = language
    return response


urlpatterns = [
    path("meetings/feed/", calendar_feed_manage, name="calendar_feed_manage"),
]
public_urlpatterns = [
    path("meetings/respond/<str:token>/", meeting_response, name="meeting_response"),
    path("calendar/<slug:district>/<str:secret>.ics", meeting_feed, name="meeting_feed"),
]
