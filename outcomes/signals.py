"""Writes that bypass the services' own summary refresh, and the report data version.

Registered by OutcomesConfig.ready(). They run inside the transaction of the save that sends them, so the
summary and the version change with the data or not at all.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from clinic.models import User
from courses.models import (
    Condition,
    CourseExtension,
    Injection,
    InjectionSite,
    Lot,
    OutcomeInstrument,
    OutcomeScore,
    PreparationComponent,
    Product,
    ProtocolSettings,
    SessionStatus,
    SideEffect,
    SideEffectTerm,
    TreatmentCourse,
    TreatmentSession,
)
from outcomes import summary
from outcomes.versions import report_data_changed

# Every row a report figure or label is computed from (practitioner names included).
REPORT_INPUTS = (
    TreatmentCourse,
    CourseExtension,
    TreatmentSession,
    PreparationComponent,
    Injection,
    SideEffect,
    OutcomeScore,
    Condition,
    InjectionSite,
    Product,
    Lot,
    SideEffectTerm,
    OutcomeInstrument,
    ProtocolSettings,
    User,
)
# A save of only these course fields (activating a course, its first completed session) changes no summary
# input but whether the course is open.
STATUS_ONLY = {"status", "is_protocol_deviation", "updated_at"}


def course_saved(sender, instance, created, update_fields=None, raw=False, **kwargs):
    if raw:
        return
    if created:
        summary.course_outcome_create(instance)
    elif update_fields and set(update_fields) <= STATUS_ONLY:
        if not summary.course_status_refresh(instance):
            summary.course_outcome_refresh(instance)
    else:
        # Baselines, stop reason, instrument and start date feed the flags and the weeks-since-start windows.
        summary.course_outcome_refresh(instance)


def side_effect_saved(sender, instance, raw=False, **kwargs):
    """A side effect can be attributed to a session of another course than the visit that reports it, or be
    reported at a visit that is not completed: then no service refreshes the course it is attributed to, so
    its counts are refreshed here. Reported and attributed within one completed visit's course, session_record
    refreshes that course after saving its rows, so nothing is read here per row."""
    if raw:
        return
    attributed, reported = instance.attributed_session, instance.reported_session
    if attributed.course_id == reported.course_id and reported.status == SessionStatus.COMPLETED:
        return
    summary.course_side_effects_refresh(attributed.course_id)


def instrument_saved(sender, instance, created, raw=False, **kwargs):
    """An MCID or scale edit changes the response flags of every course; a new instrument none."""
    if not raw and not created:
        summary.course_flags_rebuild()


def user_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    # Signing in saves last_login: no name changed.
    if not raw and set(update_fields or ()) != {"last_login"}:
        report_data_changed()


def roles_changed(sender, action, **kwargs):
    # The practitioner filter lists the users in the practitioner role.
    if action in ("post_add", "post_remove", "post_clear"):
        report_data_changed()


def report_input_changed(sender, raw=False, **kwargs):
    if not raw:
        report_data_changed()


def connect():
    post_save.connect(course_saved, sender=TreatmentCourse, dispatch_uid="outcomes-course-summary")
    post_save.connect(side_effect_saved, sender=SideEffect, dispatch_uid="outcomes-side-effect-counts")
    post_save.connect(instrument_saved, sender=OutcomeInstrument, dispatch_uid="outcomes-instrument-flags")
    m2m_changed.connect(
        roles_changed, sender=User.groups.through, dispatch_uid="outcomes-report-version-roles"
    )
    for model in REPORT_INPUTS:
        uid = f"outcomes-report-version-{model._meta.label_lower}"
        if model is User:
            post_save.connect(user_saved, sender=User, dispatch_uid=uid)
        else:
            post_save.connect(report_input_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(report_input_changed, sender=model, dispatch_uid=f"{uid}-delete")
