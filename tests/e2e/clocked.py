"""Run a ketaclinic command with a test clock: ``python -m tests.e2e.clocked manage runserver ...``.

``django.utils.timezone.now()`` returns the real time plus the number of seconds written in the file named by
``KETACLINIC_E2E_CLOCK_FILE`` (0 when it is missing), read at every call, so a browser test can move the
server's clock forward (an infusion's 40 minutes, the observation after it) while the pages are open.
Only the browser tests use it; it is not part of the installed package. The patch is made before Django or
ketaclinic is imported, so every ``from django.utils.timezone import now`` sees it too.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

_REAL = timezone.now


def _now() -> datetime:
    try:
        offset = float(Path(os.environ["KETACLINIC_E2E_CLOCK_FILE"]).read_text() or 0)
    except (FileNotFoundError, ValueError):
        offset = 0.0
    return _REAL() + timedelta(seconds=offset)


def advance(clock_file: Path, minutes: float) -> None:
    """Move the clock the server reads forward by ``minutes`` (never back)."""
    if minutes <= 0:
        return
    try:
        offset = float(clock_file.read_text() or 0)
    except FileNotFoundError:
        offset = 0.0
    clock_file.write_text(str(offset + minutes * 60))


if __name__ == "__main__":
    timezone.now = _now
    from ketaclinic.cli import main

    raise SystemExit(main(sys.argv[1:]))
