"""``ketaclinic manage audit_verify``: check every seal and link of the audit chain; exit 1 on a break."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain from the first entry to the last."

    def handle(self, *args: object, **options: object) -> None:
        count, problems = audit_chain_verify()
        if problems:
            for p in problems[:50]:
                self.stderr.write(f"entry #{p.seq}: {p.problem}")
            raise CommandError(f"Audit chain BROKEN: {len(problems)} problem(s) in {count} entries.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {count} entries verified."))
