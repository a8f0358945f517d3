"""Funding sources: who may see and change them, the mix per year, what ends soon."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from partnerships.models import FundingMOU, FundingPartner, FundingSource
from partnerships.selectors.funding import funding_expiring, funding_mix
from partnerships.views.funding import PAGE_SIZE
from schools.tenancy import tenant_context
from tests.factories import (
    FundingSourceFactory,
    MembershipFactory,
    MOUFactory,
    PartnerFactory,
    enable_totp,
)

TODAY = datetime.date(2025, 9, 15)


def signed_in(client, membership):
    if membership.role == "admin":
        enable_totp(membership.user)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def known(district):
    """A grant over the 2024-25 school year, a budget line over 2025-26, a donation over
    calendar 2025, and a small grant ending in 47 days."""
    return [
        FundingSourceFactory(
            district=district,
            kind="grant",
            funder="State mental health grant",
            amount=Decimal("120000"),
            start_date=datetime.date(2024, 7, 1),
            end_date=datetime.date(2025, 6, 30),
        ),
        FundingSourceFactory(
            district=district,
            kind="district_budget",
            funder="Student services budget",
            amount=Decimal("50000"),
            start_date=datetime.date(2025, 7, 1),
            end_date=datetime.date(2026, 6, 30),
        ),
        FundingSourceFactory(
            district=district,
            kind="donation",
            funder="Rotary Club",
            amount=Decimal("3650"),
            start_date=datetime.date(2025, 1, 1),
            end_date=datetime.date(2025, 12, 31),
        ),
        FundingSourceFactory(
            district=district,
            kind="grant",
            funder="Community foundation",
            amount=Decimal("5000"),
            start_date=datetime.date(2025, 3, 1),
            end_date=datetime.date(2025, 11, 1),
        ),
    ]


def table(mix):
    return {
        year["label"]: {part["kind"]: part["amount"] for part in year["parts"]}
        | {"total": year["total"]}
        for year in mix["years"]
    }


def test_mix_by_school_year_spreads_each_amount_over_its_days(known):
    mix = funding_mix(known, basis="school", today=TODAY)

    # The donation: 181 of its 365 days fall in 2024-25, 184 in 2025-26. The small grant:
    # 122 of 246 days in 2024-25 (March to June), 124 in 2025-26.
    assert table(mix) == {
        "2024–25": {
            "grant": Decimal("122479.67"),
            "district_budget": Decimal("0"),
            "donation": Decimal("1810.00"),
            "total": Decimal("124289.67"),
        },
        "2025–26": {
            "grant": Decimal("2520.33"),
            "district_budget": Decimal("50000"),
            "donation": Decimal("1840.00"),
            "total": Decimal("54360.33"),
        },
    }
    assert mix["grand_total"] == Decimal("178650")  # every amount counted once, exactly
    assert [y["current"] for y in mix["years"]] == [False, True]


def test_mix_by_calendar_year(known):
    mix = funding_mix(known, basis="calendar", today=TODAY)

    rows = table(mix)
    assert list(rows) == ["2024", "2025", "2026"]
    # The grant: 184 of 365 days in 2024.
    assert rows["2024"]["grant"] == Decimal("60493.15")
    assert rows["2025"]["grant"] == Decimal("120000") - Decimal("60493.15") + Decimal("5000")
    assert rows["2025"]["donation"] == Decimal("3650")
    # The budget line: 181 of its 365 days in 2026.
    assert rows["2026"]["district_budget"] == Decimal("24794.52")
    assert mix["grand_total"] == Decimal("178650")


def test_mix_of_nothing_is_empty():
    mix = funding_mix([], basis="school", today=TODAY)

    assert mix["years"] == [] and mix["grand_total"] == 0


def test_expiring_lists_what_ends_within_ninety_days(district, member, known, other_district):
    FundingSourceFactory(  # another district's, ending in 10 days: not ours to list
        district=other_district,
        start_date=datetime.date(2025, 1, 1),
        end_date=TODAY + datetime.timedelta(days=10),
    )
    with tenant_context(district):
        ending = funding_expiring(member("viewer"), today=TODAY)

    # The donation ends in 107 days, the school-year grant ended in June.
    assert [(s.funder, s.days_left) for s in ending] == [("Community foundation", 47)]


def test_funding_page_shows_the_mix_and_what_ends_soon(
    client, district, member, known, time_machine
):
    time_machine.move_to(datetime.datetime(2025, 9, 15, 16, tzinfo=datetime.UTC), tick=False)
    signed_in(client, member("viewer"))

    response = client.get(f"/{district.slug}/funding/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 funding source ends within 90 days" in html
    assert "Community foundation" in html
    assert "<svg" in html and 'role="img"' in html
    assert "$124,290" in html  # 2024-25 total in the table alternative
    assert "$54,360" in html
    assert "Add a funding source" not in html  # a viewer reads only

    calendar = client.get(f"/{district.slug}/funding/", {"basis": "calendar"}).content.decode()
    assert "calendar year" in calendar and "$60,493" in calendar
    assert client.get(f"/{district.slug}/funding/", {"basis": "nonsense"}).status_code == 200


def test_coordinator_adds_a_funding_source_linked_to_partners_and_mous(client, district, member):
    signed_in(client, member("coordinator"))
    partner = PartnerFactory(district=district)
    mou = MOUFactory(district=district, partner=partner)

    response = client.post(
        f"/{district.slug}/funding/new/",
        {
            "kind": "grant",
            "funder": "  SAMHSA Project AWARE ",
            "amount": "250000.00",
            "start_date": "2025-10-01",
            "end_date": "2028-09-30",
            "restrictions": "Only direct services.",
            "partners": [partner.pk],
            "mous": [mou.pk],
        },
    )

    assert response.status_code == 302
    with tenant_context(district):
        funding = FundingSource.objects.get()
        assert funding.funder == "SAMHSA Project AWARE"
        assert list(FundingPartner.objects.values_list("partner_id", flat=True)) == [partner.pk]
        assert list(FundingMOU.objects.values_list("mou_id", flat=True)) == [mou.pk]
    assert response["Location"] == f"/{district.slug}/funding/{funding.pk}/"
    assert "SAMHSA Project AWARE" in client.get(response["Location"]).content.decode()


def test_editing_changes_the_links(client, district, member):
    signed_in(client, member("coordinator"))
    first, second = PartnerFactory(district=district), PartnerFactory(district=district)
    funding = FundingSourceFactory(district=district)
    with tenant_context(district):
        FundingPartner.objects.create(district=district, funding=funding, partner=first)

    response = client.post(
        f"/{district.slug}/funding/{funding.pk}/edit/",
        {
            "kind": "donation",
            "funder": "Rotary",
            "amount": "10",
            "start_date": "2025-01-01",
            "end_date": "2025-01-01",
            "partners": [second.pk],
        },
    )

    assert response.status_code == 302
    with tenant_context(district):
        funding.refresh_from_db()
        links = list(FundingPartner.objects.values_list("partner_id", flat=True))
    assert (funding.kind, funding.amount, links) == ("donation", Decimal("10"), [second.pk])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_date": "2024-12-31"}, "end_date", "on or after the start date"),
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
        ({"amount": "1e40"}, "amount", ""),
        ({"kind": "lottery"}, "kind", "valid choice"),
        ({"start_date": "31/31/2025"}, "start_date", "valid date"),
        ({"funder": ""}, "funder", "required"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_kept(
    client, district, member, changes, field, message
):
    signed_in(client, member("coordinator"))
    data = {
        "kind": "grant",
        "funder": "Typed funder",
        "amount": "100",
        "start_date": "2025-01-01",
        "end_date": "2025-12-31",
    } | changes

    response = client.post(f"/{district.slug}/funding/new/", data)

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert 'value="Typed funder"' in response.content.decode() or field == "funder"
    with tenant_context(district):
        assert not FundingSource.objects.exists()


def test_another_districts_partner_cannot_be_linked(client, district, other_district, member):
    signed_in(client, member("coordinator"))
    theirs = PartnerFactory(district=other_district)

    response = client.post(
        f"/{district.slug}/funding/new/",
        {
            "kind": "grant",
            "funder": "X",
            "amount": "1",
            "start_date": "2025-01-01",
            "end_date": "2025-01-02",
            "partners": [theirs.pk],
        },
    )

    assert response.status_code == 200
    assert "partners" in response.context["form"].errors


@pytest.mark.parametrize("role", ["counselor", "partner"])
def test_roles_without_funding_view_are_refused(client, district, member, role):
    funding = FundingSourceFactory(district=district)
    signed_in(client, member(role))

    for path in ("funding/", f"funding/{funding.pk}/", "funding/new/"):
        assert client.get(f"/{district.slug}/{path}").status_code == 403


def test_viewer_reads_but_cannot_change(client, district, member):
    funding = FundingSourceFactory(district=district)
    signed_in(client, member("viewer"))

    assert client.get(f"/{district.slug}/funding/{funding.pk}/").status_code == 200
    assert client.get(f"/{district.slug}/funding/new/").status_code == 403
    assert client.post(f"/{district.slug}/funding/{funding.pk}/edit/", {}).status_code == 403


def test_another_districts_admin_gets_404(client, district, other_district):
    funding = FundingSourceFactory(district=district)
    signed_in(client, MembershipFactory(district=other_district, role="admin"))

    assert client.get(f"/{district.slug}/funding/").status_code == 404
    assert client.get(f"/{other_district.slug}/funding/{funding.pk}/").status_code == 404
    assert client.post(f"/{other_district.slug}/funding/{funding.pk}/edit/", {}).status_code == 404


def test_funding_page_costs_the_same_queries_with_few_or_many_sources(
    client, district, member, count_queries
):
    signed_in(client, member("coordinator"))
    url = f"/{district.slug}/funding/"

    def add(n):
        for _ in range(n):
            funding = FundingSourceFactory(district=district)
            partner = PartnerFactory(district=district)
            mou = MOUFactory(district=district, partner=partner)
            with tenant_context(district):
                FundingPartner.objects.create(district=district, funding=funding, partner=partner)
                FundingMOU.objects.create(district=district, funding=funding, mou=mou)

    add(1)
    client.get(url)
    few = count_queries(lambda: client.get(url))
    add(PAGE_SIZE + 5)  # more than a page
    many = count_queries(lambda: client.get(url))
    second_page = count_queries(lambda: client.get(url, {"page": 2}))

    assert few == many == second_page


def test_the_sources_come_a_page_at_a_time_and_the_totals_count_them_all(
    client, district, member, time_machine, django_assert_max_num_queries
):
    """The list is paginated; the mix, its totals and what ends soon are the district's."""
    time_machine.move_to(datetime.datetime(2025, 9, 15, 16, tzinfo=datetime.UTC), tick=False)
    for index in range(PAGE_SIZE + 7):
        FundingSourceFactory(
            district=district,
            kind="grant",
            funder=f"Funder {index:03d}",
            amount=Decimal("1000"),
            start_date=datetime.date(2025, 7, 1),
            end_date=datetime.date(2026, 6, 30),
        )
    FundingSourceFactory(  # the oldest start: the last row of the last page
        district=district,
        kind="donation",
        funder="Ends soon",
        amount=Decimal("500"),
        start_date=datetime.date(2010, 1, 1),
        end_date=datetime.date(2025, 10, 1),
    )
    signed_in(client, member("viewer"))
    url = f"/{district.slug}/funding/"

    client.get(url)  # the first visit also records the district opened
    # The session, the member, the district's context, the count, the page and its two
    # prefetches, the amounts for the mix, what ends soon, the navigation.
    with django_assert_max_num_queries(17):
        first = client.get(url)
    last = client.get(url, {"page": 2})

    funders = [s.funder for s in first.context["sources"]]
    assert len(funders) == PAGE_SIZE and "Ends soon" not in funders
    assert [s.funder for s in last.context["sources"]][-1] == "Ends soon"
    assert len(last.context["sources"]) == 8
    assert first.context["page"].paginator.count == PAGE_SIZE + 8
    assert "Page 1 of 2" in first.content.decode() and "page=2" in first.content.decode()
    for response in (first, last):
        html = response.content.decode()
        # Every grant's 1,000 falls in 2025-26; the donation's last months too.
        years = {year["label"]: year for year in response.context["mix"]["years"]}
        assert years["2025–26"]["parts"][0]["amount"] == Decimal(1000 * (PAGE_SIZE + 7))
        assert [s.funder for s in response.context["expiring"]] == ["Ends soon"]
        assert "1 funding source ends within 90 days" in html
    assert first.context["mix"] == last.context["mix"]


