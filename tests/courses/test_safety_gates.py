"""Safety gates as data (courses.safety): absolute blocks refuse for every role, relative ones need a
reason, consent and allergies to what is in the syringe are checked, and the banner shows where visits are
planned."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from courses.models import CourseStatus, Injection, PreparationComponent, Product, SessionStatus
from courses.session_services import ConfirmationRequired, session_record
from patients.models import ConditionSeverity, Screening, ScreeningCondition
from tests.courses.test_session_logging import injection_row, session_post, site, url
from tests.factories import (
    ConsentFactory,
    LotFactory,
    ProductFactory,
    ScreeningFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)

TODAY = timezone.localdate()
EVERY_REASON = {"screening": "Senior says go ahead", "spacing": "Agreed", "count": "Agreed"}


@pytest.fixture
def course(practitioner):
    return TreatmentCourseFactory(
        practitioner=practitioner, start_date=TODAY - datetime.timedelta(days=14), status=CourseStatus.PLANNED
    )


@pytest.fixture
def visit(course):
    """The course's first visit, today, with the patient checked in."""
    return TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.CHECKED_IN)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def record(visit, by, *, injections=(), components=(), assessment=False, confirmations=None):
    """Save the visit through the service, as every page does."""
    return session_record(
        session=visit,
        data={"pain_pre": 5, "complete": True, "assessment_only": assessment},
        components=list(components),
        injections=list(injections),
        side_effects=[],
        recorded_by=by,
        expected_version=visit.version,
        confirmations=confirmations or {},
    )


def knee_injection():
    return {"site": site("MCL femoral"), "laterality": "right", "volume_ml": 2}


# --- Absolute and relative screening conditions ------------------------------------------------------


@pytest.mark.parametrize("persona", ["practitioner", "clinic_admin", "superuser"])
def test_an_absolute_contraindication_cannot_be_overridden_by_any_role(visit, persona, request):
    user = request.getfixturevalue(persona)
    ScreeningFactory(patient=visit.patient, acute_gout=True, outcome=Screening.Outcome.DEFERRED)

    with pytest.raises(ValidationError) as refused:
        record(visit, user, injections=[knee_injection()], confirmations=EVERY_REASON)

    assert "No injection: acute gout" in " ".join(refused.value.messages)
    assert "whoever asks" in " ".join(refused.value.messages)
    assert not Injection.objects.exists()
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN and visit.screening_override_reason == ""


@pytest.mark.parametrize("persona", ["practitioner", "superuser"])
def test_the_session_page_refuses_an_absolute_contraindication_and_keeps_what_was_typed(
    client_for, visit, persona, request
):
    ScreeningFactory(patient=visit.patient, recent_fracture=True, outcome=Screening.Outcome.DEFERRED)
    data = session_post(
        visit, injections=[injection_row(site("MCL femoral"), volume="3.5")], notes="Typed before the refusal"
    )

    response = client_for(request.getfixturevalue(persona)).post(
        url(visit), {**data, "confirm-screening": "I accept the risk"}
    )

    assert response.status_code == 200
    assert "No injection: recent fracture" in response.text
    assert "Typed before the refusal" in response.text and 'value="3.5"' in response.text
    assert "Injecting needs a screening override" not in response.text
    assert not Injection.objects.exists()


def test_a_clinic_admin_cannot_post_a_session_at_all(client_for, clinic_admin, visit):
    ScreeningFactory(patient=visit.patient, active_infection=True, outcome=Screening.Outcome.DEFERRED)
    data = session_post(visit, injections=[injection_row(site("MCL femoral"))])

    assert client_for(clinic_admin).post(url(visit), data).status_code == 403


def test_a_deferred_outcome_refuses_even_without_a_condition_ticked(practitioner, visit):
    ScreeningFactory(patient=visit.patient, outcome=Screening.Outcome.NOT_ELIGIBLE)

    with pytest.raises(ValidationError, match="says “Not eligible”"):
        record(visit, practitioner, injections=[knee_injection()], confirmations=EVERY_REASON)


def test_a_relative_condition_needs_a_reason_then_goes_through(practitioner, visit):
    ScreeningFactory(patient=visit.patient, anticoagulant=True, anticoagulant_drug="Apixaban")

    with pytest.raises(ConfirmationRequired) as needed:
        record(visit, practitioner, injections=[knee_injection()])
    assert (
        "Precautions: anticoagulant or antiplatelet therapy (Apixaban)." in needed.value.warnings[0].details
    )

    record(
        visit, practitioner, injections=[knee_injection()], confirmations={"screening": "Last dose 48 h ago"}
    )
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED and visit.screening_override_reason == "Last dose 48 h ago"


