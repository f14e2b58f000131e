"""The cached reports: served again without the report queries, and never after a write they could show."""

import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.changes import Change, changed
from courses import services
from courses.models import Condition, OutcomeInstrument, SessionStatus, Timepoint, TreatmentSession
from courses.session_services import session_record
from outcomes.models import ReportVersion
from outcomes.versions import report_version
from tests.factories import SideEffectTermFactory, TreatmentSessionFactory
from tests.outcomes.conftest import KNEE, admin_save

SECTION = "outcomes/_dashboard_tab.html"
HEADLINE = "outcomes/_dashboard_headline.html"
# The application's own bump (tests/outcomes/conftest.py makes every write bump at once instead).
REAL_REPORT_DATA_CHANGED = __import__("outcomes.versions", fromlist=["x"]).report_data_changed
DASHBOARD = reverse("outcomes:dashboard")


def figures(response):
    """The page's figures (the frame around them carries a per-request CSP nonce)."""
    return response.content.decode().split("Headline figures", 1)[1].split("<script", 1)[0]


def whole_report(client):
    """The figures of every section of the dashboard."""
    from outcomes.views import TABS

    return "".join(figures(client.get(DASHBOARD, {"tab": tab})) for tab in TABS)


def rendered(response):
    """True when the request computed the figures (a cache miss of the headline and the section)."""
    names = [template.name for template in response.templates]
    return HEADLINE in names and SECTION in names


def test_a_second_request_is_served_from_the_cache(clinic_admin, client_for, clinic_data):
    client = client_for(clinic_admin)
    with CaptureQueriesContext(connection) as cold:
        first = client.get(DASHBOARD)
    with CaptureQueriesContext(connection) as warm:
        second = client.get(DASHBOARD)

    assert rendered(first) and not rendered(second)
    assert figures(second) == figures(first)
    # The session, the user and their permissions, the version, the form's two choice lists.
    assert len(warm) <= 7 < len(cold)


def test_a_cached_report_does_not_even_build_the_course_queryset(
    clinic_admin, client_for, clinic_data, monkeypatch
):
    client = client_for(clinic_admin)
    client.get(DASHBOARD)
    client.get(reverse("outcomes:csv", args=["pain-by-session"]))

    def not_needed(*args, **kwargs):
        raise AssertionError("the figures were cached")

    monkeypatch.setattr("outcomes.selectors.outcome_courses", not_needed)
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(reverse("outcomes:csv", args=["pain-by-session"])).status_code == 200


def test_charts_and_csvs_reuse_the_dashboards_tables_and_every_download_is_logged(
    clinic_admin, client_for, clinic_data
):
    client = client_for(clinic_admin)
    client.get(DASHBOARD, {"tab": "pain"})
    logged = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()

    with CaptureQueriesContext(connection) as chart:
        assert client.get(reverse("outcomes:chart-data", args=["pain-by-session"])).status_code == 200
    first = client.get(reverse("outcomes:csv", args=["responders-condition"]))
    second = client.get(reverse("outcomes:csv", args=["responders-condition"]))

    assert not any("outcomes_coursesessioncount" in query["sql"] for query in chart)
    assert first.content == second.content and KNEE in first.content.decode()
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == logged + 2


def test_a_table_asked_for_alone_is_cached_alone(clinic_admin, client_for, clinic_data):
    client = client_for(clinic_admin)
    url = reverse("outcomes:chart-data", args=["side-effects-term"])
    with CaptureQueriesContext(connection) as cold:
        first = client.get(url)
    with CaptureQueriesContext(connection) as warm:
        second = client.get(url)

    assert first.json() == second.json()
    assert len(warm) < len(cold)


def test_a_practitioner_never_gets_the_clinics_report(clinic_admin, practitioner, client_for, clinic_data):
    client_for(clinic_admin).get(DASHBOARD)
    response = client_for(practitioner).get(DASHBOARD)

    assert rendered(response)
    assert response.context["headline"]["n"] == 4  # their own courses, not the clinic's 8


def test_filters_have_their_own_entries(clinic_admin, client_for, clinic_data):
    client = client_for(clinic_admin)
    client.get(DASHBOARD)
    knee = Condition.objects.get(name=KNEE)

    response = client.get(DASHBOARD, {"condition": knee.pk})

    assert rendered(response)
    assert response.context["headline"]["n"] == 4
    assert not rendered(client.get(DASHBOARD, {"condition": knee.pk}))


def _checked_in_visit(course):
    return TreatmentSessionFactory(
        course=course,
        sequence=course.sessions.count() + 1,
        status=SessionStatus.CHECKED_IN,
        starts_at=timezone.now() - datetime.timedelta(hours=1),
    )


def _record(session, user, side_effects=()):
    return session_record(
        session=session,
        data={"pain_pre": 2, "complete": True},
        components=[],
        injections=[],
        side_effects=list(side_effects),
        recorded_by=user,
        expected_version=session.version,
        confirmations={"spacing": "Agreed", "screening": "Checked", "count": "Planned"},
    )


def log_session(data, user):
    _record(_checked_in_visit(data["c8"]), user)


def _side_effect_visit(data):
    """A checked-in visit of C8 and a side effect to report there, attributed to its first session."""
    course = data["c8"]
    earlier = course.sessions.filter(status=SessionStatus.COMPLETED).order_by("starts_at").first()
    effect = {
        "term": SideEffectTermFactory(name="Dizziness"),
        "attributed_session": earlier,
        "onset_date": timezone.localdate(),
        "resolved_date": None,
        "severity": 1,
        "serious": False,
        "serious_criterion": "",
        "site": None,
        "laterality": "",
        "action_taken": "none",
        "outcome": "resolved",
        "relatedness": "possibly",
        "notes": "",
    }
    return _checked_in_visit(course), effect


