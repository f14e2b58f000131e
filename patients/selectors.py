"""Read paths for the patient registry: search, duplicates, and the patient page's course summary."""

import datetime
import re

from django.db.models import Count, Min, OuterRef, Q, Subquery
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
    """The patient's courses with progress, next appointment and latest pain, in one query."""
    now = timezone.now()
    completed = TreatmentSession.objects.filter(course=OuterRef("pk"), status=SessionStatus.COMPLETED)
    latest_completed = completed.order_by("-starts_at", "-id")
    latest_nrs = OutcomeScore.objects.filter(course=OuterRef("pk"), instrument__code="NRS").order_by(
        "-recorded_on", "-id"
    )
    courses = list(
        TreatmentCourse.objects.filter(patient=patient)
        .select_related("condition", "practitioner")
        .annotate(
            completed_sessions=Count("sessions", filter=Q(sessions__status=SessionStatus.COMPLETED)),
            next_session_at=Min(
                "sessions__starts_at",
                filter=Q(
                    sessions__status__in=[SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN],
                    sessions__starts_at__gte=now,
                ),
            ),
            session_pain=Subquery(latest_completed.values("pain_pre")[:1]),
            session_pain_at=Subquery(latest_completed.values("starts_at")[:1]),
            nrs_score=Subquery(latest_nrs.values("score")[:1]),
            nrs_on=Subquery(latest_nrs.values("recorded_on")[:1]),
        )
        .order_by("-start_date", "-id")
    )
    for course in courses:
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
