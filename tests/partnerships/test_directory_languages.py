"""Languages in the partner directory: ISO 639 codes chosen from a list, named in the reader's
language, filtered by base language, exchanged in HSDS, and the move of the free text stored
before to codes (partnerships migration 0009)."""

from __future__ import annotations

import importlib
import io
import zipfile
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from partnerships.models import Contact, Partner
from partnerships.services.directory import partner_save
from partnerships.services.hsds import hsds_read
from tests.partnerships.directory_setup import make_partner, person, read, signed_in
from tests.partnerships.test_directory import section_post
from tests.partnerships.test_hsds import export, foreign_package, make_zip, read_csv, table

pytestmark = pytest.mark.django_db

migration = importlib.import_module("partnerships.migrations.0009_languages_as_codes")


def detail_url(district, partner) -> str:
    return reverse("partner_detail", args=[district.slug, partner.pk])


def text(response) -> str:
    return response.content.decode()


# --- Shown by name, in the reader's language ---------------------------------------------------


def test_the_partner_page_names_languages_in_the_readers_language(client, district):
    partner = make_partner(
        district,
        name="Harbor Counseling",
        languages=["en", "es-mx"],
        contacts=[{"name": "Ana Ruiz", "preferred_language": "es"}],
    )
    signed_in(client, person(district, "counselor"))

    english = text(client.get(detail_url(district, partner)))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    spanish = text(client.get(detail_url(district, partner)))

    assert "English, Spanish (Mexico)" in english and "Prefers Spanish" in english
    assert "Inglés, Español (México)" in spanish and "Español" in spanish
    assert "es-mx" not in english and "es-mx" not in spanish


def test_another_districts_member_cannot_open_the_partner_page(client, district, other_district):
    partner = make_partner(district, name="Harbor Counseling", languages=["es"])
    signed_in(client, person(other_district, "coordinator"))

    assert client.get(detail_url(district, partner)).status_code == 404


def test_the_language_filter_offers_each_language_once_by_name(client, district):
    make_partner(district, name="Harbor Counseling", languages=["en", "es"])
    make_partner(district, name="Food Bridge", languages=["es-mx", "vi"])
    signed_in(client, person(district, "counselor"))

    english = client.get(reverse("partner_list", args=[district.slug]))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    spanish = client.get(reverse("partner_list", args=[district.slug]))

    choices = english.context["form"].fields["language"].choices
    assert choices[1:] == [("en", "English"), ("es", "Spanish"), ("vi", "Vietnamese")]
    spanish_choices = spanish.context["form"].fields["language"].choices
    assert spanish_choices[1:] == [("es", "Español"), ("en", "Inglés"), ("vi", "Vietnamita")]


# --- Chosen from the list ------------------------------------------------------------------------


def send(client, district, section, **overrides):
    """A coordinator saves one section of a partner's form."""
    partner = read(district, lambda: Partner.objects.first()) or make_partner(
        district, name="Harbor Counseling"
    )
    signed_in(client, person(district, "coordinator"))
    url = reverse("partner_edit", args=[district.slug, partner.pk])
    return client.post(url, section_post(section, **overrides))


def sent_form(response):
    return next(s["form"] for s in response.context["sections"] if s["has_errors"])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"languages": ["en", "xx"]}, "languages", "Choose languages from the list."),
        ({"languages": ["Spanish"]}, "languages", "Choose languages from the list."),
        (
            {"other_languages": "Oromo, Elvish"},
            "other_languages",
            "Trellis does not know “Elvish” as a language.",
        ),
    ],
)
def test_the_partner_form_refuses_what_is_no_language_next_to_the_field(
    client, district, overrides, field, message
):
    response = send(client, district, "offer", **overrides)

    form = sent_form(response)
    assert response.status_code == 200
    assert any(message in error for error in form.errors[field])
    assert f'id="id_{field}_error"' in text(response)
    assert read(district, lambda: Partner.objects.get().languages) == []


def test_a_contacts_language_is_chosen_from_the_list(client, district):
    response = send(client, district, "contacts", **{"contacts-0-preferred_language": "Spanish"})

    rows = sent_form(response)
    assert response.status_code == 200
    assert rows.forms[0].errors["preferred_language"] == ["Choose a language from the list."]

    saved = send(client, district, "contacts", **{"contacts-0-preferred_language": "es"})

    assert saved.status_code == 302
    assert read(district, lambda: Contact.objects.get().preferred_language) == "es"


def test_a_stored_language_outside_the_common_ones_is_offered_to_the_contact(client, district):
    partner = make_partner(
        district,
        name="Harbor Counseling",
        contacts=[{"name": "Ana Ruiz", "preferred_language": "gsw"}],
    )
    signed_in(client, person(district, "coordinator"))

    response = client.get(reverse("partner_edit", args=[district.slug, partner.pk]))

    contacts = next(s["form"] for s in response.context["sections"] if s["key"] == "contacts")
    field = contacts.forms[0].fields["preferred_language"]
    assert ("gsw", "Swiss German") in field.choices
    assert '<option value="gsw" selected>Swiss German</option>' in text(response)


def test_the_service_refuses_names_where_codes_belong(district):
    by = person(district, "coordinator")

    with pytest.raises(ValidationError) as refused:
        read(
            district,
            lambda: partner_save(by=by, fields={"name": "Harbor", "languages": ["Spanish"]}),
        )

    assert "languages" in refused.value.message_dict


def test_a_weaker_role_cannot_edit_languages(client, district):
    partner = make_partner(district, name="Harbor Counseling", languages=["en"])
    signed_in(client, person(district, "counselor"))

    response = client.post(
        reverse("partner_edit", args=[district.slug, partner.pk]),
        section_post("offer", languages=["es"]),
    )

    assert response.status_code == 403
    assert read(district, lambda: Partner.objects.get().languages) == ["en"]


