"""The benchmark's database side: seed the scale data if missing, pick the pages' targets, fill the pool
of scheduled sessions the session-logging POSTs complete, issue the API requests' tokens, and check
afterwards that the POSTs saved.

    python bench/prepare.py prepare SCALE OUT.json     # targets for bench/locustfile.py
    python bench/prepare.py verify POSTED.json          # every posted session completed with its rows
"""

import datetime
import json
import os
import random
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count, Min, Q  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from pages import API_PAGES, ROLES  # noqa: E402 - bench/, this script's folder

from api import tokens  # noqa: E402
from api.models import ApiToken  # noqa: E402
from clinic.models import User  # noqa: E402
from clinic.scale_demo import USERNAME_PREFIX, scale_present  # noqa: E402
from courses import demo as course_demo  # noqa: E402
from courses.models import (  # noqa: E402
    Condition,
    CourseStatus,
    Injection,
    InjectionSite,
    Lot,
    OutcomeScore,
    Product,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Consent, Patient  # noqa: E402

POOL_USERNAME = "bench.pool"
POOL_SIZE = 900  # more than 10 users can complete in one timed run
SEARCH_TERM = "okonkwo"
API_TOKEN_NAME = "make bench"  # noqa: S105 - the tokens' label on the token page, not a key


def scale_counts():
    return {
        "patients": Patient.objects.count(),
        "courses": TreatmentCourse.objects.count(),
        "sessions": TreatmentSession.objects.count(),
        "injections": Injection.objects.count(),
        "side_effects": SideEffect.objects.count(),
        "scores": OutcomeScore.objects.count(),
    }


def _pool_practitioner():
    user, created = User.objects.get_or_create(
        username=POOL_USERNAME, defaults={"first_name": "Bench", "last_name": "Pool"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def fill_pool(rng):
    """Scheduled sessions, one per course and patient, at 07:00–08:30 on past weekdays (outside the scale
    diary's 09:00–17:00), so completing each one is a fresh first save at version 1."""
    owner = _pool_practitioner()
    waiting = TreatmentSession.objects.filter(practitioner=owner, status=SessionStatus.SCHEDULED)
    # Sessions an earlier version of this pool left dated before their patient's consent: their save is
    # refused (no consent covers the treatment), so they leave the pool, cancelled with the reason.
    first_consent = dict(
        Consent.objects.filter(patient__in=waiting.values("patient"))
        .values("patient")
        .annotate(first=Min("consented_on"))
        .values_list("patient", "first")
    )
    stale = [
        pk
        for pk, patient, starts in waiting.values_list("pk", "patient", "starts_at")
        if first_consent.get(patient) is None or first_consent[patient] >= timezone.localdate(starts)
    ]
    waiting.filter(pk__in=stale).update(
        status=SessionStatus.CANCELLED,
        cancelled_at=timezone.now(),
        cancel_reason="Benchmark pool: dated before the patient's consent.",
    )
    missing = POOL_SIZE - waiting.count()
    if missing > 0:
        knee = Condition.objects.get(name="Knee osteoarthritis")
        # The slots first: each run's pool goes further back past the slots earlier runs completed, and a
        # patient must have consented before the earliest of them (a first treatment needs a consent that
        # covers its day, courses.safety), or that save would be refused.
        taken = set(TreatmentSession.objects.filter(practitioner=owner).values_list("starts_at", flat=True))
        slots = []
        day = timezone.localdate() - datetime.timedelta(days=1)
        while len(slots) < missing:
            if day.weekday() < 5:
                for minute in (0, 30, 60, 90):
                    moment = timezone.make_aware(
                        datetime.datetime.combine(day, datetime.time(7)) + datetime.timedelta(minutes=minute)
                    )
                    if moment not in taken:
                        slots.append(moment)
            day -= datetime.timedelta(days=1)
        slots = slots[:missing]
        earliest = timezone.localdate(min(slots))
        used_patients = set(
            TreatmentSession.objects.filter(practitioner=owner).values_list("patient", flat=True)
        )
        patients = list(
            Patient.objects.filter(
                archived=False,
                consents__consented_on__lte=earliest - datetime.timedelta(days=1),
                primary_practitioner__username__startswith=USERNAME_PREFIX,
            )
            .exclude(pk__in=used_patients)
            .distinct()
            .order_by("?")[: missing * 2]
        )
        # Only patients the app would inject from the benchmark's lots (no absolute block, no allergy).
        lots = Lot.objects.filter(product__product_type__in=("dextrose", "anaesthetic", "diluent"))
        patients = course_demo.injectable(patients, list(lots.select_related("product")))[:missing]
        with transaction.atomic():
            courses = [
                TreatmentCourse(
                    patient=patient,
                    condition=knee,
                    body_region="knee",
                    laterality="right",
                    practitioner=owner,
                    planned_sessions=3,
                    interval_days=14,
                    baseline_pain=7,
                    start_date=timezone.localdate(starts),
                    status=CourseStatus.PLANNED,
                    created_by=owner,
                )
                for patient, starts in zip(patients, slots, strict=False)
            ]
            TreatmentCourse.objects.bulk_create(courses)
            TreatmentSession.objects.bulk_create(
                TreatmentSession(
                    course=course,
                    patient=course.patient,
                    sequence=1,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(minutes=30),
                    practitioner=owner,
                    status=SessionStatus.SCHEDULED,
                    created_by=owner,
                )
                for course, starts in zip(courses, slots, strict=False)
            )
    return list(waiting.order_by("pk").values_list("pk", flat=True))


def api_keys():
    """A fresh bearer key per role the API requests are made as, issued through the token page's own
    service (api.tokens) by the demo clinic admin; the previous run's bench tokens are revoked first, so
    each run leaves one live token per role, listed on the token page as "make bench".

    The keys go into the targets file in plain text: this is a local benchmark database with the demo
    accounts, never a clinic's. Revoke them on the token page, or let the next run do it.
    """
    issuer = User.objects.get(username="clinicadmin")
    roles = sorted({ROLES[request] for request in API_PAGES})
    for token in ApiToken.objects.live().filter(name=API_TOKEN_NAME, user__username__in=roles):
        tokens.token_revoke(token=token, revoked_by=issuer)
    keys = {}
    for role in roles:
        _, keys[role] = tokens.token_issue(
            user=User.objects.get(username=role), name=API_TOKEN_NAME, issued_by=issuer
        )
    return keys


def targets(rng):
    nrs_course = (
        TreatmentCourse.objects.filter(status=CourseStatus.COMPLETED, planned_sessions=6)
        .annotate(n=Count("sessions"))
        .filter(n__gte=6)
        .order_by("pk")
        .first()
    )
    patient = (
        Patient.objects.annotate(n=Count("courses"))
        .filter(n__gte=3, primary_practitioner__username__startswith=USERNAME_PREFIX)
        .order_by("pk")
        .first()
    )
    busiest = (
        TreatmentSession.objects.filter(
            starts_at__date__gt=timezone.localdate(), status=SessionStatus.SCHEDULED
        )
        .values("starts_at__date")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    day = busiest["starts_at__date"] if busiest else timezone.localdate()
    pool = fill_pool(rng)
    get_session, post_sessions = pool[0], pool[1:]
    knee_sites = list(
        InjectionSite.objects.filter(region="knee", needs_spinal_level=False, active=True).order_by("pk")[:3]
    )
    usable = Lot.objects.usable_on(timezone.localdate() - datetime.timedelta(days=400)).select_related(
        "product"
    )
    lot_of = {}
    for lot in usable.order_by("expiry_date"):
        lot_of.setdefault(lot.product.product_type, lot.pk)
    knee = Condition.objects.get(name="Knee osteoarthritis")
    start_from = timezone.localdate() - datetime.timedelta(days=2 * 365)
    return {
        "search_term": SEARCH_TERM,
        "pages": {
            "patient_search": f"{reverse('patients:patient-list')}?q={SEARCH_TERM}",
            "patient_page": reverse("patients:patient-detail", args=[patient.pk]),
            "course_page": reverse("courses:course-detail", args=[nrs_course.pk]),
            "session_log_get": reverse("courses:session-log", args=[get_session]),
            "day_calendar": f"{reverse('scheduling:day')}?date={day:%Y-%m-%d}",
            "week_calendar": f"{reverse('scheduling:week')}?date={day:%Y-%m-%d}",
            "outcomes_dashboard": reverse("outcomes:dashboard"),
            "outcomes_dashboard_filtered": (
                f"{reverse('outcomes:dashboard')}?condition={knee.pk}&start_from={start_from:%Y-%m-%d}"
            ),
            "outcomes_csv": reverse("outcomes:csv", args=["pain-by-session"]),
            # The API's answers to the same questions as patient_search and course_page (pages.API_PAGES).
            "api_patient_search": f"{reverse('api:patient-list')}?q={SEARCH_TERM}",
            "api_course_read": reverse("api:course-detail", args=[nrs_course.pk]),
        },
        "api_keys": api_keys(),
        "floor": reverse("healthz"),
        "peer_admin": f"/admin/patients/patient/?q={SEARCH_TERM}",
        "post_sessions": post_sessions,
        "post_template": reverse("courses:session-log", args=[0]),
        "lots": [
            lot_of[Product.ProductType.DEXTROSE],
            lot_of[Product.ProductType.ANAESTHETIC],
            lot_of[Product.ProductType.DILUENT],
        ],
        "sites": [site.pk for site in knee_sites],
        "scale": scale_counts(),
    }


def prepare(scale, out):
    if not scale_present():
        print(f"No scale data in this database: seeding {scale} patients (seed_demo --scale).", flush=True)
        call_command("seed_demo", scale=scale, force=True)
    data = targets(random.Random(9))  # noqa: S311 - picks benchmark targets, not secrets
    Path(out).write_text(json.dumps(data, indent=2))
    print(f"Scale: {data['scale']}; {len(data['post_sessions'])} sessions waiting for the POSTs.")


def verify(posted_file):
    """Each session the POSTs reported saved is completed with three components and three injections."""
    posted = json.loads(Path(posted_file).read_text())
    if not posted:
        print("No session was posted.")
        return 1
    rows = TreatmentSession.objects.filter(pk__in=posted).annotate(
        injections_n=Count("injections", filter=Q(injections__voided_at__isnull=True), distinct=True),
        components_n=Count("components", distinct=True),
    )
    good = [
        s for s in rows if s.status == SessionStatus.COMPLETED and s.injections_n == 3 and s.components_n == 3
    ]
    print(f"POSTs verified: {len(good)}/{len(posted)} sessions completed with 3 injections and 3 components.")
    return 0 if len(good) == len(posted) else 1


def quiet():
    """Cancel queries a stopped server left running in this database (PostgreSQL), and wait for them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    sql = (
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state = 'active'"
    )
    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(sql)
            if not cursor.fetchall():
                return
            time.sleep(0.2)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "prepare":
        prepare(int(sys.argv[2]), sys.argv[3])
    elif command == "quiet":
        quiet()
    elif command == "verify":
        sys.exit(verify(sys.argv[2]))
    else:
        sys.exit(f"unknown command {command}")
