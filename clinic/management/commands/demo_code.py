from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current authenticator-app code of a demo account (README 'Demo logins'). DEBUG only."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="clinicadmin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("demo_code is for the demo clinic: it needs DEBUG=1.")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True, key=DEMO_TOTP_KEY).first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator app (run seed_demo first).")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        # A code already used to sign in is refused: give the next one, valid within the next 30 seconds.
        if totp.t() <= device.last_t:
            totp.time = (device.last_t + 1) * device.step
        self.stdout.write(f"{totp.token():06d}")
