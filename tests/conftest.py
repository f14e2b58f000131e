import pytest

from clinic import roles
from tests.browser.kit import (  # noqa: F401  browser fixtures and hooks, for tests marked `browser` anywhere
    _migrated_contents,
    browser_context_args,
    browser_type_launch_args,
    live_server,
    page,
    problems,
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
)
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def force_login_passes_the_second_factor(request, monkeypatch):
    """client.force_login(user) signs in as a whole sign-in would: a clinic admin (or anyone enrolled) has
    also given a code from their app. Tests of the sign-in itself mark themselves `password_only`."""
    if request.node.get_closest_marker("password_only"):
        return
    from django.test import Client

    from clinic import two_factor
    from tests.second_factor import pass_second_factor

    password_only = Client.force_login

    def force_login(self, user, backend=None):
        password_only(self, user, backend)
        if user.is_clinic_admin or two_factor.is_enrolled(user):
            pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def practitioner(db):
    return UserFactory(username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER)


@pytest.fixture
def front_desk(db):
    return UserFactory(username="desk", first_name="Sam", last_name="Reyes", role=roles.FRONT_DESK)


@pytest.fixture
def clinic_admin(db):
    return UserFactory(username="admin", first_name="Alex", last_name="Okafor", role=roles.CLINIC_ADMIN)


@pytest.fixture
def stranger(db):
    """Signed in, but with no clinic role."""
    return UserFactory(username="stranger")


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def at_noon(monkeypatch):
    """The clock stopped at noon today: for visits that happen "now" (walk-ins, a visit moved to now),
    whose guards depend on the time of day."""
    import datetime

    from django.utils import timezone

    noon = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(12)))
    monkeypatch.setattr(timezone, "now", lambda: noon)
    return noon


@pytest.fixture
def works_every_day(practitioner):
    """The practitioner persona works 08:00–18:00 every day of the week."""
    import datetime

    from tests.factories import WorkingHoursFactory

    return [
        WorkingHoursFactory(
            practitioner=practitioner, weekday=day, starts_at=datetime.time(8), ends_at=datetime.time(18)
        )
        for day in range(7)
    ]
