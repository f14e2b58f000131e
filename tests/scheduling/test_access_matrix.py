import datetime

import pytest
from django.utils import timezone

from tests.access import REDIRECT_TO_LOGIN, Row, cases, check
from tests.factories import (
    CalendarFeedFactory,
    ClosureFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    WorkingHoursFactory,
)

ANON = {"anonymous": REDIRECT_TO_LOGIN}
CALENDAR = {**ANON, "front_desk": 200, "practitioner": 200, "clinic_admin": 200}
FRONT_DESK_PAGE = {**ANON, "front_desk": 200, "practitioner": 403, "clinic_admin": 403}
FRONT_DESK_SAVE = {**ANON, "front_desk": 302, "practitioner": 403, "clinic_admin": 403}
# "The patient is here now": the front desk at check-in, or the practitioner who is to treat them.
HERE_NOW = {**ANON, "front_desk": 302, "practitioner": 302, "clinic_admin": 403}
WORK_LISTS = {**ANON, "front_desk": 200, "practitioner": 403, "clinic_admin": 200}
ADMIN_SAVE = {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 302}
ADMIN_PAGE = {**ANON, "front_desk": 403, "practitioner": 403, "clinic_admin": 200}
OWN_FEED_PAGE = {**ANON, "front_desk": 403, "practitioner": 200, "clinic_admin": 403}
OWN_FEED_SAVE = {**ANON, "front_desk": 403, "practitioner": 302, "clinic_admin": 403}
WRONG_METHOD = {**ANON, "front_desk": 405, "practitioner": 405, "clinic_admin": 405}
PUBLIC = {"anonymous": 200, "front_desk": 200, "practitioner": 200, "clinic_admin": 200}


def in_a_week(objects=None):
    return timezone.localdate() + datetime.timedelta(days=7)


def course(objects):
    return [objects["course"].pk]


def session(objects):
    return [objects["session"].pk]


def no_show(objects):
    return [objects["no_show"].pk]


def book_data(objects):
    return {
        "rows-TOTAL_FORMS": "1",
        "rows-INITIAL_FORMS": "1",
        "rows-0-date": (in_a_week() + datetime.timedelta(days=14)).isoformat(),
        "rows-0-time": "11:00",
    }


def hours_data(objects):
    return {
        "practitioner": objects["practitioner"].pk,
        "weekday": 5,
        "starts_at": "18:30",
        "ends_at": "20:00",
    }


def closure_data(objects):
    return {"starts_on": "2031-12-25", "ends_on": "2031-12-25", "reason": "Christmas Day"}


