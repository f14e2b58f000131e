"""clinic.backends: a user's roles and permissions in one query, with ModelBackend's answers."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import roles
from clinic.models import User
from tests.factories import UserFactory


def fresh(user):
    """The user as the next request loads it: no cached roles or permissions."""
    return User.objects.get(pk=user.pk)


def test_permissions_are_modelbackends_answer(db):
    user = UserFactory(role=roles.PRACTITIONER)
    user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
    user.user_permissions.add(Permission.objects.get(codename="change_lot"))
    ours = fresh(user).get_all_permissions()
    assert ours == ModelBackend().get_all_permissions(fresh(user))
    assert "courses.change_lot" in ours and "courses.add_injection" in ours


def test_roles_and_every_permission_check_of_a_page_share_one_query(db):
    user = fresh(UserFactory(role=roles.CLINIC_ADMIN))
    with CaptureQueriesContext(connection) as queries:
        assert user.role_label == "Clinic admin"
        assert user.is_clinic_admin and not user.is_practitioner
        assert user.has_perm("courses.view_all_outcomes")
        assert user.has_perms(["patients.view_patient", "courses.change_lot"])
        assert not user.has_perm("patients.delete_patient")
    assert len(queries) == 1


def test_a_role_without_permissions_still_names_the_role(db):
    user = UserFactory()
    user.groups.create(name="Observer")
    user = fresh(user)
    assert user.role_names == {"Observer"}
    assert user.get_all_permissions() == set()


def test_an_inactive_user_keeps_a_role_label_but_may_do_nothing(db):
    user = UserFactory(role=roles.PRACTITIONER, is_active=False)
    user = fresh(user)
    assert user.role_label == "Practitioner"
    assert not user.has_perm("patients.view_patient")
    assert user.get_all_permissions() == set()


def test_a_superuser_has_every_permission(db):
    user = fresh(UserFactory(is_superuser=True))
    assert user.has_perm("patients.delete_patient")
    assert user.role_label == "Superuser"


def test_a_role_taken_away_applies_on_the_next_page(client, db):
    user = UserFactory(role=roles.FRONT_DESK)
    client.force_login(user)
    assert client.get(reverse("patients:patient-list")).status_code == 200
    user.groups.clear()
    assert client.get(reverse("patients:patient-list")).status_code == 403
