"""The OpenAPI schema, fuzzed with schemathesis: every GET endpoint, and the POST ones, called with data
generated from the schema by a clinic admin's token. No answer may be a server error, and every answer
must match what the schema documents for its status. Derandomized and bounded (SCHEMA_EXAMPLES per
operation, well under a minute on SQLite)."""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.fuzz

SCHEMA_EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def wsgi_app(settings):
    """Django as a WSGI app in the test's transaction: the request signals must not close its connection
    (Django's own test client disconnects them the same way)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def operations(schema, methods):
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() in methods and not operation.path.endswith(("/schema/", "/docs/")):
            yield operation


def fuzz(operation, headers):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=SCHEMA_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize("methods", [("GET",), ("POST", "PATCH")], ids=["reads", "writes"])
def test_the_schema_s_endpoints_answer_as_documented_and_never_fail(
    wsgi_app, scene, clinic_admin, front_desk, practitioner, issue_token, methods
):
    headers = {"Authorization": f"Bearer {issue_token(clinic_admin)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=headers)
    tested = []
    for operation in operations(schema, methods):
        fuzz(operation, headers)
        tested.append(operation.label)
    assert len(tested) >= (9 if methods == ("GET",) else 5), tested
