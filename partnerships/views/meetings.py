"""Meetings: the calendar (list and month), a meeting's page with its record, one
occurrence, action items across meetings (inline status changes with htmx), the signed
answer link of an invitation and a member's secret calendar feed."""

from __future__ import annotations

import calendar as month_calendar
import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.htmx import wants_fragment
from core.picker import picker_arguments
from core.signed import MAX_ID
from partnerships import meeting_rules
from partnerships.forms.meetings import (
    PICKERS,
    SERVICE_FIELD,
    ActionFilterForm,
    ActionItemForm,
    ActionStatusForm,
    MeetingForm,
    OccurrenceForm,
    RecordForm,
)
from partnerships.models import (
    ActionStatus,
    CalendarFeed,
    Reminder,
    ReminderStatus,
)
from partnerships.selectors.meetings import (
    access_meeting,
    action_item_owners,
    action_items,
    attendees_of,
    calendar_occurrences,
    meeting_emails,
    meetings_with_partner,
    occurrence_of,
    occurrences,
)
from partnerships.services import meetings as service
from schools.capabilities import can, requires

ACTION_PAGE = 50
# The years the month grid shows.
MONTH_YEARS = range(1900, 2201)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            name = SERVICE_FIELD.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Calendar --------------------------------------------------------------------------------


def _month(request, today):
    """The month asked for (?month=2026-01), or this month for anything else (a year out
    of MONTH_YEARS would take the grid's neighbors past what dates can hold)."""
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        if year in MONTH_YEARS:
            return datetime.date(year, month, 1)
    except (ValueError, TypeError):
        pass
    return today.replace(day=1)


@requires("meetings.view")
@require_GET
def meeting_calendar(request, district_slug):
    """Upcoming occurrences (list), or a month as a grid (?view=month&month=2026-01)."""
    district = request.district
    zone = district.time_zone
    today = district.today()
    view = "month" if request.GET.get("view") == "month" else "list"
    if view == "month":
        first = _month(request, today)
        weeks = month_calendar.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
        after = meeting_rules.in_zone(datetime.datetime.combine(weeks[0][0], datetime.time()), zone)
        before = meeting_rules.in_zone(
            datetime.datetime.combine(weeks[-1][-1] + datetime.timedelta(1), datetime.time()),
            zone,
        )
    else:
        first = today.replace(day=1)
        weeks = []
        after = timezone.now() - datetime.timedelta(hours=12)
        before = after + datetime.timedelta(days=meeting_rules.PLAN_DAYS)
    found = calendar_occurrences(request.membership, after, before)
    by_day: dict[datetime.date, list] = {}
    for occurrence in found:
        by_day.setdefault(occurrence.starts_at.astimezone(zone).date(), []).append(occurrence)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    feed = (
        CalendarFeed.objects.for_district(district.pk)
        .filter(membership=request.membership, revoked_at__isnull=True)
        .first()
    )
    context = {
        "view": view,
        "occurrences": found,
        "days": sorted(by_day.items()),
        "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
        "month": first,
        "previous": previous,
        "following": following,
        "today": today,
        "can_manage": can(request.membership, "meetings.manage"),
        "feed": feed,
        "feed_url": request.session.pop("new_feed_url", ""),
    }
    return render(request, "partnerships/meetings/calendar.html", context)


# --- One meeting -------------------------------------------------------------------------------


def _initial(meeting, attendees):
    zone = meeting.district.time_zone
    start = meeting.starts_at.astimezone(zone)
    repeats, until, custom = meeting_rules.as_choice(meeting.recurrence, meeting.starts_at, zone)
    return {
        "title": meeting.title,
        "kind": meeting.kind,
        "date": start.date(),
        "start_time": start.time(),
        "end_time": meeting.ends_at.astimezone(zone).time(),
        "repeats": repeats,
        "until": until,
        "custom_rule": custom,
        "location": meeting.location,
        "online_url": meeting.online_url,
        "partners": list(meeting.partners.all()),
        "schools": list(meeting.schools.all()),
        "mou": meeting.mou,
        "members": [a.membership for a in attendees if a.membership_id],
        "contacts": [a.contact for a in attendees if a.contact_id],
        "reminder_offsets": meeting.reminder_offsets,
        "agenda": meeting.agenda,
    }


def _meeting_form(request, *, organizer, initial) -> MeetingForm:
    """The meeting form for this request (core.picker.picker_arguments: "Find" without
    JavaScript shows it again as filled, checking nothing)."""
    return MeetingForm(
        district=request.district,
        organizer=organizer,
        **picker_arguments(MeetingForm, request, initial),
    )


