"""`python manage.py backup_db` (or `make backup`): a consistent copy of the whole database.

PostgreSQL: pg_dump's custom format (compressed, restorable with pg_restore). SQLite: the online backup
API, which copies a consistent snapshot while the app keeps running. Files are readable by their owner
only: they hold every patient's record.
"""

import os
import sqlite3
import subprocess  # nosec B404
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic.management.commands._backup import database, pg_command


class Command(BaseCommand):
    help = "Back up the database into backups/ (or --output) with a timestamped name."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Write the backup to this file instead of backups/<timestamp>.")
        parser.add_argument("--dir", default=str(settings.BASE_DIR / "backups"), help="Folder for backups.")

    def handle(self, *args, output, dir, **options):
        connection, vendor = database()
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        extension = {"postgresql": "dump", "sqlite": "sqlite3"}.get(vendor)
        if extension is None:
            raise CommandError(f"Backups of {vendor} databases are not supported.")
        path = Path(output) if output else Path(dir) / f"prolotrack-{stamp}.{extension}"
        if vendor == "sqlite" and connection.in_atomic_block:
            # SQLite's backup would wait forever for this connection's own open write transaction.
            raise CommandError("Run the SQLite backup outside a transaction.")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created private before any byte is written.
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)

        if vendor == "postgresql":
            argv, env = pg_command("pg_dump", connection)
            result = subprocess.run(  # noqa: S603  # nosec B603
                [*argv, "--format=custom", "--file", str(path)], env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                path.unlink(missing_ok=True)
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            connection.ensure_connection()
            target = sqlite3.connect(path)
            try:
                connection.connection.backup(target)
            finally:
                target.close()

        self.stdout.write(f"Backed up the {vendor} database to {path} ({path.stat().st_size:,} bytes).")
        return None
