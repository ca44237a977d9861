"""How long ``ketaclinic --help`` takes to start, against ``python -c pass`` (the interpreter alone) in the
same run: median of 15 fresh processes each, and the ratio. Target: ``--help`` under 200 ms."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

KETACLINIC = str(Path(sys.executable).with_name("ketaclinic"))
RUNS = 15


def median_ms(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    print(f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}; median of {RUNS} processes")
    base = median_ms([sys.executable, "-c", "pass"])
    rows = [
        ("ketaclinic --help", [KETACLINIC, "--help"]),
        ("ketaclinic pk models", [KETACLINIC, "pk", "models"]),
        ("ketaclinic protocol list", [KETACLINIC, "protocol", "list"]),
    ]
    print(f"  {'python -c pass (baseline)':<28} {base:7.1f} ms   1.0x")
    help_ms = 0.0
    for name, argv in rows:
        ms = median_ms(argv)
        help_ms = help_ms or ms
        print(f"  {name:<28} {ms:7.1f} ms {ms / base:5.1f}x")
    print(f"target: --help under 200 ms -> {'MET' if help_ms < 200 else 'NOT MET'} ({help_ms:.0f} ms)")
    return 0 if help_ms < 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
