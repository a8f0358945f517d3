"""What the MOU views share: the posted data, the way back to the MOU page, refusals
shown as messages, and the two shapes of a workflow action (a button; a small form)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from partnerships.services.mous.common import MOUPlaceholdersLeft


def _posted(request):
    return request.POST if request.method == "POST" else None


def _to_mou(mou, anchor: str = ""):
    url = reverse("mou_detail", args=[mou.district.slug, mou.pk])
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _refused(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def placeholders_left(request, mou, error: MOUPlaceholdersLeft):
    """The MOU page again (200, not a redirect), saying next to its buttons where bracketed
    placeholders are left: the action was refused for them."""
    from partnerships.views.mous.versions import mou_detail_context

    mou.refresh_from_db()
    context = mou_detail_context(request, mou)
    context["placeholders"] = error.places
    context["placeholder_refusal"] = True
    return render(request, "partnerships/mous/detail.html", context)


def _button_action(request, mou, action, success: str):
    """A POST-only action behind a button: GET goes back to the MOU page. Refused for
    placeholders left in the text, the MOU page lists them (placeholders_left)."""
    if request.method == "POST":
        try:
            action()
        except MOUPlaceholdersLeft as error:
            return placeholders_left(request, mou, error)
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, success)
    return _to_mou(mou)


def _form_action(request, mou, *, form, template: str, title: str, act, success: str, intro: str):
    """An action that needs words (a comment, a reason): a small page with its form."""
    if form.is_bound and form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, " ".join(error.messages))
            else:
                _refused(request, error)
                return _to_mou(mou)
        else:
            messages.success(request, success)
            return _to_mou(mou)
    context = {"mou": mou, "form": form, "title": title, "intro": intro}
    return render(request, template, context)
