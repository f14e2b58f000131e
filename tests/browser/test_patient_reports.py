"""On a tablet: what the patient reported in a check-in waits on the next session page, where the
practitioner adds it as a checked side effect or dismisses it with a reason; and the front desk's
questionnaire actions on the course page (send now, hand the tablet to the patient)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic import roles
from clinic.models import OutboundMessage
from courses.models import PatientSideEffectReport, SessionStatus, SideEffect, SideEffectTerm
from tests.browser.kit import axe_violations, sign_in
from tests.factories import (
    AssignmentFactory,
    PatientFactory,
    PatientSideEffectReportFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def visit():
    """Treatment 1 given three days ago, whose check-in reported swelling and bruising; treatment 2 now."""
    practitioner = UserFactory(
        username="dr.hale", first_name="Morgan", last_name="Hale", role=roles.PRACTITIONER
    )
    now = timezone.now()
    course = TreatmentCourseFactory(
        practitioner=practitioner, start_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    first = TreatmentSessionFactory(
        course=course, sequence=1, completed=True, starts_at=now - datetime.timedelta(days=3)
    )
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    second = TreatmentSessionFactory(
        course=course,
        sequence=2,
        status=SessionStatus.CHECKED_IN,
        starts_at=now - datetime.timedelta(minutes=5),
    )
    swelling = PatientSideEffectReportFactory(session=first, grade=2)
    bruising = PatientSideEffectReportFactory(
        session=first,
        assignment=swelling.assignment,
        item_code="bruising",
        term=SideEffectTerm.objects.get(name="Bruising"),
        description="Bruising where injected: Yes, mild: I noticed it",
    )
    return {"first": first, "second": second, "swelling": swelling, "bruising": bruising}


def test_the_practitioner_adds_one_report_as_a_side_effect_and_dismisses_the_other(page, live_server, visit):
    session, swelling, bruising = visit["second"], visit["swelling"], visit["bruising"]
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/sessions/{session.pk}/log/")

    waiting = page.get_by_role("region", name="Reported by the patient after a treatment (2)")
    expect(waiting).to_contain_text("Swelling where injected: Yes, mild")
    assert axe_violations(page) == []

    waiting.get_by_role("link", name="Check and add as a side effect").first.click()
    row = page.locator("[data-formset='side_effects'] [data-formset-row]").first
    expect(row.locator("select[name$='-term']")).to_have_value(str(swelling.term_id))
    expect(row.get_by_label("Attributed to")).to_have_value(str(visit["first"].pk))
    expect(row.get_by_label("Grade")).to_have_value("2")
    expect(row).to_contain_text("From the patient's check-in")
    expect(page.locator(f"[data-patient-report='{swelling.pk}']")).to_be_hidden()
    row.get_by_label("Action taken").select_option(label="Advice / reassurance")
    page.get_by_label("Pain before injection (NRS 0–10)").fill("5")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Treatment 2 saved.")).to_be_visible()

    side_effect = SideEffect.objects.get()
    swelling.refresh_from_db()
    assert swelling.status == PatientSideEffectReport.Status.CONFIRMED and swelling.side_effect == side_effect
    assert (side_effect.severity, side_effect.action_taken) == (2, "advice")

    page.get_by_label("Or dismiss it: why is it not a side effect?").fill(
        "Bruised in a fall before the visit"
    )
    page.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_text("Dismissed: Bruising where injected")).to_be_visible()
    expect(page.get_by_text("Reported by the patient after")).to_have_count(0)
    bruising.refresh_from_db()
    assert bruising.status == PatientSideEffectReport.Status.DISMISSED


def test_removing_the_added_row_puts_the_report_back_on_the_list(page, live_server, visit):
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "dr.hale")
    page.goto(f"{live_server.url}/courses/sessions/{visit['second'].pk}/log/")
    item = page.locator(f"[data-patient-report='{visit['swelling'].pk}']")
    item.get_by_role("link", name="Check and add as a side effect").click()
    expect(item).to_be_hidden()
    page.get_by_role("button", name="Remove this side effect").click()
    expect(item).to_be_visible()


def test_the_front_desk_sends_a_questionnaire_now_and_hands_the_tablet_over(page, live_server):
    UserFactory(username="desk", first_name="Sam", last_name="Reed", role=roles.FRONT_DESK)
    patient = PatientFactory(email="lee@mail.example", date_of_birth=datetime.date(1968, 5, 17))
    course = TreatmentCourseFactory(patient=patient, status="completed")
    assignment = AssignmentFactory(course=course)
    page.set_viewport_size(TABLET)
    sign_in(page, live_server, "desk")
    page.goto(f"{live_server.url}/courses/{course.pk}/")

    questionnaires = page.get_by_role("region", name="Patient questionnaires (scrolls sideways)")
    questionnaires.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("will be e-mailed to lee@mail.example now.")).to_be_visible()
    assert OutboundMessage.objects.filter(key__startswith=f"assignment:{assignment.pk}:").exists()

    page.get_by_role("region", name="Patient questionnaires (scrolls sideways)").get_by_role(
        "button", name="Fill in now on this tablet"
    ).click()
    expect(page.get_by_label("Day")).to_be_visible()  # the patient's own page: date of birth first
    page.goto(f"{live_server.url}/courses/{course.pk}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/courses/{course.pk}/")
