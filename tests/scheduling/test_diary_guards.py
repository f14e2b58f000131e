"""Every diary write path against every guard (scheduling.rules, scheduling.diary).

One table: each way a visit is put in the diary or moved, by the service, the page and the API endpoint
that call it, is run against a scene that breaks exactly one guard. Each must refuse, name the rule, and
change nothing; the same write with a valid time must succeed (so a refusal is never an accident of the
scene), and a spacing deviation goes through once a reason is given. A new write path in scheduling.diary,
or a new page or endpoint calling one, fails `test_every_write_path_has_a_row` until it is added to the table.
"""

import datetime
import inspect
import json
import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic import roles
from courses.models import SessionStatus, TreatmentSession
from scheduling import diary, rules
from tests.factories import (
    ClosureFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
    WorkingHoursFactory,
)

GUARDS = (
    rules.PAST,
    rules.CLOSURE,
    rules.HOURS,
    rules.BEFORE_COURSE,
    rules.DOUBLE_BOOKING,
    rules.SPACING,
)

# What a page shows for each refusal (scheduling.rules' own messages).
WORDS = {
    rules.PAST: "has already passed",
    rules.CLOSURE: "The clinic is closed",
    rules.HOURS: "is outside",
    rules.BEFORE_COURSE: "The course starts on",
    rules.DOUBLE_BOOKING: "overlaps another appointment",
    rules.SPACING: "spacing window",
}


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


class Scene:
    """A 14-day course whose first treatment was given 14 days ago; today is fixed at noon and the
    practitioner works 08:00–18:00 every day. `target` is a valid time for a visit; `break_guard`
    changes the scene (or the target) so that exactly one guard fails."""

    def __init__(self, practitioner, front_desk, now):
        self.practitioner, self.front_desk, self.now = practitioner, front_desk, now
        self.today = timezone.localdate(now)
        for weekday in range(7):
            WorkingHoursFactory(
                practitioner=practitioner,
                weekday=weekday,
                starts_at=datetime.time(8),
                ends_at=datetime.time(18),
            )
        self.course = TreatmentCourseFactory(
            practitioner=practitioner,
            planned_sessions=6,
            interval_days=14,
            start_date=self.today - datetime.timedelta(days=30),
        )
        self.first = TreatmentSessionFactory(
            course=self.course,
            sequence=1,
            completed=True,
            starts_at=at(self.today - datetime.timedelta(days=14), 10),
        )
        self.target = at(self.today + datetime.timedelta(days=3), 10)

    def booked(self):
        """Treatment 2, booked in five days' time."""
        return TreatmentSessionFactory(
            course=self.course, sequence=2, starts_at=at(self.today + datetime.timedelta(days=5), 10)
        )

    def missed(self):
        """Treatment 2, missed yesterday."""
        return TreatmentSessionFactory(
            course=self.course,
            sequence=2,
            status=SessionStatus.NO_SHOW,
            starts_at=at(self.today - datetime.timedelta(days=1), 10),
        )

    def break_guard(self, guard, *, now_path):
        """Break `guard` for a visit at `self.target` (or, for a visit now, at noon today)."""
        day = self.today if now_path else self.target.date()
        when = self.now if now_path else self.target
        if guard == rules.PAST:
            self.target = at(self.today, 9)  # 14 days after treatment 1, but this morning
        elif guard == rules.CLOSURE:
            ClosureFactory(starts_on=day, ends_on=day, reason="Staff training")
        elif guard == rules.HOURS:
            if now_path:
                self.practitioner.working_hours.filter(weekday=day.weekday()).update(
                    starts_at=datetime.time(14)
                )
            else:
                self.target = at(day, 3)
        elif guard == rules.BEFORE_COURSE:
            type(self.course).objects.filter(pk=self.course.pk).update(
                start_date=day + datetime.timedelta(days=1)
            )
            self.course.refresh_from_db()
        elif guard == rules.DOUBLE_BOOKING:
            TreatmentSessionFactory(
                course=TreatmentCourseFactory(practitioner=self.practitioner),
                sequence=1,
                starts_at=when,
                ends_at=when + datetime.timedelta(minutes=30),
            )
        elif guard == rules.SPACING:
            if now_path:
                # Treatment 1 given five days ago: too close for a 14–21-day window.
                self.first.starts_at = at(self.today - datetime.timedelta(days=5), 10)
                self.first.ends_at = self.first.starts_at + datetime.timedelta(minutes=30)
                self.first.save()
            else:
                self.target = at(self.today + datetime.timedelta(days=10), 10)  # 24 days after treatment 1

    def diary_state(self):
        return sorted(
            TreatmentSession.objects.values_list("pk", "starts_at", "status", "sequence", "practitioner_id")
        )


