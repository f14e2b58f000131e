import datetime

from django.urls import reverse

from scheduling.models import Closure, WorkingHours
from tests.factories import ClosureFactory, WorkingHoursFactory


def test_clinic_admins_add_working_hours(client_for, clinic_admin, practitioner):
    response = client_for(clinic_admin).post(
        reverse("scheduling:hours"),
        {"practitioner": practitioner.pk, "weekday": 2, "starts_at": "09:00", "ends_at": "12:30"},
    )
    assert response.status_code == 302
    hours = WorkingHours.objects.get()
    assert (hours.practitioner, hours.weekday, hours.ends_at) == (practitioner, 2, datetime.time(12, 30))


def test_overlapping_ranges_are_refused_with_the_input_kept(client_for, clinic_admin, practitioner):
    WorkingHoursFactory(practitioner=practitioner, weekday=0)
    response = client_for(clinic_admin).post(
        reverse("scheduling:hours"),
        {"practitioner": practitioner.pk, "weekday": 0, "starts_at": "16:00", "ends_at": "18:00"},
    )
    assert response.status_code == 200
    assert "overlaps another range" in response.text
    assert 'value="18:00"' in response.text
    assert WorkingHours.objects.count() == 1


def test_an_end_before_the_start_is_refused(client_for, clinic_admin, practitioner):
    response = client_for(clinic_admin).post(
        reverse("scheduling:hours"),
        {"practitioner": practitioner.pk, "weekday": 0, "starts_at": "16:00", "ends_at": "08:00"},
    )
    assert "The end must be after the start" in response.text
    assert not WorkingHours.objects.exists()


def test_clinic_admins_remove_a_range(client_for, clinic_admin):
    hours = WorkingHoursFactory()
    assert (
        client_for(clinic_admin).post(reverse("scheduling:hours-delete", args=[hours.pk])).status_code == 302
    )
    assert not WorkingHours.objects.exists()


def test_front_desk_sees_hours_but_cannot_change_them(client_for, front_desk, practitioner):
    WorkingHoursFactory(practitioner=practitioner)
    client = client_for(front_desk)
    response = client.get(reverse("scheduling:hours"))
    assert response.status_code == 200
    assert "Add a range" not in response.text
    response = client.post(
        reverse("scheduling:hours"),
        {"practitioner": practitioner.pk, "weekday": 1, "starts_at": "09:00", "ends_at": "12:00"},
    )
    assert response.status_code == 403
    assert WorkingHours.objects.count() == 1


def test_clinic_admins_add_edit_and_remove_closures(client_for, clinic_admin):
    client = client_for(clinic_admin)
    response = client.post(
        reverse("scheduling:closures"),
        {"starts_on": "2027-12-25", "ends_on": "2027-12-26", "reason": "Christmas"},
    )
    assert response.status_code == 302
    closure = Closure.objects.get()
    client.post(
        reverse("scheduling:closure-edit", args=[closure.pk]),
        {"starts_on": "2027-12-24", "ends_on": "2027-12-26", "reason": "Christmas"},
    )
    closure.refresh_from_db()
    assert closure.starts_on == datetime.date(2027, 12, 24)
    client.post(reverse("scheduling:closure-delete", args=[closure.pk]))
    assert not Closure.objects.exists()


def test_a_closure_ending_before_it_starts_is_refused(client_for, clinic_admin):
    response = client_for(clinic_admin).post(
        reverse("scheduling:closures"), {"starts_on": "2027-12-26", "ends_on": "2027-12-25", "reason": "Oops"}
    )
    assert response.status_code == 200
    assert "cannot be before the first" in response.text
    assert not Closure.objects.exists()


def test_the_closures_list_is_paginated(client_for, front_desk):
    for n in range(30):
        ClosureFactory(starts_on=datetime.date(2030, 1, 1) + datetime.timedelta(days=n), reason=f"Day {n}")
    response = client_for(front_desk).get(reverse("scheduling:closures"))
    assert "Page 1 of 2" in response.text
    assert "Add a closure" not in response.text
