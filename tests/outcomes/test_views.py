import csv
import io

import pytest
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from clinic import roles
from outcomes import exports, reports, selectors
from tests.factories import UserFactory
from tests.outcomes.conftest import KNEE, ClinicBuilder, build_clinic


def rows_of(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


SECTIONS = {
    "responders": "Responders at fixed timepoints",
    "groups": "Responders by condition, practitioner and anaesthetic",
    "time": "Time to event",
    "dose": "Dose and exposure",
    "pain": "Pain trend",
    "safety": "Safety",
    "adherence": "Adherence",
    "definitions": "How these figures are defined",
}


@pytest.mark.parametrize(("tab", "heading"), SECTIONS.items())
def test_each_dashboard_section_has_its_own_page_under_the_headline(
    clinic_admin, client_for, clinic_data, tab, heading
):
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"), {"tab": tab})

    assert response.status_code == 200
    text = response.content.decode()
    assert "Headline figures" in text and heading in text
    assert all(f"tab={other}" in text for other in SECTIONS)  # the way to every other section
    assert f'aria-current="page">{response.context["tab_label"]}<' in text
    assert "<script>" not in text


def test_the_default_section_has_drill_down_links_and_charts(clinic_admin, client_for, clinic_data):
    client = client_for(clinic_admin)
    text = client.get(reverse("outcomes:dashboard")).content.decode()

    assert SECTIONS["responders"] in text and "pain-by-session" not in text  # only the open section
    assert reverse("outcomes:course-list") + "?timepoint=" in text
    assert "figure=tp-missing" in text
    pain = client.get(reverse("outcomes:dashboard"), {"tab": "pain"}).content.decode()
    assert 'data-chart-url="/outcomes/charts/pain-by-session.json"' in pain


def test_an_unknown_section_is_not_found(clinic_admin, client_for):
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"), {"tab": "<script>"})

    assert response.status_code == 404


@pytest.mark.parametrize("tab", SECTIONS)
def test_each_dashboard_section_runs_the_same_number_of_queries_as_data_grows(
    clinic_admin, client_for, practitioner, django_assert_max_num_queries, tab
):
    """Cold (no cached report): sign-in and the report version, the headline (course counts, this month's
    sessions, the timepoint tallies), the section's own grouped queries and names, the form."""
    client = client_for(clinic_admin)
    url = f"{reverse('outcomes:dashboard')}?tab={tab}"
    builder = ClinicBuilder()
    build_clinic(practitioner, builder)
    client.get(url)  # warm the session and permission caches
    caches[reports.ALIAS].clear()
    with django_assert_max_num_queries(25) as small:
        assert client.get(url).status_code == 200
    for _ in range(4):
        build_clinic(practitioner, builder)
    caches[reports.ALIAS].clear()
    with django_assert_max_num_queries(25) as large:
        assert client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries), len(small.captured_queries)


def test_a_practitioner_gets_no_practitioner_filter_and_sees_their_own_figures(
    practitioner, client_for, clinic_data
):
    response = client_for(practitioner).get(reverse("outcomes:dashboard"))

    assert "practitioner" not in response.context["form"].fields
    assert response.context["headline"]["n"] == 4
    assert "your courses" in response.content.decode()


def test_filters_narrow_the_figures_and_keep_bad_input(clinic_admin, client_for, clinic_data):
    knee = clinic_data["c1"].condition
    client = client_for(clinic_admin)

    response = client.get(reverse("outcomes:dashboard"), {"condition": knee.pk, "status": "completed"})
    assert response.context["headline"]["n"] == 1  # C1

    response = client.get(
        reverse("outcomes:dashboard"), {"start_from": "2026-05-01", "start_to": "2026-01-01"}
    )
    assert response.status_code == 200
    assert "cannot be before its start" in response.content.decode()
    assert 'value="2026-05-01"' in response.content.decode()


def test_drill_down_links_carry_the_filters(clinic_admin, client_for, clinic_data):
    knee = clinic_data["c1"].condition
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"), {"condition": knee.pk})

    primary = response.context["primary"]
    assert primary["links"]["missing"] == (
        f"{reverse('outcomes:course-list')}?condition={knee.pk}&timepoint={primary['timepoint'].pk}"
        f"&instrument={primary['instrument'].pk}&figure=tp-missing"
    )


def test_the_course_list_links_each_course_to_its_page(clinic_admin, client_for, clinic_data):
    response = client_for(clinic_admin).get(reverse("outcomes:course-list"), {"figure": "responders-mcid"})

    assert reverse("courses:course-detail", args=[clinic_data["c1"].pk]) in response.content.decode()


INSTRUMENT_FIGURES = [
    "instrument-evaluable-50",
    "instrument-responders-50",
    "instrument-lost",
    "instrument-awaiting",
]


@pytest.mark.parametrize("figure", INSTRUMENT_FIGURES)
def test_the_instrument_figures_drill_down_to_their_courses(clinic_admin, client_for, clinic_data, figure):
    response = client_for(clinic_admin).get(reverse("outcomes:course-list"), {"figure": figure})

    assert response.status_code == 200
    text = response.content.decode()
    # C1 and C3 are evaluable on their instrument for 50 %, responding on neither; none is lost or awaiting.
    shown = reverse("courses:course-detail", args=[clinic_data["c1"].pk]) in text
    assert shown == (figure == "instrument-evaluable-50")


