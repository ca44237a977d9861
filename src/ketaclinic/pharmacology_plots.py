"""Concentration-time pictures for nurses and prescribers (matplotlib, Agg backend, no pyplot state).

Kept outside ``ketaclinic.core`` because matplotlib reads configuration and font caches when imported:
the core does no I/O. Building a figure writes nothing; ``figure_write`` is the one place a file is
written, and only the CLI calls it.

The picture: time since the start in minutes on the x axis; predicted plasma concentration in ng/mL on
the y axis; each infusion shaded in light blue with its rate written on it, pauses left white, boluses
marked with a triangle; the effect-site curve dashed where the model has a (derived) ke0; the
population's 5th-95th percentile band in grey with its median dotted; a threshold as a red line.
A footnote says it is a model prediction and names the model and its source.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ketaclinic.core.errors import ValidationError  # noqa: E402
from ketaclinic.core.pharmacology.population import PopulationResult  # noqa: E402
from ketaclinic.core.pharmacology.simulation import Simulation  # noqa: E402

PLOT_FORMATS = ("png", "svg")
BAD_FORMAT = "Plot file {value!r} must end in one of {allowed}."


def concentration_figure(
    sim: Simulation,
    *,
    population: PopulationResult | None = None,
    threshold_ng_per_ml: float | None = None,
    title: str | None = None,
) -> Figure:
    fig = Figure(figsize=(10, 7), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ymax = float(max(sim.plasma_ng_per_ml.max(), 1.0))
    if population is not None:
        ymax = max(ymax, float(population.percentiles[95.0].max()))
    if threshold_ng_per_ml is not None:
        ymax = max(ymax, threshold_ng_per_ml)
    ytop = ymax * 1.18
    for p in sim.regimen.phases_for(sim.weight_kg):
        if p.end_min > p.start_min and p.rate_mg_per_min > 0:
            ax.axvspan(p.start_min, p.end_min, color="#cfe3f7", alpha=0.8, lw=0, zorder=0)
            mg = p.rate_mg_per_min * (p.end_min - p.start_min)
            ax.text(
                (p.start_min + p.end_min) / 2,
                ytop * 0.97,
                f"infusion\n{p.rate_mg_per_min * 60:.1f} mg/h\n"
                f"{mg:.1f} mg in {p.end_min - p.start_min:.1f} min",
                ha="center",
                va="top",
                fontsize=11,
                color="#1f4e79",
            )
        if p.bolus_mg:
            ax.plot([p.start_min], [ytop * 0.9], marker="v", ms=12, color="#1f4e79", zorder=5)
            ax.text(p.start_min, ytop * 0.84, f" bolus {p.bolus_mg:.1f} mg", fontsize=10, color="#1f4e79")
    if population is not None:
        ax.fill_between(
            population.t_min,
            population.percentiles[5.0],
            population.percentiles[95.0],
            color="#9e9e9e",
            alpha=0.35,
            lw=0,
            label=f"{population.weights_kg.size:,} virtual patients: 5th–95th percentile",
        )
        ax.plot(
            population.t_min,
            population.percentiles[50.0],
            color="#555555",
            lw=1.5,
            ls=":",
            label="population median",
        )
    ax.plot(
        sim.t_min,
        sim.plasma_ng_per_ml,
        color="#0b3d91",
        lw=2.8,
        label=f"plasma, {sim.weight_kg:.0f} kg patient",
    )
    if sim.effect_site_ng_per_ml is not None:
        ax.plot(
            sim.t_min,
            sim.effect_site_ng_per_ml,
            color="#2e8b57",
            lw=1.8,
            ls="--",
            label="effect site (derived ke0, indicative only)",
        )
    if threshold_ng_per_ml is not None:
        ax.axhline(
            threshold_ng_per_ml, color="#c62828", lw=1.8, label=f"threshold {threshold_ng_per_ml:g} ng/mL"
        )
    s = sim.summary
    ax.annotate(
        f"peak {s.cmax_ng_per_ml:.0f} ng/mL\nat {s.tmax_min:.0f} min",
        xy=(s.tmax_min, s.cmax_ng_per_ml),
        xytext=(s.tmax_min + 0.06 * sim.t_min[-1], s.cmax_ng_per_ml * 1.02),
        fontsize=11,
        arrowprops={"arrowstyle": "->", "color": "#0b3d91"},
    )
    ax.set_xlim(0, float(sim.t_min[-1]))
    ax.set_ylim(0, ytop)
    ax.set_xlabel("Time since start of the session (minutes)", fontsize=13)
    ax.set_ylabel("Predicted ketamine concentration (ng/mL)", fontsize=13)
    ax.tick_params(labelsize=12)
    ax.grid(True, color="#dddddd", lw=0.8)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2, fontsize=10.5, frameon=False)
    ax.set_title(title or f"Predicted ketamine concentration — {sim.model.label}", fontsize=14)
    fig.text(
        0.01,
        0.01,
        f"Model prediction, not a measured level. {sim.model.label}: parameters "
        f"{sim.model.parameter_source}. Light blue = drug running.",
        fontsize=8.5,
        color="#444444",
    )
    fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.25)
    return fig


def figure_write(fig: Figure, path: str | Path) -> Path:
    """Write the figure as PNG or SVG, chosen by the file's extension."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ValidationError(
            BAD_FORMAT.format(value=str(path), allowed=", ".join("." + f for f in PLOT_FORMATS)),
            field="out",
            value=str(path),
        )
    fig.savefig(path, format=fmt, metadata={"Software": "ketaclinic"} if fmt == "png" else None)
    return path
