"""One patient's pain and instrument scores across all their courses, for the patient page chart."""

from django.utils import timezone

from courses.models import OutcomeInstrument, OutcomeScore, SessionStatus, Timepoint, TreatmentSession


def patient_trend(patient):
    """{"labels": [dates], "datasets": [{label, axis, points: [{x, y}]}], "rows": [...]} for one patient."""
    courses = list(
        patient.courses.select_related("condition", "outcome_instrument").order_by("start_date", "pk")
    )
    sessions = TreatmentSession.objects.filter(
        course__patient=patient, status=SessionStatus.COMPLETED
    ).order_by("starts_at")
    scores = (
        OutcomeScore.objects.filter(course__patient=patient)
        .exclude(timepoint=Timepoint.BASELINE)
        .select_related("instrument")
        .order_by("recorded_on", "id")
    )
    labels = {course.pk: f"{course} from {course.start_date:%d %b %Y}" for course in courses}
    series = {}
    rows = []

    def add(course_id, code, higher_is_better, day, value, source):
        key = (course_id, code)
        if key not in series:
            unit = "pain NRS" if code == OutcomeInstrument.PAIN_NRS_CODE else code
            series[key] = {
                "label": f"{labels[course_id]} · {unit}",
                "axis": "pain" if code == OutcomeInstrument.PAIN_NRS_CODE else "instrument",
                "higher_is_better": higher_is_better,
                "points": [],
            }
        series[key]["points"].append({"x": day.isoformat(), "y": float(value)})
        rows.append(
            {
                "date": day.isoformat(),
                "course": labels[course_id],
                "measure": code,
                "score": float(value),
                "source": source,
            }
        )

    for course in courses:
        add(
            course.pk,
            OutcomeInstrument.PAIN_NRS_CODE,
            False,
            course.start_date,
            course.baseline_pain,
            "Baseline",
        )
        if course.outcome_instrument and course.baseline_instrument_score is not None:
            instrument = course.outcome_instrument
            add(
                course.pk,
                instrument.code,
                instrument.higher_is_better,
                course.start_date,
                course.baseline_instrument_score,
                "Baseline",
            )
    for session in sessions:
        add(
            session.course_id,
            OutcomeInstrument.PAIN_NRS_CODE,
            False,
            timezone.localtime(session.starts_at).date(),
            session.pain_pre,
            f"Session {session.sequence}",
        )
    for score in scores:
        add(
            score.course_id,
            score.instrument.code,
            score.instrument.higher_is_better,
            score.recorded_on,
            score.score,
            score.get_timepoint_display(),
        )
    for dataset in series.values():
        dataset["points"].sort(key=lambda point: point["x"])
    rows.sort(key=lambda row: (row["date"], row["course"], row["measure"]))
    return {
        "labels": sorted({row["date"] for row in rows}),
        "datasets": list(series.values()),
        "rows": rows,
    }
