"""The one place that decides what derived outcome data follows a change announced by a service.

Services announce what changed (clinic.changes.announce) once, at their end, inside their transaction.
Here, for each kind of change:
- the per-course outcome summaries of the courses named are recomputed in that same transaction, so a
  summary never disagrees with the rows it is computed from;
- an instrument's scale or MCID, or the protocol's outcome timepoints, rebuild every course's summary;
- the report data version is bumped once the transaction commits, for any change a report shows. Diary
  changes (visits booked, moved, cancelled, missed) change no report input and bump nothing.
"""

from clinic.changes import Change, changed
from outcomes import summary, versions

# Changes that alter a course's summary inputs: completed treatments, side effects, scores, its plan
# (baselines, instrument, start date), its status (open or closed: awaiting or lost).
SUMMARY_INPUTS = {Change.TREATMENT, Change.SIDE_EFFECTS, Change.SCORES, Change.PLAN, Change.STATUS}
# Changes that alter what a report shows, beyond the summaries: also catalogue names and staff.
REPORT_INPUTS = SUMMARY_INPUTS | {Change.CATALOGUE, Change.INSTRUMENT, Change.TIMEPOINTS, Change.STAFF}
# Changes that alter every course's summary: response flags, first response and timepoint values.
EVERY_COURSE = {Change.INSTRUMENT, Change.TIMEPOINTS}


# Above this many courses in one change (records written in bulk: the demo and scale seeders, imports),
# every summary is rebuilt set-based, in a few queries, rather than one course at a time.
BULK_COURSES = 50


def follow(sender, what, course_ids, **kwargs):
    if what & EVERY_COURSE:
        summary.course_outcomes_rebuild()
    elif what & SUMMARY_INPUTS:
        if len(course_ids) > BULK_COURSES:
            summary.course_outcomes_rebuild()
        else:
            for course_id in sorted(course_ids):
                summary.course_outcome_refresh(course_id)
    if what & REPORT_INPUTS:
        versions.report_data_changed()


def connect():
    changed.connect(follow, sender=Change, dispatch_uid="outcomes-follow-changes")
