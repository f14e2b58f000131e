import contextlib
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Patient
from patients.services import mrn_allocate
from tests.factories import PatientFactory

URL = reverse("patients:patient-list")


@pytest.fixture
def zoe(db):
    return PatientFactory(
        given_name="Zoë",
        family_name="Ågren-Smith",
        date_of_birth=datetime.date(1980, 3, 2),
        phone="07700 900123",
    )


@pytest.fixture
def others(db):
    return [
        PatientFactory(
            given_name="Bob",
            family_name="Jones",
            date_of_birth=datetime.date(1980, 2, 3),
            phone="0161 496 0000",
        ),
        PatientFactory(
            given_name="Ann",
            family_name="Lee",
            date_of_birth=datetime.date(1975, 6, 1),
            phone="020 7946 0000",
        ),
    ]


def found(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return list(response.context["page"].object_list)


@pytest.mark.parametrize("query", ["zoe", "ZOË", "agren", "gren-sm", "zoe smith", "Smith Zoe", "ågren"])
def test_it_finds_a_patient_by_any_part_of_the_name_ignoring_accents_and_case(
    client_for, front_desk, zoe, others, query
):
    assert found(client_for(front_desk), q=query) == [zoe]


def test_it_finds_a_patient_by_preferred_name(client_for, front_desk, others):
    patient = PatientFactory(given_name="Margaret", preferred_name="Peggy", family_name="Hill")
    assert found(client_for(front_desk), q="peggy") == [patient]


def test_it_finds_a_patient_by_mrn_written_any_way(client_for, front_desk, others):
    patient = PatientFactory(mrn="PT-000123")
    client = client_for(front_desk)
    for query in ["PT-000123", "pt-000123", "pt000123", "123", "000123", "PT 123"]:
        assert found(client, q=query) == [patient], query


@pytest.mark.parametrize(
    "query", ["2/3/1980", "02/03/1980", "1980-03-02", "2 Mar 1980", "2 March 1980", "02.03.1980"]
)
def test_it_finds_a_patient_by_birth_date_day_first(client_for, front_desk, zoe, others, query):
    assert found(client_for(front_desk), q=query) == [zoe]


@pytest.mark.parametrize(
    "query", ["07700900123", "07700 900123", "(07700) 900-123", "900123", "+44 7700 900123"]
)
def test_it_finds_a_patient_by_phone_in_any_format(client_for, front_desk, zoe, others, query):
    assert found(client_for(front_desk), q=query) == [zoe]


def test_a_search_with_no_match_says_so(client_for, front_desk, zoe):
    response = client_for(front_desk).get(URL, {"q": "nobody"})
    assert response.context["page"].paginator.count == 0
    assert "No patients match" in response.text


def test_archived_patients_are_hidden_unless_asked_for(client_for, front_desk, zoe):
    archived = PatientFactory(family_name="Gone", archived=True, archived_reason="Moved away")
    client = client_for(front_desk)
    assert found(client) == [zoe]
    assert found(client, status="archived") == [archived]
    assert set(found(client, status="all")) == {zoe, archived}


def test_it_filters_by_primary_practitioner(client_for, front_desk, practitioner, zoe, others):
    mine = PatientFactory(primary_practitioner=practitioner)
    assert found(client_for(front_desk), practitioner=practitioner.pk) == [mine]


def test_it_sorts_by_birth_date_both_ways(client_for, front_desk, zoe, others):
    client = client_for(front_desk)
    oldest_first = found(client, sort="dob")
    assert [p.date_of_birth for p in oldest_first] == sorted(p.date_of_birth for p in oldest_first)
    assert found(client, sort="-dob") == oldest_first[::-1]


def test_an_unknown_sort_or_filter_falls_back_to_the_default(client_for, front_desk, zoe):
    assert found(client_for(front_desk), sort="password", status="everything", practitioner="x") == [zoe]


def test_it_pages_the_list_by_25(client_for, front_desk):
    for _ in range(30):
        PatientFactory()
    client = client_for(front_desk)
    assert len(found(client)) == 25
    assert len(found(client, page=2)) == 5
    assert len(found(client, page=99)) == 5


def test_htmx_gets_only_the_results(client_for, front_desk, zoe):
    response = client_for(front_desk).get(URL, {"q": "zoe"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert zoe.mrn in response.text
    assert response.templates[0].name == "patients/_patient_rows.html"


def test_htmx_results_carry_the_sort_back_to_the_search_form(client_for, front_desk, zoe):
    response = client_for(front_desk).get(URL, {"sort": "-dob"}, headers={"HX-Request": "true"})
    assert 'id="patient-sort" value="-dob" hx-swap-oob="true"' in response.text


def test_every_role_can_search(client_for, practitioner, clinic_admin, zoe):
    assert found(client_for(practitioner), q="zoe") == [zoe]
    assert found(client_for(clinic_admin), q="zoe") == [zoe]


def test_a_user_without_a_role_cannot_search(client_for, stranger):
    assert client_for(stranger).get(URL).status_code == 403


def _bulk_patients(count, practitioner):
    people = []
    for index, mrn in enumerate(mrn_allocate(count=count)):
        patient = Patient(
            mrn=mrn,
            given_name=f"Given{index}",
            family_name=f"Family{index}",
            date_of_birth=datetime.date(1960, 1, 1) + datetime.timedelta(days=index),
            sex=Patient.Sex.FEMALE,
            phone=f"07700 {index:06d}",
            primary_practitioner=practitioner,
        )
        patient.refresh_search_fields()
        people.append(patient)
    Patient.objects.bulk_create(people)


@pytest.mark.parametrize(
    "params", [{}, {"q": "family1"}, {"q": "5/1/1960", "status": "all"}, {"sort": "-practitioner"}]
)
def test_the_list_runs_the_same_number_of_queries_for_10_and_1000_patients(
    client_for, front_desk, practitioner, params
):
    client = client_for(front_desk)
    _bulk_patients(10, practitioner)
    client.get(URL, params)  # warm the session and permission caches the same way for both runs
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, params).status_code == 200
    _bulk_patients(990, practitioner)
    with CaptureQueriesContext(connection) as large:
        assert client.get(URL, params).status_code == 200
    assert len(large) == len(small)
    assert len(small) <= 12


@contextlib.contextmanager
def registry_reads():
    """The SQL of every statement that reads the patients table, while the block runs."""
    reads = []

    def record(execute, sql, params, many, context):
        if 'FROM "patients_patient"' in sql:
            reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield reads


def test_a_search_pages_its_matches_and_counts_them_in_the_same_query(client_for, front_desk):
    for index in range(30):
        PatientFactory(family_name=f"Okonkwo{index:02d}")
    PatientFactory(family_name="Jones")
    client = client_for(front_desk)

    with registry_reads() as reads:
        first = client.get(URL, {"q": "okonkwo"})
    second = client.get(URL, {"q": "okonkwo", "page": 2})
    past_end = client.get(URL, {"q": "okonkwo", "page": 99})
    junk = client.get(URL, {"q": "okonkwo", "page": "x"})

    assert len(first.context["page"].object_list) == 25
    assert "30 patients matching “okonkwo”" in first.text
    assert "page 1 of 2" in first.text
    assert [p.family_name for p in second.context["page"].object_list] == [
        f"Okonkwo{index:02d}" for index in range(25, 30)
    ]
    assert "page 2 of 2" in second.text
    assert past_end.context["page"].number == 2
    assert junk.context["page"].number == 1
    assert len(reads) == 1
    assert "OVER" in reads[0]


def test_a_search_without_matches_reads_the_registry_once(client_for, front_desk, zoe):
    client = client_for(front_desk)
    with registry_reads() as reads:
        response = client.get(URL, {"q": "nobody-like-this"})

    assert response.context["page"].paginator.count == 0
    assert list(response.context["page"].object_list) == []
    assert "No patients match" in response.text
    assert len(reads) == 1
