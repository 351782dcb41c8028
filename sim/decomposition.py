"""Effect decomposition: what each mechanism of a tactic contributes, on paired seeds.

For a tactic ``T`` whose mechanisms are ``M`` (read from ``type(tactic).mechanisms`` at run
time, never listed by hand), the variants are:

- ``baseline``: the baseline scenario;
- ``full``: ``T``'s scenario file as it is, every mechanism of ``M`` on;
- ``alone(m)``: ``T`` with every other mechanism switched off (``switched_off = M - {m}``);
- ``without(m)``: ``T`` with only ``m`` switched off (``switched_off = {m}``).

Every variant runs on the same seeds, so each faces the same markets (common random numbers),
and every effect is the paired relative effect against the baseline (``sim.effects``).
Identical configs run once: with one mechanism, ``alone(m)`` *is* ``full``; with two,
``alone(a)`` is ``without(b)``.

The table (``decomposition.csv``) has one row per tactic and mechanism:

- ``effect_alone`` [``alone_lo95``, ``alone_hi95``]: the mechanism on its own;
- ``effect_without`` [``without_lo95``, ``without_hi95``]: the tactic without it;
- ``lost_without``: ``full - effect_without``, the part of the full effect that needs it;
- ``lo95``, ``hi95``: the 95% interval of ``effect_alone`` (the same numbers as
  ``alone_lo95``/``alone_hi95``, under the names the issue asked for);
- ``full`` [``full_lo95``, ``full_hi95``] and ``interaction`` [``interaction_lo95``,
  ``interaction_hi95``]: the tactic's, repeated on each of its rows. ``interaction =
  full - sum(effect_alone)``, the part of the full effect that no single mechanism explains:
  positive where mechanisms reinforce each other, negative where they overlap (compete for
  the same leads or hours).

The interaction's interval: on each seed, ``c = F - sum(A_m) + k B`` (``F`` the full
run, ``A_m`` the runs of each mechanism alone, ``B`` the baseline, ``k`` mechanisms) has
``mean(c) / mean(B) - 1 = full - sum(effect_alone)`` exactly, so it gets the same paired
delta-method interval as any relative effect.

A decomposition directory holds ``decomposition.csv``, ``decomposition.json`` (where it came
from: org, KPI, seeds, model version, hashes, time), ``runs.csv`` and the figure
``decomposition.png``/``.svg``. ``find_latest`` picks the newest one of an organisation for
the comparison report, which embeds it rather than running it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.effects import LEVEL, paired_effects

TABLE = "decomposition.csv"
RECORD = "decomposition.json"
RUNS = "runs.csv"
FIGURE = "decomposition"  # .png and .svg
#: Where decompositions are written by default (conf/decompose.yaml's hydra.run.dir), relative
#: to the working directory, as comparisons/ is.
DEFAULT_ROOT = Path("decompositions")
BASELINE = "baseline"
COLUMNS = [
    "tactic",
    "mechanism",
    "description",
    "kpi",
    "n",
    "effect_alone",
    "alone_lo95",
    "alone_hi95",
    "effect_without",
    "without_lo95",
    "without_hi95",
    "lost_without",
    "lo95",
    "hi95",
    "full",
    "full_lo95",
    "full_hi95",
    "interaction",
    "interaction_lo95",
    "interaction_hi95",
]


@dataclass(frozen=True)
class Variant:
    """One configuration of the decomposition (``label`` names it in the runs table)."""

    label: str
    tactic: str | None  # None for the baseline
    kind: str  # baseline, full, alone or without
    mechanism: str | None
    switched_off: tuple[str, ...] = ()


def variants(
    tactic: str, mechanisms: list[str], already_off: tuple[str, ...] = ()
) -> list[Variant]:
    """The variants of ``tactic`` (full, each mechanism alone, each left out), in that order.

    ``mechanisms`` are the ones the scenario file leaves on; ``already_off`` (the file's own
    ``switched_off``) stays off in every variant.
    """
    out = [Variant(tactic, tactic, "full", None, tuple(already_off))]
    for m in mechanisms:
        others = tuple(x for x in mechanisms if x != m)
        out.append(Variant(f"{tactic}~alone-{m}", tactic, "alone", m, (*already_off, *others)))
    for m in mechanisms:
        out.append(Variant(f"{tactic}~without-{m}", tactic, "without", m, (*already_off, m)))
    return out


def decomposition_table(
    runs: pd.DataFrame,
    plan: list[Variant],
    kpi: str,
    descriptions: dict[str, dict[str, str]] | None = None,
    level: float = LEVEL,
) -> pd.DataFrame:
    """The decomposition of each tactic in ``plan`` (see the module docstring).

    Args:
        runs: one row per variant and seed: ``variant`` (a ``Variant.label``), ``seed`` and
            ``kpi``; the baseline's label is ``baseline``.
        plan: the variants, as ``variants`` makes them (the baseline need not be listed).
        kpi: the KPI decomposed.
        descriptions: tactic -> mechanism -> what it does (``Tactic.mechanisms``).
        level: the confidence level of the intervals.
    """
    frame = runs.rename(columns={"variant": "scenario"})[["scenario", "seed", kpi]]
    effects = paired_effects(frame, baseline=BASELINE, kpis=[kpi], level=level)
    by_label = effects.set_index("scenario")
    wide = frame.pivot(index="seed", columns="scenario", values=kpi)
    rows = []
    for tactic in dict.fromkeys(v.tactic for v in plan if v.tactic is not None):
        mine = [v for v in plan if v.tactic == tactic]
        full = next(v for v in mine if v.kind == "full")
        alone = {v.mechanism: v for v in mine if v.kind == "alone"}
        without = {v.mechanism: v for v in mine if v.kind == "without"}
        inter = _interaction(wide, full.label, [v.label for v in alone.values()], kpi, level)
        f = by_label.loc[full.label]
        for m in alone:
            a, w = by_label.loc[alone[m].label], by_label.loc[without[m].label]
            rows.append(
                {
                    "tactic": tactic,
                    "mechanism": m,
                    "description": (descriptions or {}).get(tactic, {}).get(m, ""),
                    "kpi": kpi,
                    "n": int(min(a.n, w.n, f.n)),
                    "effect_alone": a.relative_effect,
                    "alone_lo95": a.relative_ci_low,
                    "alone_hi95": a.relative_ci_high,
                    "effect_without": w.relative_effect,
                    "without_lo95": w.relative_ci_low,
                    "without_hi95": w.relative_ci_high,
                    "lost_without": f.relative_effect - w.relative_effect,
                    "lo95": a.relative_ci_low,
                    "hi95": a.relative_ci_high,
                    "full": f.relative_effect,
                    "full_lo95": f.relative_ci_low,
                    "full_hi95": f.relative_ci_high,
                    **inter,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def _interaction(
    wide: pd.DataFrame, full: str, alone: list[str], kpi: str, level: float
) -> dict[str, float]:
    """``full - sum(alone)`` of the relative effects, with its paired interval."""
    cols = [BASELINE, full, *alone]
    pairs = wide[cols].dropna()
    if pairs.empty:  # the KPI has no value in these runs (a rate without events)
        return {"interaction": np.nan, "interaction_lo95": np.nan, "interaction_hi95": np.nan}
    k = len(alone)
    combined = pairs[full] - pairs[alone].sum(axis=1) + k * pairs[BASELINE]
    frame = pd.concat(
        [
            pd.DataFrame({"scenario": BASELINE, "seed": pairs.index, kpi: pairs[BASELINE]}),
            pd.DataFrame({"scenario": "interaction", "seed": pairs.index, kpi: combined}),
        ]
    )
    row = paired_effects(frame, baseline=BASELINE, kpis=[kpi], level=level).iloc[0]
    return {
        "interaction": float(row.relative_effect),
        "interaction_lo95": float(row.relative_ci_low),
        "interaction_hi95": float(row.relative_ci_high),
    }


# --- reading decompositions back (the comparison report embeds the latest) ---------------


@dataclass
class Decomposition:
    """A decomposition on disk: its directory, its record and its table."""

    path: Path
    record: dict[str, Any]
    table: pd.DataFrame

    @property
    def figure(self) -> Path:
        """Its PNG figure."""
        return self.path / f"{FIGURE}.png"


def load(path: str | Path) -> Decomposition:
    """The decomposition in directory ``path`` (or named by its ``decomposition.json``).

    Raises:
        ValueError: naming the file that is missing or unreadable.
    """
    path = Path(path)
    if path.name == RECORD:
        path = path.parent
    try:
        record = json.loads((path / RECORD).read_text(encoding="utf-8"))
        table = pd.read_csv(path / TABLE)
    except FileNotFoundError as exc:
        raise ValueError(
            f"{path}: not a decomposition ({Path(exc.filename).name} missing)"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: unreadable decomposition ({exc})") from None
    if not isinstance(record, dict) or not {"org", "kpi", "created"} <= set(record):
        raise ValueError(f"{path / RECORD}: not a decomposition record (org, kpi, created)")
    return Decomposition(path, record, table)


def find_latest(org: str, root: str | Path = DEFAULT_ROOT) -> Decomposition | None:
    """The newest readable decomposition of organisation ``org`` under ``root``, or None.

    Newest by the time each one records (``created``), not by file times, which copying
    changes. Unreadable or unfinished ones (no table yet) are passed over.
    """
    found: list[Decomposition] = []
    root = Path(root)
    if not root.is_dir():
        return None
    for record in root.rglob(RECORD):
        try:
            found.append(load(record))
        except ValueError:
            continue
    mine = [d for d in found if d.record.get("org") == org]
    return max(mine, key=lambda d: str(d.record["created"])) if mine else None


def differences(record: dict[str, Any], comparison: dict[str, Any]) -> list[str]:
    """How a decomposition's settings differ from a comparison's, in words (empty: none).

    ``comparison`` has the same keys as the record where known: ``org``, ``version``,
    ``source_digest``, ``days``, ``warmup_days``, ``org_params`` and ``settings_hash``.
    """
    out = []
    if record.get("org") != comparison.get("org"):
        out.append(f"another organisation ('{record.get('org')}', not '{comparison.get('org')}')")
    code_a = (record.get("version"), record.get("source_digest"))
    code_b = (comparison.get("version"), comparison.get("source_digest"))
    if comparison.get("source_digest") is None:
        code_a, code_b = code_a[:1], code_b[:1]
    if code_a != code_b:
        out.append(
            f"another model version ({record.get('version')}, code {record.get('source_digest')}"
            f"; this comparison: {comparison.get('version')}, code "
            f"{comparison.get('source_digest') or 'unknown'})"
        )
    for key in ("days", "warmup_days"):
        if key in comparison and record.get(key) != comparison[key]:
            out.append(f"{key} = {record.get(key)} (this comparison: {comparison[key]})")
    theirs, ours = record.get("org_params") or {}, comparison.get("org_params") or {}
    changed = [k for k in sorted(set(theirs) | set(ours)) if not _same(theirs.get(k), ours.get(k))]
    if changed and record.get("org") == comparison.get("org"):
        shown = ", ".join(f"{k} = {theirs.get(k)} (here {ours.get(k)})" for k in changed[:3])
        out.append(f"other organisation parameters ({shown}{', ...' if len(changed) > 3 else ''})")
    if not out and record.get("settings_hash") != comparison.get("settings_hash"):
        out.append("other behaviour or decision-rule settings (the settings hashes differ)")
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(np.isclose(float(a), float(b), rtol=1e-12, atol=0.0))
    return a == b


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table for people: per tactic, each mechanism alone and left out, then the whole.

    Cells are relative effects with their 95% intervals; the tactic's full effect and its
    interaction close each tactic's rows.
    """

    def cell(value: float, lo: float, hi: float) -> str:
        if pd.isna(value):
            return "n/a"
        if pd.isna(lo) or pd.isna(hi):
            return f"{value:+.1%}"
        mark = "" if lo > 0 or hi < 0 else " (ns)"
        return f"{value:+.1%} [{lo:+.1%}, {hi:+.1%}]{mark}"

    rows = []
    for tactic, part in table.groupby("tactic", sort=False):
        for r in part.itertuples():
            rows.append(
                {
                    "tactic": tactic,
                    "mechanism": r.mechanism,
                    "alone": cell(r.effect_alone, r.alone_lo95, r.alone_hi95),
                    "tactic without it": cell(r.effect_without, r.without_lo95, r.without_hi95),
                }
            )
        first = part.iloc[0]
        rows.append(
            {
                "tactic": tactic,
                "mechanism": "all together (full)",
                "alone": cell(first.full, first.full_lo95, first.full_hi95),
                "tactic without it": "",
            }
        )
        rows.append(
            {
                "tactic": tactic,
                "mechanism": "interaction (full - sum alone)",
                "alone": cell(first.interaction, first.interaction_lo95, first.interaction_hi95),
                "tactic without it": "",
            }
        )
    return pd.DataFrame(rows, columns=["tactic", "mechanism", "alone", "tactic without it"])
