"""The API's lists run as many queries with four times the data: nothing grows with the rows on a page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.conftest import day_at
from tests.factories import (
    InjectionFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PreparationComponentFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def grow(scene, practitioner, count):
    """`count` more patients with a course each, and `count` more treatments (with their clinical rows)
    and scores on the scene's course. One visit a day, so none overlaps another in a diary."""
    grown = scene.setdefault("grown", 0)
    for n in range(count):
        course = TreatmentCourseFactory(
            patient=PatientFactory(family_name=f"Quinn{n}"), practitioner=practitioner
        )
        TreatmentSessionFactory(course=course, sequence=1, starts_at=day_at(30 + grown + n, 8))
    base = scene["course"]
    for n in range(count):
        visit = TreatmentSessionFactory(
            course=base, sequence=10 + grown + n, completed=True, starts_at=day_at(-300 - grown - n, 9)
        )
        PreparationComponentFactory(session=visit)
        InjectionFactory(session=visit)
        SideEffectFactory(attributed_session=visit)
        OutcomeScoreFactory(course=base, instrument=scene["score"].instrument)
    scene["grown"] = grown + count


LISTS = {
    "patient search": ("api:patient-list", None, {"q": "quinn"}),
    "patient list": ("api:patient-list", None, {}),
    "courses": ("api:course-list", None, {}),
    "visits": ("api:visit-list", None, {}),
    "treatments of a course": ("api:course-treatments", "course", {}),
    "scores of a course": ("api:course-scores", "course", {}),
}


def count_queries(api, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, params)
    assert response.status_code == 200
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("name", list(LISTS))
def test_a_list_runs_as_many_queries_with_four_times_the_rows(
    name, api_as, clinic_admin, practitioner, scene
):
    url_name, target, params = LISTS[name]
    url = reverse(url_name, args=[scene[target].pk] if target else None)
    api = api_as(clinic_admin)
    grow(scene, practitioner, 3)
    api.get(url, params)  # the token's last-used stamp is written once a minute, not in the counts
    small, small_rows = count_queries(api, url, params)
    grow(scene, practitioner, 12)
    large, large_rows = count_queries(api, url, params)
    assert large_rows > small_rows
    assert large == small, f"{name}: {small} queries with {small_rows} rows, {large} with {large_rows}"
    assert small <= 12
