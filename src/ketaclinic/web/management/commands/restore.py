"""``ketaclinic manage restore BACKUP --into DATABASE``: restore a backup into a new database (refusing one
that holds tables), then run the drill: row counts against the manifest and ``audit_verify`` against the
backed-up checkpoint. Exit 1 when the drill fails. See docs/backups.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.web.backups import BackupError, backup_restore, database_url, restore_check


class Command(BaseCommand):
    help = "Restore a backup into a new database and check it (row counts, audit trail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="The backup's directory (or its manifest.json).")
        parser.add_argument(
            "--into",
            required=True,
            help="The new database: a name on this PostgreSQL server, a DATABASE_URL, or a SQLite file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backup = Path(options["backup"])
        try:
            target = backup_restore(backup, into=options["into"])
            drill = restore_check(backup, target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        where = database_url({**target, "PASSWORD": ""})
        if not drill.passed:
            for problem in drill.problems:
                self.stderr.write(problem)
            raise CommandError(f"Restored into {where}, but the restore drill FAILED.")
        self.stdout.write(drill.audit_output)
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored into {where}: {len(drill.row_counts)} tables, every row count as in the manifest."
            )
        )
