"""Every CSV the product hands out is safe to open in a spreadsheet (issue 8, item 7).

The district's text fields are filled with formulas (`=HYPERLINK("x")` and the other
triggers), then every district URL (tests/security/urls.py) is opened as an administrator
with one client. Each response that is a CSV, and each CSV inside a zip (the HSDS
export), is read cell by cell: no cell may start with = + - @ tab or carriage return,
unless it is a number or a phone number, the typed cells core/csv.py writes as they are.
The check is written here independently of core/csv.py, so a writer that stops
neutralizing fails it. An export added later is walked by itself (it has a URL).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

from django.test import Client

from schools.tenancy import tenant_context
from tests.factories import (
    ContactFactory,
    MembershipFactory,
    PartnerFactory,
    SchoolFactory,
    StudentFactory,
    enable_totp,
)
from tests.security.urls import district_urls, make_values

HOSTILE = '=HYPERLINK("x")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The typed cells a spreadsheet may see start with a sign: numbers (-71.06) and phone
# numbers (+1 555 0100). Written out again here, on purpose, rather than imported.
NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
PHONE = re.compile(r"\+?[0-9 ().\-]*[0-9][0-9 ().\-]*(?: *(?:x|ext\.?) *[0-9]+)?", re.I)


def walk_district_as_admin(district):
    """(URL name, path, response) for a GET of every district URL, as one administrator."""
    admin = MembershipFactory(district=district, role="admin")
    enable_totp(admin.user)
    client = Client(raise_request_exception=False)
    client.force_login(admin.user)
    for url in district_urls():
        path = url.build(district.slug, make_values(url.arguments, district))
        yield url.name, path, client.get(path)


def hostile_directory(district):
    """Formulas in every text field an outsider or a member can fill, across the district."""
    school = SchoolFactory(district=district, name=HOSTILE)
    partner = PartnerFactory(
        district=district,
        name=HOSTILE,
        description="+SUM(1,2)",
        address="@import",
        city="-2+3",
        state="\tTX",
        eligibility='=cmd|" /C calc"!A0',
        languages=["=lang"],
        phone="=1+2",
    )
    with tenant_context(district):
        from partnerships.models import PartnerSchool, Service

        Service.objects.create(
            district=district,
            partner=partner,
            category="counselling_individual",
            name=HOSTILE,
            description="-1+1",
        )
        PartnerSchool.objects.create(district=district, partner=partner, school=school)
    ContactFactory(
        district=district,
        partner=partner,
        name=HOSTILE,
        title="@title",
        phone="+1 555 0100",  # a real phone number: written as it is
        preferred_language="\rx",
    )
    StudentFactory(district=district, first_name=HOSTILE, last_name="=1+1")


def csv_files(name, response) -> dict[str, str]:
    """label -> CSV text, for a CSV response or each CSV inside a zip response."""
    kind = response.get("Content-Type", "").split(";")[0].strip().lower()
    disposition = response.get("Content-Disposition", "")
    if kind in ("text/csv", "application/csv") or disposition.rstrip('"').endswith(".csv"):
        return {name: response.content.decode("utf-8-sig")}
    if kind in ("application/zip", "application/x-zip-compressed"):
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        return {
            f"{name}:{member}": archive.read(member).decode("utf-8-sig")
            for member in archive.namelist()
            if member.lower().endswith(".csv")
        }
    return {}


def formula_cells(text: str) -> list[str]:
    bad = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith(TRIGGERS) and not (NUMBER.fullmatch(cell) or PHONE.fullmatch(cell)):
                bad.append(cell)
    return bad


def test_no_export_has_a_cell_a_spreadsheet_would_run(district):
    hostile_directory(district)
    files, cells = {}, []
    for name, _path, response in walk_district_as_admin(district):
        if response.status_code == 200:
            for label, text in csv_files(name, response).items():
                files[label] = text
                cells += list(csv.reader(io.StringIO(text, newline="")))

    problems = {label: formula_cells(text) for label, text in files.items()}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}
    # The walk found the exports, and the hostile text reached them (guarded).
    exports = {label.split(":")[0] for label in files}
    assert {"roster_import_template", "partner_export_download"} <= exports, exports
    flat = {cell for row in cells for cell in row}
    assert "'" + HOSTILE in flat
    assert "+1 555 0100" in flat  # typed cells stay as they are


def test_the_formula_check_sees_every_trigger():
    text = '"=1+1",+x,-y,@z,"\tq","\rr",-71.06,+1 555 0100,\'=safe,plain\r\n'
    assert formula_cells(text) == ["=1+1", "+x", "-y", "@z", "\tq", "\rr"]
