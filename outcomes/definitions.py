"""The outcome definitions in words: one wording for the dashboard, the course list, the data dictionary and
the README, with every MCID read from the instrument catalogue (OutcomeInstrument.mcid_text)."""

from courses.models import OutcomeInstrument

BASELINE = (
    "The last score on or before the first treatment actually given: for the pain NRS, the first "
    "treatment's pre-injection score; for another measure, its last score on or before that day."
)
MCID = (
    "An improvement from baseline of at least the measure's minimal clinically important difference "
    "(MCID) as the catalogue defines it: the absolute MCID, or, where the measure has one, the "
    "relative MCID as a percentage of the baseline; meeting either is enough."
)
HALF = (
    "An improvement of at least half the room there was to improve: baseline − the scale's best end "
    "where higher is worse (pain 8 → 4 is 50 %), the best end − baseline where higher is better. A "
    "baseline already at the best end leaves no room: such a course is not in the ≥ 50 % available or"
    " per-protocol denominators, and counts as not responding in the intention-to-treat one."
)
TIMEPOINT = (
    "Each timepoint has a target day after the course's last treatment and a window around it "
    "(protocol data). A course's value there is the score nearest the target inside the window, "
    "staff-entered or patient-reported. Windows are placed once a course is closed; a closed window "
    "without a score is missing, an open one (or an open course) is awaiting."
)
DENOMINATORS = (
    "Intention-to-treat (ITT): every course with at least one treatment that is due at the timepoint "
    "(scored, or its window closed), a missing score counting as not responding. Available cases: the"
    " courses scored in the window. Per-protocol: the available cases among courses completed within "
    "the clinic protocol (completed, not a protocol deviation, and a number of treatments the "
    "protocol allows). Courses awaiting the timepoint are in no denominator yet and are counted "
    "beside."
)
INTERVALS = (
    "Proportions carry the Wilson score 95 % interval; mean improvements the 95 % t interval. Cells "
    "with fewer than 10 courses are shown but marked as too small to read."
)
DROP_OUT = (
    "A drop-out is a course stopped for no response, an adverse event, the patient's choice or loss "
    "to follow-up. A course completed, or stopped because its goal was met, is not a drop-out."
)
TIME_TO_EVENT = (
    "Kaplan–Meier estimates from each course's first treatment, with the number still at risk. "
    "Discontinuation: drop-outs are events; completed and goal-met courses are censored at their end,"
    " open courses today. First response: the first pain NRS outcome point meeting the MCID is the "
    "event; other courses are censored at their last pain score after the first treatment."
)
DOSE = (
    "A course's dextrose band is the band of most of its treatments (a tie goes to the stronger "
    "band), not the strongest ever used, which grows with the number of treatments. Total volume is "
    "the volume injected over the course."
)


def catalogue_definitions():
    """[(instrument, MCID in words)] of the active measures, for the definitions shown with the figures."""
    active = OutcomeInstrument.objects.filter(active=True)
    return [(instrument, instrument.mcid_text) for instrument in active]
