"""The questionnaire URLs: the patient's pages are open to anyone holding a link (and to nobody else's
records); the import page is the clinic admins'."""

import pytest

from questionnaires.models import UrgentAlert
from questionnaires.services import assignment_invite
from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.factories import AssignmentFactory

EVERYONE = {"anonymous": 200, "front_desk": 200, "practitioner": 200, "clinic_admin": 200}
UNKNOWN_LINK = {"anonymous": 404, "front_desk": 404, "practitioner": 404, "clinic_admin": 404}
# Before the date of birth is confirmed, the questions send everyone back to the confirmation page.
TO_CONFIRMATION = {"anonymous": 302, "front_desk": 302, "practitioner": 302, "clinic_admin": 302}
CLINIC_ADMIN_ONLY = {
    "anonymous": REDIRECT_TO_LOGIN,
    "front_desk": 403,
    "practitioner": 403,
    "clinic_admin": 200,
}
SENDERS = {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 302, "practitioner": 302, "clinic_admin": 403}
WORK_LISTS = {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 200, "practitioner": 403, "clinic_admin": 200}
CLINICAL = {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 403, "practitioner": 200, "clinic_admin": 200}
PRACTITIONER_ACTS = {
    "anonymous": REDIRECT_TO_LOGIN,
    "front_desk": 403,
    "practitioner": 302,
    "clinic_admin": 403,
}
NOT_A_GET = {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}

ROWS = [
    Row("answer:start", EVERYONE, args=lambda o: [o["token"]]),
    Row("answer:start", UNKNOWN_LINK, args=lambda o: ["not-a-link"]),
    Row("answer:question", TO_CONFIRMATION, args=lambda o: [o["token"], 1]),
    Row("answer:question", UNKNOWN_LINK, args=lambda o: ["x" * 43, 1]),
    Row("answer:review", TO_CONFIRMATION, args=lambda o: [o["token"]]),
    Row("answer:review", UNKNOWN_LINK, args=lambda o: ["x" * 43], method="post"),
    Row("answer:done", EVERYONE),
    Row(
        "answer:done",
        {"anonymous": 405, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        method="post",
    ),
    Row("questionnaires:import", CLINIC_ADMIN_ONLY),
    # Front desk and practitioners send again or hand over the tablet (302 back to the course page, or to
    # the patient's page); clinic admins see the status only.
    Row("questionnaires:assignment-send-again", SENDERS, method="post", args=lambda o: [o["open"].pk]),
    Row("questionnaires:assignment-send-again", NOT_A_GET, args=lambda o: [o["open"].pk]),
    Row("questionnaires:assignment-tablet", SENDERS, method="post", args=lambda o: [o["open"].pk]),
    Row("questionnaires:assignment-tablet", NOT_A_GET, args=lambda o: [o["open"].pk]),
    Row("questionnaires:follow-ups-missing", WORK_LISTS),
    # Urgent check-ins are clinical: practitioners see and acknowledge them, clinic admins see them.
    Row("questionnaires:urgent-alerts", CLINICAL),
    Row(
        "questionnaires:urgent-alert-acknowledge",
        PRACTITIONER_ACTS,
        method="post",
        args=lambda o: [o["alert"].pk],
    ),
    Row("questionnaires:urgent-alert-acknowledge", NOT_A_GET, args=lambda o: [o["alert"].pk]),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(db):
    open_one = AssignmentFactory()
    alert = UrgentAlert.objects.create(
        assignment=open_one,
        course=open_one.course,
        practitioner=open_one.course.practitioner,
        reason="Fever: mild",
    )
    return {"token": assignment_invite(assignment=AssignmentFactory()), "open": open_one, "alert": alert}


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
