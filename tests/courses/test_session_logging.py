"""The session-logging page: a whole visit saved at once, or nothing saved at all."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import (
    CourseStatus,
    Injection,
    InjectionSite,
    PreparationComponent,
    SessionStatus,
    SideEffect,
)
from tests.factories import (
    InjectionFactory,
    LotFactory,
    PreparationComponentFactory,
    ProductFactory,
    ScreeningFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)


def session_post(session, *, components=(), injections=(), side_effects=(), action="complete", **fields):
    """POST data for the logging page, with the formsets' management forms filled in."""
    data = {"version": session.version, "action": action, "pain_pre": 6, "guidance": "landmark", **fields}
    for prefix, rows in (
        ("components", components),
        ("injections", injections),
        ("side_effects", side_effects),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return {key: value for key, value in data.items() if value is not None}


def site(name, region="knee"):
    return InjectionSite.objects.get(region=region, name=name)


def injection_row(site_obj, volume="2", **extra):
    return {"site": site_obj.pk, "laterality": "right", "volume_ml": volume, "needle_gauge": 27, **extra}


@pytest.fixture
def lots(db):
    return {
        "dextrose": LotFactory(product=ProductFactory(name="Dextrose 50%")),
        "lidocaine": LotFactory(product=ProductFactory(name="Lidocaine 1%")),
        "saline": LotFactory(product=ProductFactory(name="Sodium chloride 0.9% (saline)")),
    }


@pytest.fixture
def visit(practitioner):
    """Session 2 of a 14-day course, today, with session 1 completed 14 days ago and a clean screening."""
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        start_date=timezone.localdate() - datetime.timedelta(days=14),
        interval_days=14,
        planned_sessions=6,
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def url(session):
    return reverse("courses:session-log", args=[session.pk])


def preparation(lots):
    # 3 mL of 50% dextrose + 2 mL of 1% lidocaine + 5 mL saline = 10 mL at 15% dextrose and 0.2% lidocaine.
    return [
        {"lot": lots["dextrose"].pk, "volume_ml": "3"},
        {"lot": lots["lidocaine"].pk, "volume_ml": "2"},
        {"lot": lots["saline"].pk, "volume_ml": "5"},
    ]


def three_sites():
    return [
        injection_row(site("MCL femoral"), "3"),
        injection_row(site("Pes anserine"), "2.5"),
        injection_row(site("Knee intra-articular"), "4.5", needle_gauge=22, passes=1),
    ]


def test_it_logs_a_completed_session_with_a_15_percent_dextrose_lidocaine_preparation_and_three_sites(
    client_for, practitioner, visit, lots
):
    data = session_post(
        visit,
        components=preparation(lots),
        injections=three_sites(),
        pain_post=3,
        aftercare_nsaid_avoid_days=7,
        aftercare_heat="on",
        notes="Tolerated well.",
    )
    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 302, response.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.COMPLETED
    assert visit.completed_by == practitioner
    assert visit.completed_at is not None
    assert (visit.pain_pre, visit.pain_post) == (6, 3)
    assert visit.final_dextrose_percent == Decimal("15.00")
    assert visit.final_anaesthetic_percent == Decimal("0.200")
    assert visit.total_volume_ml == Decimal("10.00")
    assert visit.aftercare_heat is True and visit.aftercare_nsaid_avoid_days == 7
    assert visit.version == 2
    assert visit.components.count() == 3
    assert sorted(visit.injections.values_list("site__name", flat=True)) == [
        "Knee intra-articular",
        "MCL femoral",
        "Pes anserine",
    ]
    assert set(visit.injections.values_list("created_by", flat=True)) == {practitioner.pk}

    page = client_for(practitioner).get(response["Location"])
    assert "Treatment 2 completed." in page.text
    # Each local anaesthetic is shown with its own final %.
    assert "dextrose 15.00%" in page.text and "Lidocaine 1% 0.200%" in page.text


def test_completing_the_first_session_starts_a_planned_course(client_for, practitioner, lots):
    course = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.PLANNED)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    session = TreatmentSessionFactory(course=course, sequence=1)

    response = client_for(practitioner).post(url(session), session_post(session, injections=three_sites()))

    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_it_saves_a_draft_without_completing(client_for, practitioner, visit):
    response = client_for(practitioner).post(url(visit), session_post(visit, action="save", pain_pre=""))

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN
    assert visit.pain_pre is None
    assert visit.guidance == "landmark"


def test_completing_needs_the_pain_score_before_injecting(client_for, practitioner, visit):
    response = client_for(practitioner).post(url(visit), session_post(visit, pain_pre=""))

    assert response.status_code == 200
    assert "Record the pain score before injecting" in response.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN


