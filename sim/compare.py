"""Aggregate a study into the tactic comparison: tables, figures and a report.

Reads a study's tidy table (``runs.parquet``, or its committed rows, and the ``timeseries``
dataset: ``sim.tidy``), as the comparison's study runner writes it; or, in a directory
without one, the run folders ``python -m sim`` writes (a sweep run elsewhere with any
launcher), each from its own ``summary.json`` and ``config.json``.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from sim import decomposition as dec
from sim import tidy
from sim.effects import EFFECT_KPIS, LEVEL, paired_effects, ranked
from sim.io import (
    RECORD,
    atomic_write,
    incomplete_runs,
    load_runs,
    load_timeseries,
    read_json,
    write_runs,
)
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
    uncertainty: pd.DataFrame | None = None  # uncertainty.csv, when the study has draws
    # uncertainty_consistent.csv: the same over the draws whose baseline matches the facts
    consistent: pd.DataFrame | None = None
    consistency: pd.DataFrame | None = None  # consistency.csv: which draws those are
    screened: bool = False  # the draws' behaviour screened against the facts (Honest.screened)


class Honest(NamedTuple):
    """The answer under the assumptions' plausible ranges (``sim.uncertainty``)."""

    spread: pd.DataFrame  # uncertainty.csv
    driving: pd.DataFrame  # drivers.csv
    failing: pd.DataFrame  # discovery.csv
    fits: pd.DataFrame | None  # consistency.csv (None: not checked against the facts)
    conditioned: pd.DataFrame | None  # uncertainty_consistent.csv
    screened: bool = False  # the behavioural draws screened against the facts (experiments.screen)


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
    """One organisation, run length and code; one behaviour per parameter draw.

    (A draw of the assumptions changes the behaviour, so each draw has its own settings; the
    scenarios of one draw must share them.)
    """
    for col in ("org", "days", "warmup_days", "settings_hash"):
        per_draw = runs.groupby("draw")[col].nunique() if col == "settings_hash" else None
        values = runs[col].unique()
        if per_draw is not None:
            values = runs.loc[runs["draw"] == per_draw.idxmax(), col].unique()
        if len(values) > 1:
            raise ValueError(
                f"the runs mix several values of {col} ({', '.join(map(str, values))}):"
                " aggregate runs of one organisation, run length, behaviour and code at a time"
            )


def _screened(root: Path) -> bool:
    """Whether the study drew its behaviour from the screened draws (its ``study.json``)."""
    import json

    from sim.study import STUDY

    try:
        settings = json.loads((root / STUDY).read_text()).get("settings", {})
    except (OSError, ValueError):
        return False
    return settings.get("behaviour_draws") == "screened"


