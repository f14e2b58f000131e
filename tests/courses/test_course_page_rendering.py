"""The course page at clinic scale: a fixed number of queries per role, and the rows written in Python
(courses_tags: timeline, scores, trend table, forms) show what the template did."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.choices import Laterality
from courses.models import CourseStatus, SessionStatus, Timepoint
from tests.factories import (
    CourseExtensionFactory,
    InjectionFactory,
    InjectionSiteFactory,
    LotFactory,
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    PreparationComponentFactory,
    ProductFactory,
    SideEffectFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db

# Beyond a bare signed-in page: the course, its access-log entry, the protocol, the sessions and the
# extensions; with clinical access also the components, injections and side effects of the sessions,
# the scores and the pain NRS (which with the course's own instrument makes the score form's choices),
# and the latest screening for the alerts banner (courses.safety; front desk sees only that one exists).
FRONT_DESK_QUERIES = 6
CLINICAL_QUERIES = 11


def frame(client):
    client.get(reverse("password_change_done"))
    with CaptureQueriesContext(connection) as bare:
        client.get(reverse("password_change_done"))
    return len(bare.captured_queries)


def full_course(sessions):
    """A closed course with `sessions` completed sessions, each with its entries, a score and an extension."""
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED, planned_sessions=8)
    nrs = OutcomeInstrumentFactory()
    for sequence in range(1, sessions + 1):
        session = TreatmentSessionFactory(course=course, sequence=sequence, completed=True)
        for _ in range(3):
            InjectionFactory(session=session)
        PreparationComponentFactory(session=session)
        SideEffectFactory(attributed_session=session)
        OutcomeScoreFactory(course=course, instrument=nrs, session=session)
        CourseExtensionFactory(course=course, from_sessions=8, to_sessions=9)
    return course


@pytest.mark.parametrize(
    ("persona", "budget"), [("practitioner", CLINICAL_QUERIES), ("front_desk", FRONT_DESK_QUERIES)]
)
def test_the_course_page_runs_the_same_queries_for_one_session_or_eight(
    client_for, persona, budget, request, django_assert_num_queries
):
    client = client_for(request.getfixturevalue(persona))
    bare = frame(client)
    small, large = full_course(1), full_course(8)
    for course in (small, large):
        with django_assert_num_queries(bare + budget):
            response = client.get(reverse("courses:course-detail", args=[course.pk]))
        assert response.status_code == 200


def test_an_open_course_with_its_forms_adds_only_the_walk_in_practitioners(
    client_for, practitioner, django_assert_num_queries
):
    course = TreatmentCourseFactory(practitioner=practitioner)
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    client = client_for(practitioner)
    with django_assert_num_queries(frame(client) + CLINICAL_QUERIES + 1):
        response = client.get(reverse("courses:course-detail", args=[course.pk]))
    for action in ("course-complete", "course-extend", "course-stop", "session-walk-in", "score-add"):
        assert reverse(f"courses:{action}", args=[course.pk]) in response.text


@pytest.fixture
def logged(practitioner):
    """A course with one session of each kind the timeline shows differently."""
    course = TreatmentCourseFactory(practitioner=practitioner, planned_sessions=6)
    done = TreatmentSessionFactory(
        course=course,
        sequence=1,
        completed=True,
        pain_post=3,
        final_dextrose_percent=Decimal("15.00"),
        final_anaesthetic_percent=Decimal("0.200"),
        total_volume_ml=Decimal("4.50"),
    )
    InjectionFactory(
        session=done, site=InjectionSiteFactory(name="Iliolumbar <lig>"), volume_ml=Decimal("1.50")
    )
    InjectionFactory(
        session=done,
        site=InjectionSiteFactory(name="Facet"),
        laterality=Laterality.MIDLINE,
        spinal_level="L4–L5",
        volume_ml=Decimal("2.00"),
    )
    InjectionFactory(
        session=done, site=InjectionSiteFactory(name="Sacral"), laterality=Laterality.NOT_APPLICABLE
    )
    lot = LotFactory(product=ProductFactory(name="Dextrose 50%"), lot_number="DX-7")
    PreparationComponentFactory(session=done, lot=lot, volume_ml=Decimal("1.35"))
    voided = PreparationComponentFactory(session=done, lot=lot, volume_ml=Decimal("9"))
    voided.void(by=practitioner, reason="Wrong session")
    SideEffectFactory(attributed_session=done, term=SideEffectTermFactory(name="Flare"), severity=2)
    SideEffectFactory(
        attributed_session=done,
        term=SideEffectTermFactory(name="Syncope"),
        severity=3,
        serious=True,
        serious_criterion="hospitalisation",
    )
    missed = TreatmentSessionFactory(
        course=course, sequence=2, status=SessionStatus.CANCELLED, cancel_reason="Snow & ice"
    )
    booked = TreatmentSessionFactory(course=course, sequence=2)
    return course, done, missed, booked


def row_of(html, sequence):
    return html.split("<tbody>")[1].split(f"<tr><td>{sequence}</td>")[1].split("</tr>")[0]


def test_a_logged_session_row_lists_its_sites_preparation_and_side_effects(client_for, practitioner, logged):
    course, done, _, _ = logged
    html = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text
    row = row_of(html, 1)
    assert f'<td class="text-nowrap">{timezone.localtime(done.starts_at):%a} ' in row
    assert "<td>6 → 3</td>" in row
    assert ("Iliolumbar &lt;lig&gt; (right) 1.50 mL; Facet (midline) L4–L5 2 mL; Sacral 1.50 mL</td>") in row
    assert "Dextrose 15%" in row and " + anaesthetic 0.200%" in row
    assert '<div class="text-body-secondary">1.35 mL Dextrose 50% lot DX-7</div>' in row
    assert "9 mL" not in row
    assert "<td>4.50 mL</td>" in row
    assert '<div>Flare <span class="badge text-bg-warning">grade 2</span></div>' in row
    assert '<div>Syncope <span class="badge text-bg-danger">grade 3, serious</span></div>' in row
    log_url = reverse("courses:session-log", args=[done.pk])
    assert f'href="{log_url}">View<span class="visually-hidden"> treatment 1</span>' in row


def test_cancelled_and_booked_rows_for_front_desk_show_status_and_the_move_link(
    client_for, front_desk, logged
):
    course, _, missed, booked = logged
    html = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk])).text
    # A cancelled visit holds no treatment number.
    assert '<tr class="text-body-secondary"><td>–</td>' in html
    assert '<div class="small">Snow &amp; ice</div>' in html
    move = reverse("scheduling:session-reschedule", args=[booked.pk])
    hidden = f'<span class="visually-hidden"> treatment {booked.sequence}</span>'
    assert f'<a class="small ms-1" href="{move}">Move{hidden}' in html
    assert reverse("scheduling:session-reschedule", args=[missed.pk]) not in html
    # Front desk sees the schedule only: no clinical columns.
    assert "Iliolumbar" not in html and "grade" not in html


def test_a_practitioner_logs_the_booked_session_from_its_row(client_for, practitioner, logged):
    course, _, missed, booked = logged
    html = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text
    assert f'href="{reverse("courses:session-log", args=[booked.pk])}">Log<span' in html
    assert reverse("courses:session-log", args=[missed.pk]) not in html


def test_scores_are_listed_with_a_void_form_each_and_the_trend_table(client_for, practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.COMPLETED)
    nrs = OutcomeInstrumentFactory()
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    by_hand = OutcomeScoreFactory(
        course=course,
        instrument=nrs,
        score=Decimal("3.5"),
        timepoint=Timepoint.WEEK_6,
        recorded_on=datetime.date(2026, 3, 2),
        created_by=practitioner,
    )
    imported = OutcomeScoreFactory(course=course, instrument=nrs, score=Decimal("2"), created_by=None)
    html = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text
    assert "<tr><td>2 Mar 2026</td><td>6 weeks after last session</td><td>NRS</td><td>3.5</td>" in html
    assert "<td>Morgan Hale</td>" in html and "<td>–</td>" in html
    for score in (by_hand, imported):
        void = reverse("courses:score-void", args=[course.pk, score.pk])
        form = f'<form method="post" action="{void}" class="mt-1">'
        assert form + '<input type="hidden" name="csrfmiddlewaretoken"' in html
        assert f'id="void-reason-{score.pk}"' in html
    assert (
        # Improvement from the baseline: the first treatment's pre-injection score (6).
        '<tr><td>2 Mar 2026</td><th scope="row">6 weeks after last session</th><td>3.5</td><td>2.5</td></tr>'
        in html
    )
    # The score form offers the pain NRS (the course has no instrument of its own).
    assert f'<option value="{nrs.pk}">{nrs}</option>' in html


def test_the_small_forms_keep_their_bootstrap_markup_and_errors(client_for, practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner)
    client = client_for(practitioner)
    html = client.get(reverse("courses:course-detail", args=[course.pk])).text
    assert '<div id="div_id_to_sessions" class="mb-3">' in html
    assert (
        '<label for="id_to_sessions" class="form-label requiredField">'
        'Plan this many sessions in total<span class="asteriskField">*</span></label>'
    ) in html
    assert '<div class="row">\n<div id="div_id_instrument" class="mb-3 col-md-6">' in html
    response = client.post(
        reverse("courses:course-extend", args=[course.pk]), {"to_sessions": "", "reason": ""}
    )
    assert response.status_code == 400
    assert '<span class="invalid-feedback d-block"><strong>This field is required.</strong></span>' in (
        response.text
    )
    assert "form-control is-invalid" in response.text
