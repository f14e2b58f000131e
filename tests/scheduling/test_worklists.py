import datetime

from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, SessionStatus, Timepoint
from outcomes.summary import course_outcome_refresh
from scheduling import diary, selectors
from tests.factories import (
    OutcomeScoreFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)
from tests.scheduling.conftest import at


def days_ago(days, hour=10):
    return at(timezone.localdate() - datetime.timedelta(days=days), hour)


def session(course, sequence, start, **kwargs):
    made = TreatmentSessionFactory(
        course=course,
        sequence=sequence,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
        **kwargs,
    )
    # The services refresh the course's outcome summary in the transaction of every session write; the
    # factory writes the row directly, so the test does what the service would.
    course_outcome_refresh(course)
    return made


def test_a_course_with_nothing_booked_ahead_needs_booking(db):
    waiting = TreatmentCourseFactory()
    session(waiting, 1, days_ago(20), completed=True)
    booked = TreatmentCourseFactory()
    session(booked, 1, days_ago(-5))
    finished = TreatmentCourseFactory(planned_sessions=1)
    session(finished, 1, days_ago(20), completed=True)
    assert list(selectors.courses_to_book()) == [waiting]


def test_stopped_and_completed_courses_need_no_booking(db):
    TreatmentCourseFactory(status=CourseStatus.STOPPED, stop_reason="goal_met")
    TreatmentCourseFactory(status=CourseStatus.COMPLETED)
    assert not selectors.courses_to_book().exists()


def test_sessions_left_scheduled_on_an_earlier_day_are_overdue(db):
    course = TreatmentCourseFactory()
    late = session(course, 1, days_ago(3))
    session(course, 2, days_ago(-3))
    assert list(selectors.overdue_sessions()) == [late]


def test_a_no_show_stays_to_call_back_until_its_follow_up_is_recorded(db, front_desk):
    course = TreatmentCourseFactory()
    missed = session(course, 2, days_ago(4), status=SessionStatus.NO_SHOW)
    booked_since = TreatmentCourseFactory()
    also_missed = session(booked_since, 2, days_ago(6), status=SessionStatus.NO_SHOW)
    # Something booked later does not take it off the list: only a recorded follow-up does.
    session(booked_since, 2, days_ago(-6))
    long_ago = session(TreatmentCourseFactory(), 1, days_ago(90), status=SessionStatus.NO_SHOW)
    assert list(selectors.no_shows_to_call()) == [missed, also_missed, long_ago]

    diary.no_show_follow_up_record(
        session=also_missed, outcome="called", note="Rings back Monday", by=front_desk
    )
    also_missed.refresh_from_db()
    assert also_missed.no_show_follow_up_by == front_desk
    assert list(selectors.no_shows_to_call()) == [missed, long_ago]


def test_recording_a_follow_up_from_the_work_list(db, client_for, front_desk):
    missed = session(TreatmentCourseFactory(), 1, days_ago(2), status=SessionStatus.NO_SHOW)
    client = client_for(front_desk)
    url = reverse("scheduling:session-no-show-follow-up", args=[missed.pk])
    refused = client.post(url, {"outcome": "other", "note": ""})
    assert refused.status_code == 302
    missed.refresh_from_db()
    assert missed.no_show_follow_up == ""
    client.post(url, {"outcome": "other", "note": "Moved abroad"})
    missed.refresh_from_db()
    assert (missed.no_show_follow_up, missed.no_show_follow_up_note) == ("other", "Moved abroad")
    no_shows = (
        client.get(reverse("scheduling:worklists")).text.split('id="no-shows"')[1].split("</section>")[0]
    )
    assert missed.patient.full_name not in no_shows


def test_follow_up_scores_fall_due_after_the_last_session(db):
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
    session(course, 1, days_ago(7 * 13), completed=True)
    OutcomeScoreFactory(course=course, timepoint=Timepoint.WEEK_6)
    scored = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
    session(scored, 1, days_ago(7 * 7), completed=True)
    OutcomeScoreFactory(course=scored, timepoint=Timepoint.WEEK_6)
    due = selectors.follow_ups_due()
    assert [row.course for row in due] == [course]
    assert [label for label, _ in due[0].due] == [Timepoint.WEEK_12.label]


def test_the_work_lists_page_runs_a_fixed_number_of_queries(
    client_for, front_desk, django_assert_max_num_queries
):
    def add_each_kind():
        course = TreatmentCourseFactory()
        session(course, 1, days_ago(30), completed=True)
        session(course, 2, days_ago(3))
        other = TreatmentCourseFactory()
        session(other, 1, days_ago(5), status=SessionStatus.NO_SHOW)
        done = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
        session(done, 1, days_ago(50), completed=True)

    client = client_for(front_desk)
    add_each_kind()
    with django_assert_max_num_queries(16) as small:
        assert client.get(reverse("scheduling:worklists")).status_code == 200
    for _ in range(5):
        add_each_kind()
    with django_assert_max_num_queries(16) as large:
        response = client.get(reverse("scheduling:worklists"))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert "Overdue visits (6)" in response.text
    assert "No-shows to call back (6)" in response.text
    assert "Follow-up scores due (6)" in response.text


def test_the_work_list_pages_show_the_same_rows_as_the_full_lists(db):
    """The page reads the first rows and the counts in narrow queries; they match the plain selectors."""
    for n in range(4):
        waiting = TreatmentCourseFactory(status=CourseStatus.ACTIVE)
        session(waiting, 1, days_ago(20 + n), completed=True)
        late = TreatmentCourseFactory()
        session(
            late, 1, days_ago(3 + n), status=SessionStatus.CHECKED_IN if n % 2 else SessionStatus.SCHEDULED
        )
        done = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
        session(done, 1, days_ago(7 * 7 + n * 30), completed=True)
    to_book, to_book_count = selectors.courses_to_book_first(3)
    assert to_book == list(selectors.courses_to_book()[:3])
    assert to_book_count == selectors.courses_to_book().count() >= 4
    assert [c.live_count for c in to_book] == [c.live_count for c in selectors.courses_to_book()[:3]]
    overdue = selectors.overdue_sessions_first(3)
    assert overdue == list(selectors.overdue_sessions()[:3])
    assert {s.status for s in selectors.overdue_sessions_first(10)} == {
        SessionStatus.SCHEDULED,
        SessionStatus.CHECKED_IN,
    }
    follow_ups, follow_ups_count = selectors.follow_ups_due_first(3)
    full = selectors.follow_ups_due()
    assert follow_ups_count == len(full) == 4
    assert [(f.course, f.last_session_on, f.due) for f in follow_ups] == [
        (f.course, f.last_session_on, f.due) for f in full[:3]
    ]


def test_a_follow_up_is_due_from_the_day_it_falls_on(db):
    course = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
    session(course, 1, days_ago(7 * 12, hour=23), completed=True)
    OutcomeScoreFactory(course=course, timepoint=Timepoint.WEEK_6)
    [due] = selectors.follow_ups_due()
    assert [label for label, _ in due.due] == [Timepoint.WEEK_12.label]
    recent = TreatmentCourseFactory(status=CourseStatus.COMPLETED)
    session(recent, 1, days_ago(7 * 12 - 1, hour=0), completed=True)
    OutcomeScoreFactory(course=recent, timepoint=Timepoint.WEEK_6)
    assert [row.course for row in selectors.follow_ups_due()] == [course]