def add_side_effect(data, user):
    visit, effect = _side_effect_visit(data)
    _record(visit, user, [effect])


def void_side_effect(data, user):
    effect = data["c1"].sessions.get(sequence=1).side_effects.get()
    session = effect.reported_session
    session_record(
        session=session,
        data={"complete": True},
        components=[],
        injections=[],
        side_effects=[{"id": effect.pk, "void_reason": "Wrong patient"}],
        recorded_by=user,
        expected_version=session.version,
        confirmations={"spacing": "Agreed", "screening": "Checked", "count": "Planned"},
    )


def record_score(data, user):
    services.outcome_score_record(
        course=data["c6"],
        instrument=OutcomeInstrument.objects.get(code=OutcomeInstrument.PAIN_NRS_CODE),
        score=Decimal("1"),
        timepoint=Timepoint.BETWEEN,
        recorded_by=user,
    )


def void_score(data, user):
    score = data["c1"].scores.get(instrument__code=OutcomeInstrument.PAIN_NRS_CODE)
    services.outcome_score_void(score=score, by=user, reason="Wrong course")


def complete_course(data, user):
    services.course_complete(course=data["c6"], by=user)


def rename_condition(data, user):
    admin_save(Condition.objects.get(name=KNEE), name="Knee OA (renamed)")


def edit_mcid(data, user):
    admin_save(
        OutcomeInstrument.objects.get(code=OutcomeInstrument.PAIN_NRS_CODE),
        mcid_absolute=Decimal("6"),
        mcid_relative_percent=None,
    )


@pytest.mark.parametrize(
    "write",
    [
        log_session,
        add_side_effect,
        void_side_effect,
        record_score,
        void_score,
        complete_course,
        rename_condition,
        edit_mcid,
    ],
)
def test_each_kind_of_write_invalidates_the_cached_report(
    write, clinic_admin, practitioner, client_for, clinic_data
):
    client = client_for(clinic_admin)
    before = whole_report(client)
    assert not rendered(client.get(DASHBOARD))
    version = report_version()

    write(clinic_data, practitioner)

    assert rendered(client.get(DASHBOARD))
    assert report_version() != version
    assert whole_report(client) != before


def test_the_figures_after_a_write_are_the_new_ones(clinic_admin, practitioner, client_for, clinic_data):
    client = client_for(clinic_admin)
    # At the primary timepoint (3 months) C1 (8 -> 3) is the one course scored, and it responds.
    assert client.get(DASHBOARD).context["primary"]["tally"].mcid == 1

    edit_mcid(clinic_data, practitioner)

    # With an MCID of 6 points and no relative MCID, 5 points is not enough.
    assert client.get(DASHBOARD).context["primary"]["tally"].mcid == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transaction_bumps_the_version_once_after_it_commits(monkeypatch, practitioner, clinic_data):
    from outcomes import versions

    monkeypatch.setattr(versions, "report_data_changed", REAL_REPORT_DATA_CHANGED)
    visit, effect = _side_effect_visit(clinic_data)
    version = ReportVersion.objects.get()
    with CaptureQueriesContext(connection) as queries:
        # The session, its side effect, the course's summary and counts: one transaction.
        _record(visit, practitioner, [effect])

    bumps = [q for q in queries if q["sql"].startswith("UPDATE") and "outcomes_reportversion" in q["sql"]]
    assert len(bumps) == 1
    # The bump is the last statement, after the commit: no save holds the counter's row lock, so two
    # practitioners saving at once never wait for each other on it.
    assert "outcomes_reportversion" in queries[-1]["sql"]
    assert ReportVersion.objects.get().version == version.version + 1
    # The next transaction bumps again.
    record_score(clinic_data, practitioner)
    assert ReportVersion.objects.get().version == version.version + 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_save_bumps_nothing(monkeypatch, practitioner, clinic_data):
    from django.db import transaction

    from outcomes import versions

    monkeypatch.setattr(versions, "report_data_changed", REAL_REPORT_DATA_CHANGED)
    version = ReportVersion.objects.get().version

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        record_score(clinic_data, practitioner)
        # Inside the transaction the counter is untouched (and unlocked).
        assert ReportVersion.objects.get().version == version
        raise Undo
    assert ReportVersion.objects.get().version == version


def test_a_booking_changes_no_report(clinic_admin, front_desk, client_for, clinic_data):
    """Visits booked, moved or cancelled change no figure: the cached report stays."""
    from scheduling import diary

    client = client_for(clinic_admin)
    visit = _checked_in_visit(clinic_data["c6"])
    client.get(DASHBOARD)
    version = report_version()
    # Only the service's own announcement counts here, not the test data's save hook (conftest).
    post_save.disconnect(sender=TreatmentSession, dispatch_uid="outcomes-test-TreatmentSession")
    heard = []
    changed.connect(
        lambda sender, what, **kw: heard.append(what), sender=Change, weak=False, dispatch_uid="t"
    )
    try:
        diary.visit_cancel(session=visit, reason="Unwell", by=front_desk)
    finally:
        changed.disconnect(sender=Change, dispatch_uid="t")
    assert heard == [{Change.DIARY}]
    assert report_version() == version
    assert not rendered(client.get(DASHBOARD))
