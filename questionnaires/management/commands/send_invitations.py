from django.core.management.base import BaseCommand

from questionnaires.messages import invitations_queue


class Command(BaseCommand):
    help = (
        "Mark questionnaires whose window closed as expired and put the invitations that are due in the "
        "outbox now (`queue_messages` does the same every round; the task queue's worker sends them)."
    )

    def handle(self, *args, **options):
        queued = invitations_queue()
        self.stdout.write(f"Invitations queued: {queued}")
