"""`python manage.py restore_db FILE` (or `make restore FILE=...`): put a backup back, replacing the data.

PostgreSQL: pg_restore --clean --if-exists --no-owner into the configured database. SQLite: the online
backup API copies the backup over the configured database file. Asks for confirmation unless --noinput.
"""

import sqlite3
import subprocess  # nosec B404
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.management.commands._backup import PG_CUSTOM_MAGIC, SQLITE_MAGIC, database, pg_command


class Command(BaseCommand):
    help = "Restore a backup made by backup_db into the configured database (its current data is replaced)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A backup file made by backup_db.")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, file, interactive, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No backup file at {path}.")
        connection, vendor = database()
        header = path.read_bytes()[:16]
        expected = {"postgresql": PG_CUSTOM_MAGIC, "sqlite": SQLITE_MAGIC}.get(vendor)
        if expected is None:
            raise CommandError(f"Restoring {vendor} databases is not supported.")
        if not header.startswith(expected):
            raise CommandError(f"{path} is not a {vendor} backup made by backup_db.")

        target = connection.settings_dict["NAME"]
        if interactive:
            answer = input(f"Replace everything in {vendor} database {target} with {path}? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")

        connection.close()
        if vendor == "postgresql":
            argv, env = pg_command("pg_restore", connection)
            result = subprocess.run(  # noqa: S603  # nosec B603
                [*argv, "--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                source.close()
                destination.close()

        self.stdout.write(f"Restored {path} into the {vendor} database {target}.")
