"""Who may open the session-logging page and the aftercare handout, and with which method.

SESSION_ROWS is added to tests/courses/test_access_matrix.py's ROWS for the project-wide coverage check.
"""

import pytest

from courses.models import SessionStatus
from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.courses.test_session_logging import session_post
from tests.factories import TreatmentSessionFactory

ANON = {"anonymous": REDIRECT_TO_LOGIN}
CLINICAL_READERS = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
PRACTITIONER_WRITES = {**ANON, "front_desk": 403, "practitioner": 302, "clinic_admin": 403}
NOT_ALLOWED = {**ANON, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}


def session_args(objects):
    return [objects["session"].pk]


SESSION_ROWS = [
    Row("courses:session-log", CLINICAL_READERS, args=session_args),
    Row(
        "courses:session-log",
        PRACTITIONER_WRITES,
        method="post",
        args=session_args,
        data=lambda o: session_post(o["session"], action="save", notes="Seen in clinic"),
    ),
    Row("courses:session-log", NOT_ALLOWED, method="delete", args=session_args),
    Row("courses:session-handout", CLINICAL_READERS, args=session_args),
    Row("courses:session-handout", NOT_ALLOWED, method="post", args=session_args),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(practitioner):
    return {
        "session": TreatmentSessionFactory(course__practitioner=practitioner, status=SessionStatus.CHECKED_IN)
    }


@pytest.mark.parametrize(("row", "persona"), cases(SESSION_ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
