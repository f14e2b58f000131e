"""Bad input gets a 400 saying what is wrong, never a server error, and changes nothing: hostile query
strings on every list, junk bodies on every write, as a clinic admin and as front desk."""

import json

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

LISTS = [
    ("api:patient-list", None),
    ("api:course-list", None),
    ("api:visit-list", None),
    ("api:course-treatments", "course"),
    ("api:course-scores", "course"),
]

HOSTILE = [
    {"page": "abc"},
    {"page": "0"},
    {"page": "-1"},
    {"page": "1e3"},
    {"page": "99999999999999999999"},
    {"page_size": "100000000"},
    {"page_size": "0"},
    {"page_size": "abc"},
]
DATES = ["2026-02-30", "9999-12-31", "0001-01-01", "31/13/2026", "yesterday", "2026-1-1T25:00"]
FILTERS = {
    "api:patient-list": {"status": "deleted", "sort": "password", "practitioner": "99999999999999999999"},
    "api:course-list": {
        "status": "junk",
        "patient": "abc",
        "condition": "-1",
        "practitioner": "1.5",
        "start_from": DATES,
    },
    "api:visit-list": {"date_from": DATES, "date_to": DATES, "course": "99999999999999999999", "status": "x"},
    "api:course-treatments": {"status": "junk"},
    "api:course-scores": {},
}


def _cases():
    for name, target in LISTS:
        for params in HOSTILE:
            yield pytest.param(name, target, params, id=f"{name}-{params}")
        for key, values in FILTERS[name].items():
            for value in values if isinstance(values, list) else [values]:
                yield pytest.param(name, target, {key: value}, id=f"{name}-{key}={value}")


@pytest.mark.parametrize(("name", "target", "params"), list(_cases()))
def test_a_hostile_query_string_is_refused_with_a_400(api_as, clinic_admin, scene, name, target, params):
    url = reverse(name, args=[scene[target].pk] if target else None)
    response = api_as(clinic_admin).get(url, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert set(body["errors"]) == set(params)


def test_a_page_past_the_end_is_not_found_and_a_size_within_bounds_is_kept(api_as, clinic_admin, scene):
    api = api_as(clinic_admin)
    assert api.get(reverse("api:patient-list"), {"page": "7"}).status_code == 404
    body = api.get(reverse("api:visit-list"), {"page_size": "1"}).json()
    assert len(body["results"]) == 1
    assert body["count"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"course": "abc"},
        {"course": "99999999999999999999"},
        {"date": "9999-12-31"},
        {"date": "2026-02-30"},
        {"days": "400"},
        {"days": "-3"},
        {},
    ],
)
def test_free_slots_refuse_bad_questions(api_as, front_desk, scene, params):
    params = {"course": scene["course"].pk, **params} if "course" not in params and params else params
    response = api_as(front_desk).get(reverse("api:free-slots"), params)
    assert response.status_code == 400


def test_outcome_filters_are_refused_when_they_are_not_the_dashboard_s(api_as, clinic_admin, db):
    for params in ({"start_from": "9999-12-31"}, {"band": "strong"}, {"condition": "abc"}):
        assert api_as(clinic_admin).get(reverse("api:outcome-headline"), params).status_code == 400


JUNK_BODIES = [
    "[]",
    '"text"',
    "{not json",
    json.dumps({"given_name": ["a", "b"]}),
    json.dumps({"given_name": {"x": 1}, "date_of_birth": 5, "sex": True, "primary_practitioner": 10**30}),
    json.dumps({"given_name": "a\u0000b", "family_name": "x", "date_of_birth": "1970-01-01", "sex": "male"}),
    json.dumps({"patient": 10**30, "course": "abc", "starts": "2026-01-01", "instrument": None}),
    json.dumps({"course": 1, "starts": ["9999-12-31T23:59:00", "0001-01-01T00:00:00+14:00"]}),
    json.dumps({"course": -1, "starts": [], "spacing_reasons": "x"}),
    json.dumps({"starts_at": "soon", "shift_later": "perhaps", "reason": ""}),
    json.dumps({"score": "NaN", "instrument": "1e308", "timepoint": "w6", "recorded_on": "0001-01-01"}),
    json.dumps({"score": 1e308, "instrument": 1, "timepoint": "between"}),
]
WRITES = [
    ("post", "api:patient-list", None),
    ("put", "api:patient-detail", "patient"),
    ("patch", "api:patient-detail", "patient"),
    ("post", "api:course-list", None),
    ("post", "api:course-scores", "course"),
    ("post", "api:visit-book", None),
    ("post", "api:visit-reschedule", "booked"),
    ("post", "api:visit-cancel", "booked"),
]


def changes():
    return LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).count()


@pytest.mark.parametrize(("method", "name", "target"), WRITES, ids=[f"{m}-{n}" for m, n, _ in WRITES])
def test_junk_bodies_are_refused_and_change_nothing(
    api_as, front_desk, practitioner, scene, method, name, target
):
    url = reverse(name, args=[scene[target].pk] if target else None)
    clients = {user.username: api_as(user) for user in (front_desk, practitioner)}
    before = changes()
    wrong = []
    for username, api in clients.items():
        for body in JUNK_BODIES:
            response = getattr(api, method)(url, body, content_type="application/json")
            # A partial edit naming none of the patient's fields changes nothing, and says so with a 200.
            harmless = method == "patch" and response.status_code == 200
            if not (400 <= response.status_code < 500 or harmless):
                wrong.append((username, body[:60], response.status_code, response.content[:100]))
        form = getattr(api, method)(url, {"given_name": "x", "starts": "y"}, format="multipart")
        if not 400 <= form.status_code < 500:
            wrong.append((username, "form", form.status_code, form.content[:100]))
    assert wrong == []
    assert changes() == before


def test_a_nul_character_anywhere_is_refused_before_the_api_reads_it(api_as, front_desk, scene):
    api = api_as(front_desk)
    assert api.get(reverse("api:patient-list"), {"q": "a\x00b"}).status_code == 400
    response = api.patch(
        reverse("api:patient-detail", args=[scene["patient"].pk]),
        '{"notes": "a\\u0000b"}',
        content_type="application/json",
    )
    assert response.status_code == 400
