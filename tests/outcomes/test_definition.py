"""One responder definition: the course page (Python) and the dashboard (SQL) agree course by course.

`courses.selectors.RESPONDER_DEFINITION` states it; the fixed clinic in conftest.py plus the edge cases below
(relative-MCID ties, decimal scores, higher-is-better rooms, baselines at the best end, session 1 only, a
session without a pain score, voided and baseline-timepoint scores, every follow-up status) are run through
both implementations and compared.
"""

import datetime
from decimal import Decimal

import pytest

from courses import selectors as course_selectors
from courses.models import CourseStatus, OutcomeInstrument, SessionStatus, StopReason, Timepoint
from outcomes import selectors
from tests.factories import OutcomeScoreFactory
from tests.outcomes.conftest import ClinicBuilder, build_clinic

pytestmark = pytest.mark.django_db


def score(course, instrument, value, day, timepoint=Timepoint.WEEK_6):
    return OutcomeScoreFactory(
        course=course,
        instrument=instrument,
        score=Decimal(value),
        timepoint=timepoint,
        recorded_on=course.start_date + datetime.timedelta(days=day),
    )


def build_edge_cases(practitioner, builder):
    """Courses whose expected figures the comments work out by hand."""
    b = builder
    code = {i.code: i for i in OutcomeInstrument.objects.all()}
    nrs, odi, womac, visa, koos, prtee = (code[c] for c in ("NRS", "ODI", "WOMAC", "VISA-A", "KOOS", "PRTEE"))
    cases = {}

    # E1 pain 3 -> 2 (session 2): 1 point < 2, but 1/3 = 33 % >= 30 %: >= MCID; 1 < 1.5 (half of 3): not 50 %.
    # ODI 20 -> 14: 6 < 10, but 6 is exactly 30 % of 20: >= MCID (a tie counts); 6 < 10 (half of 20).
    cases["e1"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        baseline_pain=3,
        outcome_instrument=odi,
        baseline_instrument_score=Decimal("20"),
        sessions=[(0, 3, None, None), (14, 2, None, None)],
    )
    score(cases["e1"], odi, "14", 60)

    # E2 pain 7 -> NRS score 3.5: 3.5 is exactly 50 % of 7. WOMAC 45.5 -> 36.4: 9.1 < 12, and 9.1 is exactly
    # 20 % of 45.5 (>= MCID; in floating point 45.5 - 36.4 is 9.1000000000000014, hence the rounding in SQL).
    cases["e2"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        baseline_pain=7,
        outcome_instrument=womac,
        baseline_instrument_score=Decimal("45.5"),
        sessions=[(0, 7, None, None), (14, 6, None, None)],
    )
    score(cases["e2"], nrs, "3.5", 60)
    score(cases["e2"], womac, "36.4", 60)

    # E3 pain 8 -> 5 (session 2; session 3 was cancelled): 3 >= 2, 3/8 = 37.5 % < 50 %.
    # VISA-A (higher is better) 40 -> 70: +30 >= 20, and 30 is 50 % of the 60 points of room.
    # An earlier VISA-A score of 90 is superseded by the later 70.
    cases["e3"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.ACTIVE,
        baseline_pain=8,
        outcome_instrument=visa,
        baseline_instrument_score=Decimal("40"),
        sessions=[(0, 8, None, None), (14, 5, None, None)],
    )
    b.session(cases["e3"], 3, 28, None, status=SessionStatus.CANCELLED)
    score(cases["e3"], visa, "90", 20, Timepoint.BETWEEN)
    score(cases["e3"], visa, "70", 35, Timepoint.BETWEEN)

    # E4 pain 0 -> 0 and KOOS 100 -> 100: both at the best end, so not evaluable for 50 %; no change < MCID.
    cases["e4"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        baseline_pain=0,
        outcome_instrument=koos,
        baseline_instrument_score=Decimal("100"),
        sessions=[(0, 0, None, None)],
    )
    score(cases["e4"], nrs, "0", 60)
    score(cases["e4"], koos, "100", 60)

    # E5 stopped (patient choice) after session 1, no follow-up: lost for pain and PRTEE. Its PRTEE
    # baseline-timepoint score is the starting point, not a follow-up.
    cases["e5"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.STOPPED,
        stop_reason=StopReason.PATIENT_CHOICE,
        baseline_pain=6,
        outcome_instrument=prtee,
        baseline_instrument_score=Decimal("60"),
        sessions=[(0, 2, None, None)],
    )
    score(cases["e5"], prtee, "20", 0, Timepoint.BASELINE)

    # E6 active after session 1 only (its pain 2 is not follow-up): awaiting for pain; WOMAC awaiting too,
    # its only follow-up score voided.
    cases["e6"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.ACTIVE,
        baseline_pain=8,
        outcome_instrument=womac,
        baseline_instrument_score=Decimal("60"),
        sessions=[(0, 2, None, None)],
    )
    score(cases["e6"], womac, "10", 10, Timepoint.BETWEEN).void(by=practitioner, reason="Wrong course")

    # E7 the course's instrument is the pain NRS itself: pain only, no separate instrument figure.
    cases["e7"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.COMPLETED,
        baseline_pain=9,
        outcome_instrument=nrs,
        baseline_instrument_score=Decimal("9"),
        sessions=[(0, 9, None, None), (14, 4, None, None)],
    )

    # E8 an instrument without a baseline score: not evaluated on it. Pain 6 -> NRS 3 on day 10, then
    # session 2 on day 14 scores 5: the later session wins, 1 point and 17 %: no response.
    cases["e8"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.ACTIVE,
        baseline_pain=6,
        outcome_instrument=odi,
        sessions=[(0, 6, None, None), (14, 5, None, None)],
    )
    score(cases["e8"], nrs, "3", 10, Timepoint.BETWEEN)
    score(cases["e8"], odi, "5", 10, Timepoint.BETWEEN)

    # E9 stopped as lost to follow-up with a good session-2 score and an ODI follow-up: lost on both.
    cases["e9"], _ = b.course(
        practitioner=practitioner,
        status=CourseStatus.STOPPED,
        stop_reason=StopReason.LOST_TO_FOLLOW_UP,
        baseline_pain=8,
        outcome_instrument=odi,
        baseline_instrument_score=Decimal("50"),
        sessions=[(0, 8, None, None), (14, 2, None, None)],
    )
    score(cases["e9"], odi, "10", 20, Timepoint.BETWEEN)
    return cases


