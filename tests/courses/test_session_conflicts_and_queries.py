"""Two practitioners on one session, and the page's query budget as the session grows."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import (
    CourseStatus,
    Injection,
    InjectionSite,
    PreparationComponent,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes.summary import course_outcome_refresh
from tests.courses.test_session_logging import injection_row, session_post, url
from tests.factories import (
    InjectionFactory,
    LotFactory,
    PreparationComponentFactory,
    ProductFactory,
    ScreeningFactory,
    SideEffectFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

# Sign-in and permissions (4), the session, its preparations and three kinds of rows (5), the access-log
# insert, the course's sessions, the screening, the protocol, the lots, sites and terms, and the reactions
# the patient reported in check-ins that wait for the practitioner.
GET_BUDGET = 17
# A first save without its row writes, as the benchmark's POST makes it: sign-in (4), the session, its
# preparations and rows (5), the lots and sites the rows name (2); the locked session (its rows are the ones
# the page read: nothing changed since, courses.session_services._standing_rows), protocol, the course's
# completed sessions, screening, the session's UPDATE with its audit entry and the audit's read of the old
# row (3); the planned course started, likewise (3); the outcome summary refresh (outcomes/summary.py
# course_outcome_refresh, fourteen queries with its timepoint values and their tallies); the questionnaire
# schedule (questionnaires/schedule.py: its rules, the protocol timepoints, the locked course, its sessions
# and its questionnaires; a questionnaire it adds, the treatment's check-in, is a row write like the others).
POST_BUDGET = 38
WRITES_PER_ROW = 2  # the row's INSERT and its audit entry


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


def counted(queries):
    """Queries as production runs them: the test's own transaction turns atomic blocks into savepoints."""
    return sum(1 for query in queries if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))


def warm_caches(client, session):
    """Sign-in, permissions and the audit's content types are cached per process in production."""
    client.get(url(session))
    ContentType.objects.get_for_models(
        TreatmentSession, TreatmentCourse, PreparationComponent, Injection, SideEffect
    )


def get_queries(client, session, path=""):
    client.get(url(session) + path)  # warm the session and permission caches of this client
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(session) + path)
    assert response.status_code == 200
    return len(queries), response


def test_the_page_runs_the_same_queries_with_1_or_10_saved_rows(client_for, practitioner):
    client = client_for(practitioner)
    counts = {}
    for rows in (1, 10):
        course = TreatmentCourseFactory(
            practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14 + rows)
        )
        TreatmentSessionFactory(course=course, sequence=1, completed=True)
        ScreeningFactory(patient=course.patient, screened_by=practitioner)
        visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
        add_rows(visit, rows)
        editing, response = get_queries(client, visit)
        # Each row, and the one preparation its components went into.
        assert response.text.count("Void (entered in error)") == 3 * rows + 1
        visit.status, visit.pain_pre = SessionStatus.COMPLETED, 5
        visit.save()
        read_only, response = get_queries(client, visit)
        assert "Edit record" in response.text
        counts[rows] = (editing, read_only, get_queries(client, visit, "?edit=1")[0])

    # The page's reads do not grow with the session: the same count for 1 and for 10 rows of each kind.
    assert counts[1] == counts[10]
    assert max(counts[1]) <= GET_BUDGET


def post_queries(client, practitioner, rows):
    """Queries of one save of a new visit with `rows` components, injections and side effects."""
    # Each visit on its own day: a practitioner is in one place at a time. Both more than three days ago, so
    # the questionnaire schedule adds a check-in to neither (its window, 24-72 hours after, has closed).
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=17 + rows)
    )
    previous = TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    lots = [LotFactory(product=ProductFactory(name=f"Dextrose 50% {n}")) for n in range(rows)]
    side_effect = {
        "term": SideEffectTermFactory().pk,
        "attributed_session": previous.pk,
        "onset_date": timezone.localdate().isoformat(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "possibly",
    }
    data = session_post(
        visit,
        components=[{"lot": lot.pk, "volume_ml": "1"} for lot in lots],
        injections=[injection_row(site, "1") for site in knee_sites(rows)],
        side_effects=[side_effect] * rows,
    )
    warm_caches(client, visit)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(visit), data)
    assert response.status_code == 302, response.text
    assert visit.injections.count() == visit.components.count() == visit.reported_side_effects.count() == rows
    return counted(queries)


def first_save_queries(client, practitioner):
    """Queries of the benchmark's POST: three components (one preparation) and three injections, no side
    effect."""
    course = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.PLANNED)
    # Planning a course makes its outcome summary (course_create announces it); the factory does not.
    course_outcome_refresh(course)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    visit = TreatmentSessionFactory(course=course, sequence=1)
    lots = [LotFactory(product=ProductFactory(name=name)) for name in ("Dextrose 50%", "Lidocaine 1%")]
    data = session_post(
        visit,
        components=[{"lot": lot.pk, "volume_ml": "1"} for lot in lots * 2][:3],
        injections=[injection_row(site, "1") for site in knee_sites(3)],
    )
    warm_caches(client, visit)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(visit), data)
    assert response.status_code == 302, response.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED and visit.injections.count() == 3
    return counted(queries)


def test_a_first_save_that_starts_the_course_stays_within_the_budget(client_for, practitioner):
    # Six rows, the preparation they go into, and the check-in the schedule adds for the treatment given.
    assert first_save_queries(client_for(practitioner), practitioner) <= POST_BUDGET + 8 * WRITES_PER_ROW


def test_a_save_reads_the_same_with_1_or_10_rows_of_each_kind_and_writes_each_row_once(
    client_for, practitioner
):
    client = client_for(practitioner)

    one, ten = post_queries(client, practitioner, 1), post_queries(client, practitioner, 10)

    # Validation and the warnings read nothing per row: one query per choice list, and the side-effect
    # terms and the course's sessions only when a side effect is reported. Each new row costs its INSERT
    # and its audit entry.
    assert one <= POST_BUDGET + 2 + (1 + 3) * WRITES_PER_ROW
    assert ten - one == 9 * 3 * WRITES_PER_ROW
