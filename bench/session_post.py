"""The session-logging POST the benchmark sends (bench/locustfile.py) and times alone (bench/worker_time.py).

The pool sessions' patients may have old or precautionary screenings, so every confirmation gets a reason.
"""


def session_post_data(targets):
    """A valid first save of a scheduled session: three components, three injections, completed."""
    dextrose, lidocaine, saline = targets["lots"]
    data = {
        "version": "1",
        "pain_pre": "6",
        "pain_post": "3",
        "guidance": "landmark",
        "anaesthetic_use": "in_preparation",
        "aftercare_nsaid_avoid_days": "7",
        "notes": "Tolerated well.",
        "action": "complete",
        "confirm-screening": "Screening reviewed with the patient today.",
        "confirm-spacing": "First session of the course.",
        "confirm-count": "Within the plan.",
        "side_effects-TOTAL_FORMS": "0",
        "side_effects-INITIAL_FORMS": "0",
    }
    for prefix, rows in (
        ("components", [(dextrose, "1.50"), (lidocaine, "0.60"), (saline, "0.90")]),
        ("injections", [(site, "1.00") for site in targets["sites"]]),
    ):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, (choice, volume) in enumerate(rows):
            if prefix == "components":
                data[f"{prefix}-{index}-lot"] = str(choice)
            else:
                data[f"{prefix}-{index}-site"] = str(choice)
                data[f"{prefix}-{index}-laterality"] = "right"
                data[f"{prefix}-{index}-needle_gauge"] = "27"
            data[f"{prefix}-{index}-volume_ml"] = volume
    return data
