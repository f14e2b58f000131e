"""Coded, placed injection sites (courses/sites.py): the SNOMED CT code check, the laterality rule that every
injection save obeys, the catalogue's admin validation and the body chart's markers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from courses.models import Injection, InjectionSite, SessionStatus
from courses.session_services import session_record
from courses.sites import (
    CHART_HEIGHT,
    CHART_WIDTH,
    LateralityRule,
    body_chart,
    laterality_problem,
    validate_snomed_concept_id,
    verhoeff_valid,
)
from tests.factories import (
    InjectionFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def site(region, name):
    return InjectionSite.objects.get(region=region, name=name)


# --- The SNOMED CT code check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "49076000",  # knee joint
        "53620006",  # temporomandibular joint
        "72696002",  # knee region
        "419161000",  # left (the FHIR laterality value set)
        "404684003",  # clinical finding: a 9-digit concept id
        "900000000000207008",  # an 18-digit concept id (the International Edition's module)
    ],
)
def test_real_snomed_concept_ids_pass_the_check(code):
    assert verhoeff_valid(code)
    validate_snomed_concept_id(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("49076001", "snomed_check_digit"),  # one digit mistyped
        ("49070600", "snomed_check_digit"),  # two digits swapped
        ("4907600O", "snomed_digits"),
        ("49 076000", "snomed_digits"),
        ("72514-3", "snomed_digits"),  # a LOINC code
        ("12345", "snomed_length"),
        ("1234567890123456789", "snomed_length"),
        ("1487430010", "snomed_partition"),  # a description id, not a concept
    ],
)
def test_a_code_that_is_not_a_snomed_concept_id_is_refused_with_the_reason(code, reason):
    with pytest.raises(ValidationError) as error:
        validate_snomed_concept_id(code)

    assert error.value.code == reason


def test_an_empty_code_is_allowed_since_many_sites_have_none():
    validate_snomed_concept_id("")


@pytest.mark.django_db
def test_every_shipped_code_passes_the_check():
    coded = InjectionSite.objects.exclude(snomed_code="")

    assert {s.name: s.snomed_code for s in coded} == {
        "TMJ intra-articular": "53620006",
        "SI joint intra-articular": "39723000",
        "Hip intra-articular": "24136001",
        "Knee intra-articular": "49076000",
        "Ankle intra-articular": "70258002",
        "AC joint": "85856004",
    }
    for row in coded:
        validate_snomed_concept_id(row.snomed_code)


# --- The laterality rule --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_paired_site_needs_a_side():
    mcl = site("knee", "MCL femoral")

    assert mcl.laterality_rule == LateralityRule.PAIRED
    for side in ("left", "right", "bilateral"):
        assert laterality_problem(mcl, side) is None
    assert "left, right or bilateral" in laterality_problem(mcl, "midline")
    assert laterality_problem(mcl, "na") is not None


@pytest.mark.django_db
def test_a_midline_site_is_recorded_as_midline():
    interspinous = site("lumbar_pelvis", "Supraspinous / interspinous")

    assert laterality_problem(interspinous, "midline") is None
    assert "midline structure" in laterality_problem(interspinous, "left")


@pytest.mark.django_db
def test_a_site_without_a_rule_takes_any_side():
    nerve = site("nerve", "Perineural subcutaneous")

    assert nerve.laterality_rule == LateralityRule.ANY
    assert all(laterality_problem(nerve, side) is None for side in ("left", "midline", "na"))


@pytest.fixture
def visit(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=14)
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def test_the_session_save_refuses_a_side_the_site_cannot_have_and_saves_nothing(visit, practitioner):
    rows = [
        {"site": site("knee", "MCL femoral"), "laterality": "right", "volume_ml": Decimal("2")},
        {"site": site("knee", "Pes anserine"), "laterality": "midline", "volume_ml": Decimal("1")},
    ]

    with pytest.raises(ValidationError) as error:
        session_record(
            session=visit,
            data={"pain_pre": 5, "complete": True},
            components=[],
            injections=rows,
            side_effects=[],
            recorded_by=practitioner,
            expected_version=visit.version,
            confirmations={},
        )

    assert error.value.message_dict["injections.1.laterality"] == [
        "Pes anserine is on one side of the body: record left, right or bilateral."
    ]
    assert not Injection.all_objects.exists()


def test_the_session_page_puts_the_laterality_error_on_the_row(visit, practitioner, client_for):
    client = client_for(practitioner)
    url = reverse("courses:session-log", args=[visit.pk])
    data = {
        "version": str(visit.version),
        "pain_pre": "5",
        "action": "save",
        "components-TOTAL_FORMS": "0",
        "components-INITIAL_FORMS": "0",
        "side_effects-TOTAL_FORMS": "0",
        "side_effects-INITIAL_FORMS": "0",
        "injections-TOTAL_FORMS": "1",
        "injections-INITIAL_FORMS": "0",
        "injections-0-site": str(site("lumbar_pelvis", "Sacrococcygeal").pk),
        "injections-0-laterality": "left",
        "injections-0-volume_ml": "1",
    }

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Sacrococcygeal is a midline structure: record the side as midline." in response.text
    assert not Injection.all_objects.exists()


# --- The catalogue in the admin -------------------------------------------------------------------------


@pytest.fixture
def catalogue_admin(clinic_admin):
    """The clinic admin with Django admin access, as the demo's clinicadmin has."""
    clinic_admin.is_staff = True
    clinic_admin.save(update_fields=["is_staff"])
    return clinic_admin


