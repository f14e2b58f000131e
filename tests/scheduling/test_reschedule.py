import datetime

import pytest
from django.urls import reverse

from courses.models import SessionStatus
from scheduling.diary import VisitRefused, course_book, visit_reschedule
from scheduling.models import Closure
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory
from tests.scheduling.conftest import at


@pytest.fixture
def booked(course, monday, front_desk):
    starts = [at(monday + datetime.timedelta(days=14 * n), 10) for n in range(6)]
    return course_book(course=course, starts=starts, booked_by=front_desk)


def test_moving_one_visit_leaves_the_others(booked, front_desk):
    third = booked[2]
    new_start = third.starts_at + datetime.timedelta(hours=4)
    visit_reschedule(session=third, starts_at=new_start, by=front_desk)
    third.refresh_from_db()
    booked[3].refresh_from_db()
    assert third.starts_at == new_start
    assert third.ends_at == new_start + datetime.timedelta(minutes=30)
    assert booked[3].starts_at == at(booked[0].starts_at.date() + datetime.timedelta(days=42), 10)


def test_shifting_later_visits_moves_them_by_the_same_amount(booked, front_desk):
    before = [s.starts_at for s in booked]
    visit_reschedule(
        session=booked[2], starts_at=before[2] + datetime.timedelta(days=1), shift_later=True, by=front_desk
    )
    for session in booked:
        session.refresh_from_db()
    assert [s.starts_at - old for s, old in zip(booked, before, strict=True)] == [
        datetime.timedelta(0)
    ] * 2 + [datetime.timedelta(days=1)] * 4


def test_a_clash_for_any_shifted_visit_moves_none(booked, front_desk):
    fifth_new = booked[4].starts_at + datetime.timedelta(days=1)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=booked[0].practitioner),
        sequence=1,
        starts_at=fifth_new,
        ends_at=fifth_new + datetime.timedelta(minutes=30),
    )
    before = [s.starts_at for s in booked]
    with pytest.raises(VisitRefused) as caught:
        visit_reschedule(
            session=booked[2],
            starts_at=before[2] + datetime.timedelta(days=1),
            shift_later=True,
            by=front_desk,
        )
    assert caught.value.sequence == 5
    assert caught.value.rules == {"double_booking"}
    for session, old in zip(booked, before, strict=True):
        session.refresh_from_db()
        assert session.starts_at == old


def test_a_shift_that_lands_a_later_visit_on_a_closed_day_moves_none(booked, front_desk):
    """Every shifted visit passes every guard, not only the one the front desk chose."""
    fourth_new = booked[3].starts_at + datetime.timedelta(days=1)
    Closure.objects.create(starts_on=fourth_new.date(), ends_on=fourth_new.date(), reason="Christmas Day")
    before = [s.starts_at for s in booked]
    with pytest.raises(VisitRefused, match="Christmas Day") as caught:
        visit_reschedule(
            session=booked[2],
            starts_at=before[2] + datetime.timedelta(days=1),
            shift_later=True,
            by=front_desk,
        )
    assert caught.value.sequence == 4
    for session, old in zip(booked, before, strict=True):
        session.refresh_from_db()
        assert session.starts_at == old


def test_a_move_at_three_in_the_morning_is_refused_with_the_nearest_slot(booked, front_desk):
    third = booked[2]
    night = at(third.starts_at.date(), 3)
    with pytest.raises(VisitRefused, match="outside Dr Hale's hours") as caught:
        visit_reschedule(session=third, starts_at=night, by=front_desk)
    assert caught.value.rules == {"hours"}
    assert caught.value.nearest == at(third.starts_at.date(), 9)


def test_a_moved_visit_gets_a_fresh_reminder(booked, front_desk):
    session = booked[1]
    session.reminder_sent_at = session.starts_at - datetime.timedelta(days=1)
    session.save()
    visit_reschedule(
        session=session, starts_at=session.starts_at + datetime.timedelta(hours=2), by=front_desk
    )
    session.refresh_from_db()
    assert session.reminder_sent_at is None


def test_a_cancelled_visit_cannot_be_moved(booked, front_desk):
    session = booked[1]
    session.status, session.cancel_reason = SessionStatus.CANCELLED, "Unwell"
    session.save()
    with pytest.raises(Exception, match="Only a booked appointment"):
        visit_reschedule(
            session=session, starts_at=session.starts_at + datetime.timedelta(days=1), by=front_desk
        )


