"""``ketaclinic manage ...``: Django's manage.py, with ketaclinic's settings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence


def run_manage(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.web.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ketaclinic manage", *argv])
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("manage", help="Run a Django management command (migrate, runserver, ...).")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: run_manage(a.args))
