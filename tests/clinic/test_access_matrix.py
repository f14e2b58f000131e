import pytest

from tests.access import REDIRECT_TO_LOGIN, Row, cases, check

ALL_SIGNED_IN = {"front_desk": 200, "practitioner": 200, "clinic_admin": 200}
CLINIC_ADMIN_ONLY = {
    "anonymous": REDIRECT_TO_LOGIN,
    "front_desk": 403,
    "practitioner": 403,
    "clinic_admin": 200,
}

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
    # Audit trail, access log and lockouts: clinic admins only.
    *[
        Row(name, {**CLINIC_ADMIN_ONLY}, args=args)
        for name, args in [
            ("clinic:history", lambda o: [o["patient_type"].pk, o["patient"].pk]),
            ("clinic:patient-access", lambda o: [o["patient"].pk]),
            ("clinic:user-access", lambda o: [o["staff"].pk]),
            ("clinic:lockouts", None),
            ("clinic:messages", None),
        ]
    ],
    Row(
        "clinic:messages",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        method="post",
    ),
    # The outbox: a clinic admin tries a failed message again.
    Row(
        "clinic:message-retry",
        {**CLINIC_ADMIN_ONLY, "clinic_admin": 302},
        method="post",
        args=lambda o: [o["failed_message"].pk],
    ),
    Row(
        "clinic:message-retry",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        args=lambda o: [o["failed_message"].pk],
    ),
    Row(
        "clinic:history",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        method="post",
        args=lambda o: [o["patient_type"].pk, o["patient"].pk],
    ),
    Row(
        "clinic:lockout-unlock",
        {**CLINIC_ADMIN_ONLY, "clinic_admin": 302},
        method="post",
        args=lambda o: [o["attempt"].pk],
    ),
    Row(
        "clinic:lockout-unlock",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        args=lambda o: [o["attempt"].pk],
    ),
    # Two-factor sign-in: everyone's own pages (the clinic admin passed it, the others are not enrolled).
    Row("two-factor", {"anonymous": REDIRECT_TO_LOGIN, **ALL_SIGNED_IN}),
    Row("two-factor-enrol", {"anonymous": REDIRECT_TO_LOGIN, **ALL_SIGNED_IN}),
    Row(
        "two-factor-verify",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 302, "practitioner": 302, "clinic_admin": 302},
    ),
    Row(
        "two-factor-recovery-codes",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 302, "practitioner": 302, "clinic_admin": 200},
        method="post",
    ),
    Row(
        "two-factor-recovery-codes",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
    ),
    Row("clinic:staff-two-factor", {**CLINIC_ADMIN_ONLY}),
    Row(
        "clinic:staff-two-factor-reset",
        {**CLINIC_ADMIN_ONLY, "clinic_admin": 302},
        method="post",
        args=lambda o: [o["staff"].pk],
    ),
    Row(
        "clinic:staff-two-factor-reset",
        {"anonymous": REDIRECT_TO_LOGIN, "front_desk": 405, "practitioner": 405, "clinic_admin": 405},
        args=lambda o: [o["staff"].pk],
    ),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(db):
    from axes.models import AccessAttempt
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from tests.factories import OutboundMessageFactory, PatientFactory, UserFactory

    patient = PatientFactory()
    attempt = AccessAttempt.objects.create(
        username="locked",
        ip_address="192.0.2.1",
        user_agent="",
        get_data="",
        post_data="",
        failures_since_start=5,
        attempt_time=timezone.now(),
    )
    return {
        "patient": patient,
        "patient_type": ContentType.objects.get_for_model(patient),
        "staff": UserFactory(),
        "attempt": attempt,
        "failed_message": OutboundMessageFactory(failed=True),
    }


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