@dataclass(frozen=True)
class Path:
    """One way of writing a visit. `run(scene, client, reason)` performs the write at scene.target (or
    now); `view` names the page's URL for page paths (None for the service)."""

    name: str
    now_path: bool
    run: object
    view: str | None = None


def _date_time(moment):
    local = timezone.localtime(moment)
    return {"date": local.date().isoformat(), "time": f"{local:%H:%M}"}


# --- The service paths --------------------------------------------------------------------------------


def service_book(scene, client, reason):
    return diary.course_book(
        course=scene.course, starts=[scene.target], spacing_reasons={0: reason}, booked_by=scene.front_desk
    )


def service_reschedule(scene, client, reason, *, shift_later=False):
    return diary.visit_reschedule(
        session=scene.subject,
        starts_at=scene.target,
        shift_later=shift_later,
        spacing_reason=reason,
        by=scene.front_desk,
    )


def service_rebook(scene, client, reason, *, shift_later=False):
    return diary.visit_rebook(
        missed=scene.subject,
        starts_at=scene.target,
        shift_later=shift_later,
        spacing_reason=reason,
        by=scene.front_desk,
    )


def service_walk_in(scene, client, reason):
    return diary.visit_walk_in(
        course=scene.course, practitioner=scene.practitioner, spacing_reason=reason, by=scene.practitioner
    )


def service_move_to_now(scene, client, reason):
    return diary.visit_move_to_now(session=scene.subject, spacing_reason=reason, by=scene.practitioner)


# --- The page paths -----------------------------------------------------------------------------------


def page_book(scene, client, reason):
    moment = _date_time(scene.target)
    data = {
        "rows-TOTAL_FORMS": "1",
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "20",
        "rows-0-date": moment["date"],
        "rows-0-time": moment["time"],
        "rows-0-spacing_reason": reason,
    }
    return client(scene.front_desk).post(
        reverse("scheduling:course-book", args=[scene.course.pk]), data, follow=True
    )


def page_move(route):
    def run(scene, client, reason):
        data = {**_date_time(scene.target), "spacing_reason": reason, "action": "move"}
        return client(scene.front_desk).post(reverse(route, args=[scene.subject.pk]), data, follow=True)

    return run


def page_walk_in(scene, client, reason):
    return client(scene.practitioner).post(
        reverse("courses:session-walk-in", args=[scene.course.pk]),
        {"practitioner": scene.practitioner.pk, "spacing_reason": reason},
        follow=True,
    )


def page_move_to_now(scene, client, reason):
    return client(scene.practitioner).post(
        reverse("scheduling:session-move-to-now", args=[scene.subject.pk]),
        {"spacing_reason": reason},
        follow=True,
    )


# --- The API paths (api/views.py): JSON in, a 409 with the rule's message out -----------------------------


def api_book(scene, client, reason):
    data = {"course": scene.course.pk, "starts": [scene.target.isoformat()], "spacing_reasons": [reason]}
    return client(scene.front_desk).post(
        reverse("api:visit-book"), json.dumps(data), content_type="application/json"
    )


def api_reschedule(scene, client, reason):
    data = {"starts_at": scene.target.isoformat(), "spacing_reason": reason}
    return client(scene.front_desk).post(
        reverse("api:visit-reschedule", args=[scene.subject.pk]),
        json.dumps(data),
        content_type="application/json",
    )