def _pick_url(request, meeting_id=None) -> str:
    pick = reverse("meeting_pick", args=[request.district.slug])
    return f"{pick}?meeting={meeting_id}" if meeting_id else pick


def _render_form(request, form, meeting):
    pick_url = _pick_url(request, meeting and meeting.pk)
    context = {"form": form, "meeting": meeting, "pick_url": pick_url}
    return render(request, "partnerships/meetings/form.html", context)


@requires("meetings.manage")
@require_http_methods(["GET", "POST"])
def meeting_new(request, district_slug):
    initial = {
        "contacts": [],
        "start_time": datetime.time(15, 30),
        "end_time": datetime.time(16, 30),
    }
    form = _meeting_form(request, organizer=request.membership, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            meeting, rule = service.meeting_save(by=request.membership, **form.service_arguments())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Meeting scheduled; the invitations are on their way."))
            _capped_message(request, rule)
            return redirect("meeting_detail", district_slug, meeting.pk)
    return _render_form(request, form, None)


@requires("meetings.manage")
@require_GET
def meeting_pick(request, district_slug):
    """One picker of the meeting form as a name is typed (htmx): the chosen ones (the
    field's values in the query) and the matches of `<field>_q`; or, for `field=mou`, the
    MOUs of the partners chosen. `?meeting=<id>`: the meeting being edited (its organizer
    is not a choice). Opened as a page, it goes to the form."""
    name = request.GET.get("field", "")
    if not wants_fragment(request) or name not in (*PICKERS, "mou"):
        return redirect("meeting_new", district_slug)
    organizer = request.membership
    meeting_id = request.GET.get("meeting", "")
    if meeting_id:
        if not meeting_id.isdigit() or int(meeting_id) > MAX_ID:
            raise Http404
        organizer = access_meeting(request.membership, int(meeting_id), manage=True).organizer
    initial = {field: request.GET.getlist(field) for field in (name, "partners")}
    initial["mou"] = request.GET.get("mou")
    form = MeetingForm(
        district=request.district,
        organizer=organizer,
        initial=initial,
        queries={name: request.GET.get(f"{name}_q", "")},
        pick=name,
    )
    if name == "mou":
        template = "partnerships/meetings/_mou_field.html"
        context = {"form": form, "pick_url": _pick_url(request, meeting_id)}
    else:
        template = "components/picker_choices.html"
        context = {"field": form[name], "picker": form.pickers.get(name, {})}
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _capped_message(request, rule):
    if rule.capped_until:
        messages.info(
            request,
            _("The series repeats until %(date)s: a series runs at most two years.")
            % {"date": date_format(rule.capped_until, "DATE_FORMAT")},
        )


@requires("meetings.manage")
def meeting_edit(request, district_slug, meeting_id):
    meeting = access_meeting(request.membership, meeting_id, manage=True)
    if meeting.cancelled_at:
        raise Http404
    attendees = list(attendees_of(meeting))
    form = _meeting_form(request, organizer=meeting.organizer, initial=_initial(meeting, attendees))
    if form.is_bound and form.is_valid():
        arguments = form.service_arguments()
        arguments["members"] = [meeting.organizer, *arguments["members"]]
        try:
            _meeting, rule = service.meeting_save(
                by=request.membership, meeting=meeting, **arguments
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Meeting saved."))
            _capped_message(request, rule)
            return redirect("meeting_detail", district_slug, meeting.pk)
    return _render_form(request, form, meeting)


@requires("meetings.view")
def meeting_detail(request, district_slug, meeting_id):
    meeting = access_meeting(request.membership, meeting_id)
    zone = request.district.time_zone
    now = timezone.now()
    attendees = list(attendees_of(meeting))
    window = occurrences(
        meeting,
        now - datetime.timedelta(days=120),
        now + datetime.timedelta(days=meeting_rules.PLAN_DAYS),
    )
    recent = [o for o in window if o.occurrence_start < now]
    coming = [o for o in window if o.occurrence_start >= now]
    missing_minutes = [
        o
        for o in recent
        if not o.cancelled and not o.has_minutes and o.ends_at < now - meeting_rules.MINUTES_DUE
    ]
    can_manage = can(request.membership, "meetings.manage")
    own = next((a for a in attendees if a.membership_id == request.membership.pk), None)
    items = list(
        action_items(request.membership).filter(meeting=meeting).order_by("due_date", "pk")
    )
    context = {
        "meeting": meeting,
        "repeats": meeting_rules.describe(meeting.recurrence, meeting.starts_at, zone),
        "attendees": attendees,
        "recent": list(reversed(recent))[:6],
        "coming": coming[:6],
        "missing_minutes": missing_minutes,
        "can_manage": can_manage,
        "own": own,
        "items": items,
        "item_form": ActionItemForm(attendees=attendees) if can_manage else None,
        "emails": list(meeting_emails(meeting)) if can_manage else [],
        "skipped": list(
            Reminder.objects.for_district(meeting.district_id)
            .filter(meeting=meeting, status=ReminderStatus.SKIPPED)
            .select_related("attendee__contact", "attendee__membership__user")
            .order_by("-occurrence_start")[:20]
        )
        if can_manage
        else [],
        "planned": Reminder.objects.for_district(meeting.district_id)
        .filter(meeting=meeting, status=ReminderStatus.PLANNED)
        .count(),
        "today": request.district.today(),
    }
    return render(request, "partnerships/meetings/detail.html", context)


@requires("meetings.manage")
def meeting_cancel(request, district_slug, meeting_id):
    meeting = access_meeting(request.membership, meeting_id, manage=True)
    if request.method == "POST":
        sent = service.meeting_cancel(by=request.membership, meeting=meeting)
        messages.success(
            request,
            _("Meeting cancelled. %(count)s cancellations sent.") % {"count": sent},
        )
        return redirect("meeting_detail", district_slug, meeting.pk)
    return render(request, "partnerships/meetings/cancel.html", {"meeting": meeting})


@requires("meetings.view")
def meeting_answer(request, district_slug, meeting_id):
    """A member accepts or declines for themselves."""
    meeting = access_meeting(request.membership, meeting_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        service.meeting_respond(
            by=request.membership, meeting=meeting, response=request.POST.get("response", "")
        )
    except (ValidationError, PermissionDenied):
        messages.error(request, _("Only people invited can answer, with accept or decline."))
    else:
        messages.success(request, _("Your answer is recorded."))
    return redirect("meeting_detail", district_slug, meeting.pk)


# --- One occurrence ----------------------------------------------------------------------------


def _occurrence(request, meeting_id, key, *, manage=False):
    meeting = access_meeting(request.membership, meeting_id, manage=manage)
    occurrence = occurrence_of(meeting, key)
    if occurrence is None:
        raise Http404
    return meeting, occurrence


@requires("meetings.view")
def occurrence_detail(request, district_slug, meeting_id, key):
    """One occurrence: its minutes and decisions (managers edit them here), and moving or
    cancelling it alone."""
    meeting, occurrence = _occurrence(request, meeting_id, key)
    can_manage = can(request.membership, "meetings.manage")
    record = occurrence.record
    zone = request.district.time_zone
    record_form = RecordForm(
        request.POST if request.method == "POST" and "minutes" in request.POST else None,
        initial={
            "minutes": record.minutes if record else "",
            "decisions": record.decisions if record else "",
        },
    )
    start = occurrence.starts_at.astimezone(zone)
    move_form = OccurrenceForm(
        request.POST if request.method == "POST" and "date" in request.POST else None,
        district=request.district,
        initial={
            "date": start.date(),
            "start_time": start.time(),
            "end_time": occurrence.ends_at.astimezone(zone).time(),
            "location": occurrence.location,
            "online_url": occurrence.online_url,
        },
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if record_form.is_bound and record_form.is_valid():
            service.occurrence_record_save(
                by=request.membership, occurrence=occurrence, **record_form.cleaned_data
            )
            messages.success(request, _("Minutes saved."))
            return redirect("meeting_occurrence", district_slug, meeting.pk, key)
        if move_form.is_bound and move_form.is_valid():
            data = move_form.cleaned_data
            try:
                service.occurrence_change(
                    by=request.membership,
                    occurrence=occurrence,
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    location=data.get("location") or "",
                    online_url=data.get("online_url") or "",
                )
            except ValidationError as error:
                _add_errors(move_form, error)
            else:
                messages.success(request, _("This occurrence was changed; updates are sent."))
                return redirect("meeting_occurrence", district_slug, meeting.pk, key)
    context = {
        "meeting": meeting,
        "occurrence": occurrence,
        "record_form": record_form,
        "move_form": move_form,
        "can_manage": can_manage,
        "items": list(
            action_items(request.membership)
            .filter(meeting=meeting, occurrence_start=occurrence.occurrence_start)
            .order_by("due_date", "pk")
        ),
    }
    return render(request, "partnerships/meetings/occurrence.html", context)


@requires("meetings.manage")
def occurrence_cancel(request, district_slug, meeting_id, key):
    meeting, occurrence = _occurrence(request, meeting_id, key, manage=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    sent = service.occurrence_cancel(by=request.membership, occurrence=occurrence)
    messages.success(
        request, _("This occurrence is cancelled. %(count)s cancellations sent.") % {"count": sent}
    )
    return redirect("meeting_occurrence", district_slug, meeting.pk, key)


# --- Action items ----------------------------------------------------------------------------


@requires("meetings.manage")
def action_item_new(request, district_slug, meeting_id):
    meeting = access_meeting(request.membership, meeting_id, manage=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    attendees = list(attendees_of(meeting))
    form = ActionItemForm(request.POST, attendees=attendees)
    if form.is_valid():
        try:
            service.action_item_save(
                by=request.membership,
                meeting=meeting,
                what=form.cleaned_data["what"],
                due_date=form.cleaned_data["due_date"],
                **form.owner_arguments(),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Action item added."))
            return redirect(
                reverse("meeting_detail", args=[district_slug, meeting.pk]) + "#actions"
            )
    messages.error(
        request,
        _("The action item was not added: %(problems)s")
        % {"problems": " ".join(str(e) for errors in form.errors.values() for e in errors)},
    )
    return redirect(reverse("meeting_detail", args=[district_slug, meeting.pk]) + "#actions")


@requires("meetings.view")
@require_GET
def action_item_list(request, district_slug):
    """Action items across meetings, filtered by owner, partner and overdue."""
    membership = request.membership
    today = request.district.today()
    filters = ActionFilterForm(
        request.GET or None,
        district=request.district,
        membership=membership,
        owners=action_item_owners(membership),
    )
    items = action_items(membership)
    show = "open"
    if filters.is_bound and filters.is_valid():
        data = filters.cleaned_data
        show = data.get("show") or "open"
        owner = data.get("owner") or ""
        if owner == "me":
            items = items.filter(owner_membership=membership)
        elif owner[:1] == "m":
            items = items.filter(owner_membership_id=int(owner[1:]))
        elif owner[:1] == "c":
            items = items.filter(owner_contact_id=int(owner[1:]))
        if data.get("partner"):
            partner_meetings = meetings_with_partner(request.district.pk, data["partner"])
            items = items.filter(meeting_id__in=partner_meetings)
    if show in ("open", "overdue"):
        items = items.filter(status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS])
    if show == "overdue":
        items = items.filter(due_date__lt=today)
    page = Paginator(items.order_by("due_date", "pk"), ACTION_PAGE).get_page(
        request.GET.get("page")
    )
    items = page.object_list
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "items": items,
        "page": page,
        "query": query.urlencode(),
        "today": today,
        "status_choices": ActionStatus.choices,
        "editable": {item.pk for item in items if service.can_update_item(membership, item)},
    }
    if request.htmx and request.htmx.target == "action-items":
        return render(request, "partnerships/meetings/action_items.html#table", context)
    return render(request, "partnerships/meetings/action_items.html", context)


@requires("meetings.view")
def action_item_status(request, district_slug, item_id):
    """Change an item's status; htmx swaps the row, a plain form goes back to the list."""
    item = action_items(request.membership).filter(pk=item_id).first()
    if item is None:
        raise Http404
    if not service.can_update_item(request.membership, item):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ActionStatusForm(request.POST)
    error = ""
    if form.is_valid():
        item = service.action_item_set_status(
            by=request.membership, item=item, status=form.cleaned_data["status"]
        )
    else:
        error = _("Choose a status.")
    if request.htmx:
        context = {
            "item": item,
            "today": request.district.today(),
            "status_choices": ActionStatus.choices,
            "editable": {item.pk} if service.can_update_item(request.membership, item) else set(),
            "row_error": error,
        }
        return render(request, "partnerships/meetings/action_items.html#row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Status saved."))
    return redirect("action_item_list", district_slug)


urlpatterns = [
    path("meetings/", meeting_calendar, name="meeting_calendar"),
    path("meetings/new/", meeting_new, name="meeting_new"),
    path("meetings/pick/", meeting_pick, name="meeting_pick"),
    path("meetings/actions/", action_item_list, name="action_item_list"),
    path("meetings/actions/<int:item_id>/status/", action_item_status, name="action_item_status"),
    path("meetings/<int:meeting_id>/", meeting_detail, name="meeting_detail"),
    path("meetings/<int:meeting_id>/edit/", meeting_edit, name="meeting_edit"),
    path("meetings/<int:meeting_id>/cancel/", meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:meeting_id>/answer/", meeting_answer, name="meeting_answer"),
    path("meetings/<int:meeting_id>/actions/", action_item_new, name="action_item_new"),
    path("meetings/<int:meeting_id>/on/<str:key>/", occurrence_detail, name="meeting_occurrence"),
    path(
        "meetings/<int:meeting_id>/on/<str:key>/cancel/",
        occurrence_cancel,
        name="meeting_occurrence_cancel",
    ),
]
public_urlpatterns: list = []
