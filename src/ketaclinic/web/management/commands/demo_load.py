"""``ketaclinic manage demo_load``: load the demo clinic (idempotent) and print the demo logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django_otp.oath import totp

from ketaclinic.web.demo import DEMO_PASSWORD, DEMO_TOTP_KEY_HEX, demo_load, demo_logins


class Command(BaseCommand):
    help = "Load the demo clinic (two locations, one user per role, ~30 patients). Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--address", default="http://127.0.0.1:8000", help="Where the demo is served (printed to open)."
        )

    def handle(self, *args: object, **options: object) -> None:
        created = demo_load()
        self.stdout.write(
            "Demo clinic loaded." if created else "Demo clinic already loaded: nothing changed."
        )
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for login in demo_logins():
            self.stdout.write(
                f"  {login.username:<14} {login.role:<11}"
                f"{'  + authenticator code' if login.needs_totp else ''}"
            )
        code = f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"
        self.stdout.write(
            "\nPrescribers and the admin also need a code: add the key JBSWY3DPEHPK3PXP (base32) to an "
            "authenticator app, or run `ketaclinic manage demo_totp` for the current one "
            f"(right now: {code}).\n"
            f"Open {options['address']}\n"
        )