PATHS = {
    "book a course": Path("book a course", False, service_book),
    "reschedule": Path("reschedule", False, service_reschedule),
    "reschedule and shift the later visits": Path(
        "reschedule and shift the later visits",
        False,
        lambda s, c, r: service_reschedule(s, c, r, shift_later=True),
    ),
    "rebook a missed visit": Path("rebook a missed visit", False, service_rebook),
    "rebook and shift the later visits": Path(
        "rebook and shift the later visits", False, lambda s, c, r: service_rebook(s, c, r, shift_later=True)
    ),
    "walk in": Path("walk in", True, service_walk_in),
    "move to now": Path("move to now", True, service_move_to_now),
    "page: confirm a course booking": Path(
        "page: confirm a course booking", False, page_book, view="scheduling:course-book"
    ),
    "page: reschedule": Path(
        "page: reschedule",
        False,
        page_move("scheduling:session-reschedule"),
        view="scheduling:session-reschedule",
    ),
    "page: rebook": Path(
        "page: rebook", False, page_move("scheduling:session-rebook"), view="scheduling:session-rebook"
    ),
    "page: walk in": Path("page: walk in", True, page_walk_in, view="courses:session-walk-in"),
    "page: move to now": Path(
        "page: move to now", True, page_move_to_now, view="scheduling:session-move-to-now"
    ),
    "api: book a course": Path("api: book a course", False, api_book, view="api:visit-book"),
    "api: reschedule": Path("api: reschedule", False, api_reschedule, view="api:visit-reschedule"),
}

# The subject each path works on: a booked visit to move, a missed one to rebook, or none.
SUBJECTS = {
    "reschedule": "booked",
    "reschedule and shift the later visits": "booked",
    "page: reschedule": "booked",
    "api: reschedule": "booked",
    "move to now": "booked",
    "page: move to now": "booked",
    "rebook a missed visit": "missed",
    "rebook and shift the later visits": "missed",
    "page: rebook": "missed",
}

# A visit "now" is never in the past: the past guard has no meaning for those paths.
NOT_APPLICABLE = {(name, rules.PAST) for name, path in PATHS.items() if path.now_path}

# scheduling.diary's public functions that never put a visit at a time: they change a visit's status in
# place (check-in, cancel, no-show and its follow-up), renumber, read, or set up the guards.
NOT_PLACING = {
    "availability_for",
    "course_no_shows_close",
    "course_visits_cancel",
    "later_visits",
    "no_show_follow_up_record",
    "overlap_guard",
    "practitioner_label",
    "slot_length",
    "visit_cancel",
    "visit_check_in",
    "visit_no_show",
    "visit_no_show_undo",  # puts a visit back at the very time it was booked (tested in test_visits_now.py)
    "visits_renumber",
    "visit_problems",  # reads: checks visits made in bulk with the same guards
}
PLACING = {
    "course_book": "book a course",
    "visit_reschedule": "reschedule",
    "visit_rebook": "rebook a missed visit",
    "visit_walk_in": "walk in",
    "visit_move_to_now": "move to now",
}


@pytest.fixture
def scene(practitioner, front_desk, at_noon):
    return Scene(practitioner, front_desk, at_noon)


def _prepare(scene, name):
    kind = SUBJECTS.get(name)
    scene.subject = scene.booked() if kind == "booked" else scene.missed() if kind == "missed" else None
    if name.startswith("reschedule and shift") or name.startswith("rebook and shift"):
        # A later booked visit moves along with it (and is judged by the same guards).
        TreatmentSessionFactory(
            course=scene.course, sequence=3, starts_at=at(scene.today + datetime.timedelta(days=19), 10)
        )
    # The treatment numbers the diary keeps (a missed visit holds none in the count).
    diary.visits_renumber(scene.course)


CASES = [(name, guard) for name in PATHS for guard in GUARDS if (name, guard) not in NOT_APPLICABLE]


@pytest.mark.parametrize(("name", "guard"), CASES)
def test_each_write_path_refuses_each_guard_and_changes_nothing(scene, client_for, name, guard):
    path = PATHS[name]
    _prepare(scene, name)
    scene.break_guard(guard, now_path=path.now_path)
    before = scene.diary_state()
    if path.view:
        response = path.run(scene, client_for, "")
        # The page again with the refusal, or the API's 409 naming the rule.
        assert response.status_code in (200, 400, 409)
        assert WORDS[guard] in response.text, response.text
        if path.view.startswith("api:"):
            assert response.status_code == 409
            assert guard in {refusal["rule"] for refusal in _refusals(response.json())}
    else:
        with pytest.raises((diary.VisitRefused, diary.BookingRefused)) as caught:
            path.run(scene, client_for, "")
        error = caught.value
        refusals = error.rows[0].rules if isinstance(error, diary.BookingRefused) else error.rules
        assert guard in refusals
        assert WORDS[guard] in " ".join(error.messages)
    assert scene.diary_state() == before


