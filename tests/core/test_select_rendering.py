"""Selects are written in Python by the project's form renderer (core.forms), with exactly
the markup of Django's select templates (what that saves is measured by the benchmark:
the directory and referral list filters of a large district)."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.test.html import parse_html

from core.forms import FormRenderer, QuickSelect


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "Alpha"), ("b", "Beta")])
    hostile = forms.ChoiceField(
        choices=[('"><script>alert(1)</script>', '<b>bold</b> & "quoted"'), ("x", "X")],
        required=False,
    )
    grouped = forms.ChoiceField(
        choices=[("", "None"), ("Counseling", [("ind", "Individual"), ("grp", "Group")])]
    )
    many = forms.MultipleChoiceField(choices=[(1, "One"), (2, "Two"), (3, "Three")])
    typed = forms.TypedChoiceField(choices=[(7, "Seven"), (8, "Eight")], coerce=int)
    described = forms.ChoiceField(
        choices=[("y", "Yes")],
        widget=forms.Select(
            attrs={"aria-describedby": "hint", "disabled": True, "hidden": False, "data-x": ""}
        ),
    )


class Radios(forms.Form):
    pick = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"plain": "b", "hostile": '"><script>alert(1)</script>', "grouped": "grp"},
        {"many": ["1", "3"], "typed": "8", "described": "y"},
    ],
)
def test_the_python_select_is_djangos_markup(data):
    form = Everything(data)
    form.renderer = FormRenderer()
    for name, field in form.fields.items():
        bound = form[name]
        attrs = {"id": bound.auto_id}
        ours = field.widget.render(bound.html_name, bound.value(), attrs, renderer=FormRenderer())
        django = field.widget.render(
            bound.html_name, bound.value(), attrs, renderer=TemplatesSetting()
        )
        assert parse_html(ours) == parse_html(django), name
        assert "<script>" not in ours


def test_a_selected_value_and_the_optgroup_come_through():
    form = Everything({"plain": "b", "grouped": "grp", "many": ["1", "3"]})
    html = str(form["plain"]) + str(form["grouped"]) + str(form["many"])
    assert '<option value="b" selected>Beta</option>' in html
    assert '<optgroup label="Counseling">' in html
    assert '<option value="grp" selected>Group</option>' in html
    assert "multiple" in str(form["many"]) and html.count(" selected>") == 4


def test_other_widgets_still_render_through_the_templates():
    html = str(Radios({"pick": "b"})["pick"])
    assert 'type="radio"' in html and 'value="b"' in html and "checked" in html


@pytest.mark.parametrize("value", [None, "b", '"><script>alert(1)</script>', ["a", "b"]])
def test_the_quick_select_of_flat_choices_is_djangos_markup_too(value):
    choices = [("", "Any"), ("a", "Alpha & Co"), ("b", "<b>Beta</b>")]
    choices.append(('"><script>alert(1)</script>', "Hostile"))
    attrs = {"id": "id_school", "aria-describedby": "hint", "required": True, "hidden": False}

    ours = QuickSelect(choices=choices).render("school", value, attrs)
    django = forms.Select(choices=choices).render(
        "school", value, attrs, renderer=TemplatesSetting()
    )

    assert parse_html(ours) == parse_html(django)
    assert "<script>" not in ours and "<b>" not in ours
