import datetime

from django.urls import reverse
from django.utils import timezone

from scheduling.models import CalendarFeed
from tests.factories import (
    CalendarFeedFactory,
    PatientFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def feed_session(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner, patient=PatientFactory(given_name="Ruth", family_name="Ellison")
    )
    start = timezone.now() + datetime.timedelta(days=2)
    return TreatmentSessionFactory(
        course=course, sequence=1, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
    )


def test_the_feed_shows_initials_and_times_only(practitioner, client):
    session = feed_session(practitioner)
    feed = CalendarFeedFactory(practitioner=practitioner)
    response = client.get(reverse("scheduling:feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VEVENT" in body
    assert "SUMMARY:RE · Appointment" in body
    assert f"UID:session-{session.pk}@prolotrack" in body
    for secret in ("Ruth", "Ellison", "Knee", "osteoarthritis", session.patient.mrn):
        assert secret not in body


def test_another_practitioners_appointments_stay_out_of_the_feed(practitioner, client):
    feed_session(practitioner)
    other = TreatmentSessionFactory(course=TreatmentCourseFactory(), sequence=1)
    feed = CalendarFeedFactory(practitioner=practitioner)
    body = client.get(reverse("scheduling:feed", args=[feed.token])).content.decode()
    assert f"session-{other.pk}@" not in body


def test_an_unknown_token_is_not_found(db, client):
    assert client.get(reverse("scheduling:feed", args=["nope"])).status_code == 404


def test_regenerating_revokes_the_old_address(practitioner, client_for):
    client = client_for(practitioner)
    client.post(reverse("scheduling:feed-settings"), {"action": "enable"})
    old = CalendarFeed.objects.get(practitioner=practitioner).token
    client.post(reverse("scheduling:feed-settings"), {"action": "regenerate"})
    new = CalendarFeed.objects.get(practitioner=practitioner).token
    assert new != old and len(new) >= 40
    client.logout()
    assert client.get(reverse("scheduling:feed", args=[old])).status_code == 404
    assert client.get(reverse("scheduling:feed", args=[new])).status_code == 200


def test_turning_the_feed_off_revokes_it(practitioner, client_for):
    feed = CalendarFeedFactory(practitioner=practitioner)
    client = client_for(practitioner)
    client.post(reverse("scheduling:feed-settings"), {"action": "disable"})
    assert not CalendarFeed.objects.exists()
    assert client.get(reverse("scheduling:feed", args=[feed.token])).status_code == 404


def test_the_settings_page_shows_only_your_own_token(practitioner, client_for):
    mine = CalendarFeedFactory(practitioner=practitioner)
    theirs = CalendarFeedFactory()
    response = client_for(practitioner).get(reverse("scheduling:feed-settings"))
    assert mine.token in response.text
    assert theirs.token not in response.text


def test_front_desk_and_admins_cannot_see_feed_settings(front_desk, clinic_admin, client_for):
    theirs = CalendarFeedFactory()
    for user in (front_desk, clinic_admin):
        response = client_for(user).get(reverse("scheduling:feed-settings"))
        assert response.status_code == 403
        assert theirs.token not in response.text