ROWS = [
    Row("scheduling:day", CALENDAR),
    Row("scheduling:day", CALENDAR, query="?date=2031-01-06&practitioner=all"),
    Row("scheduling:day", WRONG_METHOD, method="post"),
    Row("scheduling:week", CALENDAR),
    Row("scheduling:week", CALENDAR, query="?date=2031-01-06&practitioner=all"),
    Row("scheduling:week", WRONG_METHOD, method="post"),
    Row("scheduling:worklists", WORK_LISTS),
    Row("scheduling:worklists", WRONG_METHOD, method="post"),
    Row("scheduling:course-book", FRONT_DESK_PAGE, args=course),
    Row(
        "scheduling:course-book",
        FRONT_DESK_PAGE,
        args=course,
        query=f"?first_date={in_a_week():%Y-%m-%d}&first_time=10:00",
        note="The proposal table.",
    ),
    Row("scheduling:course-book", FRONT_DESK_SAVE, method="post", args=course, data=book_data),
    Row("scheduling:session-check-in", FRONT_DESK_SAVE, method="post", args=session),
    Row("scheduling:session-check-in", WRONG_METHOD, args=session),
    Row("scheduling:session-no-show", FRONT_DESK_SAVE, method="post", args=session),
    Row("scheduling:session-no-show", WRONG_METHOD, args=session),
    Row("scheduling:session-no-show-undo", FRONT_DESK_SAVE, method="post", args=no_show),
    Row("scheduling:session-no-show-undo", WRONG_METHOD, args=no_show),
    Row(
        "scheduling:session-no-show-follow-up",
        FRONT_DESK_SAVE,
        method="post",
        args=no_show,
        data=lambda objects: {"outcome": "called", "note": "Will ring back"},
    ),
    Row("scheduling:session-no-show-follow-up", WRONG_METHOD, args=no_show),
    Row("scheduling:session-rebook", FRONT_DESK_PAGE, args=no_show),
    Row(
        "scheduling:session-rebook",
        FRONT_DESK_SAVE,
        method="post",
        args=no_show,
        data=lambda objects: {
            "date": (in_a_week() + datetime.timedelta(days=14)).isoformat(),
            "time": "11:00",
            "action": "move",
        },
    ),
    Row("scheduling:session-move-to-now", HERE_NOW, method="post", args=session),
    Row("scheduling:session-move-to-now", WRONG_METHOD, args=session),
    Row(
        "scheduling:session-cancel",
        FRONT_DESK_SAVE,
        method="post",
        args=session,
        data=lambda objects: {"reason": "Patient unwell"},
    ),
    Row("scheduling:session-cancel", WRONG_METHOD, args=session),
    Row("scheduling:session-reschedule", FRONT_DESK_PAGE, args=session),
    Row(
        "scheduling:session-reschedule",
        FRONT_DESK_SAVE,
        method="post",
        args=session,
        data=lambda objects: {"date": in_a_week().isoformat(), "time": "15:00", "action": "move"},
    ),
    Row("scheduling:hours", CALENDAR),
    Row("scheduling:hours", ADMIN_SAVE, method="post", data=hours_data),
    Row("scheduling:hours-delete", ADMIN_SAVE, method="post", args=lambda objects: [objects["hours"].pk]),
    Row("scheduling:hours-delete", WRONG_METHOD, args=lambda objects: [objects["hours"].pk]),
    Row("scheduling:closures", CALENDAR),
    Row("scheduling:closures", ADMIN_SAVE, method="post", data=closure_data),
    Row("scheduling:closure-edit", ADMIN_PAGE, args=lambda objects: [objects["closure"].pk]),
    Row(
        "scheduling:closure-edit",
        ADMIN_SAVE,
        method="post",
        args=lambda objects: [objects["closure"].pk],
        data=closure_data,
    ),
    Row("scheduling:closure-delete", ADMIN_SAVE, method="post", args=lambda objects: [objects["closure"].pk]),
    Row("scheduling:closure-delete", WRONG_METHOD, args=lambda objects: [objects["closure"].pk]),
    Row("scheduling:feed-settings", OWN_FEED_PAGE),
    Row(
        "scheduling:feed-settings",
        OWN_FEED_SAVE,
        method="post",
        data=lambda objects: {"action": "regenerate"},
    ),
    Row(
        "scheduling:feed",
        PUBLIC,
        args=lambda objects: [objects["feed"].token],
        note="The secret token is the credential: calendar apps cannot sign in.",
    ),
    Row(
        "scheduling:feed",
        {"anonymous": 404, "front_desk": 404, "practitioner": 404, "clinic_admin": 404},
        args=lambda objects: ["revoked-or-never-issued"],
    ),
]


@pytest.fixture
def users(front_desk, practitioner, clinic_admin):
    return {"front_desk": front_desk, "practitioner": practitioner, "clinic_admin": clinic_admin}


@pytest.fixture
def objects(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner)
    start = timezone.make_aware(datetime.datetime.combine(in_a_week(), datetime.time(10)))
    missed = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 30)))
    hours = [
        WorkingHoursFactory(
            practitioner=practitioner, weekday=day, starts_at=datetime.time(8), ends_at=datetime.time(18)
        )
        for day in range(7)
    ]
    return {
        "practitioner": practitioner,
        "course": course,
        "session": TreatmentSessionFactory(
            course=course, sequence=1, starts_at=start, ends_at=start + datetime.timedelta(minutes=30)
        ),
        "no_show": TreatmentSessionFactory(
            course=course,
            sequence=1,
            status="no_show",
            starts_at=missed,
            ends_at=missed + datetime.timedelta(minutes=30),
            no_show_at=timezone.now(),
        ),
        "hours": hours[0],
        "closure": ClosureFactory(),
        "feed": CalendarFeedFactory(practitioner=practitioner),
    }


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_access(row, persona, client, users, objects):
    check(row, persona, client=client, users=users, objects=objects)
