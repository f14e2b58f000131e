"""The patient page carries the outcomes score trend across courses, for roles that see clinical data."""

from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.factories import OutcomeScoreFactory, TreatmentCourseFactory


def test_practitioners_see_the_trend_with_its_data_url_and_scripts(client_for, practitioner):
    course = TreatmentCourseFactory()
    OutcomeScoreFactory(course=course)
    page = client_for(practitioner).get(reverse("patients:patient-detail", args=[course.patient.pk]))

    data_url = reverse("outcomes:patient-trend-data", args=[course.patient.pk])
    assert f'data-patient-trend-url="{data_url}"' in page.text
    assert 'id="patient-trend-table"' in page.text
    for script in ("js/outcomes_patient_trend.js", "vendor/chart.js/chart.umd.min.js"):
        assert f"/static/{script}" in page.text
        assert finders.find(script), script  # the script the page loads exists
    data = client_for(practitioner).get(data_url)
    assert data.status_code == 200
    assert data["Content-Type"] == "application/json"


def test_front_desk_sees_no_trend(client_for, front_desk):
    course = TreatmentCourseFactory()
    page = client_for(front_desk).get(reverse("patients:patient-detail", args=[course.patient.pk]))
    assert page.status_code == 200
    assert "data-patient-trend-url" not in page.text
    assert "outcomes_patient_trend.js" not in page.text
