"""Aggregate a study into the tactic comparison: tables, figures and a report.

Reads a study's tidy table (``runs.parquet``, or its committed rows, and the ``timeseries``
dataset: ``sim.tidy``), as the comparison's study runner writes it; or, in a directory
without one, the run folders ``python -m sim`` writes (a sweep run elsewhere with any
launcher), each from its own ``summary.json`` and ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import tidy
from sim.effects import EFFECT_KPIS, LEVEL, paired_effects, ranked
from sim.io import atomic_write, incomplete_runs, load_runs, load_timeseries, write_runs
from sim.kpis import HEADLINE, KPIS, with_role
from sim.params import BUSINESS_DAYS_PER_YEAR
from sim.plotting import effect_chart, funnel_chart, timeseries_chart
from sim.report import Report

VALIDATION_CSV = Path(__file__).resolve().parent.parent / "docs" / "validation" / "validation.csv"


@dataclass
class Comparison:
    """What ``aggregate`` produced."""

    runs: pd.DataFrame
    effects: pd.DataFrame
    table: pd.DataFrame  # the ranked table, formatted for people
    files: list[Path]
    incomplete: list[Path]  # run directories skipped because they never finished
    skipped: list[tuple[Path, str]]  # finished runs left out because their files are damaged


def _cell(row: pd.Series) -> str:
    if pd.isna(row.relative_effect):
        return "n/a"
    mark = "" if row.excludes_zero else " (ns)"
    return (
        f"{row.relative_effect:+.1%} [{row.relative_ci_low:+.1%}, "
        f"{row.relative_ci_high:+.1%}]{mark}"
    )


def ranked_table(effects: pd.DataFrame) -> pd.DataFrame:
    """Scenarios ranked by revenue uplift; each cell: relative effect [95% interval]."""
    order = ranked(effects, "revenue_per_year").scenario.tolist()
    table = pd.DataFrame(index=pd.Index(order, name="scenario"))
    for kpi in HEADLINE:
        part = effects.loc[effects.kpi == kpi].set_index("scenario")
        if len(part):
            table[KPIS[kpi].short] = [_cell(part.loc[s]) for s in order]
    n = effects.loc[effects.kpi == "revenue_per_year"].set_index("scenario").n
    table["pairs"] = [int(n.loc[s]) for s in order]
    return table


def _number(value: object) -> str:
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def _pairs(effects: pd.DataFrame) -> int:
    """Seed pairs behind the revenue effects (other KPIs may have fewer: NaN runs drop out)."""
    part = effects.loc[effects.kpi == "revenue_per_year", "n"]
    return int(part.min()) if len(part) else 0


def _check_single_org(runs: pd.DataFrame) -> None:
    for col in ("org", "days", "warmup_days", "settings_hash"):
        values = runs[col].unique()
        if len(values) > 1:
            raise ValueError(
                f"the runs mix several values of {col} ({', '.join(map(str, values))}):"
                " aggregate runs of one organisation, run length, behaviour and code at a time"
            )


def aggregate(
    root: str | Path, out_dir: str | Path | None = None, baseline: str = "baseline"
) -> Comparison:
    """Read every run under ``root`` and write the comparison into ``out_dir`` (default root).

    Writes the tidy table (``runs.parquet`` and ``runs.csv``, unless it is the study's own,
    already there), ``effects.csv``, the figures under ``figures/`` (PNG and SVG),
    ``report.md`` and ``report.html``.
    """
    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    out.mkdir(parents=True, exist_ok=True)
    skipped: list[tuple[Path, str]] = []
    study = tidy.has_table(root)
    try:
        runs = tidy.read_runs(root) if study else load_runs(root, skipped)
        runs = runs.sort_values(["scenario", "draw", "seed"], kind="stable").reset_index(drop=True)
        _check_single_org(runs)
        scenarios = set(runs.scenario)
        if baseline not in scenarios:
            raise ValueError(
                f"no runs of the baseline scenario '{baseline}' under {root} (scenarios found: "
                f"{', '.join(sorted(scenarios))}); name the baseline with baseline="
            )
        if scenarios == {baseline}:
            raise ValueError(f"only baseline runs under {root}: nothing to compare it with")
        effects = paired_effects(runs, baseline=baseline)
        table = ranked_table(effects)
        if not (table["pairs"] >= 2).any():
            raise ValueError(
                f"no scenario under {root} has two runs paired by seed with a '{baseline}' "
                "run: no effect or interval can be computed"
            )
    except (ValueError, FileNotFoundError) as exc:
        if skipped:
            where, why = skipped[0]
            raise type(exc)(
                f"{exc} ({len(skipped)} damaged run(s) left out; first: {where}: {why})"
            ) from None
        raise
    files = [out / tidy.RUNS_PARQUET, out / tidy.RUNS_CSV, out / "effects.csv"]
    if not (study and out.resolve() == root.resolve() and (root / tidy.RUNS_PARQUET).exists()):
        write_runs(runs, out)  # a study's own table stays as its runner wrote it
    atomic_write(out / "effects.csv", lambda p: effects.to_csv(p, index=False))

    n = _pairs(effects)
    figs = out / "figures"
    fig_paths: dict[str, Path] = {}
    for kpi in with_role("figure"):
        paths = effect_chart(effects, kpi, figs / f"effect_{kpi}", n)
        fig_paths[kpi] = paths[0]
        files += paths
    shown = [baseline] + (
        ["full_alignment"]
        if "full_alignment" in set(runs.scenario)
        else [s for s in runs.scenario.unique() if s != baseline][:1]
    )
    paths = funnel_chart(runs, shown, figs / "funnel")
    fig_paths["funnel"] = paths[0]
    files += paths
    if study:
        ts = tidy.read_dataset(root, tidy.TIMESERIES, shown)
    else:
        ts = load_timeseries(root, runs.loc[runs.scenario.isin(shown)])
    paths = timeseries_chart(ts, shown, int(runs.warmup_days.iloc[0]), figs / "timeseries")
    fig_paths["timeseries"] = paths[0]
    files += paths

    report = build_report(runs, effects, table, fig_paths, baseline)
    atomic_write(out / "report.md", lambda p: p.write_text(report.to_markdown(out)))
    atomic_write(out / "report.html", lambda p: p.write_text(report.to_html()))
    files += [out / "report.md", out / "report.html"]
    return Comparison(
        runs=runs,
        effects=effects,
        table=table,
        files=files,
        incomplete=[] if study else incomplete_runs(root),
        skipped=skipped,
    )


def build_report(
    runs: pd.DataFrame,
    effects: pd.DataFrame,
    table: pd.DataFrame,
    figures: dict[str, Path],
    baseline: str,
) -> Report:
    """The consultant's report: question, organisation, ranked answer, figures, caveats."""
    first = runs.iloc[0]
    org = first["org"]
    n = _pairs(effects)
    years = (first.days - first.warmup_days) / BUSINESS_DAYS_PER_YEAR
    rep = Report(f"Which sales-marketing alignment tactics pay for the '{org}' organisation?")
    rep.heading("The question")
    rep.para(
        f"How much does each alignment tactic change revenue, win rate and customer "
        f"retention for this organisation, compared with separate marketing and sales "
        f"funnels and no tactic ('{baseline}')? Each scenario was simulated {n} times "
        f"with different random markets; every scenario faced the same {n} markets."
    )
    rep.heading("The organisation")
    org_cols = [c for c in runs.columns if c.startswith("org.")]
    org_table = pd.DataFrame(
        {"value": [_number(first[c]) for c in org_cols]},
        index=pd.Index([c.removeprefix("org.") for c in org_cols], name="parameter"),
    )
    rep.table(org_table)
    rep.para(
        f"Each run simulates {int(first.days)} business days; the first "
        f"{int(first.warmup_days)} fill the pipeline and are left out, so every figure "
        f"below covers {years:.1f} years of steady operation."
    )
    rep.heading("The scenarios")
    if {"funnel", "tactics"} <= set(runs.columns):
        kinds = runs.groupby("scenario", sort=False)[["funnel", "tactics"]].first()
        kinds = kinds.astype(str)
        kinds["tactics"] = kinds["tactics"].replace("", "none").str.replace("+", ", ")
        rep.table(kinds)
    rep.heading("The answer, ranked by revenue uplift")
    rep.table(table)
    base = runs.loc[runs.scenario == baseline]
    means = ", ".join(f"{KPIS[k].label} {KPIS[k].format(base[k].mean())}" for k in HEADLINE)
    rep.para(f"Baseline means: {means}.")
    rep.heading("How to read the numbers")
    rep.para(
        f"Each cell is the change against the baseline, relative to the baseline's mean, "
        f"with its {LEVEL:.0%} confidence interval in brackets: if the study were repeated "
        f"with new random markets, intervals built this way would contain the true "
        f"model effect 95 times in 100. '(ns)' marks an interval that includes zero: the "
        f"{n} replicates cannot tell that effect from no effect. Effects are computed on "
        f"paired differences (the same market with and without the tactic), which removes "
        f"the market's luck from the comparison. The full table, with absolute effects, "
        f"is in effects.csv; every run is a row of runs.csv."
    )
    captions = {
        **{kpi: KPIS[kpi].caption for kpi in with_role("figure")},
        "funnel": "The funnel per year, baseline against full alignment.",
        "timeseries": "KPIs over time; the grey band on the left is the warm-up.",
    }
    rep.heading("Figures")
    for key, path in figures.items():
        rep.figure(path, captions.get(key, key))
    rep.heading("Caveats")
    rep.para(
        "This is a model, not a forecast. Its main behavioural parameters are fitted so that "
        "the default organisation's baseline and full alignment reproduce published "
        "benchmark ranges at once (conf/behaviour/calibrated.yaml, "
        "sim/data/stylized_facts.yaml); the tactics' own parameters are assumptions. Read "
        "the ranking and the sizes as what the modelled mechanisms imply for this "
        "organisation's numbers, not as measured outcomes."
    )
    validation = VALIDATION_CSV
    if validation.exists():
        facts = pd.read_csv(validation)
        failing = ", ".join(facts.loc[~facts.passed, "id"]) or "none"
        rep.para(
            f"Validation: the default model reproduces {int(facts.passed.sum())} of "
            f"{len(facts)} published patterns at once (docs/validation/validation.csv in the "
            f"project, made by python -m experiments.validate; not reproduced: {failing}). "
            "A different organisation has not been validated separately."
        )
    rep.para(
        "The published alignment effects this model is compared with come from "
        "cross-sectional surveys with selection bias; treat them as upper bounds. Revenue "
        "here is first-year contract value of deals won; retention comes from the renewals "
        "that fall inside the measured window, so its interval is the widest."
    )
    rep.para(f"KPIs reported: {', '.join(EFFECT_KPIS)}.")
    return rep