def aggregate(
    root: str | Path,
    out_dir: str | Path | None = None,
    baseline: str = "baseline",
    decomposition: str | Path | None = None,
    decompositions: str | Path = dec.DEFAULT_ROOT,
    preface: Callable[[Report], None] | None = None,
    facts: bool = True,
) -> Comparison:
    """Read every run under ``root`` and write the comparison into ``out_dir`` (default root).

    ``facts``: with parameter draws, check each draw's baseline against the published facts
    calibration fits and repeat the answer over the consistent draws (``consistency.csv``,
    ``uncertainty_consistent.csv``). Off for a client's fitted organisation
    (``experiments.diagnose``), whose own export, not the published benchmarks, is the
    evidence its draws were fitted to.

    ``preface``, if given, adds the report's first sections (``experiments.diagnose``: "Your
    funnel", the fit of the client's export), before the question.

    Writes the tidy table (``runs.parquet`` and ``runs.csv``, unless it is the study's own,
    already there), ``effects.csv``, the figures under ``figures/`` (PNG and SVG),
    ``report.md`` and ``report.html``. The report embeds an effect decomposition, never
    running one: the one in directory ``decomposition`` if given, else the newest of the
    runs' organisation under ``decompositions`` (``sim.decomposition.find_latest``), else
    it says how to make one.

    Raises:
        ValueError: the runs cannot be compared, or ``decomposition`` is not a readable one.
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
        # The comparison given the default assumptions: draw 0 (every run, without draws).
        effects = paired_effects(runs.loc[runs["draw"] == 0], baseline=baseline)
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
    honest = None
    if (runs["draw"] > 0).any():  # effects under the assumptions' plausible ranges
        from sim import uncertainty as unc

        spread = unc.uncertainty(runs, baseline, with_role("effect"))
        driving = unc.drivers(runs, baseline, HEADLINE[0])
        failing = unc.discovery(runs, baseline, HEADLINE[0])
        written = [
            ("uncertainty.csv", spread),
            ("drivers.csv", driving),
            ("discovery.csv", failing),
        ]
        fits = conditioned = None
        if facts:
            fits = unc.consistency(runs, baseline)
            kept = runs.loc[runs["draw"].isin(fits.draw[fits.consistent.astype(bool)])]
            conditioned = (
                unc.uncertainty(kept, baseline, with_role("effect"))
                if len(kept)
                else pd.DataFrame(columns=unc.COLUMNS)  # no draw reproduces every fact
            )
            written += [("consistency.csv", fits), ("uncertainty_consistent.csv", conditioned)]
        for name, frame in written:
            atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False))
            files.append(out / name)
        paths = unc.distribution_chart(runs, baseline, HEADLINE[0], figs / "uncertainty")
        fig_paths["uncertainty"] = paths[0]
        files += paths
        honest = Honest(spread, driving, failing, fits, conditioned, _screened(root))
    for kpi in with_role("figure"):
        paths = effect_chart(effects, kpi, figs / f"effect_{kpi}", n)
        fig_paths[kpi] = paths[0]
        files += paths
    shown = [baseline] + (
        ["full_alignment"]
        if "full_alignment" in set(runs.scenario)
        else [s for s in runs.scenario.unique() if s != baseline][:1]
    )
    at_defaults = runs.loc[runs["draw"] == 0]  # the charts show the default assumptions
    paths = funnel_chart(at_defaults, shown, figs / "funnel")
    fig_paths["funnel"] = paths[0]
    files += paths
    if study:
        ts = tidy.read_dataset(root, tidy.TIMESERIES, shown)
        ts = ts.loc[ts["draw"] == 0]
    else:
        ts = load_timeseries(root, at_defaults.loc[at_defaults.scenario.isin(shown)])
    paths = timeseries_chart(ts, shown, int(runs.warmup_days.iloc[0]), figs / "timeseries")
    fig_paths["timeseries"] = paths[0]
    files += paths

    org = str(runs.org.iloc[0])
    found = dec.load(decomposition) if decomposition else dec.find_latest(org, decompositions)
    embedded = None
    if found is not None:
        copies = []
        for suffix in (".png", ".svg"):  # the report links figures under its own directory
            source = found.figure.with_suffix(suffix)
            if source.exists():
                target = figs / f"decomposition{suffix}"
                atomic_write(target, lambda p, s=source: shutil.copyfile(s, p))
                copies.append(target)
        files += copies
        png = figs / "decomposition.png"
        embedded = (found, comparison_settings(root, runs), png if png in copies else None)
    report = build_report(
        runs, effects, table, fig_paths, baseline, embedded, decompositions, honest, preface
    )
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
        uncertainty=honest.spread if honest else None,
        consistency=honest.fits if honest else None,
        consistent=honest.conditioned if honest else None,
        screened=bool(honest and honest.screened),
    )


def comparison_settings(root: Path, runs: pd.DataFrame) -> dict[str, Any]:
    """What a decomposition is checked against: the comparison's org, code and settings."""
    first = runs.iloc[0]
    try:  # the code a run was made with is in its run.json, not in runs.csv
        digest = read_json(root / first.run_dir / RECORD).get("source_digest")
    except (OSError, ValueError):
        digest = None
    return {
        "org": str(first["org"]),
        "version": str(first["version"]),
        "source_digest": digest,
        "days": int(first.days),
        "warmup_days": int(first.warmup_days),
        "org_params": {
            c.removeprefix("org."): first[c].item() if hasattr(first[c], "item") else first[c]
            for c in runs.columns
            if c.startswith("org.")
        },
        "settings_hash": first.get("settings_hash"),
    }


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def decomposition_section(
    rep: Report,
    embedded: tuple[dec.Decomposition, dict[str, Any], Path | None] | None,
    runs: pd.DataFrame,
    searched: str | Path,
) -> None:
    """The report's section on why each tactic works: the latest decomposition, as it is."""
    first = runs.iloc[0]
    org = first["org"]
    rep.heading("Why each tactic works: effect decomposition")
    command = (
        f"python -m experiments.decompose org={org} days={int(first.days)} "
        f"warmup_days={int(first.warmup_days)}"
    )
    if embedded is None:
        rep.para(
            f"No effect decomposition of the '{org}' organisation was found under "
            f"{_shown_path(Path(searched))}/, and none is run for this report. Make one with "
            f"{command} (and any other setting this comparison used; make decompose does it "
            "for the default organisation), then aggregate this comparison again "
            "(python -m experiments.compare_tactics from=<this directory>) to include it, "
            "or name one with decomposition=<its directory>."
        )
        return
    found, settings, figure = embedded
    rec = found.record
    seeds = rec.get("seeds") or []
    span = f"seeds {seeds[0]}-{seeds[-1]}" if seeds else "seeds unknown"
    kpi = rec.get("kpi", "")
    label = KPIS[kpi].label if kpi in KPIS else kpi
    rep.para(
        f"Each tactic's mechanisms were switched on one at a time ('alone') and switched off "
        f"one at a time ('tactic without it'), on the same markets as the baseline; cells are "
        f"the relative change in {label} against the baseline with its 95% interval. "
        "'Interaction' is the part of the tactic's whole effect that no single mechanism "
        "explains (all together minus the sum of the mechanisms alone): positive where "
        "mechanisms reinforce each other, negative where they overlap."
    )
    rep.para(
        f"From the decomposition in {_shown_path(found.path)}, made {rec.get('created')} "
        f"with model version {rec.get('version')} (code {rec.get('source_digest')}) on the "
        f"'{rec.get('org')}' organisation, {rec.get('replicates')} seed-paired replicates "
        f"({span}), {rec.get('days')} days with {rec.get('warmup_days')} of warm-up. It was "
        "not re-run for this report."
    )
    diffs = dec.differences(rec, settings)
    if diffs:
        rep.para(
            "**Caution: this decomposition was made with other settings than this "
            f"comparison**: {'; '.join(diffs)}. Its numbers need not match the ranked table "
            f"above. For one that does, run {command} with this comparison's other settings."
        )
    else:
        at_defaults = runs.loc[runs["draw"] == 0, "seed"].unique()
        same_seeds = sorted(seeds) == sorted(int(x) for x in at_defaults)
        rep.para(
            "It was made with the same model version and settings as this comparison"
            + (
                ", on the same seeds: its 'all together' rows are the ranked table's effects."
                if same_seeds
                else " but on other seeds, so its 'all together' rows may differ from the "
                "ranked table within their intervals."
            )
        )
    rep.table(dec.display_table(found.table))
    if figure is not None:
        rep.figure(figure, f"Each mechanism alone, all together, and their interaction ({label}).")


