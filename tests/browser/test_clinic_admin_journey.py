"""A clinic admin's review in Chromium: the outcomes dashboard and its charts, a condition filter, a
figure followed to the courses behind it, and a table downloaded as CSV."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from clinic import roles
from outcomes.summary import course_outcomes_rebuild
from tests.browser.kit import axe_violations, sign_in
from tests.factories import UserFactory
from tests.outcomes.conftest import KNEE, build_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHARTS_DRAWN = """() => [...document.querySelectorAll('canvas[data-chart-url]')]
    .map((canvas) => Chart.getChart(canvas))
    .filter((chart) => chart && chart.data.datasets.some((d) => d.data.length > 0)).length"""


def test_a_clinic_admin_filters_the_outcomes_follows_a_figure_and_downloads_a_csv(page, live_server):
    build_clinic(UserFactory(role=roles.PRACTITIONER, first_name="Morgan", last_name="Hale"))
    # The factories write past the services, which keep the outcome summaries current: rebuild them.
    course_outcomes_rebuild()
    UserFactory(username="admin", first_name="Alex", last_name="Okafor", role=roles.CLINIC_ADMIN)
    sign_in(page, live_server, "admin", "correct-horse-battery")

    page.get_by_role("navigation").first.get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes whole clinic")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate(CHARTS_DRAWN) > 0
    assert not axe_violations(page)

    page.get_by_label("Condition", exact=True).select_option(label=KNEE)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"condition=\d+"))
    page.wait_for_load_state("networkidle")
    assert page.evaluate(CHARTS_DRAWN) > 0
    behind = page.get_by_role("link", name=re.compile(r"^\d+ courses? with a treatment$"))
    courses = int(behind.inner_text().split()[0])
    assert courses > 0

    behind.click()
    page.wait_for_url(re.compile(r"/outcomes/courses/\?.*condition=\d+"))
    expect(page.get_by_text(f"{courses} course")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(courses)
    for index in range(courses):
        expect(rows.nth(index)).to_contain_text(KNEE)
    assert not axe_violations(page)

    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_label("Condition", exact=True)).to_have_value(re.compile(r"\d+"))
    page.get_by_role("link", name="By condition and practitioner").click()
    expect(page.get_by_label("Condition", exact=True)).to_have_value(re.compile(r"\d+"))  # filters kept
    table = page.get_by_role("region", name="Responders by condition")
    headers = table.locator("thead th").all_inner_texts()
    with page.expect_download() as download:
        table.get_by_role("link", name=re.compile("^CSV")).click()
    assert download.value.suggested_filename.startswith("responders-condition-")
    with open(download.value.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    # The CSV spreads each proportion over its numbers: responders, denominator, %, and the interval.
    assert rows[0][:6] == headers[:6]
    assert "≥ MCID, available: responders" in rows[0] and "≥ MCID, available: 95 % CI low" in rows[0]
    assert [row[0] for row in rows[1:]] == [KNEE]
