import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import courses.demo
import patients.demo
import questionnaires.demo
import scheduling.demo
from clinic.demo import seed_users
from clinic.scale_demo import AlreadySeeded, scale_seed


class Command(BaseCommand):
    help = "Fill the database with demo staff, patients, courses and sessions. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")
        parser.add_argument("--patients", type=int, default=300, help="How many demo patients (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable demo data.")
        parser.add_argument(
            "--scale",
            type=int,
            metavar="PATIENTS",
            help="Benchmark data instead: this many patients with years of courses (e.g. 20000).",
        )

    def handle(self, *args, force, patients, seed, scale=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes demo records; with DEBUG off it needs --force.")
        rng = random.Random(seed)
        if scale is not None:
            if scale < 1:
                raise CommandError("--scale needs a number of patients, at least 1.")
            try:
                scale_seed(patients=scale, rng=rng, stdout=self.stdout)
            except AlreadySeeded as error:
                raise CommandError(str(error)) from None
            self.stdout.write(self.style.SUCCESS("Scale data ready."))
            return
        with transaction.atomic():
            users = seed_users()
            self.stdout.write(f"Demo staff: {', '.join(users)}")
            for seeder in self.seeders():
                seeder(users=users, rng=rng, patients=patients, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def seeders(self):
        """Each app's demo step, in dependency order. Each one skips what already exists."""
        return [
            patients.demo.seed,
            scheduling.demo.seed_calendar,
            courses.demo.seed,
            scheduling.demo.seed,
            questionnaires.demo.seed,
        ]
