import datetime
import importlib

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.utils import timezone

from clinic import roles
from scheduling.models import Weekday
from tests.factories import TreatmentCourseFactory, WorkingHoursFactory


def pytest_collection_modifyitems(config, items):
    """Skip `postgres_only` tests on SQLite before any database is set up for them.

    A skip from inside a fixture would come after a transactional test's database set-up, and its
    flush at teardown would empty the tables (role groups included) for the transactional tests after it.
    """
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture
def role_groups(transactional_db):
    """The role groups, with the scheduling rights, for transactional tests.

    Data migrations make them, but another transactional test's flush may have emptied the tables
    (and a serialized rollback cannot restore them once the test connection has been replaced).
    """
    if not Permission.objects.exists():
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    matrix = importlib.import_module("scheduling.migrations.0002_role_permissions").MATRIX
    for role in roles.ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [name.split(".")[1] for name in matrix.get(role, [])]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="scheduling", codename__in=codenames)
        )


@pytest.fixture
def monday():
    """A Monday one to two weeks ahead, so tests never depend on today's weekday."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=14 - today.weekday())


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def hale_hours(practitioner):
    """Dr Hale works mornings and afternoons on every weekday but Wednesday."""
    for weekday in (Weekday.MONDAY, Weekday.TUESDAY, Weekday.THURSDAY, Weekday.FRIDAY):
        WorkingHoursFactory(
            practitioner=practitioner, weekday=weekday, starts_at=datetime.time(9), ends_at=datetime.time(13)
        )
        WorkingHoursFactory(
            practitioner=practitioner, weekday=weekday, starts_at=datetime.time(14), ends_at=datetime.time(17)
        )


@pytest.fixture
def course(practitioner, hale_hours):
    return TreatmentCourseFactory(practitioner=practitioner, planned_sessions=6, interval_days=14)
