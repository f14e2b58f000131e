import pytest

from tests.access import REDIRECT_TO_LOGIN, Row, cases, check

ALL_SIGNED_IN = {"front_desk": 200, "practitioner": 200, "clinic_admin": 200}

ROWS = [
    Row("home", {"anonymous": REDIRECT_TO_LOGIN, **ALL_SIGNED_IN}),
    Row("healthz", {"anonymous": 200, **ALL_SIGNED_IN}),
    Row("login", {"anonymous": 200, "front_desk": 302, "practitioner": 302, "clinic_admin": 302}),
    Row(
        "logout",
        {"anonymous": 302, "front_desk": 302, "practitioner": 302, "clinic_admin": 302},
        method="post",
    ),
    # Sign-out is POST only; anonymous visitors are sent to sign in first.
    Row(
        "logout",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
    ),
    Row("password_change", {"anonymous": REDIRECT_TO_LOGIN, **ALL_SIGNED_IN}),
    Row("password_change_done", {"anonymous": REDIRECT_TO_LOGIN, **ALL_SIGNED_IN}),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users):
    check(row, persona, client=client, users=users, objects={})
