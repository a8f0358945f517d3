"""Helpers of the directory tests: partners with their services, contacts, schools, MOUs."""

from __future__ import annotations

from partnerships.models import MOU, Contact, MOUSchool, Partner, PartnerSchool, Service
from schools.tenancy import tenant_context
from tests.factories import MembershipFactory, PartnerFactory, enable_totp


def person(district, role, **kwargs):
    """A member of the district in `role` (an administrator has an authenticator app)."""
    membership = MembershipFactory(district=district, role=role, **kwargs)
    if role == "admin":
        enable_totp(membership.user)
    return membership


def signed_in(client, membership):
    client.force_login(membership.user)
    return client


def make_partner(district, *, services=(), schools=(), contacts=(), **fields) -> Partner:
    """A partner with services (category codes or (code, name) pairs), schools, contacts."""
    partner = PartnerFactory(district=district, **fields)
    with tenant_context(district):
        for service in services:
            code, name = service if isinstance(service, tuple) else (service, "")
            Service.objects.create(district=district, partner=partner, category=code, name=name)
        for school in schools:
            PartnerSchool.objects.create(district=district, partner=partner, school=school)
        for contact in contacts:
            Contact.objects.create(district=district, partner=partner, **contact)
    return partner


def make_mou(district, partner, *, status="active", schools=(), services=(), title="") -> MOU:
    with tenant_context(district):
        mou = MOU.objects.create(
            district=district,
            partner=partner,
            title=title or f"Agreement with {partner.name}",
            status=status,
            services=list(services),
        )
        for school in schools:
            MOUSchool.objects.create(district=district, mou=mou, school=school)
    return mou


def read(district, fn):
    """Run fn() inside the district's context (tenant rows are invisible outside it)."""
    with tenant_context(district):
        return fn()


def coverage_cells(response) -> dict[tuple[str, str], list[str]]:
    """The coverage map's cells as the page shows them: (school, category code) -> the
    partners the cell names, or its "N partners" link where it says how many, or [] for a
    gap. Read from the table's HTML, in the order of its columns (context["columns"])."""
    import html
    import re

    codes = [column["code"] for column in response.context["columns"]]
    page = response.content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    found = {}
    for school, row in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body, re.S):
        cells = re.findall(r'<td class="coverage-cell[^"]*">(.*?)</td>', row, re.S)
        assert len(cells) == len(codes), school
        for code, cell in zip(codes, cells, strict=True):
            names = re.findall(r'<li><a href="[^"]*">(.*?)</a></li>', cell) or re.findall(
                r'class="coverage-cell__count"[^>]*>(.*?)</a>', cell
            )
            found[(html.unescape(school), code)] = [html.unescape(name) for name in names]
    return found
