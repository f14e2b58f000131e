"""Who may open each courses URL, and with which method.

The session-logging pages keep their rows in tests/courses/test_session_access_matrix.py as
SESSION_ROWS; they are added to ROWS here so tests/test_access_coverage.py sees them.
"""

import importlib
import importlib.util

import pytest
from django.utils import timezone

from courses.models import CourseStatus
from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.factories import (
    ConditionFactory,
    LotFactory,
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    PatientSideEffectReportFactory,
    PreparationComponentFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

ANON = {"anonymous": REDIRECT_TO_LOGIN}
EVERYONE = {**ANON, "front_desk": 200, "practitioner": 200, "clinic_admin": 200}
CLINICAL_READERS = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
PRACTITIONER_ONLY = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 403}
PRACTITIONER_WRITES = {**ANON, "front_desk": 403, "practitioner": 302, "clinic_admin": 403}
NOT_ALLOWED = {**ANON, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}


def course_args(objects):
    return [objects["course"].pk]


def plan_data(objects):
    return {
        "condition": objects["condition"].pk,
        "body_region": "knee",
        "laterality": "right",
        "practitioner": objects["practitioner"].pk,
        "start_date": objects["course"].start_date.isoformat(),
        "planned_sessions": 6,
        "interval_days": 14,
        "baseline_pain": 7,
    }


COURSE_ROWS = [
    Row("courses:course-list", EVERYONE),
    Row("courses:course-list", NOT_ALLOWED, method="post"),
    Row("courses:course-create", PRACTITIONER_ONLY, query="?patient={patient}"),
    Row(
        "courses:course-create",
        PRACTITIONER_WRITES,
        method="post",
        data=plan_data,
        query="?patient={patient}",
    ),
    Row("courses:course-create", NOT_ALLOWED, method="delete", query="?patient={patient}"),
    Row("courses:course-detail", EVERYONE, args=course_args),
    Row("courses:course-detail", NOT_ALLOWED, method="post", args=course_args),
    Row("courses:course-edit", PRACTITIONER_ONLY, args=course_args),
    Row("courses:course-edit", PRACTITIONER_WRITES, method="post", args=course_args, data=plan_data),
    Row("courses:course-activate", PRACTITIONER_WRITES, method="post", args=lambda o: [o["planned"].pk]),
    Row("courses:course-activate", NOT_ALLOWED, args=course_args),
    Row(
        "courses:course-complete",
        PRACTITIONER_WRITES,
        method="post",
        args=course_args,
        data=lambda o: {"end_date": timezone.localdate().isoformat(), "cancel_reason": "Goal met early"},
    ),
    Row("courses:course-complete", NOT_ALLOWED, args=course_args),
    Row(
        "courses:course-stop",
        PRACTITIONER_WRITES,
        method="post",
        args=course_args,
        data=lambda o: {
            "stop_reason": "patient_choice",
            "end_date": timezone.localdate().isoformat(),
            "cancel_reason": "Moving away",
        },
    ),
    Row("courses:course-stop", NOT_ALLOWED, args=course_args),
    Row(
        "courses:course-extend",
        PRACTITIONER_WRITES,
        method="post",
        args=course_args,
        data=lambda o: {"to_sessions": 7, "reason": "Improving, not yet at goal"},
    ),
    Row("courses:course-extend", NOT_ALLOWED, args=course_args),
    Row(
        "courses:score-add",
        PRACTITIONER_WRITES,
        method="post",
        args=course_args,
        data=lambda o: {
            "instrument": o["nrs"].pk,
            "score": "3",
            "timepoint": "between",
            "recorded_on": timezone.localdate().isoformat(),
            "source": "phone",
        },
    ),
    Row("courses:score-add", NOT_ALLOWED, args=course_args),
    Row(
        "courses:score-void",
        PRACTITIONER_WRITES,
        method="post",
        args=lambda o: [o["course"].pk, o["score"].pk],
        data=lambda o: {"reason": "Entered on the wrong patient"},
    ),
    Row("courses:score-void", NOT_ALLOWED, args=lambda o: [o["course"].pk, o["score"].pk]),
    Row(
        "courses:session-walk-in",
        PRACTITIONER_WRITES,
        method="post",
        args=lambda o: [o["planned"].pk],
        data=lambda o: {"practitioner": o["practitioner"].pk},
    ),
    Row("courses:session-walk-in", NOT_ALLOWED, args=course_args),
    Row("courses:course-trend-data", CLINICAL_READERS, args=course_args),
    Row("courses:course-trend-data", NOT_ALLOWED, method="post", args=course_args),
    Row("courses:lot-recall", CLINICAL_READERS, query="?q={lot_number}&lot={lot}"),
    Row("courses:lot-recall", NOT_ALLOWED, method="post"),
    Row("courses:protocol-settings", {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 200}),
    Row(
        "courses:protocol-settings",
        {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 302},
        method="post",
        data=lambda o: {
            "min_sessions": 3,
            "max_sessions": 8,
            "default_sessions": 5,
            "min_interval_days": 14,
            "max_interval_days": 21,
            "default_interval_days": 21,
            "slot_minutes": 30,
            "screening_valid_days": 180,
            "reminder_hours_before": 24,
        },
    ),
    Row("courses:protocol-settings", NOT_ALLOWED, method="delete"),
    Row(
        "courses:patient-report-dismiss",
        PRACTITIONER_WRITES,
        method="post",
        args=lambda o: [o["report"].pk],
        data=lambda o: {"reason": "The swelling was there before the treatment"},
    ),
    Row("courses:patient-report-dismiss", NOT_ALLOWED, args=lambda o: [o["report"].pk]),
]

ROWS = list(COURSE_ROWS)
if importlib.util.find_spec("tests.courses.test_session_access_matrix") is not None:
    ROWS += importlib.import_module("tests.courses.test_session_access_matrix").SESSION_ROWS


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(practitioner, works_every_day, at_noon):
    course = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.ACTIVE)
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    TreatmentSessionFactory(course=course, sequence=2)
    component = PreparationComponentFactory(session__course=course, session__sequence=3, lot=LotFactory())
    return {
        "course": course,
        "patient": course.patient,
        "planned": TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.PLANNED),
        "practitioner": practitioner,
        "condition": ConditionFactory(),
        "nrs": OutcomeInstrumentFactory(),
        "lot": component.lot,
        "score": OutcomeScoreFactory(course=course),
        "report": PatientSideEffectReportFactory(session=course.sessions.get(sequence=1)),
    }


@pytest.mark.parametrize(("row", "persona"), cases(COURSE_ROWS))
def test_access(row, persona, client, users, objects):
    if "{" in row.query:
        row = Row(
            row.url_name,
            row.expect,
            method=row.method,
            args=row.args,
            data=row.data,
            query=row.query.format(
                patient=objects["patient"].pk, lot=objects["lot"].pk, lot_number=objects["lot"].lot_number
            ),
        )
    check(row, persona, client=client, users=users, objects=objects)
