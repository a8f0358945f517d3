"""The MOU page (status, terms, sections, signatures, comments, goals, versions) and the
comparison of two versions."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from core.htmx import render_page_or_fragment, wants_fragment
from partnerships.forms.mous import CompareForm, GoalForm
from partnerships.mou_rules import mou_allowed_actions
from partnerships.selectors.documents import mou_pdf_panel
from partnerships.selectors.mous import (
    access_mou,
    mou_compare,
    mou_page,
    mou_versions,
    reads_as_partner,
)
from schools.capabilities import requires


def mou_detail_context(request, mou, *, version_number=None, panel=True) -> dict:
    """What the MOU page shows (the detail view's, and an action's refused on it)."""
    membership = request.membership
    context = {
        "mou": mou,
        "actions": mou_allowed_actions(membership, mou),
        **mou_page(membership, mou, version_number=version_number),
    }
    if panel:  # the PDF panel and its download at the top of the page
        context["pdf_panel"] = mou_pdf_panel(membership, mou)
    return context


@requires("mous.view")
def mou_detail_view(request, district_slug, mou_id):
    """The MOU: status and next step, terms, sections, signatures, comments, goals, versions.

    `?version=N` reads an older version. An htmx request with `?section=key` gets that
    section back (the inline editor's Cancel).
    """
    membership = request.membership
    mou = access_mou(membership, mou_id)
    section = request.GET.get("section") if wants_fragment(request) else None
    context = mou_detail_context(
        request, mou, version_number=request.GET.get("version") or None, panel=not section
    )
    if section:
        context["section"] = next((s for s in context["sections"] if s.key == section), None)
        if context["section"] is None:
            raise Http404("No such section")
    else:
        context["goal_form"] = GoalForm()
    return render_page_or_fragment(
        request, "partnerships/mous/detail.html", context, fragment="section" if section else None
    )


@requires("mous.view")
def mou_compare_view(request, district_slug, mou_id):
    """Two versions side by side, words removed and added marked (default: the last two)."""
    mou = access_mou(request.membership, mou_id)
    # A partner compares only versions sent to it (the ones between stay internal).
    for_partner = reads_as_partner(request.membership)
    numbers = [v.number for v in mou_versions(mou, for_partner=for_partner)] or [0]
    older = numbers[1] if len(numbers) > 1 else max(numbers[0] - 1, 1)
    defaults = {"a": older, "b": numbers[0]}
    form = CompareForm(request.GET if "a" in request.GET else defaults, numbers=numbers)
    context = {"mou": mou, "form": form, "single": len(numbers) == 1}
    if form.is_valid():
        a, b = sorted((form.cleaned_data["a"], form.cleaned_data["b"]))
        context["comparison"] = mou_compare(mou, a, b, for_partner=for_partner)
    return render(request, "partnerships/mous/compare.html", context)
