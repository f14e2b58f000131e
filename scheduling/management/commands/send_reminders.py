from django.core.management.base import BaseCommand

from scheduling.reminders import reminders_send


class Command(BaseCommand):
    help = "Email appointment reminders that are due. Safe to run from cron every few minutes."

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(f"Reminders sent: {sent}")
