import datetime

import pytest
from django.urls import reverse

from courses.diary import SlotTaken
from courses.models import SessionStatus
from scheduling.services import course_book, session_reschedule
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at


@pytest.fixture
def booked(course, monday, front_desk):
    starts = {n: at(monday + datetime.timedelta(days=14 * (n - 1)), 10) for n in range(1, 7)}
    return course_book(course=course, starts=starts, booked_by=front_desk)


def test_moving_one_session_leaves_the_others(booked, front_desk):
    third = booked[2]
    new_start = third.starts_at + datetime.timedelta(days=3)
    session_reschedule(session=third, starts_at=new_start, by=front_desk)
    third.refresh_from_db()
    booked[3].refresh_from_db()
    assert third.starts_at == new_start
    assert third.ends_at == new_start + datetime.timedelta(minutes=30)
    assert booked[3].starts_at == at(booked[0].starts_at.date() + datetime.timedelta(days=42), 10)


def test_shifting_later_sessions_moves_them_by_the_same_amount(booked, front_desk):
    before = [s.starts_at for s in booked]
    session_reschedule(
        session=booked[2], starts_at=before[2] + datetime.timedelta(days=2), shift_later=True, by=front_desk
    )
    for session, _old in zip(booked, before, strict=True):
        session.refresh_from_db()
    assert [s.starts_at - old for s, old in zip(booked, before, strict=True)] == [
        datetime.timedelta(0)
    ] * 2 + [datetime.timedelta(days=2)] * 4


def test_a_clash_for_any_shifted_session_moves_none(booked, front_desk):
    fifth_new = booked[4].starts_at + datetime.timedelta(days=1)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=booked[0].practitioner),
        sequence=1,
        starts_at=fifth_new,
        ends_at=fifth_new + datetime.timedelta(minutes=30),
    )
    before = [s.starts_at for s in booked]
    with pytest.raises(SlotTaken) as caught:
        session_reschedule(
            session=booked[2],
            starts_at=before[2] + datetime.timedelta(days=1),
            shift_later=True,
            by=front_desk,
        )
    assert caught.value.sequence == 5
    for session, old in zip(booked, before, strict=True):
        session.refresh_from_db()
        assert session.starts_at == old


def test_a_moved_session_gets_a_fresh_reminder(booked, front_desk):
    session = booked[1]
    session.reminder_sent_at = session.starts_at - datetime.timedelta(days=1)
    session.save()
    session_reschedule(
        session=session, starts_at=session.starts_at + datetime.timedelta(hours=2), by=front_desk
    )
    session.refresh_from_db()
    assert session.reminder_sent_at is None


def test_a_cancelled_session_cannot_be_moved(booked, front_desk):
    session = booked[1]
    session.status, session.cancel_reason = SessionStatus.CANCELLED, "Unwell"
    session.save()
    with pytest.raises(Exception, match="Only a scheduled appointment"):
        session_reschedule(
            session=session, starts_at=session.starts_at + datetime.timedelta(days=1), by=front_desk
        )


def post(client, session, day, time="10:00", action="check", shift=False):
    data = {"date": day.isoformat(), "time": time, "action": action}
    if shift:
        data["shift_later"] = "on"
    return client.post(reverse("scheduling:session-reschedule", args=[session.pk]), data)


def test_the_page_says_whether_the_new_time_fits_the_spacing_window(booked, client_for, front_desk):
    client = client_for(front_desk)
    third = booked[2]
    day = third.starts_at.date()
    response = post(client, third, day + datetime.timedelta(days=5))
    assert response.status_code == 200
    assert "After session 2: 19 days: fits the 14–21-day window" in response.text
    assert "Before session 4: 9 days: too close (at least 14)" in response.text
    response = post(client, third, day + datetime.timedelta(days=5), shift=True)
    assert "Sessions 4, 5, 6: move by the same amount" in response.text
    third.refresh_from_db()
    assert third.starts_at.date() == day  # checking moves nothing


def test_moving_from_the_page_shifts_later_sessions_and_redirects(booked, client_for, front_desk):
    third = booked[2]
    new_day = third.starts_at.date() + datetime.timedelta(days=3)
    response = post(client_for(front_desk), third, new_day, action="move", shift=True)
    assert response.status_code == 302
    booked[5].refresh_from_db()
    assert booked[5].starts_at.date() == booked[0].starts_at.date() + datetime.timedelta(days=73)


def test_a_clash_on_the_page_keeps_the_input_and_moves_nothing(booked, client_for, front_desk):
    third = booked[2]
    new_start = at(third.starts_at.date() + datetime.timedelta(days=1), 11)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=third.practitioner),
        sequence=1,
        starts_at=new_start,
        ends_at=new_start + datetime.timedelta(minutes=30),
    )
    response = post(client_for(front_desk), third, new_start.date(), time="11:00", action="move")
    assert response.status_code == 200
    assert "Slot taken" in response.text
    assert 'value="11:00"' in response.text
    third.refresh_from_db()
    assert third.starts_at.hour == 10


def test_a_past_time_is_refused(booked, client_for, front_desk):
    response = post(client_for(front_desk), booked[1], datetime.date(2020, 1, 1), action="move")
    assert "Choose a time in the future" in response.text


def test_practitioners_cannot_reschedule(booked, client_for, practitioner):
    response = client_for(practitioner).get(reverse("scheduling:session-reschedule", args=[booked[1].pk]))
    assert response.status_code == 403