def admin_change(client, row, **changes):
    data = {
        "region": row.region,
        "name": row.name,
        "structure_type": row.structure_type,
        "needs_spinal_level": "on" if row.needs_spinal_level else "",
        "risk_note": row.risk_note,
        "active": "on",
        "snomed_code": row.snomed_code,
        "laterality_rule": row.laterality_rule,
        "chart_view": row.chart_view,
        "chart_x": "" if row.chart_x is None else str(row.chart_x),
        "chart_y": "" if row.chart_y is None else str(row.chart_y),
        **changes,
    }
    return client.post(reverse("admin:courses_injectionsite_change", args=[row.pk]), data)


def test_a_clinic_admin_codes_and_places_a_site(catalogue_admin, client_for):
    greater_trochanter = site("hip", "Greater trochanter")

    response = admin_change(client_for(catalogue_admin), greater_trochanter, chart_view="back", chart_x="61")

    assert response.status_code == 302
    greater_trochanter.refresh_from_db()
    assert (greater_trochanter.chart_view, greater_trochanter.chart_x) == ("back", 61)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"snomed_code": "49076001"}, "snomed_code", "check digit does not match"),
        ({"chart_x": str(CHART_WIDTH + 1)}, "chart_x", f"less than or equal to {CHART_WIDTH}"),
        ({"chart_y": str(CHART_HEIGHT + 5)}, "chart_y", f"less than or equal to {CHART_HEIGHT}"),
        ({"chart_view": ""}, "chart_view", "Give the view, x and y together"),
        ({"laterality_rule": "midline"}, "chart_x", "A midline site sits on the midline"),
    ],
)
def test_the_admin_refuses_a_bad_code_or_position_and_says_why(
    catalogue_admin, client_for, changes, field, message
):
    mcl = site("knee", "MCL femoral")

    response = admin_change(client_for(catalogue_admin), mcl, **changes)

    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    mcl.refresh_from_db()
    assert (mcl.snomed_code, mcl.chart_view, mcl.chart_x, mcl.laterality_rule) == ("", "front", 95, "paired")


def test_a_practitioner_cannot_change_the_catalogue(practitioner, client_for):
    mcl = site("knee", "MCL femoral")

    response = admin_change(client_for(practitioner), mcl, chart_x="10")

    assert response.status_code in (302, 403)
    mcl.refresh_from_db()
    assert mcl.chart_x == 95