def test_the_side_effect_form_defaults_to_the_previous_completed_session(client_for, practitioner, visit):
    previous = visit.course.sessions.get(sequence=1)

    response = client_for(practitioner).get(url(visit))

    template = response.text.split('data-formset="side_effects"')[1]
    assert f'<option value="{previous.pk}" selected>' in template


def test_it_records_a_side_effect_at_the_next_session_attributed_to_the_previous_one(
    client_for, practitioner, visit
):
    previous = visit.course.sessions.get(sequence=1)
    flare = SideEffectTermFactory()
    onset = previous.starts_at.date() + datetime.timedelta(days=1)
    row = {
        "term": flare.pk,
        "attributed_session": previous.pk,
        "onset_date": onset.isoformat(),
        "resolved_date": (onset + datetime.timedelta(days=2)).isoformat(),
        "severity": 2,
        "action_taken": "advice",
        "outcome": "resolved",
        "relatedness": "related",
        "notes": "Ached for two days",
    }

    response = client_for(practitioner).post(
        url(visit), session_post(visit, injections=three_sites(), side_effects=[row])
    )

    assert response.status_code == 302, response.text
    side_effect = SideEffect.objects.get()
    assert side_effect.reported_session == visit
    assert side_effect.attributed_session == previous
    assert side_effect.severity == 2 and side_effect.notes == "Ached for two days"
    assert list(previous.side_effects.all()) == [side_effect]


def test_a_side_effect_cannot_be_attributed_to_another_patients_session(client_for, practitioner, visit):
    other = TreatmentSessionFactory(completed=True)
    row = {
        "term": SideEffectTermFactory().pk,
        "attributed_session": other.pk,
        "onset_date": timezone.localdate().isoformat(),
        "severity": 1,
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "possibly",
    }

    response = client_for(practitioner).post(url(visit), session_post(visit, side_effects=[row]))

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not SideEffect.objects.exists()


def test_an_invalid_injection_row_saves_nothing_and_keeps_every_row_as_typed(
    client_for, practitioner, visit, lots
):
    injections = [*three_sites(), injection_row(site("Patellar tendon"), "25")]
    data = session_post(visit, components=preparation(lots), injections=injections, notes="Typed notes")

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert "Nothing was saved" in response.text
    assert "less than or equal to 20" in response.text
    assert 'value="25"' in response.text and 'value="4.5"' in response.text
    assert "Typed notes" in response.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN and visit.version == 1 and visit.notes == ""
    assert not Injection.all_objects.exists()
    assert not PreparationComponent.all_objects.exists()


@pytest.mark.parametrize(
    ("volume", "accepted"), [("0", False), ("20.01", False), ("0.01", True), ("20", True)]
)
def test_injection_volume_is_above_zero_and_at_most_20_ml(client_for, practitioner, visit, volume, accepted):
    data = session_post(visit, injections=[injection_row(site("MCL femoral"), volume)])

    response = client_for(practitioner).post(url(visit), data)

    assert (response.status_code == 302) is accepted
    assert Injection.objects.exists() is accepted


def test_a_spine_site_needs_a_level(client_for, practitioner, visit):
    facet = site("Facet capsule", region="lumbar_pelvis")

    response = client_for(practitioner).post(
        url(visit), session_post(visit, injections=[injection_row(facet)])
    )

    assert response.status_code == 200
    assert "This is a spine site: give the level" in response.text
    assert not Injection.objects.exists()

    data = session_post(visit, injections=[injection_row(facet, spinal_level="L4–L5")])
    response = client_for(practitioner).post(url(visit), data)
    assert response.status_code == 302
    assert Injection.objects.get().spinal_level == "L4–L5"


def test_rows_removed_in_the_page_are_not_saved(client_for, practitioner, visit):
    rows = [injection_row(site("MCL femoral")), injection_row(site("Pes anserine"), "25", DELETE="on")]

    response = client_for(practitioner).post(url(visit), session_post(visit, injections=rows))

    assert response.status_code == 302
    assert list(Injection.objects.values_list("site__name", flat=True)) == ["MCL femoral"]


def test_completed_sessions_open_read_only_until_edit_is_chosen(client_for, practitioner, visit):
    InjectionFactory(session=visit, site=site("MCL femoral"))
    visit.status, visit.pain_pre = SessionStatus.COMPLETED, 5
    visit.save()
    client = client_for(practitioner)

    read_only = client.get(url(visit))
    assert '<form method="post" novalidate id="session-log-form"' not in read_only.text
    assert "Edit record" in read_only.text and "MCL femoral" in read_only.text

    editing = client.get(url(visit) + "?edit=1")
    assert 'id="session-log-form"' in editing.text
    assert "Void (entered in error)" in editing.text


