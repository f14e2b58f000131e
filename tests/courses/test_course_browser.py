"""The course pages in Chromium: plan a course, follow its pain trend, record a follow-up score."""

import datetime

import pytest
from django.utils import timezone

from courses.models import TreatmentCourse
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    ConditionFactory,
    ConsentFactory,
    OutcomeInstrumentFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_practitioner_plans_a_course_outside_the_protocol_with_a_reason(page, live_server):
    UserFactory(username="dr.hale", first_name="Morgan", last_name="Hale", role="Practitioner")
    patient = PatientFactory(given_name="Ada", family_name="Lovelace")
    ConsentFactory(patient=patient)
    ConditionFactory(name="Knee osteoarthritis")
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/new/?patient={patient.pk}")
    assert not axe_violations(page, context="main")
    page.get_by_label("Condition*").select_option(label="Knee osteoarthritis")
    page.get_by_label("Body region*").select_option(label="Knee")
    page.get_by_label("Laterality*").select_option(label="Right")
    page.get_by_label("Planned interval (days)*").fill("7")
    page.get_by_label("Baseline pain (NRS 0–10)*").fill("7")
    assert page.get_by_label("Protocol deviation reason").evaluate("el => el.required")
    page.get_by_role("button", name="Plan course").click()
    assert page.get_by_text("record the reason").is_visible()
    assert page.get_by_label("Planned interval (days)*").input_value() == "7"
    page.get_by_label("Protocol deviation reason").fill("Weekly: the patient is in the area for six weeks")
    page.get_by_role("button", name="Plan course").click()
    course = TreatmentCourse.objects.get(patient=patient)
    page.wait_for_url(f"{live_server.url}/courses/{course.pk}/")
    assert course.is_protocol_deviation
    assert page.get_by_text("Protocol deviation").first.is_visible()


def test_a_follow_up_score_updates_the_chart_and_the_responder_status(page, live_server):
    practitioner = UserFactory(username="dr.hale", first_name="Morgan", last_name="Hale", role="Practitioner")
    nrs = OutcomeInstrumentFactory()
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        baseline_pain=8,
        start_date=timezone.localdate() - datetime.timedelta(days=120),
    )
    for sequence, pain in ((1, 8), (2, 7), (3, 6)):
        TreatmentSessionFactory(course=course, sequence=sequence, completed=True, pain_pre=pain)
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/{course.pk}/")
    page.wait_for_function("() => Chart.getChart('pain-trend') !== undefined")
    assert page.evaluate("() => Chart.getChart('pain-trend').data.datasets[0].data") == [8, 8, 7, 6]
    assert page.get_by_text("Not a responder yet").is_visible()
    assert not axe_violations(page, context="main")

    page.get_by_label("Instrument*").select_option(str(nrs.pk))
    page.get_by_label("Score*").fill("3")
    page.get_by_label("Timepoint*").select_option(label="3 months (12 weeks) after last session")
    page.get_by_role("button", name="Record score").click()
    page.wait_for_function("() => Chart.getChart('pain-trend') !== undefined")
    assert page.evaluate("() => Chart.getChart('pain-trend').data.datasets[0].data") == [8, 8, 7, 6, 3]
    assert page.get_by_text("Responder", exact=True).is_visible()
    assert page.locator("#trend-table").get_by_text("3 months (12 weeks) after last session").is_visible()
