"""What the benchmark requests, under load (bench/locustfile.py) and one at a time (bench/worker_time.py):
the role each page is requested as, the API requests and the page each is compared with, and the
session-logging POST.

The POST's pool sessions' patients may have old or precautionary screenings: every confirmation gets a reason.
"""

# The page -> the demo user it is requested as (None: not signed in).
ROLES = {
    "patient_search": "frontdesk",
    "patient_page": "practitioner",
    "course_page": "practitioner",
    "session_log_get": "practitioner",
    "session_log_post": "practitioner",
    "day_calendar": "frontdesk",
    "week_calendar": "frontdesk",
    "outcomes_dashboard": "clinicadmin",
    "outcomes_dashboard_filtered": "clinicadmin",
    "outcomes_csv": "clinicadmin",
    "api_patient_search": "frontdesk",
    "api_course_read": "practitioner",
    "floor": None,
    "peer_admin": "clinicadmin",
}

# An API request -> the page that shows the same thing: the API should be no slower (issue 19). API requests
# carry their role's bearer token (bench/prepare.py issues them) instead of the signed-in session.
API_PAGES = {
    "api_patient_search": "patient_search",
    "api_course_read": "course_page",
}


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
