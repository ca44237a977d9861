"""Assemble docs/safety/hazard-log.md from the fragments in docs/safety/hazards/*.md (one per area).

Each row carries its own id, kept for good: a hazard added to an earlier area does not renumber the ones
after it (tests, reviews and incident reports cite them). A new hazard takes the next free id, printed at
the end of a run; an id is never reused."""

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


ID = re.compile(r"^\|\s*(HZ-\d{3})\s*\|")


def assemble() -> tuple[str, int]:
    out = [HEAD.rstrip(), ""]
    n = 0
    seen: dict[str, str] = {}
    files = sorted(HERE.glob("hazards/*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    for f in files:
        rows = [line for line in f.read_text(encoding="utf-8").splitlines()
                if line.startswith("|") and not re.match(r"^\|\s*(Id|Hazard|---)", line)]
        if not rows:
            continue
        out += [f"## {AREA.get(f.stem, f.stem.title())}", "", "| Id | Hazard | Severity | Control | Tests |", "|---|---|---|---|---|"]
        for row in rows:
            found = ID.match(row)
            if not found:
                raise SystemExit(f"{f.name}: a row without its id (| HZ-nnn | ...): {row[:80]}")
            if found.group(1) in seen:
                raise SystemExit(f"{f.name}: {found.group(1)} is already used in {seen[found.group(1)]}")
            seen[found.group(1)] = f.name
            n += 1
            out.append(row)
        out.append("")
    return "\n".join(out), n


def next_free_id() -> str:
    used = [int(m.group(1)[3:]) for f in HERE.glob("hazards/*.md")
            for line in f.read_text(encoding="utf-8").splitlines() if (m := ID.match(line))]
    return f"HZ-{max(used, default=0) + 1:03d}"


if __name__ == "__main__":
    text, count = assemble()
    (HERE / "hazard-log.md").write_text(text, encoding="utf-8")
    print(f"{count} hazards; the next new one is {next_free_id()}")
