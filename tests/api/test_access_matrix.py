"""The API's endpoint × role × method table: each demo role signed in, each role's token, an account with
no role, and no credentials at all. A token gets exactly what its account's role gets through a session.

tests/test_access_coverage.py reads ROWS: every API URL has a row here.
"""

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import reverse

from tests.api.conftest import day_at

ROLES = ("front_desk", "practitioner", "clinic_admin")
# (persona, user fixture, signed in with a session rather than a token)
PERSONAS = [
    *((role, role, True) for role in ROLES),
    *((f"token:{role}", role, False) for role in ROLES),
    ("no role", "stranger", True),
    ("anonymous", None, False),
]


@dataclass(frozen=True)
class Row:
    url_name: str
    expect: dict  # role -> status, for the role's session and its token alike
    method: str = "get"
    args: object = None  # callable(scene) -> URL args
    data: object = None  # callable(scene) -> JSON body
    query: str = ""
    no_role: int | None = None  # default: 405 where no role is offered the method, else 403
    anonymous: int = 401
    token: int | None = None  # when every token gets one status, whatever the role (the docs page)

    def expected(self, persona):
        if persona == "anonymous":
            return self.anonymous
        if persona == "no role":
            if self.no_role is None:
                return 405 if set(self.expect.values()) == {405} else 403
            return self.no_role
        if persona.startswith("token:") and self.token is not None:
            return self.token
        return self.expect[persona.removeprefix("token:")]


def everyone(status):
    return dict.fromkeys(ROLES, status)


def only(role, status, others=403):
    return {r: status if r == role else others for r in ROLES}


CLINICAL = {"front_desk": 403, "practitioner": 200, "clinic_admin": 200}
NOT_OFFERED = everyone(405)


def patient(scene):
    return [scene["patient"].pk]


def course(scene):
    return [scene["course"].pk]


def given(scene):
    return [scene["given"].pk]


def booked(scene):
    return [scene["booked"].pk]


def new_patient(scene):
    return {
        "given_name": "Bea",
        "family_name": "Lund",
        "date_of_birth": "1970-05-06",
        "sex": "female",
        "phone": "01632 960555",
        "preferred_contact": "phone",
    }


def new_course(scene):
    return {
        "patient": scene["patient"].pk,
        "condition": scene["course"].condition_id,
        "body_region": "knee",
        "laterality": "left",
        "practitioner": scene["course"].practitioner_id,
        "start_date": scene["course"].start_date.isoformat(),
        "planned_sessions": 6,
        "interval_days": 14,
        "baseline_pain": 6,
    }


def new_score(scene):
    return {"instrument": scene["score"].instrument_id, "score": 3, "timepoint": "between"}


def booking(scene):
    # Treatment 3, two weeks after treatment 2 (booked a week from today).
    return {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]}


def move(scene):
    return {"starts_at": day_at(8, 11).isoformat()}


