import datetime
import itertools
import zoneinfo

from courses.models import SessionStatus
from courses.timeline import SpacingWindow
from scheduling.proposals import Availability, propose_sessions
from scheduling.selectors import course_proposal
from tests.factories import ClosureFactory, TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY = datetime.date(2027, 3, 1)
WEEKDAYS_9_TO_5 = {d: [(datetime.time(9), datetime.time(17))] for d in (0, 1, 3, 4)}  # not Wednesday


def local(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def availability(**overrides):
    values = {
        "practitioner_name": "Dr Hale",
        "hours": WEEKDAYS_9_TO_5,
        "closures": (),
        "busy": (),
        "slot": datetime.timedelta(minutes=30),
        "tz": LONDON,
    }
    return Availability(**{**values, **overrides})


def propose(count=3, first=None, interval=14, window=(14, 21), **overrides):
    return propose_sessions(
        first_start=first or local(MONDAY, 10),
        sequences=list(range(1, count + 1)),
        window=SpacingWindow(*window, interval),
        availability=availability(**overrides),
        now=local(MONDAY - datetime.timedelta(days=7), 9),
    )


def test_it_proposes_every_session_at_the_planned_interval_when_nothing_is_in_the_way():
    rows = propose(count=3)
    assert [r.starts_at for r in rows] == [
        local(MONDAY, 10),
        local(MONDAY + datetime.timedelta(days=14), 10),
        local(MONDAY + datetime.timedelta(days=28), 10),
    ]
    assert not any(r.moved for r in rows)


def test_it_moves_a_session_off_a_closed_day_and_says_why():
    closed = MONDAY + datetime.timedelta(days=14)
    rows = propose(count=2, closures=((closed, closed, "Easter Monday"),))
    assert rows[1].starts_at == local(closed + datetime.timedelta(days=1), 10)
    assert rows[1].reasons == [f"clinic closed {closed.day} {closed:%b} (Easter Monday)"]


def test_it_skips_the_practitioners_day_off():
    wednesday = MONDAY + datetime.timedelta(days=2)
    rows = propose(count=2, first=local(wednesday, 10))
    assert rows[0].starts_at == local(wednesday + datetime.timedelta(days=1), 10)
    assert rows[0].reasons == ["Dr Hale not working Wednesdays"]


def test_it_moves_the_time_when_the_slot_is_taken():
    second = MONDAY + datetime.timedelta(days=14)
    rows = propose(count=2, busy=((local(second, 10), local(second, 10, 30)),))
    assert rows[1].starts_at in (local(second, 9, 30), local(second, 10, 30))
    assert rows[1].reasons == ["10:00 taken"]


def test_it_keeps_the_time_inside_working_hours():
    rows = propose(count=1, first=local(MONDAY, 18))
    assert rows[0].starts_at == local(MONDAY, 16, 30)
    assert rows[0].reasons == ["Dr Hale not working at 18:00"]


def test_a_full_day_moves_the_session_to_the_next_day_in_the_window():
    second = MONDAY + datetime.timedelta(days=14)
    rows = propose(count=2, busy=((local(second, 9), local(second, 17)),))
    assert rows[1].starts_at == local(second + datetime.timedelta(days=1), 10)
    assert f"no free time on {second.day} {second:%b}" in rows[1].reasons


def test_it_never_leaves_the_spacing_window():
    # Closed for the whole 14–21-day window after the first session.
    closed = (MONDAY + datetime.timedelta(days=14), MONDAY + datetime.timedelta(days=21), "Refurbishment")
    rows = propose(count=2, closures=(closed,))
    assert rows[1].unresolved
    assert "no free slot within 14–21 days; choose a time" in rows[1].reasons


def test_later_sessions_keep_their_spacing_from_a_moved_session():
    closed = MONDAY + datetime.timedelta(days=14)
    rows = propose(count=3, closures=((closed, closed, "Holiday"),))
    gaps = [(b.starts_at.date() - a.starts_at.date()).days for a, b in itertools.pairwise(rows)]
    assert gaps == [15, 14]


def test_a_course_outside_the_protocol_keeps_its_own_interval():
    second = MONDAY + datetime.timedelta(days=7)
    rows = propose(count=2, interval=7, window=(7, 7), closures=((second, second, "Holiday"),))
    assert rows[1].unresolved


def test_it_never_proposes_a_time_in_the_past():
    rows = propose_sessions(
        first_start=local(MONDAY, 9),
        sequences=[1],
        window=SpacingWindow(14, 21, 14),
        availability=availability(),
        now=local(MONDAY, 11, 5),
    )
    assert rows[0].starts_at == local(MONDAY, 11, 30)


def test_course_proposal_reads_closures_hours_and_both_diaries(course, monday):
    ClosureFactory(starts_on=monday + datetime.timedelta(days=14), reason="Training day")
    other = TreatmentCourseFactory(patient=course.patient)
    TreatmentSessionFactory(
        course=other,
        sequence=1,
        starts_at=at(monday + datetime.timedelta(days=29), 10),
        ends_at=at(monday + datetime.timedelta(days=29), 10, 30),
    )
    rows = course_proposal(course=course, first_start=at(monday, 10))
    assert [r.sequence for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[1].starts_at == at(monday + datetime.timedelta(days=15), 10)
    assert "clinic closed" in rows[1].reasons[0]
    # The patient is elsewhere at 10:00 on the day session 3 falls.
    assert rows[2].reasons == ["10:00 taken"]


def test_course_proposal_skips_sequences_already_held(course, monday):
    TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.COMPLETED, pain_pre=5)
    TreatmentSessionFactory(course=course, sequence=2)
    rows = course_proposal(course=course, first_start=at(monday, 10))
    assert [r.sequence for r in rows] == [3, 4, 5, 6]
