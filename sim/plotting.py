"""Figures for comparisons: ranked effects, the funnel, and KPI time series.

Readable at slide size (large type, few words), labelled axes with units, and the
Okabe-Ito palette, which stays distinguishable for the common forms of colour blindness.
Every figure is written as PNG (for reports) and SVG (for slides).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.io import atomic_write
from sim.kpis import KPIS

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
plt.rcParams.update(
    {
        "font.size": 13,
        "axes.titlesize": 15,
        "axes.labelsize": 13,
        "legend.fontsize": 12,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
        "svg.fonttype": "none",
    }
)


def _save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write ``fig`` as PNG and SVG, each atomically (a full disk leaves no half figure)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    try:
        atomic_write(paths[0], lambda p: fig.savefig(p, format="png", dpi=150, bbox_inches="tight"))
        atomic_write(paths[1], lambda p: fig.savefig(p, format="svg", bbox_inches="tight"))
    finally:
        plt.close(fig)
    return paths


def money_label(value: float, _pos: object = None) -> str:
    """An axis label for a change in money: +1.5M, +250k, -40 (a matplotlib tick formatter)."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:+.1f}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:+.0f}k"
    return f"{value:+.0f}"


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def effect_chart(effects: pd.DataFrame, kpi: str, stem: Path, n: int) -> list[Path]:
    """Ranked relative effect of each scenario on ``kpi`` against the baseline, with intervals."""
    part = effects.loc[effects.kpi == kpi].sort_values("relative_effect")
    part = part.loc[np.isfinite(part.relative_effect)]
    y = np.arange(len(part))
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(part) + 1.8))
    label = KPIS[kpi].label if kpi in KPIS else _pretty(kpi)
    if part.empty:  # e.g. retention when no contract came up for renewal in the window
        ax.text(
            0.5,
            0.5,
            f"no {label} measured in these runs",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return _save(fig, stem)
    part = part.fillna(
        {"relative_ci_low": part.relative_effect, "relative_ci_high": part.relative_effect}
    )
    lo = (part.relative_effect - part.relative_ci_low).clip(lower=0)
    hi = (part.relative_ci_high - part.relative_effect).clip(lower=0)
    colours = [OKABE_ITO[0] if ex else "#888888" for ex in part.excludes_zero]
    ax.barh(y, part.relative_effect, color=colours, alpha=0.35, height=0.6)
    ax.errorbar(
        part.relative_effect,
        y,
        xerr=[lo, hi],
        fmt="o",
        color="black",
        capsize=5,
        markersize=6,
        linewidth=1.5,
    )
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(y, [_pretty(s) for s in part.scenario])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(f"change in {label} vs baseline (%, 95% interval)")
    ax.set_title(f"Effect on {label} ({n} paired replicates)", loc="left")
    span = max(abs(part.relative_ci_low.min()), abs(part.relative_ci_high.max()), 0.01)
    for yi, (eff, high) in enumerate(zip(part.relative_effect, part.relative_ci_high, strict=True)):
        ax.text(max(high, eff) + 0.03 * span, yi, f"{eff:+.0%}", va="center", fontsize=12)
    ax.set_xlim(min(-0.05 * span, part.relative_ci_low.min() * 1.15), span * 1.3)
    fig.text(0.01, -0.02, "grey: interval includes zero", fontsize=10, color="#555555")
    return _save(fig, stem)


FUNNEL_STAGES = [
    ("leads_created", "leads"),
    ("mqls", "MQLs"),
    ("mql_follow_ups", "MQLs followed up"),
    ("opportunities", "opportunities (SQL)"),
    ("deals_won", "deals won"),
]


def funnel_chart(runs: pd.DataFrame, scenarios: list[str], stem: Path) -> list[Path]:
    """Leads -> MQL -> followed up -> SQL -> won per year, for the scenarios given."""
    stages = [(k, label) for k, label in FUNNEL_STAGES if k in runs]
    years = (runs.days - runs.warmup_days) / 250.0
    fig, ax = plt.subplots(figsize=(10, 5.5))
    height = 0.8 / len(scenarios)
    y = np.arange(len(stages))[::-1]
    for i, scenario in enumerate(scenarios):
        mask = runs.scenario == scenario
        values = [float((runs.loc[mask, k] / years[mask]).mean()) for k, _ in stages]
        pos = y + (len(scenarios) / 2 - i - 0.5) * height
        ax.barh(
            pos,
            values,
            height=height * 0.95,
            color=OKABE_ITO[i % len(OKABE_ITO)],
            label=_pretty(scenario),
        )
        for p, v in zip(pos, values, strict=True):
            ax.text(v * 1.08, p, f"{v:,.0f}", va="center", fontsize=11)
    ax.set_xscale("log")
    ax.set_yticks(y, [label for _, label in stages])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("per year (log scale; mean over replicates)")
    ax.set_title("The funnel: baseline vs full alignment", loc="left")
    ax.set_xlim(right=ax.get_xlim()[1] * 3)
    ax.legend(loc="lower right", frameon=False)
    return _save(fig, stem)


_COUNT = FuncFormatter(lambda v, _: f"{v:,.0f}")
SERIES = [
    ("revenue", 20, "revenue, 20-day total", "currency", _COUNT),
    ("new_mqls", 20, "MQLs, 20-day total", "MQLs", _COUNT),
    ("n_sql", 1, "open opportunities", "opportunities", _COUNT),
    (
        "rep_utilisation",
        20,
        "rep utilisation, 20-day mean",
        "share of non-admin hours",
        PercentFormatter(1.0, decimals=0),
    ),
]


def timeseries_chart(
    ts: pd.DataFrame, scenarios: list[str], warmup_days: int, stem: Path
) -> list[Path]:
    """Mean and 95% band across replicates of four daily KPIs, for the scenarios given."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
    for ax, (col, window, title, unit, formatter) in zip(axes.flat, SERIES, strict=True):
        for i, scenario in enumerate(scenarios):
            part = ts.loc[ts.scenario == scenario].pivot_table(
                index="day", columns="seed", values=col
            )
            if window > 1:
                part = part.rolling(window, min_periods=window).mean() * (
                    window if col in ("revenue", "new_mqls") else 1
                )
            mean = part.mean(axis=1)
            lo, hi = part.quantile(0.025, axis=1), part.quantile(0.975, axis=1)
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            ax.plot(mean.index, mean, color=colour, linewidth=2, label=_pretty(scenario))
            ax.fill_between(mean.index, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.axvspan(0, warmup_days, color="#dddddd", alpha=0.5, linewidth=0)
        ax.set_title(title, loc="left")
        ax.set_ylabel(unit)
        ax.yaxis.set_major_formatter(formatter)
    for ax in axes[1]:
        ax.set_xlabel("business day")
    axes[0, 0].legend(frameon=False, loc="upper left")
    axes[0, 1].text(
        warmup_days / 2,
        0.02,
        "warm-up",
        transform=axes[0, 1].get_xaxis_transform(),
        ha="center",
        fontsize=10,
        color="#555555",
    )
    fig.suptitle(
        "KPIs over time (line: mean; band: 95% of replicates)", x=0.01, ha="left", fontsize=15
    )
    fig.tight_layout()
    return _save(fig, stem)


def validation_chart(table: pd.DataFrame, stem: Path) -> list[Path]:
    """Each fact's published range (grey) against the model's mean and 95% interval.

    Positions are relative to each range (0 = its low end, 1 = its high end; ratios on a log
    scale) so facts with different units share one axis; the labels give the real values.
    Orderings and extreme conditions are listed with their result.
    """
    rows = table.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.6))
    for y, row in rows.iterrows():
        ok = bool(row.passed)
        colour = OKABE_ITO[2] if ok else OKABE_ITO[3]
        if row.kind in ("level", "ratio", "uplift") and np.isfinite(row.range_low):

            def pos(v: float, row: pd.Series = row) -> float:
                if not np.isfinite(v):
                    return np.nan
                if row.kind == "ratio":
                    return (np.log(max(v, 1e-9)) - np.log(row.range_low)) / (
                        np.log(row.range_high) - np.log(row.range_low)
                    )
                return (v - row.range_low) / (row.range_high - row.range_low)

            ax.barh(y, 1.0, left=0.0, height=0.6, color="#dddddd")
            ax.plot([pos(float(row.target))] * 2, [y - 0.3, y + 0.3], color="#555555", lw=1.5)
            m, lo, hi = pos(row.model_mean), pos(row.ci_low), pos(row.ci_high)
            if np.isfinite(m):
                m_c = float(np.clip(m, -0.9, 1.9))
                lo_c = float(np.clip(lo if np.isfinite(lo) else m, -0.9, 1.9))
                hi_c = float(np.clip(hi if np.isfinite(hi) else m, -0.9, 1.9))
                ax.errorbar(
                    m_c,
                    y,
                    xerr=[[m_c - lo_c], [hi_c - m_c]],
                    fmt="o",
                    color=colour,
                    capsize=4,
                    markersize=6,
                )
            text = (
                f"{row.model_mean:.3g} in [{row.range_low:.3g}, {row.range_high:.3g}]"
                if np.isfinite(row.model_mean)
                else "not measured"
            )
        else:
            text = f"{row.target}: {'holds' if ok else 'does not hold'}"
            ax.plot(0.5, y, marker="s" if ok else "X", color=colour, markersize=9)
        ax.text(
            2.0,
            y,
            f"{'pass' if ok else 'FAIL'}  {text}",
            va="center",
            fontsize=10,
            color=colour if not ok else "#222222",
        )
    ax.set_yticks(range(len(rows)), [f"{i} ({k})" for i, k in zip(rows.id, rows.kind, strict=True)])
    ax.set_xlim(-0.9, 1.85)
    ax.set_xticks([-0.5, 0, 0.5, 1, 1.5], ["below", "range low", "mid", "range high", "above"])
    ax.set_xlabel(
        "model mean and 95% interval, relative to the published range (grey); tick: target"
    )
    passed = int(table.passed.sum())
    ax.set_title(f"Validation against published facts: {passed} of {len(table)} pass", loc="left")
    return _save(fig, stem)


def sensitivity_chart(
    table: pd.DataFrame, method: str, stem: Path, scenario: str = "full alignment"
) -> list[Path]:
    """Tornado-style bars of each factor's importance, one panel per output.

    ``scenario``: whose effect the outputs are, for the panel titles.
    """
    outputs = list(dict.fromkeys(table.output))
    fig, axes = plt.subplots(1, len(outputs), figsize=(7 * len(outputs), 7), squeeze=False)
    for ax, output in zip(axes[0], outputs, strict=True):
        part = table.loc[table.output == output].sort_values("importance")
        y = np.arange(len(part))
        if method == "morris":
            ax.barh(
                y, part.mu_star, xerr=part.mu_star_conf, color=OKABE_ITO[0], alpha=0.8, capsize=3
            )
            ax.set_xlabel("Morris mu* (mean |elementary effect| on the uplift)")
        else:
            ax.barh(
                y - 0.2,
                part.ST,
                height=0.4,
                xerr=part.ST_conf,
                color=OKABE_ITO[0],
                label="total (ST)",
                capsize=3,
            )
            ax.barh(
                y + 0.2,
                part.S1,
                height=0.4,
                xerr=part.S1_conf,
                color=OKABE_ITO[1],
                label="first order (S1)",
                capsize=3,
            )
            ax.set_xlabel("Sobol index (share of the uplift's variance)")
            ax.legend(frameon=False, loc="lower right")
        ax.set_yticks(y, [_pretty(p) for p in part.parameter])
        ax.set_title(f"{_pretty(output)} of {scenario}", loc="left")
    fig.suptitle(f"Which factors drive the effect of {scenario}", x=0.01, ha="left", fontsize=15)
    fig.tight_layout()
    return _save(fig, stem)


def bench_chart(rows: pd.DataFrame, floor: float, stem: Path, goal: float = 3.0) -> list[Path]:
    """Run time against leads created (log-log), with a line of slope one through the data.

    ``goal``: the per-lead target, in bare agents (``floor`` seconds each), drawn as a line.
    """
    fig, ax = plt.subplots(figsize=(8, 6))
    # each point: the median over the repeats of one size (leads created vary a little by seed)
    medians = []
    for kind, by in (("scale_leads", "k"), ("scale_days", "days"), ("per_lead", "days")):
        part = rows.loc[rows.kind == kind]
        if len(part):
            medians.append(part.groupby(by)[["leads", "seconds"]].median().assign(kind=kind))
    rows = pd.concat(medians) if medians else rows.iloc[:0]
    for i, (kind, label) in enumerate(
        (
            ("scale_leads", "more lead volume (scaled org)"),
            ("scale_days", "more days"),
            ("per_lead", "one year, default org"),
        )
    ):
        part = rows.loc[rows.kind == kind].sort_values("leads")
        if len(part):
            ax.plot(
                part.leads,
                part.seconds,
                "o-" if len(part) > 1 else "o",
                color=OKABE_ITO[i],
                label=label,
                markersize=8,
            )
    points = rows.loc[rows.kind.isin(["scale_leads", "scale_days", "per_lead"])]
    if len(points):
        x0 = float(points.leads.min())
        y0 = float(points.loc[points.leads.idxmin(), "seconds"])
        xs = np.array([x0, float(points.leads.max())])
        ax.plot(xs, y0 * xs / x0, "--", color="#555555", label="linear (slope 1)")
        ax.plot(
            xs,
            goal * floor * xs,
            ":",
            color=OKABE_ITO[3],
            label=f"target: {goal:g}x a bare mesa.Agent per lead",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("leads created in the run")
    ax.set_ylabel("wall time (s, median)")
    ax.set_title("Run time against leads created", loc="left")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(frameon=False)
    return _save(fig, stem)


def decomposition_chart(table: pd.DataFrame, kpi: str, n: int, stem: Path) -> list[Path]:
    """Per tactic: each mechanism alone, all of them together, and their interaction.

    One panel per tactic, sharing the x axis (relative change in ``kpi`` against the
    baseline, with 95% intervals), so tactics compare at a glance.
    """
    tactics = list(dict.fromkeys(table.tactic))
    sizes = [int((table.tactic == t).sum()) + 2 for t in tactics]
    ncols = 1 if len(tactics) <= 2 else 2  # a landscape slide for three tactics or more
    nrows = -(-len(tactics) // ncols)
    heights = [max(sizes[r * ncols : (r + 1) * ncols]) for r in range(nrows)]
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(9 * ncols, 0.5 * sum(heights) + 1.1 * nrows + 1.0),
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    label = KPIS[kpi].label if kpi in KPIS else _pretty(kpi)
    colours = {"alone": OKABE_ITO[0], "full": OKABE_ITO[1], "interaction": "#888888"}
    # the axis spans every bar and interval drawn (not the "without" columns)
    values = table.filter(regex=r"^(effect_alone|alone_|full|interaction)").to_numpy(float).ravel()
    values = values[np.isfinite(values)]
    low = min(float(values.min()) if len(values) else 0.0, 0.0)
    high = max(float(values.max()) if len(values) else 0.0, 0.0)
    span = max(high - low, 0.01)
    for ax in axes.ravel()[len(tactics) :]:
        ax.set_axis_off()
    for ax, tactic in zip(axes.ravel(), tactics, strict=False):
        part = table.loc[table.tactic == tactic]
        first = part.iloc[0]
        bars = [
            (_pretty(m), e, lo, hi, "alone")
            for m, e, lo, hi in zip(
                part.mechanism, part.effect_alone, part.alone_lo95, part.alone_hi95, strict=True
            )
        ]
        bars.append(("all together", first.full, first.full_lo95, first.full_hi95, "full"))
        bars.append(
            (
                "interaction",
                first.interaction,
                first.interaction_lo95,
                first.interaction_hi95,
                "interaction",
            )
        )
        y = np.arange(len(bars))[::-1]
        for yi, (_, eff, lo, hi, kind) in zip(y, bars, strict=True):
            if not np.isfinite(eff):  # no value of the KPI in these runs
                ax.text(0.01 * span, yi, "n/a", va="center", fontsize=11, color="#555555")
                continue
            ax.barh(yi, eff, color=colours[kind], alpha=0.85, height=0.62)
            if np.isfinite(lo) and np.isfinite(hi):
                ax.errorbar(
                    eff,
                    yi,
                    xerr=[[max(eff - lo, 0)], [max(hi - eff, 0)]],
                    color="black",
                    capsize=4,
                    linewidth=1.3,
                )
            if eff < 0:  # the number beside the bar's far end, clear of its interval
                edge = min(eff, lo if np.isfinite(lo) else eff) - 0.02 * span
            else:
                edge = max(eff, hi if np.isfinite(hi) else eff) + 0.02 * span
            ha = "right" if eff < 0 else "left"
            ax.text(edge, yi, f"{eff:+.1%}", va="center", ha=ha, fontsize=11)
        ax.axvline(0, color="black", linewidth=1)
        ax.axhline(y[len(part)] + 0.5, color="#bbbbbb", linewidth=0.8, linestyle="--")
        ax.set_yticks(y, [b[0] for b in bars])
        ax.set_title(_pretty(tactic), loc="left", fontweight="bold")
    for ax in axes.ravel()[: len(tactics)]:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(labelbottom=True)
    for ax in axes[-1]:
        ax.set_xlabel(f"change in {label} vs baseline (95% interval)")
    axes[0, 0].set_xlim(low - (0.16 if low < 0 else 0.03) * span, high + 0.16 * span)
    fig.suptitle(
        f"Why each tactic works: its mechanisms one at a time ({n} paired replicates)",
        x=0.01,
        ha="left",
        fontsize=15,
    )
    fig.text(
        0.01,
        -0.01,
        "blue: the mechanism alone; orange: all mechanisms together; grey: interaction "
        "(together minus the sum of the blue bars)",
        fontsize=10,
        color="#555555",
    )
    # keep the title's half inch clear of the first row of panels (tight_layout ignores it)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return _save(fig, stem)