def python_figures(course, nrs):
    sessions = course_selectors.course_sessions(course, clinical=False)
    scores = course_selectors.course_scores(course)
    responses = course_selectors.course_responses(course, sessions, scores, nrs)
    pain = responses[0]
    own = next((r for r in responses[1:] if r.status != course_selectors.NO_BASELINE), None)

    def figures(r):
        return (r.status, r.is_evaluable_for_half, r.meets_mcid, r.meets_half)

    return figures(pain), figures(own) if own else None


FLAGS = {
    "lost": selectors.LOST,
    "awaiting": selectors.AWAITING,
    "evaluable": selectors.EVALUABLE,
    "evaluable_50": selectors.EVALUABLE_50,
    "mcid": selectors.RESPONDER_MCID,
    "half": selectors.RESPONDER_50,
    "i_tracked": selectors.INSTRUMENT_TRACKED,
    "i_lost": selectors.INSTRUMENT_LOST,
    "i_awaiting": selectors.INSTRUMENT_AWAITING,
    "i_evaluable": selectors.INSTRUMENT_EVALUABLE,
    "i_evaluable_50": selectors.INSTRUMENT_EVALUABLE_50,
    "i_mcid": selectors.INSTRUMENT_RESPONDER,
    "i_half": selectors.INSTRUMENT_RESPONDER_50,
}


def _status(row, prefix=""):
    found = [name for name in ("evaluable", "awaiting", "lost") if row[prefix + name]]
    assert len(found) == 1, row  # exactly one follow-up status per course
    return found[0]


def database_figures(user, nrs):
    flags = FLAGS
    courses = selectors.outcome_courses(user, {})
    rows = courses.annotate(**{f"flag_{k}": selectors.count_flag(q) for k, q in flags.items()})
    result = {}
    for row in rows.values("pk", *(f"flag_{k}" for k in flags)):
        row = {k: bool(row[f"flag_{k}"]) for k in flags} | {"pk": row["pk"]}
        pain = (_status(row), row["evaluable_50"], row["mcid"], row["half"])
        own = None
        if row["i_tracked"]:
            own = (_status(row, "i_"), row["i_evaluable_50"], row["i_mcid"], row["i_half"])
        result[row["pk"]] = (pain, own)
    return result


def compare(user):
    nrs = selectors.pain_instrument()
    database = database_figures(user, nrs)
    python = {course.pk: python_figures(course, nrs) for course in selectors.visible_courses(user)}
    assert python == database
    return python


def test_the_course_page_and_the_dashboard_agree_course_by_course(clinic_admin, practitioner):
    builder = ClinicBuilder()
    clinic = build_clinic(practitioner, builder)
    edge = build_edge_cases(practitioner, builder)

    figures = compare(clinic_admin)

    assert len(figures) == 17
    # The hand-worked expectations: (status, evaluable for 50 %, >= MCID, >= 50 %) for pain, then instrument.
    expected = {
        "c1": (("evaluable", True, True, True), ("evaluable", True, True, False)),  # KOOS +15: 25 % of 60
        "c3": (("evaluable", False, False, False), ("evaluable", True, False, False)),  # VISA-A +10
        "c4": (("lost", False, False, False), None),
        "c5": (("lost", False, False, False), None),
        "c6": (("awaiting", False, False, False), None),
        "c8": (("evaluable", True, True, False), None),
        "e1": (("evaluable", True, True, False), ("evaluable", True, True, False)),
        "e2": (("evaluable", True, True, True), ("evaluable", True, True, False)),
        "e3": (("evaluable", True, True, False), ("evaluable", True, True, True)),
        "e4": (("evaluable", False, False, False), ("evaluable", False, False, False)),
        "e5": (("lost", False, False, False), ("lost", False, False, False)),
        "e6": (("awaiting", False, False, False), ("awaiting", False, False, False)),
        "e7": (("evaluable", True, True, True), None),  # 9 -> 4: 5 points, 55.6 %
        "e8": (("evaluable", True, False, False), None),
        "e9": (("lost", False, False, False), ("lost", False, False, False)),
    }
    by_name = {**clinic, **edge}
    assert {name: figures[by_name[name].pk] for name in expected} == expected


def test_a_practitioner_sees_the_same_figures_for_their_own_courses(practitioner, clinic_data):
    figures = compare(practitioner)

    assert set(figures) == {clinic_data[c].pk for c in ("c1", "c2", "c7", "c8")}
