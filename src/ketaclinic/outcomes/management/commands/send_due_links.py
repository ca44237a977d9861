"""``ketaclinic manage send_due_links``: email each patient a link for every questionnaire due today.

Run it once a day (cron or a systemd timer; see docs/outcomes.md). Idempotent: a second run the same day
sends nothing already sent; a failed email is recorded and tried again at the next run."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import Location
from ketaclinic.core.errors import DomainError
from ketaclinic.outcomes.services import due_links_send


class Command(BaseCommand):
    help = (
        "Email patients a single-use link for each questionnaire "
        "due today that has no answer and no live link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--location", default="", help="Only this location's patients (its code).")
        parser.add_argument(
            "--date", dest="day", default="", help="The day to send for (YYYY-MM-DD); default today."
        )

    def handle(self, *args: object, location: str, day: str, **options: object) -> None:
        base_url = settings.KETACLINIC_BASE_URL or ("http://127.0.0.1:8000" if settings.DEBUG else "")
        if not settings.DEBUG and not base_url.startswith("https://"):
            raise CommandError(
                "KETACLINIC_BASE_URL must be the clinic's https:// address: patients' links start with it."
            )
        where = None
        if location:
            where = Location.objects.filter(code=location).first()
            if where is None:
                raise CommandError(f"No location {location!r}.")
        try:
            summary = due_links_send(user=None, base_url=base_url, location=where, today=_day(day))
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Questionnaire links: {summary}.")
        if summary.failed:
            raise CommandError(
                f"{summary.failed} email(s) failed; they are recorded and will be retried at the next run."
            )


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} must look like 2026-11-25.") from None