# --- The chart in Spanish: numbers an SVG reader can parse -----------------------------------

SVG = "{http://www.w3.org/2000/svg}"
# Every attribute of the chart that SVG reads as a number (viewBox: four of them).
NUMERIC_ATTRIBUTES = (
    "x", "y", "x1", "x2", "y1", "y2", "dy", "width", "height", "rx", "stroke-width", "font-size",
)  # fmt: skip


def chart_svgs(html: str) -> list[ET.Element]:
    """Every <svg> of the page, parsed as XML (a chart that is not well-formed fails here)."""
    # Our own markup, parsed in a test: nothing untrusted.
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, re.S)]  # noqa: S314


def numbers_of(svg: ET.Element) -> list[tuple[str, str]]:
    found = [("viewBox", n) for n in svg.get("viewBox", "").split()]
    for element in svg.iter():
        found += [
            (name, element.get(name)) for name in NUMERIC_ATTRIBUTES if name in element.attrib
        ]
    return found


@pytest.mark.parametrize("basis", ["school", "calendar"])
@pytest.mark.parametrize(
    "switch",
    [
        {"headers": {"Accept-Language": "es"}},
        {"cookie": "es"},
        {"headers": {"Accept-Language": "en"}},
    ],
    ids=["spanish-browser", "spanish-cookie", "english"],
)
def test_the_funding_chart_draws_its_bars_in_every_language(
    client, district, member, known, time_machine, settings, basis, switch
):
    time_machine.move_to(datetime.datetime(2025, 9, 15, 16, tzinfo=datetime.UTC), tick=False)
    signed_in(client, member("viewer"))
    if "cookie" in switch:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = switch["cookie"]

    response = client.get(
        f"/{district.slug}/funding/", {"basis": basis}, headers=switch.get("headers", {})
    )

    html = response.content.decode()
    spanish = "cookie" in switch or switch["headers"]["Accept-Language"] == "es"
    assert ('<html lang="es">' in html) is spanish
    [chart] = [svg for svg in chart_svgs(html) if svg.get("role") == "img"]
    numbers = numbers_of(chart)
    assert len(numbers) > 20
    for name, value in numbers:
        float(value)  # "260,0" raises: the bar would not be drawn
        assert "," not in value, (name, value)
    width, height = (float(n) for n in chart.get("viewBox").split()[2:])
    bars = chart.findall(f".//{SVG}rect")
    # Three kinds over two or three years: at least one segment per year with money.
    assert len(bars) >= 3
    for rect in bars:
        x, y = float(rect.get("x")), float(rect.get("y"))
        w, h = float(rect.get("width")), float(rect.get("height"))
        assert w > 0 and h > 0, rect.attrib
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, rect.attrib
    assert max(float(rect.get("height")) for rect in bars) > 10  # visible, not a sliver
    # The amounts a person reads are still written in the reader's way.
    # ("$124,290" in English; "$124 290", with a no-break space, in Spanish).
    assert bool(re.search(r"\$\d{2,3}\xa0\d{3}\b", html)) is spanish
    assert bool(re.search(r"\$\d{2,3},\d{3}\b", html)) is not spanish