def test_an_assessment_is_saved_despite_an_absolute_contraindication(client_for, practitioner, visit):
    ScreeningFactory(patient=visit.patient, unexplained_mass=True, outcome=Screening.Outcome.DEFERRED)
    client = client_for(practitioner)
    page = client.get(url(visit)).text
    assert 'value="assessment"' in page and 'value="complete"' not in page

    response = client.post(url(visit), session_post(visit, action="assessment", notes="Referred for imaging"))

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED and visit.assessment_only
    assert visit.notes == "Referred for imaging"
    visit.course.refresh_from_db()
    assert visit.course.status == CourseStatus.PLANNED  # an assessment is not a treatment


def test_an_assessment_with_an_injection_is_refused(practitioner, visit):
    ScreeningFactory(patient=visit.patient)

    with pytest.raises(ValidationError, match="An assessment records nothing injected"):
        record(visit, practitioner, injections=[knee_injection()], assessment=True)


# --- The catalogue, edited by clinic admins ----------------------------------------------------------


def test_the_catalogue_is_seeded_from_the_domain_notes(db):
    severities = ScreeningCondition.objects.severities()

    assert {name for name, value in severities.items() if value == ConditionSeverity.ABSOLUTE} == set(
        Screening.DEFER_FIELDS
    )
    assert {name for name, value in severities.items() if value == ConditionSeverity.RELATIVE} == set(
        Screening.PRECAUTION_FIELDS
    )


def test_a_clinic_admin_makes_a_relative_condition_absolute_and_the_rule_follows(
    client_for, practitioner, visit
):
    admin_user = UserFactory(username="clinic.admin", is_staff=True, role=roles.CLINIC_ADMIN)
    row = ScreeningCondition.objects.get(field_name="pregnancy")
    ScreeningFactory(patient=visit.patient, pregnancy=True)
    change = reverse("admin:patients_screeningcondition_change", args=[row.pk])

    response = client_for(admin_user).post(change, {"severity": "absolute", "note": "Clinic policy 2026"})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.severity == ConditionSeverity.ABSOLUTE and row.field_name == "pregnancy"
    with pytest.raises(ValidationError, match="No injection: pregnancy"):
        record(visit, practitioner, injections=[knee_injection()], confirmations=EVERY_REASON)


def test_a_practitioner_cannot_change_the_catalogue(client_for, db):
    practitioner = UserFactory(username="staff.dr", is_staff=True, role=roles.PRACTITIONER)
    row = ScreeningCondition.objects.get(field_name="active_infection")
    change = reverse("admin:patients_screeningcondition_change", args=[row.pk])

    client_for(practitioner).post(change, {"severity": "relative"})

    row.refresh_from_db()
    assert row.severity == ConditionSeverity.ABSOLUTE


def test_an_absolute_condition_cannot_be_screened_as_eligible(client_for, practitioner, db):
    ScreeningCondition.objects.filter(field_name="diabetes").update(severity=ConditionSeverity.ABSOLUTE)
    patient = TreatmentCourseFactory().patient
    response = client_for(practitioner).post(
        reverse("patients:screening-create", args=[patient.pk]),
        {"screened_on": TODAY.isoformat(), "diabetes": "on", "outcome": "eligible", "notes": "Typed"},
    )

    assert response.status_code == 200
    assert "Cannot be eligible with diabetes" in response.text and "Typed" in response.text


# --- Consent --------------------------------------------------------------------------------------------


def test_the_first_injection_without_consent_is_refused_and_the_page_keeps_what_was_typed(
    client_for, practitioner
):
    course = TreatmentCourseFactory(practitioner=practitioner, consent=None, status=CourseStatus.PLANNED)
    visit = TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.CHECKED_IN)
    ScreeningFactory(patient=course.patient)
    data = session_post(
        visit,
        injections=[injection_row(site("MCL femoral"), volume="4.5")],
        medication_notes="Paracetamol only",
    )

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert "No injection: no consent on file covers the first treatment of this course" in response.text
    assert "Paracetamol only" in response.text and 'value="4.5"' in response.text
    assert not Injection.objects.exists()
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN


def test_a_consent_signed_after_the_treatment_day_does_not_cover_it(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner, consent=None, status=CourseStatus.PLANNED)
    course.consent = ConsentFactory(patient=course.patient, consented_on=TODAY)
    course.save()
    yesterday = timezone.now() - datetime.timedelta(days=1)
    visit = TreatmentSessionFactory(
        course=course,
        sequence=1,
        status=SessionStatus.CHECKED_IN,
        starts_at=yesterday,
        ends_at=yesterday + datetime.timedelta(minutes=30),
    )
    ScreeningFactory(patient=course.patient, screened_on=TODAY - datetime.timedelta(days=3))

    with pytest.raises(ValidationError, match="is dated after this treatment"):
        record(visit, practitioner, injections=[knee_injection()], confirmations=EVERY_REASON)


