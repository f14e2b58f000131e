import datetime

import pytest
from django.utils import timezone

from courses.diary import SlotTaken, slot_claim
from courses.models import SessionStatus
from tests.factories import TreatmentCourseFactory, TreatmentSessionFactory


def at(hour, minute=0):
    day = timezone.localdate() + datetime.timedelta(days=7)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def booked(db):
    return TreatmentSessionFactory(starts_at=at(10), ends_at=at(10, 30))


def test_a_free_slot_is_claimed_quietly(booked):
    slot_claim(starts_at=at(10, 30), ends_at=at(11), practitioner=booked.practitioner, patient=booked.patient)


def test_it_refuses_an_overlap_for_the_practitioner(booked):
    other_course = TreatmentCourseFactory(practitioner=booked.practitioner)
    with pytest.raises(SlotTaken, match="Slot taken"):
        slot_claim(
            starts_at=at(10, 15),
            ends_at=at(10, 45),
            practitioner=booked.practitioner,
            patient=other_course.patient,
        )


def test_it_refuses_an_overlap_for_the_patient(booked):
    other_course = TreatmentCourseFactory(patient=booked.patient)
    with pytest.raises(SlotTaken, match="the patient already has"):
        slot_claim(
            starts_at=at(10),
            ends_at=at(10, 30),
            practitioner=other_course.practitioner,
            patient=booked.patient,
        )


def test_cancelled_sessions_free_their_slot(booked):
    booked.status, booked.cancel_reason = SessionStatus.CANCELLED, "Patient unwell"
    booked.save()
    slot_claim(starts_at=at(10), ends_at=at(10, 30), practitioner=booked.practitioner, patient=booked.patient)


def test_moving_a_session_does_not_clash_with_itself(booked):
    slot_claim(
        starts_at=at(10, 10),
        ends_at=at(10, 40),
        practitioner=booked.practitioner,
        patient=booked.patient,
        exclude_pks=[booked.pk],
    )
