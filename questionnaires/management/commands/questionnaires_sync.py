import datetime

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from courses.models import ProtocolTimepoint, TreatmentCourse
from questionnaires.models import ScheduleRule
from questionnaires.schedule import assignments_sync


class Command(BaseCommand):
    help = (
        "Bring every course's questionnaires in line with the schedule rules and protocol timepoints, after "
        "a clinic admin changed them (each course otherwise follows its next diary or status change)."
    )

    def handle(self, *args, **options):
        rules = list(ScheduleRule.objects.filter(active=True).select_related("questionnaire"))
        protocol_timepoints = list(ProtocolTimepoint.objects.filter(active=True))
        # Closed courses matter while a follow-up window can still be open.
        longest = max((t.closes_after_days for t in protocol_timepoints), default=0)
        since = timezone.localdate() - datetime.timedelta(days=longest + 1)
        courses = TreatmentCourse.objects.filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
        totals = [0, 0, 0]
        for pk in courses.values_list("pk", flat=True).iterator():
            found = assignments_sync(course=pk, rules=rules, protocol_timepoints=protocol_timepoints)
            totals = [a + b for a, b in zip(totals, found, strict=True)]
        self.stdout.write("Questionnaires created: {}, moved: {}, cancelled: {}".format(*totals))
