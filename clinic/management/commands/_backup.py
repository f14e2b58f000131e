"""Shared pieces of backup_db and restore_db: which database, and how to reach it from pg_dump/pg_restore."""

import os
import shutil

from django.core.management.base import CommandError
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


def database(alias="default"):
    connection = connections[alias]
    return connection, connection.vendor


def pg_command(tool, connection):
    """argv and environment for a PostgreSQL client tool; the password goes through the environment."""
    if shutil.which(tool) is None:
        raise CommandError(f"{tool} is not installed: install the PostgreSQL client tools.")
    config = connection.settings_dict
    argv = [tool]
    if config.get("HOST"):
        argv += ["--host", str(config["HOST"])]
    if config.get("PORT"):
        argv += ["--port", str(config["PORT"])]
    if config.get("USER"):
        argv += ["--username", config["USER"]]
    argv += ["--dbname", config["NAME"]]
    env = {**os.environ}
    if config.get("PASSWORD"):
        env["PGPASSWORD"] = config["PASSWORD"]
    return argv, env