def test_a_saved_injection_is_voided_with_a_reason_never_deleted(client_for, practitioner, visit):
    wrong = InjectionFactory(session=visit, site=site("MCL femoral"))
    client = client_for(practitioner)

    no_reason = session_post(visit, action="save", **{f"void-injections-{wrong.pk}": "on"})
    response = client.post(url(visit), no_reason)
    assert response.status_code == 200
    assert "Say why this entry is voided." in response.text
    wrong.refresh_from_db()
    assert not wrong.is_voided

    data = session_post(
        visit,
        action="save",
        **{f"void-injections-{wrong.pk}": "on", f"void-injections-{wrong.pk}-reason": "Wrong side"},
    )
    response = client.post(url(visit), data)
    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.is_voided and wrong.void_reason == "Wrong side" and wrong.voided_by == practitioner
    assert Injection.all_objects.filter(pk=wrong.pk).exists()
    visit.refresh_from_db()
    assert visit.total_volume_ml is None


def test_totals_count_saved_rows_and_new_rows_together(client_for, practitioner, visit, lots):
    PreparationComponentFactory(session=visit, lot=lots["dextrose"], volume_ml=Decimal("3"))
    InjectionFactory(session=visit, site=site("MCL femoral"), volume_ml=Decimal("1.5"))
    data = session_post(
        visit,
        components=[{"lot": lots["saline"].pk, "volume_ml": "7"}],
        injections=[injection_row(site("Pes anserine"), "1")],
    )

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.final_dextrose_percent == Decimal("15.00")
    assert visit.final_anaesthetic_percent == Decimal("0.000")
    assert visit.total_volume_ml == Decimal("2.50")


def test_cancelled_sessions_cannot_be_logged(client_for, practitioner, visit):
    visit.status, visit.cancel_reason = SessionStatus.CANCELLED, "Unwell"
    visit.save()

    response = client_for(practitioner).post(url(visit), session_post(visit, injections=three_sites()))

    assert response.status_code == 302
    assert not Injection.objects.exists()
    page = client_for(practitioner).get(url(visit))
    assert "cancelled session cannot be logged" in page.text.lower()


def test_it_answers_404_for_an_unknown_session(client_for, practitioner):
    assert client_for(practitioner).get(reverse("courses:session-log", args=[999999])).status_code == 404


def test_it_refuses_other_methods(client_for, practitioner, visit):
    assert client_for(practitioner).put(url(visit)).status_code == 405


def test_front_desk_cannot_see_or_log_the_clinical_record(client_for, front_desk, visit):
    client = client_for(front_desk)

    assert client.get(url(visit)).status_code == 403
    assert client.post(url(visit), session_post(visit, injections=three_sites())).status_code == 403
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN


def test_clinic_admins_read_the_record_but_cannot_change_it(client_for, clinic_admin, visit):
    client = client_for(clinic_admin)

    page = client.get(url(visit) + "?edit=1")
    assert page.status_code == 200
    assert 'id="session-log-form"' not in page.text
    assert client.post(url(visit), session_post(visit, injections=three_sites())).status_code == 403
    assert not Injection.objects.exists()


def test_people_without_a_role_are_refused(client_for, stranger, visit):
    assert client_for(stranger).get(url(visit)).status_code == 403


def test_untouched_blank_rows_of_the_page_are_ignored(client_for, practitioner, visit):
    page = client_for(practitioner).get(url(visit)).text
    assert f'<option value="{visit.course.laterality}" selected>' in page
    blank_rows = {
        "components": [{"lot": "", "volume_ml": ""}],
        "injections": [{"site": "", "laterality": visit.course.laterality, "volume_ml": ""}],
    }

    response = client_for(practitioner).post(url(visit), session_post(visit, action="save", **blank_rows))

    assert response.status_code == 302
    assert not Injection.objects.exists() and not PreparationComponent.objects.exists()


def test_a_session_cancelled_while_the_page_was_open_is_refused_without_an_error_page(
    client_for, practitioner, visit, monkeypatch
):
    from courses import session_views

    def cancelled_meanwhile(**kwargs):
        from django.core.exceptions import ValidationError

        raise ValidationError("A cancelled session cannot be logged.")

    monkeypatch.setattr(session_views, "session_record", cancelled_meanwhile)

    response = client_for(practitioner).post(url(visit), session_post(visit, injections=three_sites()))

    assert response.status_code == 200
    assert "A cancelled session cannot be logged." in response.text


def test_injection_rows_claimed_but_not_sent_are_a_clear_error_and_nothing_is_saved(
    client_for, practitioner, visit, lots
):
    data = session_post(visit, components=preparation(lots), injections=three_sites())
    data["injections-TOTAL_FORMS"] = 7
    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert "rows but 4 of them were not sent" in response.text
    visit.refresh_from_db()
    assert visit.status == SessionStatus.CHECKED_IN
    assert not Injection.objects.filter(session=visit).exists()
