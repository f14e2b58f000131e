"""The instruments ProloTrack ships: only those free to reproduce (DOMAIN.md §5). Licensed instruments (ODI,
WOMAC, QuickDASH, ...) are entered or imported by a clinic that holds a licence; their text is never shipped.

Also the default schedule (README "Questionnaires"): pain NRS and the course's instrument before each
treatment, the check-in 24-72 hours after it, and pain NRS, the course's instrument and the PGIC at each
follow-up timepoint."""

from decimal import Decimal

from django.db import migrations

SEVERITY = [
    ("none", "No", 0),
    ("mild", "Yes, mild: I noticed it", 1),
    ("moderate", "Yes, moderate: it limits what I do", 2),
    ("severe", "Yes, severe: I cannot do my usual activities", 3),
]
ABLE = ("0 = unable to do it", "10 = able to do it as well as before the problem")

# code, name, purpose, scoring, min answered, range, higher is better, instrument code, items
# item: link id, text, answer type, (min, max), (min label, max label), required, scored, choices, shows
QUESTIONNAIRES = [
    (
        "pain-nrs",
        "Pain numeric rating scale",
        "Pain intensity, 0 (no pain) to 10 (worst pain imaginable).",
        "sum",
        1,
        ("0", "10"),
        False,
        "NRS",
        [
            (
                "pain",
                "Choose the number that best describes your pain over the last 24 hours.",
                "integer",
                (0, 10),
                ("0 = no pain", "10 = worst pain imaginable"),
                True,
                True,
                [],
                None,
            )
        ],
    ),
    (
        "pgic",
        "Patient Global Impression of Change",
        "The patient's own rating of change since treatment began, on 7 points (1 very much improved).",
        "sum",
        1,
        ("1", "7"),
        False,
        None,
        [
            (
                "change",
                "Since your treatment began, how would you describe the change, if any, in the problem "
                "you were treated for?",
                "choice",
                (None, None),
                ("", ""),
                True,
                True,
                [
                    ("1", "Very much improved", 1),
                    ("2", "Much improved", 2),
                    ("3", "Minimally improved", 3),
                    ("4", "No change", 4),
                    ("5", "Minimally worse", 5),
                    ("6", "Much worse", 6),
                    ("7", "Very much worse", 7),
                ],
                None,
            )
        ],
    ),
    (
        "psfs",
        "Patient-Specific Functional Scale",
        "Up to five activities the patient names, each rated 0 (unable) to 10 (as before); the mean.",
        "mean",
        1,
        ("0", "10"),
        True,
        "PSFS",
        [
            item
            for number in range(1, 6)
            for item in (
                (
                    f"activity-{number}",
                    (
                        "Name an activity that you cannot do, or find hard to do, because of your problem."
                        if number == 1
                        else "Name another activity that you find hard to do because of your problem "
                        "(leave it empty if there is none)."
                    ),
                    "text",
                    (None, None),
                    ("", ""),
                    number == 1,
                    False,
                    [],
                    None,
                ),
                (
                    f"activity-{number}-rating",
                    "How able are you to do this activity today?",
                    "integer",
                    (0, 10),
                    ABLE,
                    number == 1,
                    True,
                    [],
                    f"activity-{number}",
                ),
            )
        ],
    ),
    (
        "check-in",
        "Check-in after a treatment",
        "Pain now and the common reactions in the days after a treatment, each with its severity.",
        "none",
        0,
        (None, None),
        False,
        None,
        [
            (
                "pain-now",
                "How bad is your pain right now?",
                "integer",
                (0, 10),
                ("0 = no pain", "10 = worst pain imaginable"),
                True,
                False,
                [],
                None,
            ),
            *[
                (link_id, text, "choice", (None, None), ("", ""), True, False, SEVERITY, None)
                for link_id, text in [
                    ("flare", "Since your treatment, has the pain flared up where you were injected?"),
                    ("swelling", "Has there been swelling where you were injected?"),
                    ("bruising", "Has there been bruising where you were injected?"),
                    (
                        "fever",
                        "Have you had a fever, or a joint that is hot, red and swollen? "
                        "If you have, please call the clinic today.",
                    ),
                    ("numbness", "Have you had numbness or tingling near where you were injected?"),
                ]
            ],
            (
                "other",
                "Anything else you have noticed since your treatment? (Leave it empty if nothing.)",
                "text",
                (None, None),
                ("", ""),
                False,
                False,
                [],
                None,
            ),
            (
                "other-severity",
                "How much has it bothered you?",
                "choice",
                (None, None),
                ("", ""),
                False,
                False,
                SEVERITY,
                "other",
            ),
        ],
    ),
]

RULES = [
    ("before", "pain-nrs", -72, 0),
    ("before", None, -72, 0),
    ("after", "check-in", 24, 72),
    ("follow_up", "pain-nrs", 0, 0),
    ("follow_up", None, 0, 0),
    ("follow_up", "pgic", 0, 0),
]


def forwards(apps, schema_editor):
    OutcomeInstrument = apps.get_model("courses", "OutcomeInstrument")
    Questionnaire = apps.get_model("questionnaires", "Questionnaire")
    QuestionnaireItem = apps.get_model("questionnaires", "QuestionnaireItem")
    ItemChoice = apps.get_model("questionnaires", "ItemChoice")
    ScheduleRule = apps.get_model("questionnaires", "ScheduleRule")
    # The PSFS in the catalogue, so its mean lands in the score history (MCID 2 points for the mean
    # score: Stratford 1995; Horn 2012).
    OutcomeInstrument.objects.get_or_create(
        code="PSFS",
        defaults={
            "name": "Patient-Specific Functional Scale (mean)",
            "min_score": Decimal("0"),
            "max_score": Decimal("10"),
            "higher_is_better": True,
            "mcid_absolute": Decimal("2"),
        },
    )
    for code, name, purpose, scoring, min_answered, (low, high), better, instrument, items in QUESTIONNAIRES:
        if Questionnaire.objects.filter(code=code).exists():
            continue
        questionnaire = Questionnaire.objects.create(
            code=code,
            name=name,
            version="1",
            purpose=purpose,
            scoring=scoring,
            min_answered=min_answered,
            score_min=Decimal(low) if low is not None else None,
            score_max=Decimal(high) if high is not None else None,
            higher_is_better=better,
            instrument=OutcomeInstrument.objects.filter(code=instrument).first() if instrument else None,
            origin="shipped",
            copyright_note="Free to reproduce.",
        )
        created = {}
        for order, (
            link_id,
            text,
            kind,
            (lo, hi),
            (lo_label, hi_label),
            required,
            scored,
            choices,
            shows,
        ) in enumerate(items):
            item = QuestionnaireItem.objects.create(
                questionnaire=questionnaire,
                link_id=link_id,
                text=text,
                answer_type=kind,
                min_value=lo,
                max_value=hi,
                min_label=lo_label,
                max_label=hi_label,
                required=required,
                scored=scored,
                order=order,
                shows_answer_of=created.get(shows),
            )
            created[link_id] = item
            for position, (choice_code, label, score) in enumerate(choices):
                ItemChoice.objects.create(
                    item=item, code=choice_code, label=label, score=score, order=position
                )
    if not ScheduleRule.objects.exists():
        for anchor, code, opens, closes in RULES:
            ScheduleRule.objects.create(
                anchor=anchor,
                questionnaire=Questionnaire.objects.get(code=code) if code else None,
                opens_hours=opens,
                closes_hours=closes,
            )


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
