"""The API's lists run as many queries with four times the data: nothing grows with the rows on a page; a
patient search reads its page and its total in one query, as the patient list page does."""

import contextlib

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


@contextlib.contextmanager
def registry_reads():
    """The SQL of every query that reads the patients table while the block runs."""
    reads = []

    def record(execute, sql, params, many, context):
        if 'FROM "patients_patient"' in sql:
            reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield reads


def test_a_search_reads_its_page_and_its_count_in_one_query(api_as, front_desk):
    for index in range(30):
        PatientFactory(family_name=f"Okonkwo{index:02d}")
    PatientFactory(family_name="Jones")
    api = api_as(front_desk)
    url = reverse("api:patient-list")

    with registry_reads() as reads:
        first = api.get(url, {"q": "okonkwo"}).json()
    second = api.get(url, {"q": "okonkwo", "page": "2"}).json()
    past_end = api.get(url, {"q": "okonkwo", "page": "3"})

    assert len(reads) == 1
    assert "OVER" in reads[0]
    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert second["count"] == 30
    assert [p["family_name"] for p in second["results"]] == [f"Okonkwo{i:02d}" for i in range(25, 30)]
    assert second["next"] is None
    assert second["previous"] is not None
    assert past_end.status_code == 404


def test_a_search_without_matches_reads_the_registry_once(api_as, front_desk):
    PatientFactory(family_name="Jones")
    api = api_as(front_desk)

    with registry_reads() as reads:
        body = api.get(reverse("api:patient-list"), {"q": "nobody-like-this"}).json()

    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    assert len(reads) == 1
