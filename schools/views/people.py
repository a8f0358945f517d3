"""The people pages: members and waiting invitations, inviting, changing, deactivating."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.htmx import render_page_or_fragment, wants_fragment
from schools.capabilities import can, requires
from schools.forms.people import InvitationForm, MemberFilterForm, MembershipForm
from schools.selectors import access_member, invitations_waiting, members_of_district
from schools.services.people import (
    invitation_create,
    membership_change,
    membership_deactivate,
    membership_reactivate,
    open_work_of,
)

PAGE_SIZE = 50


def _posted(request):
    return request.POST if request.method == "POST" else None


@requires("people.manage")
def people_list(request, district_slug):
    """Members (filter as you type: htmx asks for the results fragment) and invitations."""
    filters = MemberFilterForm(request.GET)
    chosen = filters.filters()
    members = members_of_district(request.membership, **chosen)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("q", chosen["query"]), ("role", chosen["role"])) if v})
    context = {"filters": filters, "page": page, "query": query}
    if not wants_fragment(request):
        context["invitations"] = invitations_waiting(request.membership)
    return render_page_or_fragment(request, "schools/people/list.html", context)


@requires("people.manage")
def people_invite(request, district_slug):
    form = InvitationForm(_posted(request), district=request.district)
    if form.is_bound and form.is_valid():
        try:
            invitation = invitation_create(by=request.membership, **form.service_arguments())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": invitation.email}
            )
            return redirect("people_list", district_slug)
    return render(request, "schools/people/invite.html", {"form": form})


@requires("people.manage")
def person_change(request, district_slug, membership_id):
    person = access_member(request.membership, membership_id)
    initial = {
        "role": person.role,
        "schools": list(person.schools.all()),
        "partner": person.partner,
        "crisis_responder": person.crisis_responder,
    }
    form = MembershipForm(_posted(request), district=request.district, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            membership_change(by=request.membership, membership=person, **form.service_arguments())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": person.user})
            if not can(person, "people.manage") and person.pk == request.membership.pk:
                return redirect("district_home", district_slug)  # they just gave up the role
            return redirect("people_list", district_slug)
    context = {"person": person, "form": form}
    if not person.active:
        # A deactivated person's open work still waits: listed here to be reassigned.
        context["open_work"] = open_work_of(person)
    return render(request, "schools/people/person.html", context)


@requires("people.manage")
def person_deactivate(request, district_slug, membership_id):
    """Confirm (listing the person's open work for reassignment), then deactivate."""
    person = access_member(request.membership, membership_id)
    if not person.active:
        return redirect("person_change", district_slug, person.pk)
    problems = []
    if request.method == "POST":
        try:
            membership_deactivate(by=request.membership, membership=person)
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(request, _("%(name)s no longer has access.") % {"name": person.user})
            if person.pk == request.membership.pk:
                return redirect("home")  # their own access to this district just ended
            return redirect("people_list", district_slug)
    context = {"person": person, "open_work": open_work_of(person), "problems": problems}
    return render(request, "schools/people/deactivate.html", context)


@requires("people.manage")
def person_reactivate(request, district_slug, membership_id):
    person = access_member(request.membership, membership_id)
    if request.method == "POST" and not person.active:
        membership_reactivate(by=request.membership, membership=person)
        messages.success(request, _("%(name)s has access again.") % {"name": person.user})
    return redirect("person_change", district_slug, person.pk)
