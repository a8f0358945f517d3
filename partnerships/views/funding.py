"""Funding: the sources, the mix per year (a chart with a table beside it), what ends soon."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.charts import Group, Series, StackedBarChart, stacked_bar_chart
from partnerships.forms.funding import FundingSourceForm, MixBasisForm
from partnerships.selectors.funding import (
    access_funding,
    funding_expiring,
    funding_mix,
    funding_mou_choices,
    funding_partner_choices,
    funding_sources,
)
from partnerships.services.funding import funding_save
from schools.capabilities import can, requires

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
    """Every funding source, the mix per year, and what ends within 90 days."""
    basis = MixBasisForm(request.GET)
    sources = list(funding_sources(request.membership))
    today = request.district.today()
    mix = funding_mix(sources, basis=basis.basis_value(), today=today)
    context = {
        "basis_form": basis,
        "sources": sources,
        "mix": mix,
        "chart": bar_chart(mix),
        "expiring": funding_expiring(sources, today=today),
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
    membership = request.membership
    return FundingSourceForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        partners=funding_partner_choices(membership),
        mous=funding_mou_choices(membership),
    )


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
    return render(request, "partnerships/funding/form.html", {"form": form, "funding": None})


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
    return render(request, "partnerships/funding/form.html", {"form": form, "funding": funding})


urlpatterns = [
    path("funding/", funding_list, name="funding_list"),
    path("funding/new/", funding_new, name="funding_new"),
    path("funding/<int:funding_id>/", funding_detail, name="funding_detail"),
    path("funding/<int:funding_id>/edit/", funding_edit, name="funding_edit"),
]
# Links that leave the product (signed, no account): served under /p/ by config/urls.py.
public_urlpatterns: list = []
