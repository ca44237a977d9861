"""The live page's chart: vital signs over time above, the predicted plasma concentration below (matplotlib
Agg → SVG).

Kept outside ``ketaclinic.core`` (matplotlib reads font caches when imported). Both panels share the x axis:
minutes from the infusion start (from check-in before it starts). Periods when the pump ran are shaded in
light blue on both panels, pauses left white. The concentration is the PK model's prediction for the
rates actually delivered (from the rate history: titrations and pauses included), solid, with the signed
order's prediction dashed beside it; a model, not a measurement, as the panel's title says.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
from django.core.cache import cache
from django.utils import timezone
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ketaclinic.infusions.selectors import ChartSeries  # noqa: E402

RUNS = ("start", "resume", "rate")
CHART_CACHE_SECONDS = (
    600  # a picture is keyed by its content and its minute: kept long enough for every viewer
)


def _periods(events: list[Any], origin: datetime) -> list[tuple[float, float, float]]:
    """(start min, end min, rate mg/h) for each stretch the pump ran; an open one runs to the last event."""
    out: list[tuple[float, float, float]] = []
    open_at: float | None = None
    rate = 0.0
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        m = (e.at - origin).total_seconds() / 60.0
        if open_at is not None and e.kind in ("rate", "pause", "stop"):
            out.append((open_at, m, rate))
            open_at = None
        if e.kind in RUNS:
            open_at, rate = m, e.rate_mg_per_h
    if open_at is not None:
        out.append((open_at, float("nan"), rate))
    return out


def session_chart_svg_cached(
    version: tuple[Any, ...], draw_from: Callable[[], tuple[ChartSeries, list[Any]]], *, tz: ZoneInfo
) -> str:
    """The chart as ``session_chart_svg`` draws it, drawn once per content. ``version`` names everything the
    picture is drawn from (``selectors.chart_version``: the session's state, its readings, pump events and
    orders); with the zone and the minute (which moves "now" on a running infusion) it keys Django's cache
    (Redis shared by every server process in production, local memory otherwise). An unchanged picture is
    served from the cache without reading the series or predicting concentrations again (the prediction
    and matplotlib cost 0.1-1 s); a new reading, event or order is a new key: nothing to invalidate."""
    now = timezone.now().replace(second=0, microsecond=0)
    key = "session-chart:" + hashlib.sha256(repr((version, str(tz), now)).encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        series, events = draw_from()
        svg = session_chart_svg(series, events, tz=tz, now=now)
        cache.set(key, svg, timeout=CHART_CACHE_SECONDS)
    return str(svg)


def session_chart_svg(
    series: ChartSeries, events: list[Any], *, tz: ZoneInfo, now: datetime | None = None
) -> str:
    buf = io.StringIO()
    session_chart_figure(series, events, tz=tz, now=now).savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def session_chart_figure(
    series: ChartSeries, events: list[Any], *, tz: ZoneInfo, now: datetime | None = None
) -> Figure:
    now = now or timezone.now()
    origin = series.started_at or (series.vitals[0]["taken_at"] if series.vitals else now)
    fig = Figure(figsize=(9, 5.6), dpi=100)
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(2, 1, height_ratios=[3, 2], hspace=0.32)
    ax = fig.add_subplot(gs[0])
    ax_c = fig.add_subplot(gs[1], sharex=ax)
    xs = [v["minute"] for v in series.vitals]
    end_now = (now - origin).total_seconds() / 60.0
    xmax = max([*xs, *(t for t, _ in series.predicted), 10.0])
    if series.started_at is not None and any(e.kind == "stop" for e in events):
        xmax = max(xs + [10.0]) + 5
    elif series.started_at is not None:
        xmax = max(xmax if not xs else max(xs) + 5, min(end_now, xmax) + 5)
    for a in (ax, ax_c):
        for start, end, rate in _periods(events, origin):
            end = end_now if end != end else end
            a.axvspan(start, end, color="#cfe3f7", lw=0, zorder=0)
            if a is ax_c and end - start >= 4:
                a.text(
                    (start + end) / 2,
                    0.04,
                    f"{rate:.1f} mg/h",
                    transform=a.get_xaxis_transform(),
                    ha="center",
                    va="bottom",
                    fontsize=9,
                    color="#1f4e79",
                )
        a.grid(True, color="#e3e7ec", lw=0.8)
        a.set_axisbelow(True)

    def line(key: str, label: str, color: str, marker: str) -> None:
        pts = [(v["minute"], v[key]) for v in series.vitals if v[key] is not None]
        if pts:
            ax.plot(
                [p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker, ms=6, lw=2, label=label
            )

    line("systolic_mmhg", "BP systolic (mmHg)", "#b2182b", "v")
    line("diastolic_mmhg", "BP diastolic (mmHg)", "#ef8a62", "^")
    line("heart_rate_bpm", "Heart rate (/min)", "#2166ac", "o")
    line("spo2_percent", "SpO₂ (%)", "#1a9850", "s")
    ax.set_ylim(
        40, max([200.0, *[float(v["systolic_mmhg"]) + 10 for v in series.vitals if v["systolic_mmhg"]]])
    )
    ax.set_ylabel("mmHg · /min · %")
    ax.set_title("Vital signs (shaded: pump running)", loc="left", fontsize=11)
    if series.vitals:
        ax.legend(loc="upper left", ncol=4, fontsize=8.5, frameon=False)
    else:
        ax.text(0.5, 0.5, "No readings yet", transform=ax.transAxes, ha="center", color="#5b6775")
    delivered = series.predicted_given  # the selector's prediction for the rates actually delivered
    if series.predicted:
        ax_c.plot(
            [t for t, _ in series.predicted],
            [c for _, c in series.predicted],
            color="#8c96a3",
            lw=1.6,
            ls="--",
            label="order as signed",
        )
    if delivered:
        cut = [(t, c) for t, c in delivered if t <= end_now]
        ax_c.plot(
            [t for t, _ in cut], [c for _, c in cut], color="#0b3d91", lw=2.6, label="as delivered, until now"
        )
        ahead = [(t, c) for t, c in delivered if t >= end_now]
        if ahead and not any(e.kind == "stop" for e in events):
            ax_c.plot(
                [t for t, _ in ahead],
                [c for _, c in ahead],
                color="#0b3d91",
                lw=1.2,
                ls=":",
                label="if stopped now",
            )
    peak = max([c for _, c in series.predicted] + [c for _, c in delivered] + [0.0])
    if peak > 0:
        ax_c.set_ylim(0, peak * 1.3)
        ax_c.legend(loc="upper right", fontsize=8.5, frameon=True, framealpha=0.9)
    else:
        ax_c.text(0.5, 0.5, "No order calculated yet", transform=ax_c.transAxes, ha="center", color="#5b6775")
    ax_c.set_ylabel("ng/mL")
    ax_c.set_title(
        "Predicted plasma ketamine concentration (pharmacokinetic model, not measured)",
        loc="left",
        fontsize=10,
    )
    ax_c.set_xlabel(
        "Minutes from the infusion start"
        + (
            f" ({origin.astimezone(tz):%H:%M})"
            if series.started_at
            else " (not started: from the first reading)"
        )
    )
    ax.set_xlim(min([0.0, *xs]) - 2, xmax)
    for a in (ax, ax_c):
        a.tick_params(labelsize=9)
    ax.tick_params(labelbottom=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.94, bottom=0.1)
    return fig