ROWS = [
    Row("api:patient-list", everyone(200), query="?q=quinn"),
    Row("api:patient-list", only("practitioner", 403, 201), method="post", data=new_patient),
    Row("api:patient-list", NOT_OFFERED, method="delete"),
    Row("api:patient-detail", everyone(200), args=patient),
    Row("api:patient-detail", only("practitioner", 403, 200), method="patch", args=patient, data=new_patient),
    Row("api:patient-detail", only("practitioner", 403, 200), method="put", args=patient, data=new_patient),
    Row("api:patient-detail", NOT_OFFERED, method="delete", args=patient),
    Row("api:patient-detail", NOT_OFFERED, method="post", args=patient, data=new_patient),
    Row("api:patient-fhir", CLINICAL, args=patient),
    Row("api:patient-fhir", NOT_OFFERED, method="post", args=patient, data=new_patient),
    Row("api:course-list", everyone(200), query="?status=open"),
    Row("api:course-list", only("practitioner", 201), method="post", data=new_course),
    Row("api:course-list", NOT_OFFERED, method="delete"),
    Row("api:course-detail", everyone(200), args=course),
    Row("api:course-detail", NOT_OFFERED, method="delete", args=course),
    Row("api:course-detail", NOT_OFFERED, method="patch", args=course, data=new_course),
    Row("api:course-treatments", CLINICAL, args=course),
    Row("api:course-treatments", NOT_OFFERED, method="post", args=course, data=new_score),
    Row("api:treatment-detail", CLINICAL, args=given),
    Row("api:treatment-detail", NOT_OFFERED, method="delete", args=given),
    Row("api:treatment-detail", NOT_OFFERED, method="patch", args=given, data=new_score),
    Row("api:course-scores", CLINICAL, args=course),
    Row("api:course-scores", only("practitioner", 201), method="post", args=course, data=new_score),
    Row("api:course-scores", NOT_OFFERED, method="delete", args=course),
    Row("api:visit-list", everyone(200), query="?practitioner=&status=scheduled"),
    Row("api:visit-list", NOT_OFFERED, method="post", data=booking),
    Row("api:visit-detail", everyone(200), args=booked),
    Row("api:visit-detail", NOT_OFFERED, method="delete", args=booked),
    Row("api:visit-detail", NOT_OFFERED, method="patch", args=booked, data=move),
    Row("api:free-slots", everyone(200), query="?days=3", args=None),
    Row("api:free-slots", NOT_OFFERED, method="post", data=booking),
    Row("api:visit-book", only("front_desk", 201), method="post", data=booking),
    Row("api:visit-book", NOT_OFFERED, method="get"),
    Row("api:visit-reschedule", only("front_desk", 200), method="post", args=booked, data=move),
    Row("api:visit-reschedule", NOT_OFFERED, method="get", args=booked),
    Row(
        "api:visit-cancel",
        only("front_desk", 200),
        method="post",
        args=booked,
        data=lambda scene: {"reason": "Patient phoned: unwell"},
    ),
    Row("api:visit-cancel", NOT_OFFERED, method="delete", args=booked),
    Row("api:outcome-headline", CLINICAL),
    Row("api:outcome-headline", NOT_OFFERED, method="post", data=new_score),
    Row("api:schema", everyone(200)),
    Row("api:schema", NOT_OFFERED, method="post", data=new_score),
    # A page of documentation, behind the pages' sign-in: a token is not a signed-in browser.
    Row("api:docs", everyone(200), anonymous=302, token=302),
    # The token page and its actions are pages (302 to the sign-in without a session), for clinic admins.
    Row("tokens:token-list", only("clinic_admin", 200), anonymous=302, token=302),
    Row("tokens:token-list", NOT_OFFERED, method="post", anonymous=302, token=302),
    Row(
        "tokens:token-issue",
        only("clinic_admin", 200),
        method="post",
        data=lambda scene: {"name": "Sync", "user": scene["course"].practitioner_id},
        anonymous=302,
        token=302,
    ),
    Row("tokens:token-issue", NOT_OFFERED, anonymous=302, token=302),
    Row(
        "tokens:token-revoke",
        only("clinic_admin", 302),
        method="post",
        args=lambda scene: [scene["token"].pk],
        anonymous=302,
        token=302,
    ),
    Row("tokens:token-revoke", NOT_OFFERED, args=lambda scene: [scene["token"].pk], anonymous=302, token=302),
]


def _url(row, scene):
    url = reverse(row.url_name, args=row.args(scene) if row.args else None) + row.query
    if row.url_name == "api:free-slots" and row.query:
        url += f"&course={scene['course'].pk}"
    return url


def _call(api, row, scene):
    data = row.data(scene) if row.data else None
    if row.url_name.startswith("tokens:"):
        return getattr(api, row.method)(_url(row, scene), data, format="multipart")  # as the page posts
    return getattr(api, row.method)(_url(row, scene), data, format="json")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.url_name}-{row.method}{row.query}")
def test_each_persona_gets_what_its_role_allows(row, request, scene, api_as, issue_token, clinic_admin):
    from api.models import ApiToken

    issue_token(clinic_admin, name="Row target")
    scene["token"] = ApiToken.objects.latest("pk")
    clients = {}
    for persona, fixture, session in PERSONAS:
        user = request.getfixturevalue(fixture) if fixture else None
        clients[persona] = api_as(user, session=session)
    wrong = []
    for persona, _, _ in PERSONAS:
        # Each persona starts from the same rows: a write by one is undone before the next.
        with transaction.atomic():
            response = _call(clients[persona], row, scene)
            transaction.set_rollback(True)
        if response.status_code != row.expected(persona):
            wrong.append(f"{persona}: {response.status_code} (expected {row.expected(persona)})")
    assert wrong == [], f"{row.method.upper()} {row.url_name}: " + "; ".join(wrong)