# --- HSDS ---------------------------------------------------------------------------------------


def test_the_export_writes_iso_codes_and_english_names(client, district):
    make_partner(
        district,
        name="Harbor Counseling",
        languages=["en", "es-mx", "zh-hant"],
        contacts=[{"name": "Ana Ruiz", "preferred_language": "vi"}],
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"  # the file is the same in any language

    data = export(district)

    rows = read_csv(data, "languages.csv")
    assert [(row["code"], row["name"]) for row in rows] == [
        ("en", "English"),
        ("es-MX", "Spanish (Mexico)"),
        ("zh-Hant", "Chinese (Traditional)"),
    ]
    [attribute] = [
        row for row in read_csv(data, "attributes.csv") if row["link_entity"] == "contact"
    ]
    assert attribute["value"] == "vi"  # the code; its name is in languages.csv where it is one


def test_the_import_reads_codes_first_then_names_and_lists_the_rest(district):
    languages = table(
        ["id", "service_id", "location_id", "name", "code"],
        ["ln-1", "svc-1", "", "Spanish", ""],  # a name
        ["ln-2", "", "loc-1", "Whatever", "vi"],  # the code wins
        ["ln-3", "", "loc-1", "Español (México)", ""],
        ["ln-4", "", "loc-1", "", "es-MX"],  # the same again
        ["ln-5", "", "loc-1", "Elvish", ""],
        ["ln-6", "", "loc-1", "Spanish", "xx"],
    )

    package = hsds_read(make_zip(foreign_package(**{"languages.csv": languages})))

    food = next(o for o in package.organizations if o.fields["name"] == "County Food Bank")
    assert food.fields["languages"] == ["es", "vi", "es-mx"]
    problems = {(p.file, p.row, p.column): p.message for p in package.errors}
    assert problems == {
        ("languages.csv", 6, "name"): "“Elvish” is not a language we know.",
        ("languages.csv", 7, "code"): "“xx” is not an ISO 639 code.",
    }


def test_the_import_reads_a_contacts_language_written_as_a_name(district):
    make_partner(
        district,
        name="Harbor Counseling",
        contacts=[{"name": "Ana Ruiz", "preferred_language": "es"}],
    )
    data = export(district)
    archive = zipfile.ZipFile(io.BytesIO(data))
    files = {name: archive.read(name) for name in archive.namelist()}
    attributes = files["attributes.csv"].replace(b",contact,es\r\n", b",contact,Espa\xc3\xb1ol\r\n")
    assert attributes != files["attributes.csv"]  # the value now is a name, in Spanish
    files["attributes.csv"] = attributes

    package = hsds_read(make_zip(files))

    [harbor] = package.organizations
    assert package.error_total == 0
    assert harbor.contacts[0]["preferred_language"] == "es"


# --- The migration to codes --------------------------------------------------------------------


def test_the_migration_reads_every_districts_directory_and_keeps_what_it_cannot_read(
    district, other_district
):
    harbor = make_partner(
        district,
        name="Harbor Counseling",
        description="Therapists for teens.",
        contacts=[
            {"name": "Ana Ruiz", "preferred_language": "Spanish"},
            {"name": "Bo Chen", "preferred_language": "Dothraki"},
            {"name": "Cy Diaz"},
        ],
    )
    quiet = make_partner(district, name="Quiet Org")
    theirs = make_partner(other_district, name="South Partner")

    def write(d, partner, languages):
        read(d, lambda: Partner.objects.filter(pk=partner.pk).update(languages=languages))

    write(district, harbor, ["English", "Español", "Elvish", "spanish"])
    write(other_district, theirs, ["Tiếng Việt"])
    events = Partner._meta.get_field("events").related_model
    before = read(district, lambda: events.objects.filter(pgh_obj_id=harbor.pk).count())

    migration.forwards(apps, SimpleNamespace(connection=connection))

    harbor_after = read(district, lambda: Partner.objects.get(pk=harbor.pk))
    contacts = read(
        district, lambda: dict(Contact.objects.values_list("name", "preferred_language"))
    )
    assert harbor_after.languages == ["en", "es"]
    assert harbor_after.description == (
        "Therapists for teens.\n\n"
        "Languages not recognized on migration: Elvish\n"
        "Preferred language of Bo Chen not recognized on migration: Dothraki"
    )
    assert contacts == {"Ana Ruiz": "es", "Bo Chen": "", "Cy Diaz": ""}
    assert read(other_district, lambda: Partner.objects.get().languages) == ["vi"]
    assert read(district, lambda: Partner.objects.get(pk=quiet.pk).description) == ""
    history = read(
        district, lambda: list(events.objects.filter(pgh_obj_id=harbor.pk).order_by("pgh_id"))
    )
    assert len(history) == before + 1 and history[-1].languages == ["en", "es"]
    assert history[-1].pgh_context["migration"] == "partnerships.0009_languages_as_codes"

    migration.backwards(apps, SimpleNamespace(connection=connection))

    harbor_back = read(district, lambda: Partner.objects.get(pk=harbor.pk))
    contacts = read(
        district, lambda: dict(Contact.objects.values_list("name", "preferred_language"))
    )
    assert harbor_back.languages == ["English", "Spanish", "Elvish"]
    assert harbor_back.description == "Therapists for teens."
    assert contacts == {"Ana Ruiz": "Spanish", "Bo Chen": "Dothraki", "Cy Diaz": ""}
    assert read(other_district, lambda: Partner.objects.get().languages) == ["Vietnamese"]
