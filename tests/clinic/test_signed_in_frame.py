"""What every signed-in page pays for, made cheaper (docs/performance.md, "The signed-in frame, layer by
layer"), still behaves as before: the role menu follows the permissions at once, an expired session row
signs out, and the audit context ends with its request."""

import datetime

from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from clinic.backends import RoleBackend
from clinic.models import User
from clinic.templatetags.menu import role_menu
from tests.factories import UserFactory


def test_the_role_menu_loses_a_link_on_the_next_page_after_its_permission_is_taken_away(client_for, db):
    user = UserFactory(role=roles.FRONT_DESK)
    user.user_permissions.add(Permission.objects.get(codename="view_lot"))
    client = client_for(user)
    recall = reverse("courses:lot-recall")
    assert f'href="{recall}"' in client.get(reverse("home")).content.decode()
    user.user_permissions.clear()
    assert f'href="{recall}"' not in client.get(reverse("home")).content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_lot"))
    assert f'href="{recall}"' in client.get(reverse("home")).content.decode()


def test_each_role_sees_its_own_menu_from_the_same_process(client_for, db):
    desk = client_for(UserFactory(role=roles.FRONT_DESK)).get(reverse("home")).content.decode()
    outcomes = f'href="{reverse("outcomes:dashboard")}"'
    assert outcomes not in desk
    doctor = client_for(UserFactory(role=roles.PRACTITIONER)).get(reverse("home")).content.decode()
    assert outcomes in doctor


def test_a_session_past_its_expiry_in_the_database_is_signed_out(client_for, practitioner):
    client = client_for(practitioner)
    assert client.get(reverse("home")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_audit_context_ends_with_its_request(client_for, practitioner):
    client_for(practitioner).get(reverse("home"))
    assert auditlog_value.get(None) is None
    # A change made outside any request (a command, a worker) is nobody's.
    practitioner.first_name = "Changed"
    practitioner.save()
    entry = LogEntry.objects.get_for_object(practitioner).latest("timestamp")
    assert entry.actor is None


def test_a_bare_signed_in_page_reads_only_the_session_and_the_user_with_its_roles(client_for, front_desk):
    client = client_for(front_desk)
    client.get(reverse("password_change_done"))
    with CaptureQueriesContext(connection) as bare:
        assert client.get(reverse("password_change_done")).status_code == 200
    assert len(bare.captured_queries) == 2  # was 3: the user and its roles were read apart


def test_the_user_read_with_its_roles_answers_as_django_does(db):
    user = UserFactory(role=roles.PRACTITIONER, last_login=timezone.now())
    user.groups.add(Group.objects.get(name=roles.FRONT_DESK))
    user.groups.create(name="Observer, with\ttab")
    user.user_permissions.add(Permission.objects.get(codename="change_lot"))
    loaded = RoleBackend().get_user(user.pk)
    plain = User.objects.get(pk=user.pk)
    assert loaded.get_all_permissions() == ModelBackend().get_all_permissions(plain)
    assert "courses.change_lot" in loaded.get_all_permissions()
    assert loaded.role_names == {roles.PRACTITIONER, roles.FRONT_DESK, "Observer, with\ttab"}
    assert [getattr(loaded, f.attname) for f in User._meta.concrete_fields] == [
        getattr(plain, f.attname) for f in User._meta.concrete_fields
    ]
    assert RoleBackend().get_user(user.pk + 1000) is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert RoleBackend().get_user(user.pk) is None


def test_a_superusers_menu_has_every_link_without_reading_every_permission(db):
    superuser = RoleBackend().get_user(UserFactory(is_superuser=True).pk)
    with CaptureQueriesContext(connection) as queries:
        menu = role_menu({"user": superuser})
    assert f'href="{reverse("courses:lot-recall")}"' in menu
    assert f'href="{reverse("admin:index")}"' in menu
    assert len(queries) == 0
