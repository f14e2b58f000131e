"""Give or take the staff-site (Django admin) and superuser flags of an account: on the server only.

No page or admin form sets these flags (clinic.admin.ClinicUserAdmin), so a clinic admin cannot raise any
account, their own included, beyond its roles. The change is saved through the model, so the audit trail
records it (with no user, as a change made on the server).
"""

from django.core.management.base import BaseCommand, CommandError

from clinic.models import User

CHOICES = {"on": True, "off": False}


class Command(BaseCommand):
    help = "Set an account's staff-site (--staff on|off) and superuser (--superuser on|off) flags."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--staff", choices=CHOICES)
        parser.add_argument("--superuser", choices=CHOICES)

    def handle(self, *args, username, staff, superuser, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        if staff is None and superuser is None:
            raise CommandError("Say what to change: --staff on|off and/or --superuser on|off.")
        if staff is not None:
            user.is_staff = CHOICES[staff]
        if superuser is not None:
            user.is_superuser = CHOICES[superuser]
            # A superuser without the staff site could not use the admin; without superuser, staff stays.
            user.is_staff = user.is_staff or user.is_superuser
        user.save(update_fields=["is_staff", "is_superuser"])
        self.stdout.write(
            f"{user.username}: staff site {'on' if user.is_staff else 'off'}, "
            f"superuser {'on' if user.is_superuser else 'off'}."
        )