def test_a_consent_on_file_for_the_patient_covers_a_course_without_one_linked(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner, consent=None, status=CourseStatus.PLANNED)
    ConsentFactory(patient=course.patient, consented_on=course.start_date - datetime.timedelta(days=10))
    visit = TreatmentSessionFactory(course=course, sequence=1, status=SessionStatus.CHECKED_IN)
    ScreeningFactory(patient=course.patient)

    record(visit, practitioner, injections=[knee_injection()])

    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED


def test_later_treatments_are_not_asked_for_consent_again(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner, consent=None)
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    visit = TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)
    ScreeningFactory(patient=course.patient)

    record(visit, practitioner, injections=[knee_injection()])

    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED


# --- Allergies against ingredients and excipients -------------------------------------------------------


def lidocaine(*, multi_dose):
    product = ProductFactory(
        name="Lidocaine 1%",
        product_type=Product.ProductType.ANAESTHETIC,
        stock_concentration_percent=1,
        local_anaesthetic=True,
        parabens=Product.Parabens.MULTI_DOSE,
    )
    return LotFactory(product=product, multi_dose=multi_dose, lot_number="MD1" if multi_dose else "SD1")


def test_a_latex_allergy_refuses_a_lot_with_a_latex_stopper_and_keeps_the_row(
    client_for, practitioner, visit
):
    ScreeningFactory(patient=visit.patient, allergy_latex=True)
    stopper = LotFactory(
        product=ProductFactory(name="Dextrose 50% (rubber stopper)", latex=True), lot_number="LTX9"
    )
    data = session_post(
        visit,
        components=[{"lot": stopper.pk, "volume_ml": "2.25"}],
        injections=[injection_row(site("MCL femoral"))],
    )

    response = client_for(practitioner).post(url(visit), {**data, "confirm-screening": "Mild only"})

    assert response.status_code == 200
    assert "Latex allergy: Dextrose 50% (rubber stopper) lot LTX9 has natural rubber latex" in response.text
    assert "choose another product or lot" in response.text
    assert 'value="2.25"' in response.text
    assert not PreparationComponent.objects.exists() and not Injection.objects.exists()


def test_a_paraben_allergy_refuses_a_multi_dose_anaesthetic_vial(practitioner, visit):
    ScreeningFactory(patient=visit.patient, allergy_parabens=True)
    lot = lidocaine(multi_dose=True)

    with pytest.raises(ValidationError) as refused:
        record(
            visit,
            practitioner,
            components=[{"lot": lot, "volume_ml": 2}],
            injections=[knee_injection()],
            confirmations=EVERY_REASON,
        )

    assert "Parabens allergy: Lidocaine 1% lot MD1 is preserved with parabens" in str(refused.value)
    assert not PreparationComponent.objects.exists()


def test_a_paraben_allergy_allows_a_single_dose_preservative_free_vial(practitioner, visit):
    ScreeningFactory(patient=visit.patient, allergy_parabens=True)

    record(
        visit,
        practitioner,
        components=[{"lot": lidocaine(multi_dose=False), "volume_ml": 2}],
        injections=[knee_injection()],
    )

    assert PreparationComponent.objects.count() == 1


def test_another_allergy_is_checked_against_the_listed_ingredients(practitioner, visit):
    ScreeningFactory(patient=visit.patient, allergy_other="Penicillin, phenol")
    p2g = LotFactory(
        product=ProductFactory(
            name="P2G test", product_type=Product.ProductType.P2G, other_ingredients="glycerine, phenol"
        ),
        lot_number="P2G-1",
    )

    with pytest.raises(ValidationError, match="Allergy to phenol: P2G test lot P2G-1 contains it"):
        record(visit, practitioner, components=[{"lot": p2g, "volume_ml": 1}], confirmations=EVERY_REASON)


def test_another_allergy_naming_a_product_is_checked_against_its_name(practitioner, visit):
    ScreeningFactory(patient=visit.patient, allergy_other="Bupivacaine")
    lot = LotFactory(
        product=ProductFactory(
            name="Bupivacaine 0.25%",
            product_type=Product.ProductType.ANAESTHETIC,
            stock_concentration_percent="0.25",
        ),
        lot_number="BU-1",
    )

    with pytest.raises(
        ValidationError, match=re.escape("Allergy to bupivacaine: Bupivacaine 0.25% lot BU-1")
    ):
        record(visit, practitioner, components=[{"lot": lot, "volume_ml": 1}], confirmations=EVERY_REASON)


