"""The patient's aftercare handout."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from courses.models import InjectionSite, SessionStatus
from tests.factories import InjectionFactory, TreatmentCourseFactory, TreatmentSessionFactory


@pytest.fixture
def course(practitioner):
    return TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )


@pytest.fixture
def given(course):
    session = TreatmentSessionFactory(
        course=course,
        sequence=2,
        completed=True,
        aftercare_nsaid_avoid_days=10,
        aftercare_no_ice_days=7,
        aftercare_activity_restriction_days=3,
        aftercare_heat=True,
        aftercare_notes="Walk 10 minutes twice a day",
    )
    InjectionFactory(session=session, site=InjectionSite.objects.get(region="knee", name="MCL femoral"))
    return session


def handout(client, session):
    return client.get(reverse("courses:session-handout", args=[session.pk]))


def test_it_lists_the_advice_given_what_to_expect_and_warning_signs(client_for, practitioner, given):
    page = handout(client_for(practitioner), given).text

    assert page.count(settings.CLINIC_NAME) >= 2  # the header of the sheet and its footer
    assert "for <strong>10 days</strong>" in page
    assert "Do not put ice on the treated area for <strong>7 days</strong>" in page
    assert "heat pack" in page
    assert "Walk 10 minutes twice a day" in page
    assert "72 hours" in page
    assert "fever" in page and "redness" in page
    assert "shortness of breath" not in page  # knee work: no pneumothorax warning


def test_it_warns_about_breathlessness_after_thoracic_work(client_for, practitioner, course):
    session = TreatmentSessionFactory(course=course, sequence=2, completed=True)
    InjectionFactory(
        session=session,
        site=InjectionSite.objects.get(region="thoracic", name="Rib angles"),
        spinal_level="T6",
        laterality="left",
    )

    page = handout(client_for(practitioner), session).text

    assert "shortness of breath, chest pain or pain on breathing in" in page
    assert "severe headache" in page


def test_it_shows_the_next_appointment_of_the_course(client_for, practitioner, course, given):
    TreatmentSessionFactory(course=course, sequence=4, status=SessionStatus.SCHEDULED)
    upcoming = TreatmentSessionFactory(course=course, sequence=3, status=SessionStatus.SCHEDULED)

    page = handout(client_for(practitioner), given).text

    local = timezone.localtime(upcoming.starts_at)
    assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in page
    assert "(treatment 3)" in page


def test_it_says_when_no_appointment_is_booked(client_for, practitioner, given):
    assert "No further appointment is booked" in handout(client_for(practitioner), given).text


def test_it_prints_without_inline_script_and_hides_the_screen_controls(client_for, practitioner, given):
    page = handout(client_for(practitioner), given).text

    assert "onclick" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "js/session_handout.js" in page and "css/session_handout.css" in page
    assert 'class="d-print-none' in page


def test_front_desk_cannot_open_the_handout(client_for, front_desk, given):
    assert handout(client_for(front_desk), given).status_code == 403


def test_the_handout_is_read_only(client_for, practitioner, given):
    response = client_for(practitioner).post(reverse("courses:session-handout", args=[given.pk]))
    assert response.status_code == 405
