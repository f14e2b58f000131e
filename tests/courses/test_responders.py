import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from courses import selectors
from courses.models import Timepoint
from tests.factories import (
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def nrs():
    return OutcomeInstrumentFactory()


@pytest.fixture
def visa_a():
    return OutcomeInstrumentFactory(
        code="VISA-A",
        name="VISA-A",
        min_score=Decimal("0"),
        max_score=Decimal("100"),
        higher_is_better=True,
        mcid_absolute=Decimal("20"),
        mcid_relative_percent=None,
    )


@pytest.mark.parametrize(
    ("baseline", "latest", "mcid", "half", "responder"),
    [
        (8, 4, True, True, True),  # 4 points, 50%
        (8, 5, True, False, False),  # 3 points, 37.5%
        (8, 7, False, False, False),
        (2, 1, True, True, True),  # 1 point is under 2, but 50% is over the 30% relative MCID
        (6, 8, False, False, False),  # worse
    ],
)
def test_pain_nrs_responders_are_lower_is_better(nrs, baseline, latest, mcid, half, responder):
    result = selectors.response(nrs, baseline, latest)
    assert (result.meets_mcid, result.meets_half, result.is_responder) == (mcid, half, responder)


def test_a_higher_is_better_instrument_improves_upwards(visa_a):
    result = selectors.response(visa_a, Decimal("40"), Decimal("70"))
    assert result.improvement == Decimal("30")
    assert result.percent == Decimal("50.0")  # 30 of the 60 points there were to gain
    assert result.is_responder
    worse = selectors.response(visa_a, Decimal("40"), Decimal("20"))
    assert worse.improvement == Decimal("-20")
    assert not worse.meets_mcid and not worse.meets_half


def test_a_zero_baseline_leaves_no_room_to_respond(nrs, visa_a):
    flat = selectors.response(nrs, 0, 0)
    assert flat.percent is None
    assert not flat.is_responder
    at_best = selectors.response(visa_a, Decimal("100"), Decimal("100"))
    assert at_best.percent is None and not at_best.is_responder


def test_no_score_after_baseline_is_not_a_response(nrs):
    result = selectors.response(nrs, 7, None)
    assert not result.has_follow_up and not result.is_responder


def test_course_responses_use_the_latest_session_or_follow_up_score(nrs, visa_a):
    course = TreatmentCourseFactory(baseline_pain=8, outcome_instrument=visa_a, baseline_instrument_score=30)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=8)
    TreatmentSessionFactory(course=course, sequence=2, completed=True, pain_pre=6)
    late = course.start_date + datetime.timedelta(days=90)
    OutcomeScoreFactory(course=course, instrument=nrs, score=Decimal("3"), recorded_on=late)
    OutcomeScoreFactory(course=course, instrument=visa_a, score=Decimal("45"), recorded_on=late)
    sessions = selectors.course_sessions(course, clinical=False)
    pain, own = selectors.course_responses(course, sessions, selectors.course_scores(course), nrs)
    assert (pain.latest, pain.is_responder) == (Decimal("3"), True)
    assert (own.instrument, own.improvement, own.is_responder) == (visa_a, Decimal("15"), False)


def test_the_instrument_baseline_can_come_from_a_baseline_score(nrs, visa_a):
    course = TreatmentCourseFactory(outcome_instrument=visa_a)
    OutcomeScoreFactory(
        course=course,
        instrument=visa_a,
        score=Decimal("20"),
        timepoint=Timepoint.BASELINE,
        recorded_on=course.start_date,
    )
    OutcomeScoreFactory(course=course, instrument=visa_a, score=Decimal("70"), recorded_on=course.start_date)
    _, own = selectors.course_responses(course, [], selectors.course_scores(course), nrs)
    assert own.baseline == Decimal("20") and own.is_responder


def test_the_trend_json_has_sessions_follow_ups_baseline_and_mcid_line(client_for, practitioner, nrs):
    course = TreatmentCourseFactory(baseline_pain=7)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=7)
    TreatmentSessionFactory(course=course, sequence=2, completed=True, pain_pre=5)
    TreatmentSessionFactory(course=course, sequence=3)  # booked, no score yet
    OutcomeScoreFactory(
        course=course,
        instrument=nrs,
        score=Decimal("2"),
        timepoint=Timepoint.WEEK_6,
        recorded_on=course.start_date + datetime.timedelta(days=60),
    )
    response = client_for(practitioner).get(reverse("courses:course-trend-data", args=[course.pk]))
    data = response.json()
    assert (data["baseline"], data["mcid"], data["mcid_line"]) == (7.0, 2.0, 5.0)
    assert [(p["label"], p["nrs"], p["kind"]) for p in data["points"]] == [
        ("Session 1", 7.0, "session"),
        ("Session 2", 5.0, "session"),
        ("6 weeks after last session", 2.0, "follow-up"),
    ]
    assert data["points"][-1]["improvement"] == 5.0


def test_the_course_page_shows_the_trend_numbers_in_a_table(client_for, practitioner, nrs):
    course = TreatmentCourseFactory(baseline_pain=7)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=4)
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    table = response.text.split('id="trend-table"')[1].split("</table>")[0]
    assert "Session 1" in table and "<td>4</td>" in table and "<td>3</td>" in table
    assert 'data-url="' + reverse("courses:course-trend-data", args=[course.pk]) in response.text
    assert "vendor/chart.js/chart.umd.min.js" in response.text
