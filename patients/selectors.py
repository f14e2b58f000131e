"""Read paths for the patient registry: search, duplicates, and the patient page's course summary."""

import datetime
import re
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from courses.models import CourseStatus, OutcomeScore, SessionStatus, TreatmentCourse, TreatmentSession
from patients.models import Patient, Screening, digits, fold

# Day first: the clinic is in the UK, so 02/03/1980 is 2 March 1980.
DATE_FORMATS = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%b %d %Y",
    "%B %d %Y",
)
MRN_QUERY = re.compile(r"^(?:pt)?[\s\-]*(\d{1,9})$", re.IGNORECASE)
# Fewer digits than this are too short to be a useful phone fragment.
PHONE_FRAGMENT_MIN_DIGITS = 4

SORTS = {
    "name": ("family_name", "given_name", "id"),
    "mrn": ("mrn",),
    "dob": ("date_of_birth", "id"),
    "practitioner": ("primary_practitioner__last_name", "family_name", "given_name", "id"),
    "registered": ("created_at", "id"),
}
DEFAULT_SORT = "name"


def parse_date(text):
    cleaned = " ".join(text.replace(",", " ").split())
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    return None


def search_q(query):
    """A filter matching the query as a name fragment, MRN, date of birth or phone number."""
    query = (query or "").strip()
    if not query:
        return Q()
    matches = Q(pk__in=[])
    day = parse_date(query)
    if day:
        matches |= Q(date_of_birth=day)
    mrn = MRN_QUERY.match(query)
    if mrn:
        matches |= Q(mrn=f"PT-{int(mrn.group(1)):06d}")
    if not re.search(r"[^\d\s()+\-.]", query):
        number = digits(query)
        if len(number) >= PHONE_FRAGMENT_MIN_DIGITS:
            matches |= Q(phone_digits__contains=number)
            if number.startswith("44") and len(number) > 10:
                # +44 7700 900123 is stored as dialled in the UK: 07700 900123.
                matches |= Q(phone_digits__contains="0" + number[2:])
    if day is None and not mrn and re.search(r"[^\W\d_]", query):
        # search_name is stored folded, so a case-sensitive "contains" on the folded query is exact,
        # and on PostgreSQL it can use the trigram index (icontains would wrap the column in UPPER()).
        words = fold(query).split()
        name = Q()
        for word in words:
            name &= Q(search_name__contains=word)
        matches |= name
    return matches


def patient_list(*, query="", status="active", practitioner=None, sort=DEFAULT_SORT):
    """The registry list: one query per page whatever the table size."""
    patients = Patient.objects.select_related("primary_practitioner")
    if status == "active":
        patients = patients.active()
    elif status == "archived":
        patients = patients.archived_only()
    if practitioner:
        patients = patients.filter(primary_practitioner=practitioner)
    patients = patients.filter(search_q(query))
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    columns = SORTS.get(key, SORTS[DEFAULT_SORT])
    return patients.order_by(*(f"-{c}" if descending else c for c in columns))


def possible_duplicates(*, given_name, family_name, date_of_birth, phone, exclude_pk=None):
    """Patients with the same name (accents and case ignored) and birth date, or the same phone."""
    number = digits(phone)
    clauses = Q(pk__in=[])
    if date_of_birth:
        clauses |= Q(date_of_birth=date_of_birth)
    if number:
        clauses |= Q(phone_digits=number)
    candidates = Patient.objects.filter(clauses).select_related("primary_practitioner")
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    name = fold(f"{given_name} {family_name}")
    return [
        patient
        for patient in candidates.order_by("family_name", "given_name", "id")[:20]
        if (number and patient.phone_digits == number)
        or (patient.date_of_birth == date_of_birth and fold(patient.full_name) == name)
    ]


def latest_screening(patient):
    return Screening.objects.filter(patient=patient).select_related("screened_by").first()


def patient_courses(patient):
    """The patient's courses with progress, next appointment and latest pain.

    Three small queries (courses, their sessions, their pain NRS scores) summarised here. A patient has a
    handful of courses of at most a few dozen sessions, and one query with correlated subqueries for each
    figure cost more to build and plan than these three cost to run.
    """
    courses = list(
        TreatmentCourse.objects.filter(patient=patient)
        .select_related("condition", "practitioner")
        .order_by("-start_date", "-id")
    )
    if not courses:
        return courses
    ids = [course.pk for course in courses]
    sessions = defaultdict(list)
    for row in (
        TreatmentSession.objects.filter(course_id__in=ids)
        .values_list("course_id", "status", "starts_at", "id", "pain_pre")
        .order_by()
    ):
        sessions[row[0]].append(row)
    latest_nrs = {}
    for course_id, score, recorded_on, pk in (
        OutcomeScore.objects.filter(course_id__in=ids, instrument__code="NRS")
        .values_list("course_id", "score", "recorded_on", "id")
        .order_by()
    ):
        if course_id not in latest_nrs or (recorded_on, pk) > latest_nrs[course_id][:2]:
            latest_nrs[course_id] = (recorded_on, pk, score)
    now = timezone.now()
    booked = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)
    for course in courses:
        rows = sessions.get(course.pk, ())
        completed = [row for row in rows if row[1] == SessionStatus.COMPLETED]
        upcoming = [row[2] for row in rows if row[1] in booked and row[2] >= now]
        course.completed_sessions = len(completed)
        course.next_session_at = min(upcoming) if upcoming else None
        last = max(completed, key=lambda row: (row[2], row[3])) if completed else None
        course.session_pain = last[4] if last else None
        course.session_pain_at = last[2] if last else None
        nrs = latest_nrs.get(course.pk)
        course.nrs_on, course.nrs_score = (nrs[0], nrs[2]) if nrs else (None, None)
        course.latest_pain, course.latest_pain_on = _latest_pain(course)
        course.is_current = course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)
    return courses


def _latest_pain(course):
    session_day = timezone.localdate(course.session_pain_at) if course.session_pain_at else None
    if course.nrs_score is not None and (session_day is None or course.nrs_on >= session_day):
        score = course.nrs_score
        return (int(score) if score == int(score) else score), course.nrs_on
    if course.session_pain is not None:
        return course.session_pain, session_day
    return None, None
