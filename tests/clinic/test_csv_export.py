"""Spreadsheet formulas in CSV cells: the one CSV writer (clinic.csv_export) neutralises them, numbers stay
numbers."""

import csv
import io
from decimal import Decimal

import pytest

from clinic.csv_export import cell, csv_response, streaming_csv_response


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://evil.example","Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "-",
        "+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "-1e5",
        "-0.5x",
    ],
)
def test_a_formula_cell_is_written_as_text(value):
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -0.5, Decimal("-2.25"), 0, True, "-3", "-0.5", "12", "3.75"])
def test_a_number_stays_a_number(value):
    assert cell(value) == value


@pytest.mark.parametrize("value", ["Knee osteoarthritis", "a=b", "Dr O'Brien", "", " =1"])
def test_ordinary_text_is_untouched(value):
    assert cell(value) == value


def test_none_is_an_empty_cell():
    assert cell(None) == ""


def _rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def test_the_in_memory_download_neutralises_every_cell_header_included():
    response = csv_response(["=A", "n"], [["@x", -3], ["ok", "-0.5"]], "t.csv")
    assert _rows(response) == [["'=A", "n"], ["'@x", "-3"], ["ok", "-0.5"]]
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'


def test_the_streamed_download_neutralises_every_cell():
    response = streaming_csv_response(["a"], iter([["=1+1"], ["-4"]]), "s.csv")
    assert _rows(response) == [["a"], ["'=1+1"], ["-4"]]
