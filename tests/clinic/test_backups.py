"""Backups: backup_db copies every row; restore_db puts them back into an empty database."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from clinic.management.commands._backup import PG_CUSTOM_MAGIC, SQLITE_MAGIC
from tests.factories import (
    ConsentFactory,
    InjectionFactory,
    OutcomeScoreFactory,
    PreparationComponentFactory,
    ScreeningFactory,
    SideEffectFactory,
    TreatmentSessionFactory,
    UserFactory,
)

BASE = Path(__file__).resolve().parents[2]
APPS = ("clinic", "patients", "courses", "scheduling", "outcomes", "auditlog", "auth")


def ensure_seeded_rows():
    """Roles and the MRN counter come from data migrations; an earlier transactional test may flush them."""
    from django.contrib.auth.models import Group

    from clinic import roles
    from patients.models import MrnSequence

    for role in roles.ROLES:
        Group.objects.get_or_create(name=role)
    MrnSequence.objects.get_or_create(pk=1)


def fill_every_clinical_table():
    ensure_seeded_rows()
    session = TreatmentSessionFactory(completed=True)
    ScreeningFactory(patient=session.patient)
    ConsentFactory(patient=session.patient)
    PreparationComponentFactory(session=session)
    InjectionFactory(session=session)
    SideEffectFactory(attributed_session=session)
    OutcomeScoreFactory(course=session.course)
    from courses.models import CourseExtension

    CourseExtension.objects.create(
        course=session.course,
        from_sessions=6,
        to_sessions=8,
        reason="Partial response",
        created_by=UserFactory(),
    )


def row_counts():
    """{table: rows} for every table of our apps, the audit trail and the roles."""
    counts = {}
    with connection.cursor() as cursor:
        for app_label in APPS:
            if not apps.is_installed(app_label):
                continue
            for model in apps.get_app_config(app_label).get_models():
                table = model._meta.db_table
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608  (table names from our models)
                counts[table] = cursor.fetchone()[0]
    return counts


def restore_into(database_url, backup):
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "clinic.settings_test"}
    result = subprocess.run(  # noqa: S603  (our own manage.py)
        [sys.executable, "manage.py", "restore_db", str(backup), "--noinput"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restored_into_an_empty_database_has_every_row(tmp_path):
    fill_every_clinical_table()
    before = row_counts()
    for table in (
        "patients_patient",
        "patients_screening",
        "patients_consent",
        "courses_treatmentcourse",
        "courses_courseextension",
        "courses_treatmentsession",
        "courses_preparationcomponent",
        "courses_injection",
        "courses_sideeffect",
        "courses_outcomescore",
        "auditlog_logentry",
    ):
        assert before[table] > 0, table

    backup = tmp_path / "backup"
    call_command("backup_db", output=str(backup))
    assert backup.stat().st_mode & 0o077 == 0  # readable by its owner only

    if connection.vendor == "sqlite":
        scratch = tmp_path / "scratch.sqlite3"
        restore_into(f"sqlite:///{scratch}", backup)
        with sqlite3.connect(scratch) as restored:
            after = {
                table: restored.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in before
            }
    else:
        after = restore_into_scratch_postgres(backup, before)

    assert after == before


def restore_into_scratch_postgres(backup, tables):
    import psycopg

    config = connection.settings_dict
    scratch = f"{config['NAME']}_restore"
    params = {"host": config["HOST"], "port": config["PORT"] or 5432, "user": config["USER"]}
    if config["PASSWORD"]:
        params["password"] = config["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
        url = f"postgres://{config['USER']}{password}@{params['host']}:{params['port']}/{scratch}"
        restore_into(url, backup)
        with psycopg.connect(dbname=scratch, **params) as restored:
            return {
                table: restored.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in tables
            }
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backups_get_a_timestamped_name_in_the_backups_folder(tmp_path):
    call_command("backup_db", dir=str(tmp_path))
    [made] = list(tmp_path.iterdir())
    assert made.name.startswith("prolotrack-")
    assert made.suffix in (".sqlite3", ".dump")


def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    with pytest.raises(CommandError, match="is not a"):
        call_command("restore_db", str(bogus), interactive=False)


def test_restore_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore_db", str(tmp_path / "nope"), interactive=False)


def test_restore_asks_before_replacing_the_data(db, tmp_path, monkeypatch):
    backup = tmp_path / "backup"
    backup.write_bytes(SQLITE_MAGIC if connection.vendor == "sqlite" else PG_CUSTOM_MAGIC)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore_db", str(backup))
