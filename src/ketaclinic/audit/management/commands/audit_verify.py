"""``ketaclinic manage audit_verify``: check every seal and link of the audit trail's chains, and the chains
against the last checkpoint exported outside the database; exit 1 on a break."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.audit.checkpoints import Checkpoint, FileSink, checkpoint_last
from ketaclinic.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains, and them against the last exported checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            default="",
            help="A checkpoint file to verify against (default: the configured sinks' last checkpoint).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint: Checkpoint | None
        if options["checkpoints"]:
            path = Path(options["checkpoints"])
            if not path.exists():
                raise CommandError(f"No checkpoint file at {path}.")
            checkpoint = FileSink(path).last()
        else:
            checkpoint = checkpoint_last()
        count, problems = audit_chain_verify(checkpoint=checkpoint)
        if problems:
            for p in problems[:50]:
                self.stderr.write(f"entry #{p.seq}: {p.problem}")
            raise CommandError(f"Audit chain BROKEN: {len(problems)} problem(s) in {count} entries.")
        against = (
            f" against the checkpoint of {checkpoint.at} ({checkpoint.size} entries)"
            if checkpoint
            else " (no checkpoint exported yet: a cut tail would not show; run audit_checkpoint)"
        )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries verified{against}."))
