"""Print the share of mutants killed, per module and in total, from mutmut 3's results (``make mutation``).

Reads ``mutants/**/*.meta`` (mutmut's per-file results). Killed = a test failed (or pytest errored, or the
mutant timed out: an infinite loop the tests catch); survived = every test passed; mutants not checked or
without a covering test count as not killed. Exits 1 when the total is below ``--target`` percent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255}  # failed, pytest internal error, timeouts (mutmut.stats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", default="mutants", type=Path)
    parser.add_argument("--target", default=90.0, type=float)
    parser.add_argument("--list-survivors", action="store_true")
    args = parser.parse_args()
    total = killed = 0
    survivors: list[str] = []
    rows = []
    for meta in sorted(args.root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        k = sum(1 for c in codes.values() if c in KILLED)
        survivors += [name for name, c in codes.items() if c not in KILLED]
        module = str(meta.relative_to(args.root)).removesuffix(".meta")
        rows.append((module, k, len(codes)))
        total += len(codes)
        killed += k
    if not total:
        print("No mutation results found: run `make mutation` first.")
        return 1
    width = max(len(m) for m, _, _ in rows)
    for module, k, n in rows:
        print(f"{module:<{width}}  {k:>5} of {n:>5} killed  {k / n * 100:5.1f}%")
    share = killed / total * 100
    print(f"{'TOTAL':<{width}}  {killed:>5} of {total:>5} killed  {share:5.1f}% (target {args.target:g}%)")
    if args.list_survivors:
        print("\n".join(survivors))
    return 0 if share >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
