"""``ketaclinic manage audit_checkpoint [--every SECONDS]``: export a signed checkpoint of the audit trail to
the configured sinks, once or every so many seconds (the demo runs it beside the server; in production a
timer or this loop under the process supervisor)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from ketaclinic.audit.checkpoints import checkpoint_export


class Command(BaseCommand):
    help = (
        "Export a signed checkpoint of the audit trail (each "
        "shard's size and last seal) outside the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=int, default=0, help="Repeat every so many seconds (0: once).")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            close_old_connections()
            checkpoint = checkpoint_export()
            self.stdout.write(
                f"Audit checkpoint {checkpoint.at}: {checkpoint.size} "
                f"entries in {len(checkpoint.heads)} shards."
            )
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
