"""What changed: the one event through which writes tell derived data to follow.

Every service that changes clinical or diary data calls `announce()` once, at its end and inside its
transaction, saying which courses changed and how. Two receivers follow it: questionnaires.schedule
(connected in QuestionnairesConfig.ready) keeps each course's questionnaire schedule in line with its diary
and status in the same transaction; outcomes.refresh (connected in OutcomesConfig.ready) is the one place
that decides what to recompute: the per-course outcome summaries in the same transaction,
the report data version once the transaction has committed. Writing apps never import outcomes/, and
nothing derived hangs off a model's post_save.
"""

import enum

from django.dispatch import Signal


class Change(enum.StrEnum):
    # Visits booked, moved, checked in, cancelled or missed: the diary, which no report reads.
    DIARY = "diary"
    # A visit completed, or the record of a completed visit edited (preparation, injections, pain).
    TREATMENT = "treatment"
    # Side effects recorded or voided (on the courses of the visits they are attributed to).
    SIDE_EFFECTS = "side_effects"
    # Follow-up scores recorded or voided.
    SCORES = "scores"
    # A course planned or its plan changed (baselines, instrument, start date, planned treatments).
    PLAN = "plan"
    # A course started, completed or stopped.
    STATUS = "status"
    # A catalogue row or the protocol: names, bands and MCIDs the reports show.
    CATALOGUE = "catalogue"
    # An outcome instrument's scale, direction or MCID: every course's response flags.
    INSTRUMENT = "instrument"
    # The protocol's outcome timepoints (targets and windows): every course's timepoint values.
    TIMEPOINTS = "timepoints"
    # Staff names and roles (the reports' practitioner names and filter).
    STAFF = "staff"


# Sent by announce(); receivers get `what` (a frozenset of Change) and `course_ids` (a frozenset of ints).
changed = Signal()


def announce(*what, courses=()):
    """Tell derived data that `what` changed for `courses` (course instances or ids)."""
    course_ids = frozenset(getattr(course, "pk", course) for course in courses)
    changed.send(sender=Change, what=frozenset(Change(w) for w in what), course_ids=course_ids)
