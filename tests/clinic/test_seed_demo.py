import pytest
from django.core.management import CommandError, call_command

from clinic.models import User


def test_seed_demo_refuses_without_debug_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")


def test_seed_demo_creates_one_account_per_role_and_can_run_twice(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", patients=20)
    call_command("seed_demo", patients=20)
    roles = {u.username: u.role_label for u in User.objects.all()}
    assert roles["frontdesk"] == "Front desk"
    assert roles["practitioner"] == "Practitioner"
    assert roles["clinicadmin"] == "Clinic admin"
    assert User.objects.get(username="frontdesk").check_password("prolotrack-demo")
