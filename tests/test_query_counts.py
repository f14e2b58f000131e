"""Every benchmarked page (bench/, docs/performance.md) runs as many queries with 20 times the data.

A small clinic is seeded with the scale generator, each page is requested for targets taken from it,
then a clinic 20 times larger is added beside it and the same requests must run the same number of
queries: nothing in a page may grow with the number of patients, courses or sessions.
"""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api import tokens
from clinic.models import User
from clinic.scale_demo import scale_seed
from courses import demo as course_demo
from courses.models import (
    Condition,
    CourseStatus,
    InjectionSite,
    Lot,
    Product,
    SessionStatus,
    TreatmentCourse,
    TreatmentSession,
)
from patients.models import Patient

SMALL, LARGE = 10, 200


def _targets():
    small = Patient.objects.filter(primary_practitioner__username__startswith="small.")
    patient = small.filter(courses__isnull=False).order_by("pk").first()
    course = (
        TreatmentCourse.objects.filter(patient__in=small, status=CourseStatus.COMPLETED)
        .order_by("pk")
        .first()
    )
    # The page shown before a visit is logged: a scheduled session with its empty formsets.
    scheduled = _post_session(User.objects.get(username="practitioner"))
    busiest = TreatmentSession.objects.filter(patient__in=small).latest("starts_at")
    day = timezone.localdate(busiest.starts_at)
    knee = Condition.objects.get(name="Knee osteoarthritis")
    return {
        "patient_search": ("frontdesk", f"{reverse('patients:patient-list')}?q={patient.family_name}"),
        "patient_page": ("practitioner", reverse("patients:patient-detail", args=[patient.pk])),
        "course_page": ("practitioner", reverse("courses:course-detail", args=[course.pk])),
        "session_log_get": ("practitioner", reverse("courses:session-log", args=[scheduled.pk])),
        "day_calendar": ("frontdesk", f"{reverse('scheduling:day')}?date={day:%Y-%m-%d}"),
        "week_calendar": ("frontdesk", f"{reverse('scheduling:week')}?date={day:%Y-%m-%d}"),
        "outcomes_dashboard": ("clinicadmin", reverse("outcomes:dashboard")),
        "outcomes_dashboard_filtered": (
            "clinicadmin",
            f"{reverse('outcomes:dashboard')}?condition={knee.pk}&start_from=2020-01-01",
        ),
        "outcomes_csv": ("clinicadmin", reverse("outcomes:csv", args=["pain-by-session"])),
        "peer_admin": ("clinicadmin", f"/admin/patients/patient/?q={patient.family_name}"),
        # The API requests benchmarked beside their pages, with a bearer token (bench/pages.py API_PAGES).
        "api_patient_search": ("api:frontdesk", f"{reverse('api:patient-list')}?q={patient.family_name}"),
        "api_course_read": ("api:practitioner", reverse("api:course-detail", args=[course.pk])),
    }


def _post_data(session):
    today = timezone.localdate()
    lots = {lot.product.product_type: lot for lot in Lot.objects.usable_on(today).select_related("product")}
    sites = InjectionSite.objects.filter(region="knee", needs_spinal_level=False).order_by("pk")[:3]
    data = {
        "version": str(session.version),
        "pain_pre": "6",
        "guidance": "landmark",
        "anaesthetic_use": "in_preparation",
        "action": "complete",
        "confirm-screening": "Reviewed.",
        "confirm-spacing": "Agreed.",
        "confirm-count": "Agreed.",
        "side_effects-TOTAL_FORMS": "0",
        "side_effects-INITIAL_FORMS": "0",
        "components-TOTAL_FORMS": "3",
        "components-INITIAL_FORMS": "0",
        "injections-TOTAL_FORMS": "3",
        "injections-INITIAL_FORMS": "0",
    }
    kinds = (Product.ProductType.DEXTROSE, Product.ProductType.ANAESTHETIC, Product.ProductType.DILUENT)
    for index, (kind, volume) in enumerate(zip(kinds, ("1.50", "0.60", "0.90"), strict=True)):
        data[f"components-{index}-lot"] = str(lots[kind].pk)
        data[f"components-{index}-volume_ml"] = volume
    for index, site in enumerate(sites):
        data[f"injections-{index}-site"] = str(site.pk)
        data[f"injections-{index}-laterality"] = "right"
        data[f"injections-{index}-volume_ml"] = "1.00"
    return data


def _post_session(owner):
    """A fresh scheduled session of a small-clinic patient, yesterday (lots are in date, no clash): one the
    safety gates let through (consented before, no absolute block or allergy: courses.safety)."""
    candidates = Patient.objects.filter(
        primary_practitioner__username__startswith="small.",
        archived=False,
        consents__consented_on__lt=timezone.localdate() - datetime.timedelta(days=1),
    ).order_by("pk")
    lots = Lot.objects.usable_on(timezone.localdate()).select_related("product")
    patient = course_demo.injectable(list(candidates.distinct()), list(lots))[0]
    starts = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() - datetime.timedelta(days=1), datetime.time(7))
    ) - datetime.timedelta(minutes=30 * TreatmentSession.objects.filter(practitioner=owner).count())
    course = TreatmentCourse.objects.create(
        patient=patient,
        condition=Condition.objects.get(name="Knee osteoarthritis"),
        body_region="knee",
        laterality="right",
        practitioner=owner,
        planned_sessions=3,
        interval_days=14,
        baseline_pain=7,
        start_date=timezone.localdate(starts),
    )
    return course.sessions.create(
        patient=patient,
        practitioner=owner,
        sequence=1,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=30),
    )


def _count(client, url, method="get", data=None):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    expected = 302 if method == "post" else 200
    assert response.status_code == expected, (url, response.status_code)
    if method == "post":
        assert response["Location"] == url
    return len(queries)


def _measure(clients, targets):
    counts = {}
    for name, (username, url) in targets.items():
        client = clients[username]
        client.get(url)  # warm: first-request work (session refresh, caches) is not the page's own
        counts[name] = _count(client, url)
    owner = User.objects.get(username="practitioner")
    warm = _post_session(owner)  # the first save of a process fills the audit trail's content-type cache
    warm_url = reverse("courses:session-log", args=[warm.pk])
    _count(clients["practitioner"], warm_url, "post", _post_data(warm))
    session = _post_session(owner)
    url = reverse("courses:session-log", args=[session.pk])
    counts["session_log_post"] = _count(clients["practitioner"], url, "post", _post_data(session))
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED and session.injections.count() == 3
    return counts


@pytest.mark.django_db
def test_every_benchmarked_page_runs_the_same_queries_with_twenty_times_the_data():
    from django.test import Client

    scale_seed(patients=SMALL, rng=random.Random(1), label="small")
    clients = {}
    for username in ("frontdesk", "practitioner", "clinicadmin"):
        clients[username] = Client()
        clients[username].force_login(User.objects.get(username=username))
    for username in ("frontdesk", "practitioner"):
        _, key = tokens.token_issue(
            user=User.objects.get(username=username),
            name="Query counts",
            issued_by=User.objects.get(username="clinicadmin"),
        )
        clients[f"api:{username}"] = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    targets = _targets()
    before = _measure(clients, targets)

    scale_seed(patients=LARGE, rng=random.Random(2), label="large")
    assert Patient.objects.count() == SMALL + LARGE
    after = _measure(clients, targets)

    grown = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not grown, f"queries grew with the data (page: (small, large)): {grown}"
