"""Questionnaire response rates for the outcomes dashboard: per point of the course (each follow-up timepoint,
before a treatment, the check-in after one), how many of the questionnaires sent were answered, with the
Wilson 95 % interval (outcomes.stats). "Sent" is any questionnaire given a link or put in the outbox
(`invited_at` set: by e-mail or on the clinic tablet) and not cancelled since."""

from django.db.models import Count, Q

from outcomes.selectors import Table
from outcomes.stats import Proportion
from questionnaires.models import Anchor, Assignment, AssignmentStatus

NAME = "questionnaire-response-rates"
COLUMNS = [("point", "When asked"), ("sent", "Sent"), ("completed", "Answered"), ("rate", "Response rate")]


def response_rates(courses):
    """The response-rate table of the dashboard's courses (a queryset of courses)."""
    grouped = (
        Assignment.objects.filter(course__in=courses.values("pk"), invited_at__isnull=False)
        .exclude(status=AssignmentStatus.CANCELLED)
        .values("anchor", "timepoint__name", "timepoint__target_days")
        .annotate(sent=Count("pk"), completed=Count("pk", filter=Q(status=AssignmentStatus.COMPLETED)))
    )
    order = {Anchor.BEFORE_TREATMENT: 0, Anchor.AFTER_TREATMENT: 1, Anchor.FOLLOW_UP: 2}
    rows = [
        {
            "point": group["timepoint__name"] or Anchor(group["anchor"]).label,
            "sent": group["sent"],
            "completed": group["completed"],
            "rate": Proportion(group["completed"], group["sent"]),
            "_order": (order[group["anchor"]], group["timepoint__target_days"] or 0),
        }
        for group in grouped
    ]
    rows.sort(key=lambda row: row.pop("_order"))
    return Table(
        NAME,
        "Patient questionnaires answered, of those sent",
        COLUMNS,
        rows,
        empty_text="No questionnaire has been sent for these courses.",
        footnote="Sent: given a link by e-mail or on the clinic tablet and not cancelled. A questionnaire "
        "still open counts as sent and not yet answered. 95 % Wilson intervals.",
    )
