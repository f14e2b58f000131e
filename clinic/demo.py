"""Demo staff: one account per role plus two more practitioners, all with the README's demo password."""

import base64

from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import roles
from clinic.models import User

DEMO_PASSWORD = "prolotrack-demo"  # noqa: S105 - documented demo credential, refused outside DEBUG
# The demo clinic admin's authenticator-app key (README "Demo logins"): a newcomer types it into any
# authenticator app, or runs `manage.py demo_code clinicadmin`, to pass the second factor.
DEMO_TOTP_SECRET = "PROLOTRACKDEMOCLINICADMINTOTPKEY"  # noqa: S105 - documented demo credential
DEMO_TOTP_KEY = base64.b32decode(DEMO_TOTP_SECRET).hex()
DEMO_USERS = [
    # username, first, last, role, is_staff (Django admin access for catalogues and users)
    ("frontdesk", "Sam", "Reyes", roles.FRONT_DESK, False),
    ("practitioner", "Morgan", "Hale", roles.PRACTITIONER, False),
    ("dr.chen", "Li", "Chen", roles.PRACTITIONER, False),
    ("dr.patel", "Asha", "Patel", roles.PRACTITIONER, False),
    ("clinicadmin", "Alex", "Okafor", roles.CLINIC_ADMIN, True),
]


def seed_users():
    """Create the demo staff if missing; return them by username."""
    users = {}
    for username, first, last, role, is_staff in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@clinic.example",
                "is_staff": is_staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        if role == roles.CLINIC_ADMIN and not TOTPDevice.objects.filter(user=user).exists():
            # Clinic admins sign in with a second factor: the demo one is enrolled with the documented key.
            TOTPDevice.objects.create(user=user, name="Authenticator app", key=DEMO_TOTP_KEY, confirmed=True)
        users[username] = user
    return users
