"""Assemble docs/safety/hazard-log.md from the fragments in docs/safety/hazards/*.md (one per area)."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
HEAD = (HERE / "hazard-log.head.md").read_text(encoding="utf-8")
ORDER = ["base", "pathway", "live", "titration", "bag", "formulary", "vitals", "discharge", "outcomes", "messaging", "reminders", "booking", "calendar", "home", "rems", "billing-core", "billing", "privacy"]
AREA = {
    "base": "Controls in place before this log", "pathway": "The pathway and safety flags",
    "live": "The nurse's page", "titration": "Dose and rate limits", "bag": "The bag, the vial check and the clock",
    "formulary": "Other medications, allergies and interactions", "vitals": "Vital signs",
    "discharge": "Discharge, adverse events and weights", "outcomes": "Outcome measures", "messaging": "Messages to patients", "reminders": "Reminders and preparation", "booking": "Bookings: chairs, rooms, staff and patients", "calendar": "Calendar feeds", "home": "Home visits", "rems": "Esketamine (Spravato) REMS monitoring form",
    "billing-core": "Money, codes and claims: the rules", "billing": "The back office",
    "privacy": "Privacy",
}


def assemble() -> tuple[str, int]:
    out = [HEAD.rstrip(), ""]
    n = 0
    files = sorted(HERE.glob("hazards/*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    for f in files:
        rows = [line for line in f.read_text(encoding="utf-8").splitlines()
                if line.startswith("|") and not re.match(r"^\|\s*(Hazard|---)", line)]
        if not rows:
            continue
        out += [f"## {AREA.get(f.stem, f.stem.title())}", "", "| Id | Hazard | Severity | Control | Tests |", "|---|---|---|---|---|"]
        for row in rows:
            n += 1
            out.append(f"| HZ-{n:03d} " + row)
        out.append("")
    return "\n".join(out), n


if __name__ == "__main__":
    text, count = assemble()
    (HERE / "hazard-log.md").write_text(text, encoding="utf-8")
    print(f"{count} hazards")
