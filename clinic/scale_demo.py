"""Scale data for benchmarks: `seed_demo --scale N` builds a busy multi-site clinic's years of records.

The rows follow the demo's tables and helpers (patients/demo.py, courses/demo.py, scheduling/demo.py), so
they are as varied as the demo; only the volume differs: N patients, about two courses each over five
years, seen by one practitioner per 500 patients, with the future sessions of open courses booked.
Everything is built in memory one chunk of patients at a time and written with bulk inserts. On
PostgreSQL the inserts use COPY (ids drawn from the table's sequence first), which is several times
faster than multi-row INSERT for the ~1.5 million rows of N=20,000; elsewhere bulk_create.

Derived columns are computed here, as the services would: Patient.refresh_search_fields(), each
session's final concentrations (courses.session_services.preparations_compute) and volume, and the
session's patient. The diary (courses.demo._Diary) hands out slots so no practitioner or patient is in
two live appointments at once; PostgreSQL's exclusion constraints check that again on insert.
"""

import datetime
import time

from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

import courses.demo as course_demo
import patients.demo as patient_demo
from clinic import roles
from clinic.bulk import insert_rows
from clinic.demo import seed_users
from clinic.models import User
from courses.models import (
    Condition,
    CourseStatus,
    Injection,
    InjectionSite,
    OutcomeInstrument,
    OutcomeScore,
    Preparation,
    PreparationComponent,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    SideEffectTerm,
    StopReason,
    TreatmentCourse,
    TreatmentSession,
)
from courses.session_services import preparations_compute
from outcomes.summary import course_outcomes_rebuild
from patients.models import Consent, Patient, Screening
from patients.services import mrn_allocate
from scheduling.demo import DemoDiary, seed_closures
from scheduling.models import WorkingHours

USERNAME_PREFIX = "scale."
PATIENTS_PER_PRACTITIONER = 500
HISTORY_DAYS = 5 * 365
CHUNK_PATIENTS = 2000
BATCH = 5000
# Courses per treated patient (mean 2.7): most come back for a second area or a relapse.
COURSES_PER_PATIENT = ([1, 2, 3, 4], [1, 3, 3, 2])
# Sites injected at one visit in a busy clinic: three or four (the demo's helper offers up to twelve).
SITES_PER_VISIT = [3, 3, 4, 4]


class AlreadySeeded(Exception):
    """Scale data exists in this database; seeding again would double it."""


def scale_present():
    return User.objects.filter(username__startswith=USERNAME_PREFIX).exists()


