"""``ketaclinic manage network_generate``: a synthetic clinic network for measuring pages at scale."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.web.network import NetworkNotEmpty, network_generate
from ketaclinic.web.network.people import PASSWORD


class Command(BaseCommand):
    help = (
        "Generate a synthetic clinic network (locations, staff, patients with screenings, plans, sessions "
        "with vitals every 5 minutes, questionnaires, audit entries) into an empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--locations", type=int, default=9, help="Clinics (default 9).")
        parser.add_argument("--patients", type=int, default=10_000, help="Patients (default 10,000).")
        parser.add_argument(
            "--registry", type=int, default=0, help="Patients registered at other locations (default 0)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--force", action="store_true", help="Add to a database that already holds patients."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, low in (("locations", 1), ("patients", 1), ("registry", 0)):
            if options[name] < low:
                raise CommandError(f"--{name} {options[name]} is below the least allowed, {low}.")
        try:
            report = network_generate(
                locations=options["locations"],
                patients=options["patients"],
                registry=options["registry"],
                seed=options["seed"],
                force=options["force"],
                log=self.stdout.write,
            )
        except NetworkNotEmpty as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("\nMade:")
        for what, n in report.counts.items():
            self.stdout.write(f"  {what:<32} {n:>12,}")
        self.stdout.write(
            f"\nTotal {report.total_seconds:.1f} s. Staff sign in as e.g. nurse.01.1, "
            f"prescriber.01.1, intake.01.1, admin.network (password {PASSWORD})."
        )
