"""``ketaclinic instrument``: list the shipped questionnaires and score one administration (no Django).

``ketaclinic instrument score phq9 --answers 1,2,0,3,1,0,2,1,0 --json`` prints the score as JSON; an
empty field is an unanswered (or branching-skipped) item, e.g. ``--answers 1,,0,3,1,0,2,1,0``. A refused
answer exits with status 2 and a message naming the item, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import json

from ketaclinic.core.errors import ValidationError
from ketaclinic.core.instruments import score, shipped_instruments

MSG_ANSWER_NOT_A_NUMBER = (
    "answer {position}: {text!r} is not a whole number (leave the field empty if unanswered)."
)


def parse_answers(text: str) -> list[int | None]:
    """``"1,,0"`` → ``[1, None, 0]``: an empty field is an unanswered item."""
    answers: list[int | None] = []
    for position, field in enumerate(text.split(","), start=1):
        field = field.strip()
        if field == "":
            answers.append(None)
            continue
        try:
            answers.append(int(field))
        except ValueError:
            raise ValidationError(
                MSG_ANSWER_NOT_A_NUMBER.format(position=position, text=field), field="answers", value=field
            ) from None
    return answers


def _list(args: argparse.Namespace) -> int:
    rows = [i.summary() for i in shipped_instruments().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        notes = [] if r["validated"] else ["NOT a validated scale"]
        if r["wording_missing"]:
            notes.append("wording clinic-supplied, missing")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{r['id']:<26} v{r['version']:<2} {r['items']:>3} items  {r['name']}{suffix}")
    return 0


def _score(args: argparse.Namespace) -> int:
    result = score(args.instrument, parse_answers(args.answers)).as_dict()
    if args.json:
        print(json.dumps(result))
        return 0
    total = "-" if result["total"] is None else result["total"]
    print(f"{result['instrument']}: total {total}, severity {result['severity'] or '-'}")
    if result["prorated"]:
        print(f"  prorated for unanswered items: {', '.join(result['missing_items'])}")
    for flag in result["flags"]:
        print(f"  FLAG: {flag}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("instrument", help="List questionnaires and score one administration.")
    isub = p.add_subparsers(dest="instrument_command", required=True)
    lst = isub.add_parser("list", help="The instruments ketaclinic ships.")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)
    sc = isub.add_parser("score", help="Score one administration.")
    sc.add_argument("instrument", help="Instrument id, e.g. phq9.")
    sc.add_argument(
        "--answers", required=True, help="Comma-separated answers in item order; empty = unanswered."
    )
    sc.add_argument("--json", action="store_true")
    sc.set_defaults(func=_score)