@pytest.mark.parametrize("name", list(PATHS))
def test_each_write_path_succeeds_at_a_valid_time(scene, client_for, name):
    path = PATHS[name]
    _prepare(scene, name)
    before = scene.diary_state()
    result = path.run(scene, client_for, "")
    if path.view and path.view.startswith("api:"):
        assert result.status_code in (200, 201), result.text
    elif path.view:
        assert result.redirect_chain, result.text
    assert scene.diary_state() != before


@pytest.mark.parametrize("name", list(PATHS))
def test_a_spacing_deviation_goes_through_with_a_reason_and_is_recorded(scene, client_for, name):
    path = PATHS[name]
    _prepare(scene, name)
    scene.break_guard(rules.SPACING, now_path=path.now_path)
    path.run(scene, client_for, "Patient travelling; agreed with Dr Hale")
    placed = TreatmentSession.objects.filter(
        course=scene.course, spacing_override_reason="Patient travelling; agreed with Dr Hale"
    )
    assert placed.exists()


def _refusals(body):
    """The refusals of an API answer: a booking's are per row."""
    rows = body.get("rows", {})
    return body.get("refusals") or [refusal for row in rows.values() for refusal in row["refusals"]]


def _public_functions(module):
    return {
        name
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if value.__module__ == module.__name__ and not name.startswith("_")
    }


def _views(resolver, namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _views(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.callback


def test_every_write_path_has_a_row():
    # Every public function of the diary service is either a placing path in the table or known not to
    # place a visit.
    functions = _public_functions(diary)
    assert functions - NOT_PLACING == set(PLACING), "add the new diary write path to PATHS"
    assert set(PLACING.values()) <= set(PATHS)
    # Every page that calls a placing function is in the table.
    pages = {path.view for path in PATHS.values() if path.view}
    calling = set()
    for name, view in _views(get_resolver()):
        # An API endpoint is a class (Django REST framework): its methods are the source that writes.
        view = getattr(inspect.unwrap(view), "cls", inspect.unwrap(view))
        source = inspect.getsource(view)
        if any(f"diary.{function}(" in source for function in PLACING):
            calling.add(name)
    assert calling == pages
    # Nothing else in the app creates a visit: only the diary service (and the demo seeders, whose visits
    # tests/courses/test_demo.py re-validates with the same rules).
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    writers = set()
    for source in root.glob("*/*.py"):
        if source.parts[-2] in ("tests", "bench", ".venv", "node_modules"):
            continue
        text = source.read_text()
        if re.search(r"(?<!class )TreatmentSession\(|TreatmentSession\.objects\.(create|bulk_create)", text):
            writers.add(f"{source.parts[-2]}/{source.name}")
    assert writers - {"courses/demo.py", "clinic/scale_demo.py"} == {"scheduling/diary.py"}


def test_roles_without_the_booking_right_cannot_reach_the_page_paths(scene, client_for):
    """The guards are the last line; the role check is the first (practitioners log, front desk books)."""
    _prepare(scene, "reschedule")
    viewer = UserFactory(role=roles.CLINIC_ADMIN)
    response = client_for(viewer).post(
        reverse("scheduling:session-reschedule", args=[scene.subject.pk]),
        {**_date_time(scene.target), "action": "move"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("name", [name for name, path in PATHS.items() if path.view and not path.now_path])
def test_a_mistyped_year_is_refused_in_words_on_every_page_path(scene, client_for, name, day):
    """Far beyond the horizon or long past: refused before any date arithmetic around it, never a 500."""
    _prepare(scene, name)
    before = scene.diary_state()
    scene.target = timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(23, 59))
    )
    response = PATHS[name].run(scene, client_for, "")
    assert response.status_code in (200, 400, 409)  # the page again, or the API's refusal
    assert "check the year" in response.text
    assert scene.diary_state() == before
