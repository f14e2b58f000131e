"""Powers beyond the role: no clinic admin can make an account a superuser or give it the staff site or
one-off permissions (only `manage.py site_access` on the server can), every role change is audited, and a
calendar feed stops when the Practitioner role that gave it is removed."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from clinic import roles
from tests.factories import CalendarFeedFactory, UserFactory


@pytest.fixture
def admin_client(client, clinic_admin):
    clinic_admin.is_staff = True
    clinic_admin.save()
    client.force_login(clinic_admin)
    return client


def change_url(user):
    return reverse("admin:clinic_user_change", args=[user.pk])


def admin_post(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [group.pk for group in user.groups.all()],
    }
    data.update(changes)
    return data


def test_the_user_form_has_no_superuser_staff_or_permission_inputs(admin_client, front_desk):
    response = admin_client.get(change_url(front_desk))
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("is_superuser", "is_staff", "user_permissions"):
        assert f'name="{name}"' not in text
    assert "manage.py site_access" in text


def test_a_clinic_admin_cannot_make_themselves_a_superuser(admin_client, clinic_admin):
    permission = Permission.objects.get(codename="export_research")
    response = admin_client.post(
        change_url(clinic_admin),
        admin_post(clinic_admin, is_superuser="on", is_staff="on", user_permissions=[permission.pk]),
    )
    assert response.status_code == 302
    clinic_admin.refresh_from_db()
    assert not clinic_admin.is_superuser
    assert not clinic_admin.user_permissions.exists()


def test_a_clinic_admin_cannot_make_another_account_a_superuser_or_staff(admin_client, front_desk):
    admin_client.post(change_url(front_desk), admin_post(front_desk, is_superuser="on", is_staff="on"))
    front_desk.refresh_from_db()
    assert not front_desk.is_superuser
    assert not front_desk.is_staff


def test_a_clinic_admin_still_changes_roles_and_the_change_is_audited(admin_client, front_desk):
    practitioner_role = Group.objects.get(name=roles.PRACTITIONER)
    response = admin_client.post(
        change_url(front_desk), admin_post(front_desk, groups=[practitioner_role.pk])
    )
    assert response.status_code == 302
    assert list(front_desk.groups.values_list("name", flat=True)) == [roles.PRACTITIONER]
    entries = LogEntry.objects.get_for_object(front_desk).order_by("timestamp")
    changes = [entry.changes_dict.get("groups") for entry in entries if "groups" in entry.changes_dict]
    assert any(
        change["operation"] == "delete" and change["objects"] == [roles.FRONT_DESK] for change in changes
    )
    assert any(
        change["operation"] == "add" and change["objects"] == [roles.PRACTITIONER] for change in changes
    )


def test_site_access_is_set_on_the_server_and_audited(front_desk):
    call_command("site_access", front_desk.username, "--superuser", "on")
    front_desk.refresh_from_db()
    assert front_desk.is_superuser and front_desk.is_staff
    entry = LogEntry.objects.get_for_object(front_desk).latest("timestamp")
    assert entry.changes_dict["is_superuser"] == ["False", "True"]

    call_command("site_access", front_desk.username, "--superuser", "off", "--staff", "off")
    front_desk.refresh_from_db()
    assert not front_desk.is_superuser and not front_desk.is_staff


def test_site_access_refuses_an_unknown_account(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("site_access", "nobody", "--staff", "on")


def test_a_calendar_feed_stops_when_the_practitioner_role_is_removed(db, client):
    practitioner = UserFactory(role=roles.PRACTITIONER)
    feed = CalendarFeedFactory(practitioner=practitioner)
    url = reverse("scheduling:feed", args=[feed.token])
    assert client.get(url).status_code == 200

    practitioner.groups.remove(Group.objects.get(name=roles.PRACTITIONER))
    assert client.get(url).status_code == 404


def test_a_calendar_feed_stops_when_the_account_is_deactivated(db, client):
    practitioner = UserFactory(role=roles.PRACTITIONER)
    feed = CalendarFeedFactory(practitioner=practitioner)
    practitioner.is_active = False
    practitioner.save()
    assert client.get(reverse("scheduling:feed", args=[feed.token])).status_code == 404
