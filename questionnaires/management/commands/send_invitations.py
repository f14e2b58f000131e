from django.conf import settings
from django.core.management.base import BaseCommand

from questionnaires.services import assignments_expire, invitations_send


class Command(BaseCommand):
    help = (
        "Mark questionnaires whose window closed as expired, then e-mail the invitations that are due. "
        "Safe to run from cron every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", default=settings.SITE_URL, help="Where patients reach the site (default: SITE_URL)."
        )

    def handle(self, *args, base_url, **options):
        expired = assignments_expire()
        sent = invitations_send(base_url=base_url)
        self.stdout.write(f"Questionnaires expired: {expired}; invitations sent: {sent}")
