"""``ketaclinic manage outcome_summaries_rebuild``: the outcomes dashboard's summaries anew from the answers,
for a database that held answers before the summaries existed (or to check them: the rows come out the same).
Idempotent; batched (``--batch`` patients a transaction); safe while the clinic records answers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ketaclinic.outcomes.services.summaries import REBUILD_BATCH, outcome_summaries_rebuild


class Command(BaseCommand):
    help = "Rebuild the outcomes dashboard's summaries from the answers (idempotent, in batches)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=REBUILD_BATCH, help="Patients per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        build = outcome_summaries_rebuild(batch=options["batch"], log=self.stdout.write)
        self.stdout.write(f"Outcome summaries rebuilt for {build.patients:,} patients.")
