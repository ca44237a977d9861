"""``ketaclinic manage demo_totp``: the demo authenticator's current 6-digit code (demo only)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_otp.oath import totp

from ketaclinic.web.demo import DEMO_TOTP_KEY_HEX


class Command(BaseCommand):
    help = "Print the demo authenticator's current code."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}")
