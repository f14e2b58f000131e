import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses import selectors
from courses.models import CourseStatus, SessionStatus, StopReason, Timepoint
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
        (5, 4, False, False, False),  # 1 point, 20% of baseline: under both MCIDs
        (3, 2, True, False, False),  # 1 point is 33% of baseline 3 (>= 30%), but under 50% of the room
        (6, 8, False, False, False),  # worse
        (0, 0, False, False, False),  # no change is never >= MCID, even though 0 >= 30% of 0
    ],
)
def test_pain_nrs_responders_are_lower_is_better(nrs, baseline, latest, mcid, half, responder):
    result = selectors.response(nrs, baseline, latest)
    assert (result.meets_mcid, result.meets_half, result.is_responder) == (mcid, half, responder)


def test_the_relative_mcid_is_a_percent_of_baseline_not_of_the_room(nrs):
    # An instrument from 10 to 100, lower is better, MCID 20 points or 30 % (of baseline). From 40 to 28:
    # 12 points is 30 % of the baseline 40 (>= MCID), while the room to improve is 40 - 10 = 30, so 12 is
    # 40 % of the room (< 50 %).
    scale = OutcomeInstrumentFactory(
        code="SCALE",
        name="Scale",
        min_score=Decimal("10"),
        max_score=Decimal("100"),
        mcid_absolute=Decimal("20"),
        mcid_relative_percent=Decimal("30"),
    )
    result = selectors.response(scale, Decimal("40"), Decimal("28"))
    assert (result.improvement, result.percent) == (Decimal("12"), Decimal("40.0"))
    assert (result.meets_mcid, result.meets_half) == (True, False)
    under = selectors.response(scale, Decimal("40"), Decimal("28.1"))  # 11.9 < 12
    assert not under.meets_mcid


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
    assert flat.percent is None and not flat.is_evaluable_for_half
    assert not flat.is_responder
    at_best = selectors.response(visa_a, Decimal("100"), Decimal("100"))
    assert at_best.percent is None and not at_best.is_responder


def test_no_score_after_baseline_is_not_a_response(nrs):
    result = selectors.response(nrs, 7, None)
    assert not result.has_follow_up and not result.is_responder
    assert result.status == selectors.AWAITING


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


def test_the_instrument_baseline_is_the_last_score_on_or_before_the_first_treatment(nrs, visa_a):
    course = TreatmentCourseFactory(outcome_instrument=visa_a, baseline_instrument_score=None)
    first = TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=6)
    first_day = timezone.localtime(first.starts_at).date()
    OutcomeScoreFactory(
        course=course,
        instrument=visa_a,
        score=Decimal("20"),
        timepoint=Timepoint.BASELINE,
        recorded_on=first_day,
    )
    # Taken the day of the first treatment but not as a baseline: neither baseline nor outcome.
    OutcomeScoreFactory(
        course=course,
        instrument=visa_a,
        score=Decimal("35"),
        timepoint=Timepoint.SESSION,
        recorded_on=first_day,
    )
    OutcomeScoreFactory(
        course=course,
        instrument=visa_a,
        score=Decimal("70"),
        timepoint=Timepoint.BETWEEN,
        recorded_on=first_day + datetime.timedelta(days=10),
    )
    sessions = selectors.course_sessions(course, clinical=False)
    _, own = selectors.course_responses(course, sessions, selectors.course_scores(course), nrs)
    assert (own.baseline, own.latest, own.improvement) == (Decimal("20"), Decimal("70"), Decimal("50"))


def test_without_any_instrument_score_there_is_no_instrument_baseline(nrs, visa_a):
    course = TreatmentCourseFactory(outcome_instrument=visa_a, baseline_instrument_score=None)
    _, own = selectors.course_responses(course, [], [], nrs)
    assert (own.baseline, own.status) == (None, selectors.NO_BASELINE)


def test_a_no_show_at_the_first_booking_never_makes_a_pre_treatment_score_an_outcome(nrs):
    """The first treatment given is the baseline, whatever number its booking had."""
    course = TreatmentCourseFactory(baseline_pain=8, status=CourseStatus.ACTIVE)
    missed = TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.NO_SHOW)
    first = TreatmentSessionFactory(
        course=course,
        sequence=2,
        completed=True,
        pain_pre=4,
        starts_at=missed.starts_at + datetime.timedelta(days=7),
        ends_at=missed.starts_at + datetime.timedelta(days=7, minutes=30),
    )
    sessions = selectors.course_sessions(course, clinical=False)
    (pain,) = selectors.course_responses(course, sessions, [], nrs)
    # Its pre-injection score (4) is the baseline, not an outcome of a treatment 4 points under 8.
    assert (pain.baseline, pain.status, pain.latest, pain.is_responder) == (
        Decimal("4"),
        selectors.AWAITING,
        None,
        False,
    )
    assert first.pk in {s.pk for s in sessions}


