"""Drill-down: the courses behind each dashboard figure, as a filter on the annotated course queryset."""

import datetime

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from courses.models import CourseStatus, ProtocolSettings, SessionStatus, SideEffect, TreatmentSession
from outcomes import responders, selectors
from outcomes.dbfunctions import DaysBetween
from outcomes.models import CourseTimepoint

FIGURES = {
    "all": "All courses",
    "active": "Active courses",
    "completed": "Completed courses",
    "closed": "Completed or stopped courses",
    "stopped": "Stopped courses",
    "dropped-out": "Dropped out (stopped for no response, an adverse event, patient choice or lost)",
    "sessions-this-month": "Courses with a session completed this month",
    "evaluable": "Courses evaluable for response (a pain score after baseline)",
    "evaluable-50": "Courses evaluable for ≥ 50 % response (baseline pain above 0)",
    "responders-mcid": "Responders ≥ MCID",
    "responders-50": "Responders ≥ 50 %",
    "baseline-zero": "Baseline pain 0 (not evaluable for ≥ 50 %)",
    "lost": "Lost to follow-up",
    "awaiting": "Awaiting follow-up",
    "instrument-evaluable": "Evaluable on their outcome instrument",
    "instrument-responders": "Instrument responders ≥ MCID",
    "instrument-evaluable-50": "Evaluable on their outcome instrument for ≥ 50 % (room to improve)",
    "instrument-responders-50": "Instrument responders ≥ 50 %",
    "instrument-lost": "Lost to follow-up on their outcome instrument",
    "instrument-awaiting": "Awaiting follow-up on their outcome instrument",
    "side-effects": "Courses with side effects",
    "serious": "Courses with serious events",
    "deviation": "Protocol deviations",
    "interval-outside": "Courses with an interval between sessions outside the spacing window",
    # At a protocol timepoint on an outcome measure (the "Responders at" and "Outcome measure" filters).
    "tp-treated": "Courses with a treatment",
    "tp-due": "Courses due at the timepoint (intention-to-treat: scored or missing)",
    "tp-scored": "Courses scored in the timepoint's window (available cases)",
    "tp-missing": "Courses missing the timepoint (window closed without a score)",
    "tp-awaiting": "Courses awaiting the timepoint (window not closed yet)",
    "tp-responders-mcid": "Responders ≥ MCID at the timepoint",
    "tp-responders-50": "Responders ≥ 50 % at the timepoint",
    "tp-pp-responders-mcid": "Responders ≥ MCID at the timepoint, completed within the protocol",
    "tp-pp-responders-50": "Responders ≥ 50 % at the timepoint, completed within the protocol",
}


def _timepoint_filter(figure, filters):
    timepoint, instrument = responders.reading(filters)
    today = timezone.localdate()
    condition = {
        "tp-treated": Q(),
        "tp-due": responders.due(today),
        "tp-scored": responders.scored(),
        "tp-missing": responders.missing(today),
        "tp-awaiting": responders.awaiting(today),
        "tp-responders-mcid": Q(meets_mcid=True),
        "tp-responders-50": Q(meets_half=True),
        "tp-pp-responders-mcid": Q(meets_mcid=True),
        "tp-pp-responders-50": Q(meets_half=True),
    }[figure]
    values = CourseTimepoint.objects.filter(
        condition, course=OuterRef("pk"), timepoint=timepoint, instrument=instrument
    )
    found = Exists(values)
    if figure.startswith("tp-pp-"):
        return found & responders.per_protocol(prefix="")
    return found


def _side_effect_filter(filters, *, serious=False):
    effects = SideEffect.objects.filter(
        attributed_session__course=OuterRef("pk"), attributed_session__status=SessionStatus.COMPLETED
    )
    if serious:
        effects = effects.filter(serious=True)
    if filters.get("term"):
        effects = effects.filter(term=filters["term"])
    if filters.get("severity"):
        effects = effects.filter(severity=filters["severity"])
    if filters.get("session_band"):
        effects = effects.annotate(
            session_band=selectors.band_of("attributed_session__final_dextrose_percent")
        ).filter(session_band=filters["session_band"])
    if filters.get("region") == "none":
        effects = effects.filter(site__isnull=True)
    elif filters.get("region"):
        effects = effects.filter(site__region=filters["region"])
    return Exists(effects)


def _interval_outside():
    protocol = ProtocolSettings.load()
    completed = TreatmentSession.objects.filter(status=SessionStatus.COMPLETED)
    previous_day = (
        completed.filter(course=OuterRef("course"), starts_at__lt=OuterRef("starts_at"))
        .order_by("-starts_at")
        .annotate(day=TruncDate("starts_at"))
        .values("day")[:1]
    )
    outside = (
        completed.filter(course=OuterRef("pk"))
        .annotate(previous_day=Subquery(previous_day))
        .filter(previous_day__isnull=False)
        .annotate(gap=DaysBetween(TruncDate("starts_at"), F("previous_day")))
        .exclude(gap__gte=protocol.min_interval_days, gap__lte=protocol.max_interval_days)
    )
    return Exists(outside)


def figure_filter(figure, filters):
    """A Q (or expression) selecting the courses behind a figure; None for every course."""
    if figure == "active":
        return Q(status=CourseStatus.ACTIVE)
    if figure == "completed":
        return Q(status=CourseStatus.COMPLETED)
    if figure == "closed":
        return Q(status__in=selectors.CLOSED)
    if figure == "stopped":
        return Q(status=CourseStatus.STOPPED)
    if figure == "dropped-out":
        return selectors.DROPPED_OUT
    if figure == "sessions-this-month":
        today = timezone.localdate()
        month_start = timezone.make_aware(datetime.datetime.combine(today.replace(day=1), datetime.time.min))
        return Exists(
            TreatmentSession.objects.filter(
                course=OuterRef("pk"), status=SessionStatus.COMPLETED, starts_at__gte=month_start
            )
        )
    if figure == "evaluable":
        return selectors.EVALUABLE
    if figure == "evaluable-50":
        return selectors.EVALUABLE_50
    if figure == "responders-mcid":
        return selectors.RESPONDER_MCID
    if figure == "responders-50":
        return selectors.RESPONDER_50
    if figure == "baseline-zero":
        return selectors.BASELINE_ZERO
    if figure == "lost":
        return selectors.LOST
    if figure == "awaiting":
        return selectors.AWAITING
    if figure == "instrument-evaluable":
        return selectors.INSTRUMENT_EVALUABLE
    if figure == "instrument-responders":
        return selectors.INSTRUMENT_RESPONDER
    if figure == "instrument-evaluable-50":
        return selectors.INSTRUMENT_EVALUABLE_50
    if figure == "instrument-responders-50":
        return selectors.INSTRUMENT_RESPONDER_50
    if figure == "instrument-lost":
        return selectors.INSTRUMENT_LOST
    if figure == "instrument-awaiting":
        return selectors.INSTRUMENT_AWAITING
    if figure == "side-effects":
        return _side_effect_filter(filters)
    if figure == "serious":
        return _side_effect_filter(filters, serious=True)
    if figure == "deviation":
        return Q(is_protocol_deviation=True)
    if figure == "interval-outside":
        return _interval_outside()
    if figure.startswith("tp-"):
        return _timepoint_filter(figure, filters)
    return None
