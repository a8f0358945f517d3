"""Success stories: list, write and edit, consent, review, publication, newsletter export."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from partnerships.forms.stories import ConsentForm, StoryForm
from partnerships.selectors.stories import (
    STORY_FILTERS,
    access_story,
    publishable_stories,
    story_list,
    story_partner_choices,
    story_school_choices,
)
from partnerships.services.stories import (
    story_consent_record,
    story_consent_withdraw,
    story_create,
    story_publishable_set,
    story_review,
    story_update,
)
from schools.capabilities import can, requires

PAGE_SIZE = 50


@requires("stories.view")
@require_GET
def stories_list(request, district_slug):
    state = request.GET.get("state", "")
    state = state if state in STORY_FILTERS else ""
    page = Paginator(story_list(request.membership, state=state), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "stories": page.object_list,
        "page": page,
        "query": urlencode({"state": state}) if state else "",
        "state": state,
        "can_manage": can(request.membership, "stories.manage"),
    }
    return render(request, "partnerships/stories/list.html", context)


@requires("stories.view")
def story_detail(request, district_slug, story_id):
    story = access_story(request.membership, story_id)
    membership = request.membership
    context = {
        "story": story,
        "can_manage": can(membership, "stories.manage"),
        "can_review": can(membership, "stories.review"),
    }
    return render(request, "partnerships/stories/detail.html", context)


def _story_form(request, *, initial=None):
    return StoryForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        partners=story_partner_choices(request.membership),
        schools=story_school_choices(request.membership),
    )


@requires("stories.manage")
def story_new(request, district_slug):
    form = _story_form(request, initial={"date": request.district.today()})
    if form.is_bound and form.is_valid():
        try:
            story = story_create(by=request.membership, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Story saved. Record consent to publish it next."))
            return redirect("story_detail", district_slug, story.pk)
    return render(request, "partnerships/stories/form.html", {"form": form, "story": None})


@requires("stories.manage")
def story_edit(request, district_slug, story_id):
    story = access_story(request.membership, story_id)
    initial = {
        "title": story.title,
        "story": story.story,
        "partner": story.partner,
        "school": story.school,
        "date": story.date,
    }
    form = _story_form(request, initial=initial)
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        data["story_text"] = data.pop("story")
        try:
            story = story_update(by=request.membership, story=story, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Story saved."))
            return redirect("story_detail", district_slug, story.pk)
    return render(request, "partnerships/stories/form.html", {"form": form, "story": story})


@requires("stories.manage")
def story_consent(request, district_slug, story_id):
    """Record consent to publish (or, with action=withdraw, forget it)."""
    story = access_story(request.membership, story_id)
    if request.method == "POST" and request.POST.get("action") == "withdraw":
        story_consent_withdraw(by=request.membership, story=story)
        messages.success(request, _("Consent withdrawn: the story is no longer publishable."))
        return redirect("story_detail", district_slug, story.pk)
    today = request.district.today()
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        initial={"given_on": today},
        today=today,
    )
    if form.is_bound and form.is_valid():
        try:
            story_consent_record(by=request.membership, story=story, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Consent to publish recorded."))
            return redirect("story_detail", district_slug, story.pk)
    return render(request, "partnerships/stories/consent.html", {"form": form, "story": story})


@requires("stories.review")
def story_review_view(request, district_slug, story_id):
    story = access_story(request.membership, story_id)
    if request.method == "POST":
        story_review(by=request.membership, story=story)
        messages.success(request, _("Marked as reviewed: it identifies no student."))
    return redirect("story_detail", district_slug, story.pk)


@requires("stories.manage")
def story_publish(request, district_slug, story_id):
    story = access_story(request.membership, story_id)
    if request.method == "POST":
        publishable = request.POST.get("publishable") == "1"
        try:
            story_publishable_set(by=request.membership, story=story, publishable=publishable)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The story is publishable.")
                if publishable
                else _("The story is no longer publishable."),
            )
    return redirect("story_detail", district_slug, story.pk)


@requires("stories.view")
@require_GET
def stories_export(request, district_slug):
    """Publishable stories as an HTML snippet for a newsletter: to copy, or to download."""
    stories = publishable_stories(request.membership)
    snippet = render_to_string(
        "partnerships/stories/_newsletter.html", {"stories": stories, "district": request.district}
    ).strip()
    if request.GET.get("download"):
        response = HttpResponse(snippet + "\n", content_type="text/html; charset=utf-8")
        name = f"{request.district.slug}-stories-{request.district.today().isoformat()}.html"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {"stories": stories, "snippet": snippet}
    return render(request, "partnerships/stories/export.html", context)


# The action URLs (review, publish) answer a GET (a reload, a bookmark) by going back to the
# story rather than with 405.
urlpatterns = [
    path("stories/", stories_list, name="story_list"),
    path("stories/new/", story_new, name="story_new"),
    path("stories/export/", stories_export, name="story_export"),
    path("stories/<int:story_id>/", story_detail, name="story_detail"),
    path("stories/<int:story_id>/edit/", story_edit, name="story_edit"),
    path("stories/<int:story_id>/consent/", story_consent, name="story_consent"),
    path("stories/<int:story_id>/review/", story_review_view, name="story_review"),
    path("stories/<int:story_id>/publish/", story_publish, name="story_publish"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns: list = []