def test_session_one_is_not_follow_up(nrs):
    # Session 1's pre-injection score is taken before treatment: with only session 1, the course awaits
    # follow-up even though session 1's score (4) is 4 points under the baseline (8).
    course = TreatmentCourseFactory(baseline_pain=8, status=CourseStatus.ACTIVE)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=4)
    sessions = selectors.course_sessions(course, clinical=False)
    (pain,) = selectors.course_responses(course, sessions, [], nrs)
    assert (pain.status, pain.latest, pain.is_responder) == (selectors.AWAITING, None, False)


def test_a_follow_up_score_on_the_same_day_as_a_session_wins(nrs):
    course = TreatmentCourseFactory(baseline_pain=10, status=CourseStatus.ACTIVE)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=10)
    second = TreatmentSessionFactory(course=course, sequence=2, completed=True, pain_pre=7)
    OutcomeScoreFactory(
        course=course,
        instrument=nrs,
        score=Decimal("8"),
        timepoint=Timepoint.BETWEEN,
        recorded_on=timezone.localtime(second.starts_at).date(),
    )
    sessions = selectors.course_sessions(course, clinical=False)
    (pain,) = selectors.course_responses(course, sessions, selectors.course_scores(course), nrs)
    # 10 -> 8: 2 points meets the absolute MCID; 2 of the 10 possible is 20 %, under 50 %.
    assert (pain.latest, pain.meets_mcid, pain.meets_half, pain.is_responder) == (
        Decimal("8"),
        True,
        False,
        False,
    )


def test_a_voided_follow_up_score_does_not_count(nrs, practitioner):
    course = TreatmentCourseFactory(baseline_pain=8, status=CourseStatus.COMPLETED)
    score = OutcomeScoreFactory(course=course, instrument=nrs, score=Decimal("1"), timepoint=Timepoint.WEEK_6)
    score.void(by=practitioner, reason="Wrong patient")
    (pain,) = selectors.course_responses(course, [], selectors.course_scores(course), nrs)
    assert pain.status == selectors.LOST


@pytest.mark.parametrize(
    ("status", "stop_reason", "with_score", "expected"),
    [
        (CourseStatus.PLANNED, "", False, "awaiting"),
        (CourseStatus.ACTIVE, "", False, "awaiting"),
        (CourseStatus.COMPLETED, "", False, "lost"),
        (CourseStatus.STOPPED, StopReason.PATIENT_CHOICE, False, "lost"),
        (CourseStatus.STOPPED, StopReason.PATIENT_CHOICE, True, "evaluable"),
        # Stopped as lost: lost whatever was scored during treatment.
        (CourseStatus.STOPPED, StopReason.LOST_TO_FOLLOW_UP, True, "lost"),
    ],
)
def test_follow_up_status_of_a_course(nrs, status, stop_reason, with_score, expected):
    course = TreatmentCourseFactory(baseline_pain=8, status=status, stop_reason=stop_reason)
    if with_score:
        TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=8)
        TreatmentSessionFactory(course=course, sequence=2, completed=True, pain_pre=3)
    sessions = selectors.course_sessions(course, clinical=False)
    (pain,) = selectors.course_responses(course, sessions, [], nrs)
    assert pain.status == expected
    assert pain.is_responder == (expected == "evaluable")  # 8 -> 3: 5 points, 62.5 %


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
        ("Treatment 1", 7.0, "session"),
        ("Treatment 2", 5.0, "session"),
        ("6 weeks after last session", 2.0, "follow-up"),
    ]
    assert data["points"][-1]["improvement"] == 5.0


def test_the_course_page_shows_the_trend_numbers_in_a_table(client_for, practitioner, nrs):
    course = TreatmentCourseFactory(baseline_pain=7)
    TreatmentSessionFactory(course=course, sequence=1, completed=True, pain_pre=4)
    response = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk]))
    table = response.text.split('id="trend-table"')[1].split("</table>")[0]
    # The first treatment's pre-injection score is the baseline: no improvement yet.
    assert "Treatment 1" in table and "<td>4</td>" in table and "<td>0</td>" in table
    assert 'data-url="' + reverse("courses:course-trend-data", args=[course.pk]) in response.text
    assert "vendor/chart.js/chart.umd.min.js" in response.text
