import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import database_config, env_bool, env_int, env_list, secret_key

BASE = Path(__file__).resolve().parents[2]


def test_it_reads_booleans_in_the_usual_words():
    assert env_bool("X", environ={"X": "yes"}) is True
    assert env_bool("X", environ={"X": "Off"}) is False
    assert env_bool("X", default=True, environ={}) is True
    with pytest.raises(ImproperlyConfigured):
        env_bool("X", environ={"X": "maybe"})


def test_it_reads_lists_and_numbers():
    assert env_list("HOSTS", environ={"HOSTS": "a.example, b.example,"}) == ["a.example", "b.example"]
    assert env_int("PORT", 25, environ={"PORT": "587"}) == 587
    with pytest.raises(ImproperlyConfigured):
        env_int("PORT", 25, environ={"PORT": "many"})


def test_it_defaults_to_the_embedded_sqlite_file():
    config = database_config("", base_dir=BASE)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(BASE / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_reads_a_postgres_url_with_persistent_checked_connections():
    config = database_config("postgres://clinic:pw@db.internal:5433/prolo", base_dir=BASE)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal",
        5433,
        "prolo",
        "clinic",
    )
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


def test_it_refuses_other_databases():
    with pytest.raises(ImproperlyConfigured):
        database_config("mysql://root@localhost/prolo", base_dir=BASE)


def test_a_development_secret_key_is_only_allowed_with_debug():
    assert secret_key(debug=True, environ={})
    assert secret_key(debug=False, environ={"SECRET_KEY": "s3cret"}) == "s3cret"
    with pytest.raises(ImproperlyConfigured):
        secret_key(debug=False, environ={})


def test_the_app_refuses_to_start_without_a_secret_key_when_debug_is_off():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_postgres_connections_run_without_jit_and_with_ssd_page_costs():
    config = database_config("postgres://clinic:pw@db.internal:5433/prolo", base_dir=BASE)
    assert config["OPTIONS"]["options"] == "-c jit=off -c random_page_cost=1.1"


def test_postgres_planner_settings_sit_beside_options_given_in_the_url():
    config = database_config(
        "postgres://clinic@db/prolo?options=-c%20statement_timeout%3D5000", base_dir=BASE
    )
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off -c random_page_cost=1.1"


def test_the_query_count_header_is_off_unless_asked_for():
    from django.conf import settings

    assert "clinic.querycount.QueryCountMiddleware" not in settings.MIDDLEWARE