def scale_seed(*, patients, rng, stdout=None, label="scale"):
    """Create `patients` patients with their screenings, consents, courses, sessions and scores.

    `label` names the practitioners (`<label>.p001`...), so tests can add a second, larger set beside a
    first one. Raises AlreadySeeded when practitioners of that label exist.
    """
    prefix = f"{label}."
    if User.objects.filter(username__startswith=prefix).exists():
        count = Patient.objects.filter(primary_practitioner__username__startswith=prefix).count()
        raise AlreadySeeded(
            f"Scale data is already here ({count} patients of the '{label}' practitioners); "
            "seed a fresh database to change its size."
        )
    started = time.monotonic()

    def say(message):
        if stdout:
            stdout.write(f"[{time.monotonic() - started:6.1f}s] {message}")

    today = timezone.localdate()
    with transaction.atomic():
        _fast_load()
        users = seed_users()
        practitioners = _practitioners(prefix, max(3, -(-patients // PATIENTS_PER_PRACTITIONER)))
        say(f"{len(practitioners)} practitioners with working hours")
        people = _patients(patients, rng, today, practitioners, users["frontdesk"])
        say(f"{len(people)} patients")
        consents = _screenings_and_consents(people, rng, today)
        say(f"screenings and consents for {len(consents)} consented patients")
        catalogue = _Catalogue(today)
        seed_closures(today, years_back=HISTORY_DAYS // 365 + 1)
        diary = DemoDiary(
            rng,
            ProtocolSettings.load(),
            first_day=today - datetime.timedelta(days=HISTORY_DAYS + 60),
            last_day=today + datetime.timedelta(days=400),
        )
        totals = dict.fromkeys(("courses", "sessions", "injections", "side_effects", "scores"), 0)
        candidates = [(p, consents[p.pk]) for p in people if p.pk in consents and not p.archived]
        for start in range(0, len(candidates), CHUNK_PATIENTS):
            chunk = candidates[start : start + CHUNK_PATIENTS]
            counts = _courses_for(chunk, rng, today, catalogue, diary, users["frontdesk"])
            for key, value in counts.items():
                totals[key] += value
            say(
                f"patients {start + len(chunk)}/{len(candidates)}: "
                + ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in totals.items())
            )
    # Fresh planner statistics: before autovacuum gets to them, PostgreSQL would plan queries for the empty
    # tables it last measured (nested loops over 190,000 sessions in the summary rebuild below, sequential
    # scans and hash joins instead of index lookups on the pages).
    _analyze()
    # The bulk load bypasses the services that keep the per-course outcome summary current.
    say(f"outcome summaries: {course_outcomes_rebuild()} courses")
    _analyze("outcomes_courseoutcome", "outcomes_coursesessioncount", "outcomes_coursetimepoint")
    say("done")
    return totals


# --- Writing ---------------------------------------------------------------------------------------------


def _analyze(*tables):
    """ANALYZE the given tables (all when none) on PostgreSQL."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(table) for table in tables) if tables else "ANALYZE")


def _fast_load():
    """On PostgreSQL, skip the foreign-key triggers for this transaction, as pg_restore does.

    Every reference is to a row this run just inserted or to a catalogue row read from the database, so
    the ~4 million per-row key checks would find nothing; they cost most of the load time. Check
    constraints, unique indexes and the diary's exclusion constraints still apply. Needs a superuser
    (session_replication_role); without one the checks simply run.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pass


# --- Staff, patients, screenings -----------------------------------------------------------------------


def _practitioners(prefix, count):
    group = Group.objects.get(name=roles.PRACTITIONER)
    people = [
        User(
            username=f"{prefix}p{number:03d}",
            first_name=patient_demo.GIVEN_FEMALE[number % len(patient_demo.GIVEN_FEMALE)]
            if number % 2
            else patient_demo.GIVEN_MALE[number % len(patient_demo.GIVEN_MALE)],
            last_name=patient_demo.FAMILY[number % len(patient_demo.FAMILY)],
            email=f"{prefix}p{number:03d}@clinic.example",
        )
        for number in range(1, count + 1)
    ]
    for user in people:
        user.set_unusable_password()  # not demo sign-ins: they exist to carry the diary
    User.objects.bulk_create(people)
    people = list(User.objects.filter(username__startswith=prefix).order_by("username"))
    group.user_set.add(*people)
    # Weekdays 09:00–17:00, the slots courses.demo's diary hands out.
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=user,
            weekday=weekday,
            starts_at=course_demo.DAY_START,
            ends_at=datetime.time(17, 0),
        )
        for user in people
        for weekday in range(5)
    )
    return people


def _patients(count, rng, today, practitioners, desk):
    people = [patient_demo._patient(rng, today, practitioners) for _ in range(count)]
    registered = timezone.now()
    for patient, mrn in zip(people, mrn_allocate(count=count), strict=True):
        patient.mrn = mrn
        patient.created_by = desk
        patient.created_at = registered - datetime.timedelta(days=rng.randint(0, HISTORY_DAYS))
        if rng.random() < 0.04:
            patient.archived = True
            patient.archived_reason = rng.choice(patient_demo.ARCHIVE_REASONS)
            patient.archived_at = registered - datetime.timedelta(days=rng.randint(0, 60))
            patient.archived_by = desk
        patient.refresh_search_fields()  # bulk inserts skip save(), which keeps these in step
    insert_rows(Patient, people, batch_size=BATCH)
    return people


def _screenings_and_consents(people, rng, today):
    """A screening for most patients and a consent for most of those; returns {patient id: consent}."""
    screenings, consents = [], {}
    practitioners = sorted({p.primary_practitioner for p in people}, key=lambda u: u.pk)
    for patient in people:
        if rng.random() >= 0.95:
            continue
        screening = patient_demo._screening(rng, patient, today, practitioners)
        # Screened when they first came, somewhere in the clinic's five years.
        first_seen = timezone.localdate(patient.created_at)
        screening.screened_on = first_seen
        screenings.append(screening)
        if screening.outcome == screening.Outcome.ELIGIBLE and rng.random() < 0.92:
            consents[patient.pk] = Consent(
                patient=patient,
                consented_on=first_seen,
                taken_by=screening.screened_by,
                created_by=screening.screened_by,
                form_version=rng.choice(["PRO-2025-2", "PRO-2026-1"]),
                scope=rng.choice(patient_demo.SCOPES),
            )
    insert_rows(Screening, screenings, batch_size=BATCH)
    insert_rows(Consent, list(consents.values()), batch_size=BATCH)
    # Courses only for patients the app would inject (courses.safety), as in courses.demo.
    lots = list(course_demo._lots(today).values())
    Screening.prime_severities(screenings)
    treated = {s.patient_id for s in screenings if course_demo.treatable(s.patient, s, lots)}
    return {pk: consent for pk, consent in consents.items() if pk in treated}


# --- Courses and sessions --------------------------------------------------------------------------------


class _Catalogue:
    def __init__(self, today):
        self.conditions = {c.name: c for c in Condition.objects.filter(name__in=course_demo.CONDITIONS)}
        self.sites = {(s.region, s.name): s for s in InjectionSite.objects.all()}
        self.instruments = {i.code: i for i in OutcomeInstrument.objects.all()}
        self.terms = {t.name: t for t in SideEffectTerm.objects.all()}
        self.nrs = self.instruments[OutcomeInstrument.PAIN_NRS_CODE]
        self.lots = course_demo._lots(today)
        self.protocol = ProtocolSettings.load()
        self.names = list(course_demo.CONDITIONS)
        self.weights = [course_demo.CONDITIONS[name][0] for name in self.names]


def _plan_course(patient, consent, start, rng, catalogue, today):
    name = rng.choices(catalogue.names, catalogue.weights)[0]
    _, region, site_names, instrument_code, respond_chance = course_demo.CONDITIONS[name]
    planned, interval, reason = rng.choice([3, 4, 5, 5, 6, 6, 6, 8]), rng.choice([14, 14, 21]), ""
    if rng.random() < 0.06:
        planned, interval, reason = rng.choice(course_demo.DEVIATIONS)
    if region in course_demo.SPINE_REGIONS:
        laterality = rng.choice(["midline", "bilateral"])
    elif region == "head":
        laterality = rng.choice(["left", "right", "bilateral"])
    else:
        laterality = rng.choice(["left", "right", "right", "left", "bilateral"])
    instrument = catalogue.instruments.get(instrument_code) if instrument_code else None
    baseline_instrument = None
    if instrument is not None:
        low, high = course_demo.INSTRUMENT_BASELINES[instrument.code]
        baseline_instrument = course_demo._decimal(rng.uniform(low, high))
    practitioner = patient.primary_practitioner
    course = TreatmentCourse(
        patient=patient,
        condition=catalogue.conditions[name],
        body_region=region,
        laterality=laterality,
        practitioner=practitioner,
        planned_sessions=planned,
        interval_days=interval,
        outcome_instrument=instrument,
        baseline_pain=rng.choice([5, 6, 6, 7, 7, 7, 8, 8, 9]),
        baseline_instrument_score=baseline_instrument,
        goals=rng.choice(["Walk 5 km without pain", "Sleep through the night", "Return to tennis", ""]),
        consent=consent,
        start_date=start,
        deviation_reason=reason,
        # What clean() derives from the protocol (3–8 sessions, 14–21 days): the deviations are outside.
        is_protocol_deviation=bool(reason),
        status=CourseStatus.PLANNED,
        created_by=practitioner,
        created_at=timezone.make_aware(datetime.datetime.combine(start, course_demo.DAY_START))
        - datetime.timedelta(days=rng.randint(1, 21)),
    )
    responds = rng.random() < respond_chance
    return course, site_names, responds


def _stop_plan(course, responds, rng):
    """The demo's stopping odds: (gain, stop reason, sessions before stopping)."""
    gain = rng.uniform(0.5, 0.9) if responds else rng.uniform(-0.1, 0.3)
    roll = rng.random()
    if roll < 0.05:
        return min(gain, 0.1), StopReason.NO_RESPONSE, 3
    if roll < 0.08:
        return gain, StopReason.PATIENT_CHOICE, rng.randint(1, 3)
    if roll < 0.1:
        return gain, StopReason.LOST_TO_FOLLOW_UP, rng.randint(1, 3)
    if roll < 0.107:
        return gain, StopReason.ADVERSE_EVENT, rng.randint(1, 2)
    if responds and roll < 0.13:
        return gain, StopReason.GOAL_MET, max(2, course.planned_sessions - 2)
    return gain, "", None


def _courses_for(chunk, rng, today, catalogue, diary, desk):
    courses, sessions, components, injections, side_effects, scores = [], [], [], [], [], []
    preparations = []
    now = timezone.now()
    for patient, consent in chunk:
        start = consent.consented_on + datetime.timedelta(days=rng.randint(0, 21))
        for _ in range(rng.choices(*COURSES_PER_PATIENT)[0]):
            if start >= today:
                if rng.random() < 0.3:
                    start = today + datetime.timedelta(days=rng.randint(3, 20))  # planned, not yet begun
                else:
                    break
            course, site_names, responds = _plan_course(patient, consent, start, rng, catalogue, today)
            courses.append(course)
            gain, stop_reason, stop_after = _stop_plan(course, responds, rng)
            count = min(stop_after or course.planned_sessions, course.planned_sessions)
            done = course_demo.past_visits(course, count, gain, diary, today, rng, missed=sessions)
            sessions += done
            for index, session in enumerate(done):
                rows = course_demo._injections(course, session, site_names, catalogue.sites, rng)
                rows = rows[: rng.choice(SITES_PER_VISIT)]
                injections += rows
                mixes = course_demo._preparations(session, rows, catalogue.lots, rng)
                mix = [component for _, parts, _ in mixes for component in parts]
                course_demo.check_gates(session, mix, protocol=catalogue.protocol, first=index == 0)
                components += mix
                preparations_compute(session=session, mixes=mixes)
                preparations += [preparation for preparation, _, _ in mixes]
                reported = done[index + 1] if index + 1 < len(done) else session
                side_effects += course_demo._side_effects(session, reported, rows, catalogue.terms, rng)
            course_demo._close(course, done, stop_reason, count, today)
            scores += course_demo._follow_ups(course, done, gain, catalogue.nrs, today, rng)
            if course.is_open:
                sessions += _book_ahead(course, done, today, diary, desk, now)
                break  # the patient's next course waits for this one to finish
            start = (course.end_date or course.start_date) + datetime.timedelta(days=rng.randint(60, 400))
    insert_rows(TreatmentCourse, courses, batch_size=BATCH)
    insert_rows(TreatmentSession, sessions, batch_size=BATCH)
    insert_rows(Preparation, preparations, batch_size=BATCH)
    insert_rows(PreparationComponent, components, batch_size=BATCH)
    insert_rows(Injection, injections, batch_size=BATCH)
    insert_rows(SideEffect, side_effects, batch_size=BATCH)
    insert_rows(OutcomeScore, scores, batch_size=BATCH)
    return {
        "courses": len(courses),
        "sessions": len(sessions),
        "injections": len(injections),
        "side_effects": len(side_effects),
        "scores": len(scores),
    }


def _book_ahead(course, done, today, diary, desk, now):
    """The rest of an open course, booked from tomorrow on at its spacing, as the front desk would (the
    demo diary keeps to the diary's rules: scheduling.demo.DemoDiary)."""
    tomorrow = today + datetime.timedelta(days=1)
    previous_day = timezone.localdate(done[-1].starts_at) if done else None
    booked = []
    for sequence in range(len(done) + 1, course.planned_sessions + 1):
        starts, reason = diary.next_treatment(
            course, previous_day, not_before=tomorrow, late_reason=diary.RETURNING
        )
        if starts is None:
            break
        booked.append(
            TreatmentSession(
                course=course,
                patient=course.patient,
                sequence=sequence,
                starts_at=starts,
                ends_at=starts + diary.slot,
                practitioner=course.practitioner,
                status=SessionStatus.SCHEDULED,
                spacing_override_reason=reason,
                created_by=desk,
                created_at=now,
            )
        )
        previous_day, tomorrow = timezone.localdate(starts), None
    return booked
