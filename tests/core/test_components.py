"""The template components (templates/components/): what a person using a screen reader or
a keyboard gets from them, whichever page uses them."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import models
from django.template import Context, Template, TemplateSyntaxError
from django.utils.safestring import mark_safe

from schools.templatetags.components import register_tones


class Colour(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"
    BLUE = "blue", "Blue"


class SampleForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="We write to it.")
    nickname = forms.CharField(label="Nickname", required=False)
    colours = forms.MultipleChoiceField(
        label="Colours", choices=Colour.choices, widget=forms.CheckboxSelectMultiple
    )
    agree = forms.BooleanField(label="I agree")
    version = forms.IntegerField(widget=forms.HiddenInput)


def render(source: str, **context) -> str:
    return Template("{% load components %}" + source).render(Context(context))


def test_a_field_has_its_label_above_its_problem_in_words_and_its_help_wired_to_the_control():
    form = SampleForm({"email": "not an address"})

    html = form["email"].as_field_group()

    assert '<label class="field__label" for="id_email">Email address</label>' in html
    assert '<ul class="errorlist" id="id_email_error"><li>Enter a valid email address.' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_email_helptext id_email_error"' in html
    assert '<div class="helptext" id="id_email_helptext">We write to it.</div>' in html
    assert html.index("id_email_error") < html.index("<input")  # the problem before the box


def test_an_optional_field_says_so_and_a_filter_field_does_not():
    form = SampleForm()

    assert "(optional)" in form["nickname"].as_field_group()
    assert "(optional)" not in render(
        '{% include "components/filter_field.html" with field=f %}', f=form["nickname"]
    )


def test_a_checkbox_list_is_a_fieldset_described_by_its_problem_with_one_row_per_option():
    form = SampleForm({})

    html = form["colours"].as_field_group()

    assert html.count('<div class="choice">') == 3
    assert '<fieldset class="field field--error" aria-describedby="id_colours_error">' in html
    assert "<legend>Colours</legend>" in html
    assert '<div class="choice-list">' in html


def test_a_form_with_choice_columns_lays_its_lists_out_in_columns():
    class Wide(SampleForm):
        choice_columns = True

    assert '<div class="choice-list choice-list--columns">' in Wide()["colours"].as_field_group()


def test_the_error_summary_links_each_problem_to_its_field_and_lists_hidden_ones():
    form = SampleForm({"email": "x"})
    form.is_valid()

    html = render('{% include "components/error_summary.html" %}', form=form)

    assert 'role="alert"' in html and "There is a problem" in html
    assert '<a href="#id_email">Email address: Enter a valid email address.</a>' in html
    assert '<a href="#id_colours_0">Colours: This field is required.</a>' in html  # fieldset
    assert '<a href="#id_agree">I agree: This field is required.</a>' in html
    assert "<li>This field is required.</li>" in html  # the hidden version
    assert render('{% include "components/error_summary.html" %}', form=SampleForm()).strip() == ""


def test_a_badge_is_colour_and_escaped_words_and_an_unknown_tone_is_neutral():
    html = render(
        '{% badge tone="danger" label=text %}{% badge label=text %}'
        '{% badge tone="pink" label="x" %}{% badge tone="info" label=safe %}',
        text="<b>Kids & Co</b>",
        safe=mark_safe("<em>Due</em>"),
    )

    assert html == (
        '<span class="badge badge--danger">&lt;b&gt;Kids &amp; Co&lt;/b&gt;</span>'
        '<span class="badge badge--neutral">&lt;b&gt;Kids &amp; Co&lt;/b&gt;</span>'
        '<span class="badge badge--neutral">x</span>'
        '<span class="badge badge--info"><em>Due</em></span>'
    )


def test_a_tone_per_choice_is_registered_checked_and_read_by_the_tone_filter():
    register_tones("test_colour", Colour, {"red": "danger", "green": "success"})

    html = render(
        '{% for c in colours %}{% badge tone=c|tone:"test_colour" label=c.label %}{% endfor %}',
        colours=list(Colour),
    )

    assert html == (
        '<span class="badge badge--danger">Red</span>'
        '<span class="badge badge--success">Green</span>'
        '<span class="badge badge--neutral">Blue</span>'
    )
    with pytest.raises(ImproperlyConfigured, match="unknown choices"):
        register_tones("test_colour", Colour, {"purple": "info"})
    with pytest.raises(ImproperlyConfigured, match="not in"):
        register_tones("test_colour", Colour, {"red": "pink"})
    with pytest.raises(TemplateSyntaxError, match="no tones"):
        render('{{ "red"|tone:"never_registered" }}')


def test_a_table_is_a_named_scroll_region_with_its_caption_and_page():
    page = Paginator(range(120), 50).get_page(2)

    html = render(
        '{% table id="x-caption" caption="Students" hide_caption=True page=page %}'
        "<tbody><tr><td>1</td></tr></tbody>{% endtable %}",
        page=page,
    )

    assert 'tabindex="0" role="region" aria-labelledby="x-caption"' in html
    assert '<caption id="x-caption" class="visually-hidden">Students' in html
    assert "(page 2 of 3)" in html
    assert "<tbody><tr><td>1</td></tr></tbody>" in html
    labelled = render('{% table labelledby="heading" %}{% endtable %}')
    assert 'aria-labelledby="heading"' in labelled and "<caption" not in labelled