def post(client, session, day, time="10:00", action="check", shift=False, **extra):
    data = {"date": day.isoformat(), "time": time, "action": action, **extra}
    if shift:
        data["shift_later"] = "on"
    return client.post(reverse("scheduling:session-reschedule", args=[session.pk]), data)


def test_the_page_says_whether_the_new_time_fits_the_spacing_window(booked, client_for, front_desk):
    client = client_for(front_desk)
    third = booked[2]
    day = third.starts_at.date()
    response = post(client, third, day + datetime.timedelta(days=5))
    assert response.status_code == 200
    assert "After treatment 2: 19 days: inside the 14–21-day window" in response.text
    assert "Before treatment 4: 9 days: too close (at least 14)" in response.text
    response = post(client, third, day + datetime.timedelta(days=3), shift=True)
    assert "Later booked visits: move by the same amount" in response.text
    third.refresh_from_db()
    assert third.starts_at.date() == day  # checking moves nothing


def test_a_move_outside_the_window_needs_a_reason_and_is_then_a_deviation(booked, client_for, front_desk):
    client = client_for(front_desk)
    third = booked[2]
    day = third.starts_at.date() + datetime.timedelta(days=4)  # 18 days after 2, 10 before 4
    refused = post(client, third, day, action="move")
    assert refused.status_code == 200
    assert "Give a reason" in refused.text
    third.refresh_from_db()
    assert third.starts_at.date() != day

    moved = post(client, third, day, action="move", spacing_reason="Patient on holiday")
    assert moved.status_code == 302
    third.refresh_from_db()
    assert third.starts_at.date() == day
    assert third.spacing_override_reason == "Patient on holiday"


def test_moving_from_the_page_shifts_later_visits_and_redirects(booked, client_for, front_desk):
    third = booked[2]
    new_day = third.starts_at.date() + datetime.timedelta(days=3)
    response = post(client_for(front_desk), third, new_day, action="move", shift=True)
    assert response.status_code == 302
    booked[5].refresh_from_db()
    assert booked[5].starts_at.date() == booked[0].starts_at.date() + datetime.timedelta(days=73)


def test_a_clash_on_the_page_keeps_the_input_and_offers_the_nearest_slot(booked, client_for, front_desk):
    third = booked[2]
    new_start = at(third.starts_at.date() + datetime.timedelta(days=1), 11)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=third.practitioner),
        sequence=1,
        starts_at=new_start,
        ends_at=new_start + datetime.timedelta(minutes=30),
    )
    client = client_for(front_desk)
    response = post(client, third, new_start.date(), time="11:00", action="move")
    assert response.status_code == 200
    assert "overlaps another appointment" in response.text
    assert 'value="11:00"' in response.text
    assert "Use this time" in response.text
    third.refresh_from_db()
    assert third.starts_at.hour == 10
    # "Use this time" fills in the nearest slot and checks it; nothing moves until confirmed.
    nearest = response.context["nearest"]
    used = post(
        client,
        third,
        new_start.date(),
        time="11:00",
        action="use-nearest",
        nearest_date=f"{nearest:%Y-%m-%d}",
        nearest_time=f"{nearest:%H:%M}",
    )
    assert f'value="{nearest:%H:%M}"' in used.text
    third.refresh_from_db()
    assert third.starts_at.hour == 10


def test_a_past_time_is_refused(booked, client_for, front_desk):
    response = post(client_for(front_desk), booked[1], datetime.date(2020, 1, 1), action="move")
    assert "has already passed" in response.text


def test_an_off_site_back_link_is_not_offered(booked, client_for, front_desk):
    url = reverse("scheduling:session-reschedule", args=[booked[1].pk])
    response = client_for(front_desk).get(url, {"next": "javascript:alert(1)"})
    assert "javascript:" not in response.text
    response = client_for(front_desk).get(url, {"next": "https://evil.example/"})
    assert "evil.example" not in response.text


def test_practitioners_cannot_reschedule(booked, client_for, practitioner):
    response = client_for(practitioner).get(reverse("scheduling:session-reschedule", args=[booked[1].pk]))
    assert response.status_code == 403
