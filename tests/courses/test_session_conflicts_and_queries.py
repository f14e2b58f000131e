"""Two practitioners on one session, and the page's query budget as the session grows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import InjectionSite, SessionStatus
from tests.courses.test_session_logging import injection_row, session_post, url
from tests.factories import (
    InjectionFactory,
    LotFactory,
    PreparationComponentFactory,
    ProductFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

GET_BUDGET = 17  # includes the one access-log insert (clinic.access.log_access)
# Includes the outcome summary refresh: 3 reads, its UPDATE (INSERT the first time), the session counts.
POST_BUDGET = 46
WRITES_PER_ROW = 2


@pytest.fixture
def visit(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def knee_sites(count):
    return list(InjectionSite.objects.filter(region="knee").order_by("name")[:count])


def test_saving_a_stale_copy_shows_who_changed_it_and_keeps_the_typed_entries(client, practitioner, visit):
    colleague = UserFactory(username="dr.chen", first_name="Li", last_name="Chen", role="Practitioner")
    stale = session_post(visit, injections=[injection_row(knee_sites(1)[0], "3.5")], notes="My own notes")

    client.force_login(colleague)
    theirs = session_post(visit, action="save", injections=[injection_row(knee_sites(2)[1], "1")])
    assert client.post(url(visit), theirs).status_code == 302

    client.force_login(practitioner)
    response = client.post(url(visit), stale)

    assert response.status_code == 200
    assert "This session was changed by Li Chen at" in response.text
    assert "reload to see their changes; your entries are kept below" in response.text
    assert "My own notes" in response.text and 'value="3.5"' in response.text
    visit.refresh_from_db()
    assert visit.version == 2 and visit.notes == "" and visit.status == SessionStatus.CHECKED_IN
    assert visit.injections.count() == 1

    # Submitting the same stale page again still refuses: the version on the page is not refreshed.
    assert "changed by Li Chen" in client.post(url(visit), stale).text


def add_rows(session, count):
    dextrose = LotFactory(product=ProductFactory(name="Dextrose 50%"))
    for site in knee_sites(count):
        InjectionFactory(session=session, site=site)
        PreparationComponentFactory(session=session, lot=dextrose, volume_ml=Decimal("1"))
    previous = session.course.sessions.get(sequence=1)
    for _ in range(count):
        SideEffectFactory(attributed_session=previous, reported_session=session)


@pytest.mark.parametrize("rows", [1, 10])
def test_the_page_runs_the_same_queries_with_1_or_10_saved_rows(
    client_for, practitioner, visit, rows, django_assert_max_num_queries
):
    add_rows(visit, rows)
    client = client_for(practitioner)
    client.get(url(visit))  # warm the session and permission caches of this client

    # The same budget for 1 and for 10 rows of each kind: the page's reads do not grow with the session.
    with django_assert_max_num_queries(GET_BUDGET):
        response = client.get(url(visit))
    assert response.status_code == 200
    assert response.text.count("Void (entered in error)") == 3 * rows

    with django_assert_max_num_queries(GET_BUDGET):
        assert client.get(url(visit) + "?edit=1").status_code == 200


def post_queries(client, practitioner, rows):
    """Queries of one save of a new visit with `rows` injections."""
    # Each visit on its own day: a practitioner is in one place at a time.
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14 + rows)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    lot = LotFactory(product=ProductFactory(name="Dextrose 50%"))
    data = session_post(
        visit,
        components=[{"lot": lot.pk, "volume_ml": "2"}],
        injections=[injection_row(site, "1") for site in knee_sites(rows)],
    )
    client.get(url(visit))
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(visit), data)
    assert response.status_code == 302, response.text
    assert visit.injections.count() == rows
    return len(queries)


def test_a_save_reads_the_same_with_1_or_10_injections_and_writes_each_row_once(client_for, practitioner):
    client = client_for(practitioner)

    one, ten = post_queries(client, practitioner, 1), post_queries(client, practitioner, 10)

    assert one <= POST_BUDGET
    # Validation and the warnings read nothing per row; each new row costs its INSERT and its audit entry.
    assert ten - one == 9 * WRITES_PER_ROW
