import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import courses.demo
import patients.demo
import scheduling.demo
from clinic.demo import seed_users


class Command(BaseCommand):
    help = "Fill the database with demo staff, patients, courses and sessions. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")
        parser.add_argument("--patients", type=int, default=300, help="How many demo patients (default 300).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for repeatable demo data.")

    def handle(self, *args, force, patients, seed, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes demo records; with DEBUG off it needs --force.")
        rng = random.Random(seed)
        with transaction.atomic():
            users = seed_users()
            self.stdout.write(f"Demo staff: {', '.join(users)}")
            for seeder in self.seeders():
                seeder(users=users, rng=rng, patients=patients, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def seeders(self):
        """Each app's demo step, in dependency order. Each one skips what already exists."""
        return [patients.demo.seed, courses.demo.seed, scheduling.demo.seed]
