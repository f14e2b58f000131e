"""No-shows and cancellations: undo the same day (audited), rebook under the diary's rules, call back."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from courses.models import NoShowFollowUp, SessionStatus, TreatmentSession
from scheduling import diary, selectors
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def course(practitioner, works_every_day):
    """Treatment 1 given 14 days ago; treatment 2 booked this morning; treatment 3 booked in a fortnight."""
    today = timezone.localdate()
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=today - datetime.timedelta(days=30), interval_days=14
    )
    TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=at(today - datetime.timedelta(days=14), 10)
    )
    TreatmentSessionFactory(course=course, sequence=2, starts_at=at(today, 10))
    TreatmentSessionFactory(course=course, sequence=3, starts_at=at(today + datetime.timedelta(days=14), 10))
    return course


def visit(course, sequence):
    return TreatmentSession.objects.get(course=course, sequence=sequence, status=SessionStatus.SCHEDULED)


def test_a_no_show_keeps_its_time_and_gives_up_its_number(course, front_desk, at_noon):
    missed = diary.visit_no_show(session=visit(course, 2), by=front_desk)
    assert missed.status == SessionStatus.NO_SHOW and missed.no_show_at == at_noon
    # The later booking is now treatment 2: the no-show was never given.
    later = TreatmentSession.objects.get(course=course, status=SessionStatus.SCHEDULED)
    assert later.sequence == 2


def test_a_no_show_marked_in_error_is_undone_the_same_day_and_the_change_is_audited(
    course, front_desk, client_for, at_noon
):
    booked = visit(course, 2)
    client = client_for(front_desk)
    client.post(reverse("scheduling:session-no-show", args=[booked.pk]))
    booked.refresh_from_db()
    assert booked.status == SessionStatus.NO_SHOW

    response = client.post(reverse("scheduling:session-no-show-undo", args=[booked.pk]), follow=True)

    assert "No-show of" in response.text and "undone" in response.text
    booked.refresh_from_db()
    assert booked.status == SessionStatus.SCHEDULED
    assert booked.starts_at == at(timezone.localdate(), 10)
    assert booked.sequence == 2 and booked.no_show_at is None
    assert visit(course, 3).starts_at.date() > booked.starts_at.date()
    entries = LogEntry.objects.get_for_object(booked).filter(actor=front_desk)
    assert any(
        entry.changes_dict.get("status") == ["no_show", "scheduled"]
        or entry.changes_dict.get("status") == ["No-show", "Booked"]
        for entry in entries
    ), [entry.changes_dict for entry in entries]


def test_a_no_show_of_an_earlier_day_cannot_be_undone_but_can_be_rebooked(course, front_desk, at_noon):
    booked = visit(course, 2)
    booked.starts_at -= datetime.timedelta(days=1)
    booked.ends_at -= datetime.timedelta(days=1)
    booked.save()
    missed = diary.visit_no_show(session=booked, by=front_desk, now=at_noon - datetime.timedelta(days=1))
    with pytest.raises(ValidationError, match="only on the day it was marked"):
        diary.visit_no_show_undo(session=missed, by=front_desk)


def test_undoing_a_no_show_is_refused_once_its_time_is_taken(course, front_desk, practitioner, at_noon):
    missed = diary.visit_no_show(session=visit(course, 2), by=front_desk)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=missed.starts_at,
    )
    with pytest.raises(diary.SlotTaken):
        diary.visit_no_show_undo(session=missed, by=front_desk)
    missed.refresh_from_db()
    assert missed.status == SessionStatus.NO_SHOW


def test_rebooking_a_no_show_books_the_treatment_and_records_the_follow_up(
    course, front_desk, client_for, at_noon
):
    missed = diary.visit_no_show(session=visit(course, 2), by=front_desk)
    assert missed in selectors.no_shows_to_call()
    url = reverse("scheduling:session-rebook", args=[missed.pk])
    page = client_for(front_desk).get(url)
    assert page.status_code == 200 and "Rebook" in page.text
    today = timezone.localdate()

    # This afternoon: the one day 14-21 days after treatment 1 and 14-21 days before treatment 3.
    response = client_for(front_desk).post(
        url, {"date": f"{today:%Y-%m-%d}", "time": "15:00", "action": "move"}, follow=True
    )

    assert "Treatment 2 rebooked for" in response.text, response.text[response.text.find("<main") :][:3000]
    rebooked = TreatmentSession.objects.get(course=course, starts_at=at(today, 15))
    assert rebooked.status == SessionStatus.SCHEDULED and rebooked.sequence == 2
    missed.refresh_from_db()
    assert missed.no_show_follow_up == NoShowFollowUp.REBOOKED
    assert missed not in selectors.no_shows_to_call()
    # The treatment booked later is numbered after the rebooked one.
    assert TreatmentSession.objects.get(course=course, starts_at__gt=at(today, 16)).sequence == 3


def test_rebooking_shifts_the_later_visits_by_as_much_when_asked(course, front_desk, at_noon):
    cancelled = visit(course, 2)
    diary.visit_cancel(session=cancelled, reason="Unwell", by=front_desk)
    later = TreatmentSession.objects.get(course=course, status=SessionStatus.SCHEDULED)
    was = later.starts_at
    new_start = cancelled.starts_at + datetime.timedelta(days=3)

    diary.visit_rebook(missed=cancelled, starts_at=new_start, shift_later=True, by=front_desk)

    later.refresh_from_db()
    assert later.starts_at == was + datetime.timedelta(days=3)
    assert [s.sequence for s in TreatmentSession.objects.filter(course=course, status="scheduled")] == [2, 3]


def test_a_rebooking_refused_by_a_guard_moves_nothing(course, front_desk, at_noon):
    cancelled = visit(course, 2)
    diary.visit_cancel(session=cancelled, reason="Unwell", by=front_desk)
    later = TreatmentSession.objects.get(course=course, status=SessionStatus.SCHEDULED)
    was = later.starts_at
    with pytest.raises(diary.VisitRefused, match="has already passed"):
        diary.visit_rebook(
            missed=cancelled,
            starts_at=cancelled.starts_at - datetime.timedelta(hours=1),
            shift_later=True,
            by=front_desk,
        )
    later.refresh_from_db()
    assert later.starts_at == was
    assert TreatmentSession.objects.filter(course=course).count() == 3


def test_a_no_show_stays_on_the_call_back_list_whatever_is_booked_later(course, front_desk, at_noon):
    missed = diary.visit_no_show(session=visit(course, 2), by=front_desk)
    diary.course_book(
        course=course,
        starts=[at(timezone.localdate() + datetime.timedelta(days=28), 10)],
        booked_by=front_desk,
    )
    assert missed in selectors.no_shows_to_call()
    diary.no_show_follow_up_record(
        session=missed, outcome=NoShowFollowUp.CALLED, note="Left a message", by=front_desk
    )
    assert missed not in selectors.no_shows_to_call()