def test_no_template_writes_a_number_into_a_machine_read_attribute_localized():
    """A guard for pages to come: inside an <svg>, <progress> or <meter>, a variable in a
    numeric attribute, and anywhere a variable in a style, must be under
    {% localize off %} or |unlocalize (a Spanish page would otherwise write "12,5", which
    SVG and the browser cannot read)."""
    from django.conf import settings as django_settings

    numeric = re.compile(
        r"\s(?:x|y|x1|x2|y1|y2|cx|cy|r|dx|dy|width|height|viewBox|points|d|value|max|min|"
        r'low|high|optimum|transform)="[^"]*\{\{\s*([^}|]+?)\s*(\|[^}]*)?\}\}'
    )
    style = re.compile(r'\sstyle="[^"]*\{\{\s*([^}|]+?)\s*(\|[^}]*)?\}\}')
    offenders = []
    for directory in django_settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            text = path.read_text()
            for element in re.finditer(r"<(svg|progress|meter)\b.*?(</\1>|/>|>)", text, re.S):
                if element.group(1) == "svg":
                    element_text = text[element.start() : text.find("</svg>", element.start())]
                else:
                    element_text = element.group(0)
                before = text[: element.start()]
                localized_off = before.count("{% localize off %}") > before.count(
                    "{% endlocalize %}"
                )
                for match in numeric.finditer(element_text):
                    safe = localized_off or "unlocalize" in (match.group(2) or "")
                    if not safe and not _is_integer_expression(match.group(1)):
                        offenders.append(f"{path}: {match.group(0).strip()}")
            # Anywhere: a number written into a style ("width: 12,5%" is no width at all).
            for match in style.finditer(text):
                before = text[: match.start()]
                localized_off = before.count("{% localize off %}") > before.count(
                    "{% endlocalize %}"
                )
                safe = localized_off or "unlocalize" in (match.group(2) or "")
                if not safe and not _is_integer_expression(match.group(1)):
                    offenders.append(f"{path}: {match.group(0).strip()}")
    assert offenders == []


# Values known to be integers (an int never gets a decimal separator; USE_THOUSAND_SEPARATOR
# is off): ids and the MOU goal bar, a rounded percentage.
INTEGER_EXPRESSIONS = {"goal.bar"}


def _is_integer_expression(expression: str) -> bool:
    return expression.endswith((".pk", ".id")) or expression in INTEGER_EXPRESSIONS
