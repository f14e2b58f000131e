import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from clinic.outbox import messages_queue_due, messages_sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Put due messages (appointment reminders) in the outbox and hand the worker what it lost: messages "
        "a dead worker left half-way, queued messages no task reached. Once, or every N seconds with --every."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, default=0, metavar="SECONDS", help="repeat every SECONDS until stopped"
        )

    def handle(self, *args, every, **options):
        if every < 0:
            raise CommandError("--every takes a number of seconds, 1 or more.")
        while True:
            if not every:
                return self.round()
            try:
                self.round()
            except Exception:
                # Repeating, one bad round (the database restarting) must not end the loop: the next one
                # finds the same work, since every step is safe to run twice.
                logger.exception("queue_messages: this round failed; trying again in %s s", every)
            close_old_connections()
            time.sleep(every)

    def round(self):
        queued = messages_queue_due()
        swept = messages_sweep()
        self.stdout.write(
            f"Messages queued: {queued}; handed back after a dead worker: {swept['abandoned']}; "
            f"handed to the queue again: {swept['handed_over']}"
        )
