"""Recompute every course's outcome summary and session counts from the clinical rows.

The services and outcomes.signals keep them current; run this after changes that bypass both (a bulk import,
raw SQL, or a catalogue edit that moves an injection site to another body region: the sessions-per-region
counts are by region). It also bumps the report data version, so no cached report outlives the repair.
"""

import time

from django.core.management.base import BaseCommand

from outcomes.summary import course_outcomes_rebuild


class Command(BaseCommand):
    help = "Recompute the per-course outcome summaries (CourseOutcome, CourseSessionCount)."

    def handle(self, *args, **options):
        started = time.monotonic()
        courses = course_outcomes_rebuild()
        self.stdout.write(
            f"Outcome summaries rebuilt for {courses} courses in {time.monotonic() - started:.1f} s."
        )
