"""The diary through the API: every write goes through scheduling.diary, so every guard of
scheduling/rules.py applies; a refusal is a 409 naming the rule, and nothing is saved.
(tests/scheduling/test_diary_guards.py runs the API's booking and rescheduling against every guard.)"""

import datetime

from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStatus, SessionStatus, TreatmentSession
from tests.api.conftest import day_at
from tests.factories import ClosureFactory, TreatmentCourseFactory, TreatmentSessionFactory

BOOK = reverse("api:visit-book")


def diary_state():
    return sorted(TreatmentSession.objects.values_list("pk", "starts_at", "status", "sequence"))


def test_booking_the_next_treatment_through_the_api(api_as, front_desk, scene):
    response = api_as(front_desk).post(
        BOOK, {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]}, format="json"
    )
    assert response.status_code == 201, response.json()
    [visit] = response.json()
    assert visit["sequence"] == 3
    assert visit["status"] == SessionStatus.SCHEDULED
    created = TreatmentSession.objects.get(pk=visit["id"])
    assert created.starts_at == day_at(21, 10)
    assert created.created_by == front_desk


def test_a_double_booking_is_refused_with_the_rule_and_nothing_is_saved(
    api_as, front_desk, practitioner, scene
):
    # Another patient of the same practitioner at that time.
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=day_at(21, 10),
        ends_at=day_at(21, 10, 30),
    )
    before = diary_state()
    response = api_as(front_desk).post(
        BOOK, {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    [row] = body["rows"].values()
    assert [refusal["rule"] for refusal in row["refusals"]] == ["double_booking"]
    assert "overlaps another appointment of Dr Hale or of the patient" in body["detail"]
    assert row["nearest"] is not None
    assert diary_state() == before


def test_a_closed_day_is_refused_with_its_reason(api_as, front_desk, scene):
    day = timezone.localdate() + datetime.timedelta(days=21)
    ClosureFactory(starts_on=day, ends_on=day, reason="Staff training")
    before = diary_state()
    response = api_as(front_desk).post(
        BOOK, {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]}, format="json"
    )
    assert response.status_code == 409
    assert "The clinic is closed" in response.json()["detail"]
    assert "(Staff training)" in response.json()["detail"]
    assert diary_state() == before


def test_a_booking_outside_the_spacing_window_needs_its_reason(api_as, front_desk, scene):
    body = {"course": scene["course"].pk, "starts": [day_at(10, 10).isoformat()]}  # 3 days after treatment 2
    refused = api_as(front_desk).post(BOOK, body, format="json")
    assert refused.status_code == 409
    assert "spacing window" in refused.json()["detail"]

    body["spacing_reasons"] = ["Patient abroad for a month"]
    booked = api_as(front_desk).post(BOOK, body, format="json")
    assert booked.status_code == 201
    assert booked.json()[0]["spacing_override_reason"] == "Patient abroad for a month"


def test_a_closed_course_cannot_be_booked(api_as, front_desk, scene):
    scene["course"].status = CourseStatus.STOPPED
    scene["course"].stop_reason = "patient_choice"
    scene["course"].save()
    response = api_as(front_desk).post(
        BOOK, {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]}, format="json"
    )
    assert response.status_code == 400
    assert "cannot be booked" in response.json()["detail"]


def test_a_booking_is_audited_under_the_token_s_account_and_address(api_as, front_desk, scene):
    response = api_as(front_desk).post(
        BOOK,
        {"course": scene["course"].pk, "starts": [day_at(21, 10).isoformat()]},
        format="json",
        REMOTE_ADDR="192.0.2.44",
    )
    created = TreatmentSession.objects.get(pk=response.json()[0]["id"])
    entry = LogEntry.objects.get_for_object(created).get(action=LogEntry.Action.CREATE)
    assert entry.actor == front_desk
    assert entry.remote_addr == "192.0.2.44"


def test_rescheduling_moves_the_visit_through_the_diary(api_as, front_desk, scene):
    url = reverse("api:visit-reschedule", args=[scene["booked"].pk])
    response = api_as(front_desk).post(url, {"starts_at": day_at(8, 11).isoformat()}, format="json")
    assert response.status_code == 200
    scene["booked"].refresh_from_db()
    assert scene["booked"].starts_at == day_at(8, 11)
    entry = LogEntry.objects.get_for_object(scene["booked"]).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == front_desk
    assert "starts_at" in entry.changes_dict