def test_the_seeded_products_carry_their_allergens(db):
    products = {product.name: product for product in Product.objects.all()}

    assert products["Dextrose 50%"].corn_derived
    assert products["Sodium morrhuate 5%"].fish_derived
    assert products["Lidocaine 1%"].local_anaesthetic
    assert products["Lidocaine 1%"].parabens == Product.Parabens.MULTI_DOSE
    assert products["Ropivacaine 0.2%"].parabens == Product.Parabens.NONE


# --- The banner on every page where a visit is planned or given -----------------------------------------


@pytest.fixture
def blocked_course(practitioner):
    course = TreatmentCourseFactory(practitioner=practitioner, consent=None, status=CourseStatus.PLANNED)
    ScreeningFactory(
        patient=course.patient,
        active_infection=True,
        diabetes=True,
        allergy_latex=True,
        outcome=Screening.Outcome.DEFERRED,
    )
    return course


def banner(page):
    return page.split('aria-label="Clinical alerts"')[1].split("</section>")[0]


@pytest.mark.parametrize("where", ["patient", "course", "session"])
def test_the_banner_shows_blocks_precautions_allergies_and_consent(
    client_for, practitioner, blocked_course, where
):
    visit = TreatmentSessionFactory(course=blocked_course, sequence=1)
    page_url = {
        "patient": reverse("patients:patient-detail", args=[blocked_course.patient_id]),
        "course": reverse("courses:course-detail", args=[blocked_course.pk]),
        "session": url(visit),
    }[where]

    alerts = banner(client_for(practitioner).get(page_url).text)

    assert "Deferred: do not inject" in alerts and "Active local or systemic infection" in alerts
    assert "Precautions:" in alerts and "Diabetes" in alerts
    assert "Latex allergy" in alerts
    assert "No consent on file" in alerts


def test_the_booking_page_tells_front_desk_a_practitioner_must_review_without_clinical_details(
    client_for, front_desk, blocked_course
):
    page = client_for(front_desk).get(reverse("scheduling:course-book", args=[blocked_course.pk])).text

    assert 'aria-label="Booking alerts"' in page
    assert "a practitioner must review" in page and "Consent not on file" in page
    assert "infection" not in page.lower() and "Latex" not in page and "Diabetes" not in page


def test_the_booking_page_shows_the_full_banner_to_clinical_staff(client_for, blocked_course):
    booker = UserFactory(username="booking.dr", role=roles.PRACTITIONER)
    booker.groups.add(*UserFactory(username="desk.2", role=roles.FRONT_DESK).groups.all())

    page = client_for(booker).get(reverse("scheduling:course-book", args=[blocked_course.pk])).text

    assert "Active local or systemic infection" in banner(page)


def test_a_course_with_consent_and_a_clear_screening_shows_no_refusal(client_for, practitioner, course):
    ScreeningFactory(patient=course.patient)

    alerts = banner(client_for(practitioner).get(reverse("courses:course-detail", args=[course.pk])).text)

    assert "do not inject" not in alerts.lower() and "Consent" not in alerts


def test_clinic_admins_list_the_catalogue_but_add_or_delete_no_rows(client_for, db):
    admin_user = UserFactory(username="clinic.admin", is_staff=True, role=roles.CLINIC_ADMIN)
    client = client_for(admin_user)

    page = client.get(reverse("admin:patients_screeningcondition_changelist"))

    assert page.status_code == 200
    assert "Active local or systemic infection" in page.text and "Pregnancy" in page.text
    assert client.get(reverse("admin:patients_screeningcondition_add")).status_code == 403
    row = ScreeningCondition.objects.first()
    assert client.post(reverse("admin:patients_screeningcondition_delete", args=[row.pk])).status_code == 403
    assert ScreeningCondition.objects.count() == len(Screening.CONDITION_FIELDS)


def test_the_screening_form_groups_conditions_as_the_catalogue_says(client_for, practitioner):
    ScreeningCondition.objects.filter(field_name="pregnancy").update(severity=ConditionSeverity.ABSOLUTE)
    patient = TreatmentCourseFactory().patient

    page = client_for(practitioner).get(reverse("patients:screening-create", args=[patient.pk])).text

    absolute = page.split("Absolute: no injection today")[1].split("Relative:")[0]
    assert "Pregnancy" in absolute and "Active local or systemic infection" in absolute
    assert "Diabetes" not in absolute