def test_the_dashboard_states_the_responder_definition(clinic_admin, client_for, clinic_data):
    response = client_for(clinic_admin).get(reverse("outcomes:dashboard"), {"tab": "definitions"})
    text = response.content.decode()

    assert "2 points or 30 % of the baseline" in text
    assert "half the room there was to improve" in text
    assert "the first treatment&#x27;s pre-injection score" in text
    assert "missing score counting as not responding" in text


def test_chart_data_has_the_table_numbers(clinic_admin, client_for, clinic_data):
    response = client_for(clinic_admin).get(reverse("outcomes:chart-data", args=["responders-condition"]))

    data = response.json()
    assert data["type"] == "bar"
    # At the primary timepoint (3 months): Achilles has none scored (C3, C4 missing, C8 awaiting); knee C1
    # responds, C2 and C5 are missing.
    assert data["labels"] == ["Achilles tendinopathy", KNEE]
    assert data["datasets"][0]["data"] == [None, 100.0]
    assert data["datasets"][1]["data"] == [0.0, 33.3]


def test_a_table_downloads_as_csv(clinic_admin, client_for, clinic_data):
    response = client_for(clinic_admin).get(reverse("outcomes:csv", args=["responders-condition"]))

    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response)
    assert rows[0][:3] == ["Condition", "Courses treated", "Due (ITT)"]
    assert rows[2][:3] == [KNEE, "4", "3"]


def test_the_research_export_is_de_identified(clinic_admin, client_for, clinic_data):
    client = client_for(clinic_admin)
    courses = rows_of(client.get(reverse("outcomes:research-export"), {"level": "courses"}))
    sessions = rows_of(client.get(reverse("outcomes:research-export"), {"level": "sessions"}))

    assert courses[0] == [column.name for column in exports.COURSE_COLUMNS]
    assert sessions[0] == [column.name for column in exports.SESSION_COLUMNS]
    assert len(courses) == 9
    everything = str(courses + sessions)
    patient = clinic_data["c1"].patient
    for secret in (patient.family_name, patient.given_name, patient.mrn, patient.phone, patient.email):
        assert secret not in everything
    assert str(clinic_data["c1"].start_date) not in everything
    c1 = dict(
        zip(
            courses[0],
            next(r for r in courses[1:] if r[0] == exports.pseudonym("course", clinic_data["c1"].pk)),
            strict=True,
        )
    )
    assert c1["patient_key"] == exports.pseudonym("patient", patient.pk)
    assert (c1["baseline_pain"], c1["latest_pain"], c1["latest_pain_day"]) == ("8", "3", "112")
    assert (c1["responder_mcid"], c1["responder_50"], c1["side_effects"]) == ("1", "1", "2")
    assert (c1["instrument"], c1["instrument_improvement"]) == ("KOOS", "15")


def test_pseudonymous_keys_are_stable_and_depend_on_the_research_key(settings):
    first = exports.pseudonym("patient", 42)
    assert first == exports.pseudonym("patient", 42)
    assert len(first) == 16
    settings.RESEARCH_KEY = "another-key"
    assert exports.pseudonym("patient", 42) != first


def test_the_data_dictionary_lists_every_column_of_every_file(clinic_admin, client_for):
    text = client_for(clinic_admin).get(reverse("outcomes:data-dictionary")).content.decode()

    for export in exports.FILES:
        section = text.split(f"<code>{export.name}</code>", 1)[1]
        for column in export.columns:
            assert f"<code>{column.name}</code>" in section, (export.name, column.name)


def test_the_patient_trend_spans_all_courses_and_instruments(practitioner, client_for, clinic_data):
    patient = clinic_data["c1"].patient
    data = client_for(practitioner).get(reverse("outcomes:patient-trend-data", args=[patient.pk])).json()

    measures = {(row["measure"], row["source"]) for row in data["rows"]}
    assert ("NRS", "Baseline") in measures
    assert ("NRS", "Session 3") in measures
    assert ("KOOS", "3 months (12 weeks) after last session") in measures
    pain = next(s for s in data["datasets"] if s["axis"] == "pain")
    assert [p["y"] for p in pain["points"]] == [8.0, 8.0, 6.0, 4.0, 3.0]


def test_front_desk_cannot_open_outcomes(front_desk, client_for):
    client = client_for(front_desk)
    assert client.get(reverse("outcomes:dashboard")).status_code == 403
    assert client.get(reverse("outcomes:chart-data", args=["pain-by-week"])).status_code == 403


def test_a_user_without_a_role_cannot_open_outcomes(stranger, client_for):
    assert client_for(stranger).get(reverse("outcomes:dashboard")).status_code == 403


def test_the_menu_shows_outcomes_to_practitioners_only_among_staff(client_for, practitioner):
    desk = UserFactory(role=roles.FRONT_DESK)
    assert reverse("outcomes:dashboard") in client_for(practitioner).get(reverse("home")).content.decode()
    assert reverse("outcomes:dashboard") not in client_for(desk).get(reverse("home")).content.decode()


@pytest.mark.postgres_only
def test_report_queries_run_without_postgresql_jit(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with selectors.reporting(), connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
