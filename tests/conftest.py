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