# --- The body chart -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_shipped_site_but_the_nerve_is_placed_inside_the_chart():
    unplaced = [s.name for s in InjectionSite.objects.all() if not s.chart_view]

    assert unplaced == ["Perineural subcutaneous"]  # a nerve may be anywhere: the dropdown names it
    for row in InjectionSite.objects.exclude(chart_view=""):
        row.full_clean()


def markers(chart, view):
    (found,) = [v for v in chart["views"] if v["name"] == view]
    return found


@pytest.mark.django_db
def test_a_paired_site_is_drawn_on_both_sides_seen_from_the_front_and_the_back():
    sites = InjectionSite.objects.filter(name__in=["MCL femoral", "Achilles insertion"])
    chart = body_chart(sites, region="knee", previous=set())

    front = {(m["x"], m["laterality"]) for m in markers(chart, "front")["markers"]}
    back = {(m["x"], m["laterality"]) for m in markers(chart, "back")["markers"]}
    # From the front the patient's right is on the viewer's left; from the back it is on the right.
    assert front == {(95, "right"), (105, "left")}
    assert back == {(83, "left"), (117, "right")}
    labels = [m["label"] for m in markers(chart, "front")["markers"]]
    assert labels == ["MCL femoral, right (Knee)", "MCL femoral, left (Knee)"]


@pytest.mark.django_db
def test_a_midline_site_is_drawn_once():
    chart = body_chart(
        InjectionSite.objects.filter(name="Sacrococcygeal"), region="lumbar_pelvis", previous=set()
    )

    assert [(m["x"], m["laterality"]) for m in markers(chart, "back")["markers"]] == [(100, "midline")]


@pytest.mark.django_db
def test_the_chart_opens_on_the_courses_region_with_a_box_around_its_sites():
    chart = body_chart(InjectionSite.objects.filter(active=True), region="knee", previous=set())

    assert chart["region"] == "knee"
    boxes = {
        view: {r["code"]: r["box"] for r in markers(chart, view)["regions"]} for view in ("front", "back")
    }
    x, y, width, height = map(int, boxes["front"]["knee"].split())
    for marker in markers(chart, "front")["markers"]:
        if marker["label"].endswith("(Knee)"):
            assert x <= marker["x"] <= x + width and y <= marker["y"] <= y + height
    assert "knee" not in boxes["back"]
    assert x >= 0 and x + width <= CHART_WIDTH and y >= 0 and y + height <= CHART_HEIGHT


@pytest.mark.django_db
def test_a_region_without_placed_sites_opens_on_the_whole_body():
    chart = body_chart(InjectionSite.objects.filter(active=True), region="nerve", previous=set())

    assert chart["region"] == ""


@pytest.mark.django_db
def test_earlier_treatments_mark_their_sites_and_a_bilateral_one_marks_both_sides():
    mcl = site("knee", "MCL femoral")
    chart = body_chart([mcl], region="knee", previous={(mcl.pk, "bilateral")})

    assert [m["previous"] for m in markers(chart, "front")["markers"]] == [True, True]
    assert chart["any_previous"]


def test_the_session_page_shows_the_chart_with_the_courses_earlier_sites(visit, practitioner, client_for):
    mcl = site("knee", "MCL femoral")
    earlier = visit.course.sessions.get(sequence=1)
    InjectionFactory(session=earlier, site=mcl, laterality="right")

    response = client_for(practitioner).get(reverse("courses:session-log", args=[visit.pk]))

    chart = response.context["chart"]
    front = markers(chart, "front")["markers"]
    assert {m["laterality"] for m in front if m["site"] == mcl.pk and m["previous"]} == {"right"}
    assert 'data-body-chart data-region="knee"' in response.text
    assert "MCL femoral, right (Knee), given at an earlier treatment" in response.text
