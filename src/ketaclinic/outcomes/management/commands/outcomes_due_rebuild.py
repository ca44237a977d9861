"""``ketaclinic manage outcomes_due_rebuild``: rebuild what is due per patient from the records.

The questionnaires worklist and the daily links read ``outcomes.QuestionnaireDue``, which the services keep
up to date in the transaction of every action that changes what is due. Run this once after upgrading to the
version that added it (the migration creates the table empty: a migration may not import the app's code), or
after changing records outside the services. Idempotent, and in batches of patients (one transaction each):
safe to run on a clinic in use, and to run again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import Location
from ketaclinic.outcomes.services.due import REBUILD_BATCH, due_rebuild


class Command(BaseCommand):
    help = "Rebuild the stored questionnaire windows (what is due per patient) from the records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--location", default="", help="Only this location's patients (its code).")
        parser.add_argument(
            "--batch", type=int, default=REBUILD_BATCH, help="Patients per transaction (default %(default)s)."
        )

    def handle(self, *args: object, location: str, batch: int, **options: object) -> None:
        where = None
        if location:
            where = Location.objects.filter(code=location).first()
            if where is None:
                raise CommandError(f"No location {location!r}.")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        verbose = int(str(options.get("verbosity", 1))) > 1
        rows = due_rebuild(location=where, batch_size=batch, log=self.stdout.write if verbose else None)
        self.stdout.write(f"Questionnaire windows rebuilt: {rows} rows.")
