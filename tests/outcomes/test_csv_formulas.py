"""Spreadsheet formulas in CSV cells: catalogue and staff names reach the report CSVs and the research export
as text, never as a formula (clinic.csv_export)."""

import csv
import io

import pytest
from django.core.cache import caches
from django.urls import reverse

from outcomes import exports, reports
from outcomes.views import TABLES

FORMULA = '=HYPERLINK("https://evil.example","Open")'


def rows_of(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


@pytest.fixture
def hostile_names(clinic_data, practitioner):
    condition = clinic_data["c1"].condition
    condition.name = FORMULA
    condition.save()
    practitioner.first_name, practitioner.last_name = "@SUM(1+1)", "Hale"
    practitioner.save()
    caches[reports.ALIAS].clear()
    return clinic_data


def _cells(rows):
    return [value for row in rows for value in row]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_no_report_csv_carries_a_formula(table, hostile_names, clinic_admin, client_for):
    response = client_for(clinic_admin).get(reverse("outcomes:csv", args=[table]))
    assert response.status_code == 200
    for value in _cells(rows_of(response)):
        assert not value.startswith(("=", "+", "@", "\t", "\r")), (table, value)
        assert not value.startswith("-") or value.lstrip("-").replace(".", "", 1).isdigit(), (table, value)


def test_the_condition_and_practitioner_tables_show_the_names_as_text(
    hostile_names, clinic_admin, client_for
):
    client = client_for(clinic_admin)
    conditions = _cells(rows_of(client.get(reverse("outcomes:csv", args=["responders-condition"]))))
    practitioners = _cells(rows_of(client.get(reverse("outcomes:csv", args=["responders-practitioner"]))))
    assert "'" + FORMULA in conditions
    assert "'@SUM(1+1) Hale" in practitioners


@pytest.mark.parametrize("level", [export.name for export in exports.FILES])
def test_the_research_export_carries_no_formula(level, hostile_names, clinic_admin, client_for):
    rows = rows_of(client_for(clinic_admin).get(reverse("outcomes:research-export"), {"level": level}))
    for value in _cells(rows):
        assert not value.startswith(("=", "+", "@", "\t", "\r")), value
        assert not value.startswith("-") or value.lstrip("-").replace(".", "", 1).isdigit(), value


def test_the_research_export_keeps_the_condition_as_text_and_a_pain_change_as_a_number(
    hostile_names, clinic_admin, client_for
):
    rows = rows_of(client_for(clinic_admin).get(reverse("outcomes:research-export"), {"level": "courses"}))
    c1 = dict(
        zip(
            rows[0],
            next(r for r in rows[1:] if r[0] == exports.pseudonym("course", hostile_names["c1"].pk)),
            strict=True,
        )
    )
    assert c1["condition"] == "'" + FORMULA
    assert c1["pain_change"] == "-5"
