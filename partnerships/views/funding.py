"""Funding: the sources, the mix per year (a chart with a table beside it), what ends soon."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.charts import Group, Series, StackedBarChart, stacked_bar_chart
from core.htmx import wants_fragment
from core.picker import picker_arguments
from partnerships.forms.funding import FundingSourceForm, MixBasisForm
from partnerships.selectors.funding import (
    access_funding,
    funding_amounts,
    funding_expiring,
    funding_mix,
    funding_mou_choices,
    funding_partner_choices,
    funding_sources,
)
from partnerships.services.funding import funding_save
from schools.capabilities import can, requires

PAGE_SIZE = 50

# One colour per kind (3:1 or more against white, WCAG 1.4.11); the table and the legend
# carry the same figures in words.
KIND_COLOURS = {
    "grant": "#0f5e57",
    "district_budget": "#1a4f78",
    "donation": "#8a5300",
    "in_kind": "#6b3fa0",
    "billing": "#a4231c",
    "other": "#4f5b58",
}


def _money(amount: Decimal) -> str:
    """Whole dollars, rounded half up as the table rounds them (number_format cuts)."""
    whole = Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return "$" + number_format(whole, decimal_pos=0, use_l10n=True, force_grouping=True)


def bar_chart(mix: dict) -> StackedBarChart | None:
    """The mix as stacked bars (core.charts): one bar per year, one segment per kind.
    Presentation only; the numbers come from the funding_mix selector."""
    series = [
        Series(code, label, KIND_COLOURS.get(code, "#4f5b58")) for code, label in mix["kinds"]
    ]
    years = [
        Group(
            label=year["label"],
            values={part["kind"]: part["amount"] for part in year["parts"]},
            emphasis=year["current"],
        )
        for year in mix["years"]
    ]
    return stacked_bar_chart(years, series, format_value=_money)


@requires("funding.view")
@require_GET
def funding_list(request, district_slug):
    """The funding sources a page at a time; the mix per year and what ends within 90 days
    over all of them."""
    basis = MixBasisForm(request.GET)
    membership = request.membership
    page = Paginator(funding_sources(membership), PAGE_SIZE).get_page(request.GET.get("page"))
    today = request.district.today()
    # The mix and what ends soon are the district's, whichever page of sources is shown.
    mix = funding_mix(funding_amounts(membership), basis=basis.basis_value(), today=today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "basis_form": basis,
        "page": page,
        "sources": page.object_list,
        "query": query.urlencode(),
        "mix": mix,
        "chart": bar_chart(mix),
        "expiring": funding_expiring(membership, today=today),
        "today": today,
        "can_manage": can(request.membership, "funding.manage"),
    }
    return render(request, "partnerships/funding/list.html", context)


@requires("funding.view")
def funding_detail(request, district_slug, funding_id):
    funding = access_funding(request.membership, funding_id)
    context = {
        "funding": funding,
        "today": request.district.today(),
        "can_manage": can(request.membership, "funding.manage"),
    }
    return render(request, "partnerships/funding/detail.html", context)


def _form(request, *, initial=None):
    """The funding form for this request (core.picker.picker_arguments: "Find" without
    JavaScript shows it again as filled, checking nothing)."""
    membership = request.membership
    return FundingSourceForm(
        partners=funding_partner_choices(membership),
        mous=funding_mou_choices(membership),
        **picker_arguments(FundingSourceForm, request, initial),
    )


def _render_form(request, form, funding):
    context = {
        "form": form,
        "funding": funding,
        "pick_url": reverse("funding_pick", args=[request.district.slug]),
    }
    return render(request, "partnerships/funding/form.html", context)


@requires("funding.manage")
@require_GET
def funding_pick(request, district_slug):
    """A picker of the funding form as a name is typed (htmx): the chosen ones (the field's
    values in the query) and the matches of `<field>_q`. Opened as a page, it goes to the
    form."""
    name = request.GET.get("field", "")
    if not wants_fragment(request) or name not in FundingSourceForm.pickers:
        return redirect("funding_new", district_slug)
    membership = request.membership
    form = FundingSourceForm(
        initial={name: request.GET.getlist(name)},
        partners=funding_partner_choices(membership),
        mous=funding_mou_choices(membership),
        queries={name: request.GET.get(f"{name}_q", "")},
        pick=name,
    )
    context = {"field": form[name], "picker": form.pickers.get(name, {})}
    response = render(request, "components/picker_choices.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@requires("funding.manage")
def funding_new(request, district_slug):
    form = _form(request)
    if form.is_bound and form.is_valid():
        try:
            funding = funding_save(by=request.membership, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Funding source added."))
            return redirect("funding_detail", district_slug, funding.pk)
    return _render_form(request, form, None)


@requires("funding.manage")
def funding_edit(request, district_slug, funding_id):
    funding = access_funding(request.membership, funding_id)
    initial = {
        "kind": funding.kind,
        "funder": funding.funder,
        "amount": funding.amount,
        "start_date": funding.start_date,
        "end_date": funding.end_date,
        "restrictions": funding.restrictions,
        "partners": list(funding.partners.all()),
        "mous": list(funding.mous.all()),
    }
    form = _form(request, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            funding_save(by=request.membership, funding=funding, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Funding source saved."))
            return redirect("funding_detail", district_slug, funding.pk)
    return _render_form(request, form, funding)


urlpatterns = [
    path("funding/", funding_list, name="funding_list"),
    path("funding/new/", funding_new, name="funding_new"),
    path("funding/pick/", funding_pick, name="funding_pick"),
    path("funding/<int:funding_id>/", funding_detail, name="funding_detail"),
    path("funding/<int:funding_id>/edit/", funding_edit, name="funding_edit"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns: list = []
