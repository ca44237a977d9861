"""``ketaclinic manage send_due_links``: email each patient a link for every questionnaire due today.

The worker (``ketaclinic manage jobs_worker``, docs/jobs.md) runs the same code every day by itself, one task
per location; this command is the manual trigger: it queues the emails in the outbox now (the worker sends
them, retries each with backoff and shows a failure on the worklist), or with ``--enqueue`` hands the whole
run to the worker. Idempotent: a second run the same day queues nothing already queued."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.models import Location
from ketaclinic.core.errors import DomainError
from ketaclinic.outcomes.services import due_links_send
from ketaclinic.outcomes.tasks import due_links_enqueue


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
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one job per location for the worker instead of sending now.",
        )

    def handle(self, *args: object, location: str, day: str, enqueue: bool, **options: object) -> None:
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
        if enqueue:
            count = due_links_enqueue(day=_day(day), location=where)
            self.stdout.write(f"Questionnaire links: {count} location job(s) queued for the worker.")
            return
        try:
            summary = due_links_send(user=None, base_url=base_url, location=where, today=_day(day))
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Questionnaire links: {summary}.")


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} must look like 2026-11-25.") from None
