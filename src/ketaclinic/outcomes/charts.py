"""The trajectory picture (matplotlib, Agg backend, SVG): one instrument's totals over time for one patient.

Totals as dots joined by a line; each infusion a thin vertical blue line numbered at the top; the response
line (totals at or below it meet the response definition) dashed green; the remission line (below it)
dotted purple; the status in words as the title. Kept out of ``ketaclinic.core``: matplotlib does I/O
on import (font caches).
"""

from __future__ import annotations

import hashlib
import io

import matplotlib

matplotlib.use("Agg")
from django.core.cache import cache  # noqa: E402
from django.utils import timezone  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ketaclinic.core.instruments import get_instrument  # noqa: E402
from ketaclinic.outcomes.selectors import Trajectory  # noqa: E402

TRAJECTORY_CACHE_SECONDS = 3600


def trajectory_svg_cached(trajectory: Trajectory) -> bytes:
    """The picture as ``trajectory_svg`` draws it, drawn once per content: the key is a digest of the
    trajectory itself (every point, infusion and the status) and the time zone its dates are shown in, so a
    new answer or infusion is a new key and nothing needs invalidating; an unchanged picture comes from
    Django's cache (Redis shared by the server processes in production) instead of matplotlib (0.1-0.3 s)."""
    drawn_from = (trajectory, str(timezone.get_current_timezone()))
    key = "trajectory-chart:" + hashlib.sha256(repr(drawn_from).encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        svg = trajectory_svg(trajectory)
        cache.set(key, svg, timeout=TRAJECTORY_CACHE_SECONDS)
    return bytes(svg)


def trajectory_svg(trajectory: Trajectory) -> bytes:
    inst = get_instrument(trajectory.instrument)
    fig = Figure(figsize=(8.5, 3.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    top = inst.scoring.max_total or 1
    for when, n in trajectory.infusions:
        # matplotlib's units place a datetime on a date axis; its type hints only say float
        ax.axvline(when, color="#6aa6d8", linewidth=1, zorder=1)  # type: ignore[arg-type]
        ax.annotate(
            str(n),
            (when, top),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color="#2b6ca3",
        )
    if trajectory.points:
        xs = [p[0] for p in trajectory.points]
        ys = [p[1] for p in trajectory.points]
        ax.plot(
            xs,  # type: ignore[arg-type]  # datetimes, placed by matplotlib's date units (as axvline above)
            ys,
            "-o",
            color="#1f3b57",
            markersize=5,
            linewidth=1.6,
            zorder=3,
            label=inst.name.split(" (")[0],
        )
    s = trajectory.status
    if s.response_line is not None:
        ax.axhline(
            s.response_line,
            color="#2e8540",
            linestyle="--",
            linewidth=1.2,
            label=f"response (≤ {s.response_line:g})",
        )
    if s.remission_line is not None:
        ax.axhline(
            s.remission_line,
            color="#7a3e9d",
            linestyle=":",
            linewidth=1.4,
            label=f"remission (< {s.remission_line:g})",
        )
    ax.set_ylim(inst.scoring.min_total or 0, top * 1.08)
    ax.set_ylabel("total")
    short = inst.name.split("(")[-1].rstrip(")") if "(" in inst.name else inst.name
    ax.set_title(f"{short}: {s.words}" if len(s.words) < 70 else short, fontsize=9, loc="left")
    ax.grid(axis="y", color="#e5e5e5")
    ax.plot([], [], color="#6aa6d8", linewidth=1, label="infusion (numbered)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.9, borderaxespad=0)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="svg")
    return out.getvalue()
