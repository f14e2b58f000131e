import pytest

from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.factories import PatientFactory, TreatmentCourseFactory

ANON = {"anonymous": REDIRECT_TO_LOGIN}
OUTCOMES = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
RESEARCH = {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 200}
CLINICAL = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
READ_ONLY = {**ANON, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}
MISSING = {**ANON, "front_desk": 403, "practitioner": 404, "clinic_admin": 404}


def chart(name):
    return lambda objects: [name]


def patient(objects):
    return [objects["patient"].pk]


ROWS = [
    Row("outcomes:dashboard", OUTCOMES),
    Row("outcomes:dashboard", OUTCOMES, query="?start_from=2026-01-01&status=completed&band=12_5_20"),
    Row("outcomes:dashboard", READ_ONLY, method="post"),
    Row("outcomes:course-list", OUTCOMES, query="?figure=responders-mcid"),
    Row("outcomes:course-list", MISSING, query="?figure=no-such-figure"),
    Row("outcomes:course-list", READ_ONLY, method="post"),
    Row("outcomes:chart-data", OUTCOMES, args=chart("responders-condition")),
    Row("outcomes:chart-data", OUTCOMES, args=chart("pain-by-week")),
    Row("outcomes:chart-data", MISSING, args=chart("no-such-chart")),
    Row("outcomes:chart-data", READ_ONLY, method="post", args=chart("pain-by-session")),
    Row("outcomes:csv", OUTCOMES, args=chart("side-effects-term")),
    Row("outcomes:csv", OUTCOMES, args=chart("serious-events")),
    Row("outcomes:csv", MISSING, args=chart("no-such-table")),
    Row("outcomes:csv", READ_ONLY, method="post", args=chart("drop-out")),
    Row("outcomes:research-export", RESEARCH),
    Row("outcomes:research-export", RESEARCH, query="?level=courses"),
    Row("outcomes:research-export", RESEARCH, query="?level=sessions"),
    Row("outcomes:research-export", RESEARCH, query="?level=scores"),
    Row("outcomes:research-export", RESEARCH, query="?level=side_effects"),
    Row("outcomes:research-export", RESEARCH, query="?level=injections"),
    Row("outcomes:research-export", RESEARCH, query="?level=no-such-file"),
    Row("outcomes:research-export", READ_ONLY, method="post"),
    Row("outcomes:data-dictionary", RESEARCH),
    Row("outcomes:data-dictionary", READ_ONLY, method="post"),
    Row("outcomes:data-dictionary-redcap", RESEARCH),
    Row("outcomes:data-dictionary-redcap", READ_ONLY, method="post"),
    Row("outcomes:patient-trend-data", CLINICAL, args=patient),
    Row("outcomes:patient-trend-data", MISSING, args=lambda objects: [999999]),
    Row("outcomes:patient-trend-data", READ_ONLY, method="post", args=patient),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(db):
    course = TreatmentCourseFactory()
    return {"patient": course.patient, "course": course, "other_patient": PatientFactory()}


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
