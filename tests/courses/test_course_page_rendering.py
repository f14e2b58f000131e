"""The course page at clinic scale: a fixed number of queries per role, and what its rows show each role
(visits, scores, trend table, forms)."""

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
from tests.html import assert_in_html, table_rows

pytestmark = pytest.mark.django_db

# Beyond a bare signed-in page: the course, its access-log entry, the protocol, the sessions and the
# extensions; with clinical access also the components, injections and side effects of the sessions,
# the scores and the pain NRS (which with the course's own instrument makes the score form's choices),
# the latest screening for the alerts banner (courses.safety; front desk sees only that one exists), and
# the course's values at the protocol's timepoints (outcomes.CourseTimepoint); for both, the course's patient
# questionnaires (questionnaires.selectors.course_assignments).
FRONT_DESK_QUERIES = 7
CLINICAL_QUERIES = 13


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


def row_of(html, first_cell, when=None):
    """The visit row whose first cell is `first_cell` (and whose date cell starts with `when`, if given)."""
    return next(
        row
        for row in table_rows(html)
        if row[0] and row[0][0] == first_cell and (when is None or row[0][1].startswith(when))
    )


def test_a_logged_session_row_lists_its_sites_preparation_and_side_effects(client_for, practitioner, logged):
    course, done, _, _ = logged
    html = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text
    cells, links, _ = row_of(html, "1")
    _, when, status, _, pain, sites, preparation, total, effects, action = cells
    assert (
        when
        == f"{timezone.localtime(done.starts_at):%a} {timezone.localtime(done.starts_at):%-d %b %Y %H:%M}"
    )
    assert status == "Completed" and pain == "6 → 3"
    assert sites == "Iliolumbar <lig> (right) 1.50 mL; Facet (midline) L4–L5 2 mL; Sacral 1.50 mL"
    assert "Iliolumbar &lt;lig&gt;" in html and "Iliolumbar <lig>" not in html
    assert (
        preparation == "Dextrose 15% + anaesthetic 0.200% 1.35 mL Dextrose 50% lot DX-7"
    )  # not the voided 9 mL
    assert total == "4.50 mL"
    assert effects == "Flare grade 2 Syncope grade 3, serious"
    assert_in_html('<span class="badge text-bg-warning">grade 2</span>', html)
    assert_in_html('<span class="badge text-bg-danger">grade 3, serious</span>', html)
    assert action == "View treatment 1"
    assert links[-1] == [reverse("courses:session-log", args=[done.pk])]


def test_cancelled_and_booked_rows_for_front_desk_show_status_and_the_move_link(
    client_for, front_desk, logged
):
    course, _, missed, booked = logged
    html = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk])).text
    # A cancelled visit holds no treatment number, and is greyed out.
    cells, links, css = row_of(html, "–")
    assert cells[2].startswith("Cancelled Snow & ice Rebook") and css == "text-body-secondary"
    assert links[2] == [
        f"{reverse('scheduling:session-rebook', args=[missed.pk])}?next=/courses/{course.pk}/"
    ]
    assert "Snow &amp; ice" in html
    cells, links, _ = row_of(html, str(booked.sequence))
    assert cells[2] == f"Scheduled Move treatment {booked.sequence}"
    assert links[2] == [reverse("scheduling:session-reschedule", args=[booked.pk])]
    assert reverse("scheduling:session-reschedule", args=[missed.pk]) not in html
    # Front desk sees the schedule only: no clinical columns.
    assert len(cells) == 4
    assert "Iliolumbar" not in html and "grade" not in html


def test_a_practitioner_logs_the_booked_session_from_its_row(client_for, practitioner, logged):
    course, _, missed, booked = logged
    html = client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text
    cells, links, _ = row_of(html, str(booked.sequence))
    assert cells[-1] == f"Log treatment {booked.sequence}"
    assert links[-1] == [reverse("courses:session-log", args=[booked.pk])]
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
    rows = [cells for cells, _, _ in table_rows(html)]
    by_hand_row = next(cells for cells in rows if cells[0] == "2 Mar 2026" and len(cells) == 7)
    assert by_hand_row[1:4] == ["6 weeks after last session", "NRS", "3.5"]
    assert by_hand_row[5] == "Morgan Hale"
    assert any(cells[3] == "2" and cells[5] == "–" for cells in rows if len(cells) > 5)
    for score in (by_hand, imported):
        void = reverse("courses:score-void", args=[course.pk, score.pk])
        assert f'action="{void}"' in html
        assert f'id="void-reason-{score.pk}"' in html
    assert html.count('name="csrfmiddlewaretoken"') >= 2
    # Improvement from the baseline: the first treatment's pre-injection score (6).
    assert ["2 Mar 2026", "6 weeks after last session", "3.5", "2.5"] in rows
    # The score form offers the pain NRS (the course has no instrument of its own).
    assert f'<option value="{nrs.pk}">{nrs}</option>' in html


def test_the_small_forms_are_labelled_and_keep_what_was_typed_on_error(client_for, practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner)
    client = client_for(practitioner)
    html = client.get(reverse("courses:course-detail", args=[course.pk])).text
    # Every field of the course actions and the score form has its label.
    for field, _label in (("to_sessions", "Plan this many sessions in total"), ("instrument", "Measure")):
        assert f'for="id_{field}"' in html and f'id="id_{field}"' in html
    assert "Plan this many sessions in total" in html
    response = client.post(
        reverse("courses:course-extend", args=[course.pk]), {"to_sessions": "", "reason": "More time"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "is-invalid" in response.text
    assert "More time" in response.text  # what was typed is kept


def test_a_missed_visit_of_an_open_course_offers_front_desk_to_rebook_it(client_for, front_desk, logged):
    course, _, missed, _ = logged
    html = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk])).text
    cells, links, _ = row_of(html, "–")
    rebook = reverse("scheduling:session-rebook", args=[missed.pk])
    assert links[2] == [f"{rebook}?next={reverse('courses:course-detail', args=[course.pk])}"]
    assert "Rebook" in cells[2]
    # Once the course is closed there is nothing to rebook.
    course.status, course.stop_reason = CourseStatus.STOPPED, "goal_met"
    course.save()
    html = client_for(front_desk).get(reverse("courses:course-detail", args=[course.pk])).text
    assert rebook not in html
