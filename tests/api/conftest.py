"""The API's kit: a small clinic (one course with a treatment given and a visit booked), tokens for each
role, and a client that calls the API with a token or a session."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from courses.models import SessionStatus
from tests.factories import (
    InjectionFactory,
    OutcomeInstrumentFactory,
    OutcomeScoreFactory,
    PatientFactory,
    PreparationComponentFactory,
    SideEffectFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """DRF's throttles count requests per user id in the default cache; ids repeat from test to test."""
    caches["default"].clear()
    yield
    caches["default"].clear()


def day_at(days, hour, minute=0):
    """An aware time `days` from today at hour:minute (local time)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def scene(practitioner, works_every_day):
    """A patient whose course (the practitioner persona's) had treatment 1 ten days ago and has treatment 2
    booked a week from today; the treatment carries a preparation, an injection and a side effect."""
    OutcomeInstrumentFactory()
    patient = PatientFactory(given_name="Ada", family_name="Quinn")
    course = TreatmentCourseFactory(
        patient=patient,
        practitioner=practitioner,
        start_date=timezone.localdate() - datetime.timedelta(days=20),
    )
    given = TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=day_at(-10, 9), ends_at=day_at(-10, 9, 30)
    )
    PreparationComponentFactory(session=given, volume_ml=Decimal("4"))
    InjectionFactory(session=given)
    SideEffectFactory(attributed_session=given)
    booked = TreatmentSessionFactory(
        course=course,
        sequence=2,
        status=SessionStatus.SCHEDULED,
        starts_at=day_at(7, 10),
        ends_at=day_at(7, 10, 30),
    )
    score = OutcomeScoreFactory(course=course, recorded_on=timezone.localdate() - datetime.timedelta(days=2))
    return {"patient": patient, "course": course, "given": given, "booked": booked, "score": score}


@pytest.fixture
def issue_token(clinic_admin):
    """issue_token(user) -> the key of a new token acting as `user`."""

    def issue(user, name="Test system"):
        _, key = tokens.token_issue(user=user, name=name, issued_by=clinic_admin)
        return key

    return issue


@pytest.fixture
def api_as(issue_token):
    """api_as(user) -> an API client calling with a token of `user`; api_as(user, session=True) signs the
    client in instead; api_as(None) sends no credentials."""

    def client(user=None, *, session=False):
        api = APIClient()
        if user is not None and session:
            api.force_login(user)
        elif user is not None:
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(user)}")
        return api

    return client