def build_report(
    runs: pd.DataFrame,
    effects: pd.DataFrame,
    table: pd.DataFrame,
    figures: dict[str, Path],
    baseline: str,
    decomposition: tuple[dec.Decomposition, dict[str, Any], Path | None] | None = None,
    decompositions: str | Path = dec.DEFAULT_ROOT,
    honest: Honest | None = None,
    preface: Callable[[Report], None] | None = None,
) -> Report:
    """The consultant's report: question, organisation, ranked answer, figures, caveats.

    ``preface`` adds sections before the question (see ``aggregate``).
    """
    first = runs.iloc[0]
    org = first["org"]
    n = _pairs(effects)
    years = (first.days - first.warmup_days) / BUSINESS_DAYS_PER_YEAR
    rep = Report(f"Which sales-marketing alignment tactics pay for the '{org}' organisation?")
    if preface is not None:
        preface(rep)
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
    if honest is not None:
        from sim import uncertainty as unc

        spread, driving, failing, fits, conditioned, screened = honest
        rep.heading("The answer under what we do not know")
        rep.table(unc.ranked_uncertainty(spread))
        n_draws = int(spread["n_draws"].max())
        rep.para(
            f"Each tactic was run on {n_draws} draws of every uncertain assumption from its "
            "plausible range (docs/ODD.md, parameter table)"
            + (
                ", the behavioural ones taken whole from draws whose baseline passed every "
                "pattern calibration fits (sim/data/screened_behaviour.csv, made by python -m "
                "experiments.screen)"
                if screened
                else ""
            )
            + ", each draw with its own random "
            "market, paired with the baseline of the same draw and market. 'median' is the "
            "middle of the relative effects; the 80% and 95% ranges cover both what we do not "
            "know about the assumptions and the market's noise; 'P(raises)' is the share of "
            "draws in which the tactic raises the KPI, 'P(best)' the share in which it is "
            "the best single tactic (bundles have none). The files: uncertainty.csv, "
            "drivers.csv, discovery.csv."
        )
        words = [unc.in_words(driving, s) for s in spread.scenario.unique()]
        rep.para("What drives each answer: " + "; ".join(words) + ".")
        fails = [unc.discovery_in_words(failing, s) for s in spread.scenario.unique()]
        rep.para(
            "When a tactic fails to pay (PRIM scenario discovery over the draws, "
            "discovery.csv): " + "; ".join(f for f in fails if f) + "."
        )
        if "uncertainty" in figures:
            rep.figure(
                figures["uncertainty"],
                "Each tactic's revenue effect across the draws of the assumptions.",
            )
        if fits is not None:
            rep.heading("Only the draws whose baseline matches the published facts")
            n_kept = int(fits.consistent.astype(bool).sum()) if len(fits) else 0
            rep.para(
                unc.consistency_in_words(fits)
                + " (consistency.csv). The other draws describe organisations the published "
                "patterns rule out, which calibration would reject; over the consistent draws "
                "only (uncertainty_consistent.csv):"
                + (
                    f" with {n_kept} draws, a probability near 0.3 is known to about "
                    f"+/-{math.sqrt(0.3 * 0.7 / n_kept):.2f} (one binomial standard error); "
                    "raise draws= for a firmer answer."
                    if 0 < n_kept < 50
                    else ""
                )
            )
            if n_kept:
                rep.table(unc.ranked_uncertainty(conditioned))
        rep.heading("Given the default assumptions only (market noise only)")
    else:
        rep.heading("The answer, ranked by revenue uplift")
    rep.table(table)
    base = runs.loc[(runs.scenario == baseline) & (runs["draw"] == 0)]
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
        if key != "uncertainty":  # shown with the answer under what we do not know
            rep.figure(path, captions.get(key, key))
    decomposition_section(rep, decomposition, runs, decompositions)
    rep.heading("Caveats")
    rep.para(
        "This is a model, not a forecast. Its main behavioural parameters are fitted so that "
        "the default organisation's misaligned baseline reproduces published benchmark "
        "ranges at once (conf/behaviour/calibrated.yaml, sim/data/stylized_facts.yaml); what "
        "alignment does is left to the tactics' mechanisms (docs/validation/validation.csv "
        "says which published alignment effects they reach). The other parameters are "
        "assumptions with plausible ranges, drawn in the answer under what we do not know. Read "
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
