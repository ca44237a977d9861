"""``ketaclinic manage backup [--to DIR]``: back up the database with the audit checkpoint and a manifest
(PostgreSQL: pg_dump custom format; SQLite: the online backup API). See docs/backups.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.web.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database, the audit trail's checkpoint and a manifest (row counts, sha256)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            default=str(Path(settings.VAR_DIR) / "backups"),
            help="Directory that receives the backup's own directory (default: var/backups).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            out, manifest = backup_create(to_dir=Path(options["to"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest.row_counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {out}: {manifest.engine}, {len(manifest.row_counts)} tables, "
                f"{rows:,} rows, audit checkpoint of {manifest.checkpoint['at']} "
                f"({manifest.checkpoint['size']} entries)."
            )
        )