def test_rescheduling_onto_another_appointment_is_refused(api_as, front_desk, practitioner, scene):
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=day_at(8, 11),
        ends_at=day_at(8, 11, 30),
    )
    before = diary_state()
    url = reverse("api:visit-reschedule", args=[scene["booked"].pk])
    response = api_as(front_desk).post(url, {"starts_at": day_at(8, 11).isoformat()}, format="json")
    assert response.status_code == 409
    assert response.json()["refusals"][0]["rule"] == "double_booking"
    assert diary_state() == before


def test_cancelling_needs_a_reason_and_is_audited(api_as, front_desk, scene):
    url = reverse("api:visit-cancel", args=[scene["booked"].pk])
    refused = api_as(front_desk).post(url, {"reason": "   "}, format="json")
    assert refused.status_code == 400
    scene["booked"].refresh_from_db()
    assert scene["booked"].status == SessionStatus.SCHEDULED

    response = api_as(front_desk).post(url, {"reason": "Patient unwell"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == SessionStatus.CANCELLED
    entry = LogEntry.objects.get_for_object(scene["booked"]).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == front_desk


def test_a_cancelled_visit_cannot_be_moved_or_cancelled_again(api_as, front_desk, scene):
    api = api_as(front_desk)
    api.post(reverse("api:visit-cancel", args=[scene["booked"].pk]), {"reason": "Unwell"}, format="json")
    moved = api.post(
        reverse("api:visit-reschedule", args=[scene["booked"].pk]),
        {"starts_at": day_at(8, 11).isoformat()},
        format="json",
    )
    assert moved.status_code == 400
    assert "Only a booked appointment can be moved" in moved.json()["detail"]
    again = api.post(reverse("api:visit-cancel", args=[scene["booked"].pk]), {"reason": "x"}, format="json")
    assert again.status_code == 400


def test_free_slots_are_the_times_the_diary_would_accept(api_as, front_desk, practitioner, scene):
    api = api_as(front_desk)
    day = timezone.localdate() + datetime.timedelta(days=21)
    TreatmentSessionFactory(
        course=TreatmentCourseFactory(practitioner=practitioner),
        sequence=1,
        starts_at=day_at(21, 10),
        ends_at=day_at(21, 10, 30),
    )
    response = api.get(
        reverse("api:free-slots"), {"course": scene["course"].pk, "date": day.isoformat(), "days": 1}
    )
    assert response.status_code == 200
    starts = [slot["starts_at"] for slot in response.json()]
    assert len(starts) == 2 * 10 - 1  # 08:00–18:00 in half hours, less the taken 10:00
    assert day_at(21, 10).isoformat().replace("+00:00", "Z") not in starts
    assert all(slot["within_spacing_window"] for slot in response.json())
    # Booking a listed slot passes every guard.
    booked = api.post(BOOK, {"course": scene["course"].pk, "starts": [starts[0]]}, format="json")
    assert booked.status_code == 201


def test_free_slots_skip_closed_days_and_say_where_spacing_needs_a_reason(api_as, front_desk, scene):
    api = api_as(front_desk)
    closed = timezone.localdate() + datetime.timedelta(days=20)
    ClosureFactory(starts_on=closed, ends_on=closed)
    first = timezone.localdate() + datetime.timedelta(days=19)
    slots = api.get(
        reverse("api:free-slots"), {"course": scene["course"].pk, "date": first.isoformat(), "days": 3}
    )
    days = {timezone.localdate(datetime.datetime.fromisoformat(s["starts_at"])) for s in slots.json()}
    assert closed not in days
    assert days == {first, first + datetime.timedelta(days=2)}
    near = api.get(
        reverse("api:free-slots"),
        {"course": scene["course"].pk, "date": day_at(9, 0).date().isoformat(), "days": 1},
    )
    assert near.json() and not any(slot["within_spacing_window"] for slot in near.json())


def test_free_slots_of_a_course_not_started_yet_begin_on_its_first_day(
    api_as, front_desk, practitioner, works_every_day
):
    start = timezone.localdate() + datetime.timedelta(days=10)
    course = TreatmentCourseFactory(practitioner=practitioner, start_date=start, status=CourseStatus.PLANNED)
    slots = api_as(front_desk).get(reverse("api:free-slots"), {"course": course.pk, "days": 1}).json()
    assert {timezone.localdate(datetime.datetime.fromisoformat(s["starts_at"])) for s in slots} == {start}
