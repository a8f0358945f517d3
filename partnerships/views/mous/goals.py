"""An MOU's goals: adding one, recording progress."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

from partnerships.forms.mous import GoalForm, ProgressForm
from partnerships.selectors.mous import access_goal, access_mou
from partnerships.services.mous.goals import goal_create, goal_progress_add
from partnerships.views.mous.common import _posted, _to_mou
from schools.capabilities import requires


@requires("mous.manage")
def mou_goal_create_view(request, district_slug, mou_id):
    mou = access_mou(request.membership, mou_id)
    form = GoalForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            goal_create(by=request.membership, mou=mou, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Goal added."))
            return _to_mou(mou, "goals")
    return render(request, "partnerships/mous/goal_form.html", {"mou": mou, "form": form})


@requires("mous.manage")
def mou_goal_progress_view(request, district_slug, goal_id):
    goal = access_goal(request.membership, goal_id)
    form = ProgressForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            goal_progress_add(by=request.membership, goal=goal, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Progress recorded."))
            return _to_mou(goal.mou, "goals")
    context = {"mou": goal.mou, "goal": goal, "form": form}
    return render(request, "partnerships/mous/progress_form.html", context)
