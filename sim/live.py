"""The live view's engine, without the browser: controls to configs, two models side by side.

``python -m sim.view`` (``sim/view.py``) draws what this module computes; nothing here imports
Solara, so it is tested like the rest of the library (``tests/test_live.py``). The view holds
no model logic: the model runs as ``python -m sim`` would run it, and every number shown is
read from each model's ``DataCollector`` and described by the registries:

- the controls come from the declared experiment space (``sim.space.ExperimentSpace``): the
  organisation's numbers (``organisation()``) and each tactic's switch and levers (the
  combined funnel is one; ``levers()``, read from the tactic registry in ``sim/tactics``),
  and the config groups' files (``conf/org``, ``conf/scenario`` and any ``--config-dir``);
- ``Controls.overrides`` turns the controls into the Hydra overrides ``python -m sim`` takes
  (printed as the command that reproduces the run), composed by ``sim.load_config``; a
  scenario whose tactics were changed is labelled ``<scenario>~<hash>`` as on the command line;
- ``Pair`` steps the baseline and the chosen scenario together on the same seed, so both
  face the same market (common random numbers) and their difference is the tactics';
- ``SHOWN`` names the series drawn over time, with labels and formats from the KPI registry
  (``sim.kpis``) and the time-series dictionary (``SERIES_COLUMNS``);
- ``replicate_effects`` runs ``replicates`` seed pairs and hands them to the comparison's own
  paired statistics (``sim.effects.paired_effects``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.funnel import Stage
from sim.kpis import KPIS, SERIES_COLUMNS
from sim.params import ConfigError, SimConfig, build_config
from sim.space import ExperimentSpace, Lever, OrgNumber

BASELINE = "baseline"

#: The funnel's stages in the order a lead moves through them (the funnel chart's bars).
FUNNEL_STAGES: tuple[Stage, ...] = tuple(Stage)


@dataclass(frozen=True)
class Shown:
    """A series drawn over time: its DataCollector column, label and number format."""

    column: str
    label: str
    fmt: str

    def format(self, value: Any) -> str:
        """``value`` in this series' format (``n/a`` for a missing value)."""
        if value is None or value != value:  # NaN: a rate with no events yet
            return "n/a"
        return self.fmt.format(value)

    def difference(self, baseline: Any, chosen: Any) -> str:
        """``chosen - baseline``, signed; a difference of shares in percentage points."""
        if any(v is None or v != v for v in (baseline, chosen)):
            return "n/a"
        diff = chosen - baseline
        if "%" in self.fmt:
            return f"{diff * 100:+.1f} pts"
        return self.fmt.replace("{:", "{:+", 1).format(diff)


def _kpi(name: str) -> Shown:
    kpi = KPIS[name]
    return Shown(name, f"{kpi.label} (to date)", kpi.fmt)


def _series(name: str, fmt: str) -> Shown:
    _unit, meaning = SERIES_COLUMNS[name]
    return Shown(name, meaning, fmt)


#: Revenue to date: the day's first-year bookings and renewals, summed since day 1 (the warm-up
#: included, unlike the KPIs, which start after it).
REVENUE_TO_DATE = Shown(
    "revenue_to_date", "revenue to date (deals + renewals, from day 1)", "{:,.0f}"
)

#: The series the view draws, in order. The rates are the registry's KPIs measured so far
#: (``n/a`` during the warm-up); utilisation and the threshold are the day's values.
SHOWN: tuple[Shown, ...] = (
    REVENUE_TO_DATE,
    _kpi("win_rate"),
    _kpi("mql_follow_up_rate"),
    _series("rep_utilisation", "{:.1%}"),
    _series("handoff_threshold", "{:.3f}"),
)


def frame(model: Any) -> pd.DataFrame:
    """What the view shows of ``model``: its DataCollector's rows, one per day, and more.

    The one column added is ``revenue_to_date``, the cumulative sum of the collected daily
    ``revenue`` and ``recurring_revenue``.
    """
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    if df.empty:
        return df.assign(revenue_to_date=pd.Series(dtype=float))
    return df.assign(revenue_to_date=(df["revenue"] + df["recurring_revenue"]).cumsum())


# --- the controls --------------------------------------------------------------------------


def org_numbers() -> list[OrgNumber]:
    """The organisation's numbers the view lets the user set (every numeric ``OrgParams``)."""
    return [o for o in ExperimentSpace.organisation() if o.kind in ("int", "float")]


def tactic_levers() -> dict[str, list[Lever]]:
    """Each registered tactic's levers: its on/off switch first, then its strengths."""
    out: dict[str, list[Lever]] = {}
    for lever in ExperimentSpace().levers():
        parts = lever.key.split(".")
        if parts[:2] == ["scenario", "tactics"]:
            out.setdefault(parts[2], []).append(lever)
    return out


def choices(group: str, extra: Sequence[str] = ()) -> list[str]:
    """The files of config group ``group`` (``org``, ``scenario``), with ``--config-dir``'s."""
    from sim.config import group_options

    return group_options(group, list(extra))


@dataclass(frozen=True)
class Controls:
    """Everything the user sets on the page.

    Attributes:
        org: the organisation profile (``conf/org/<org>.yaml``).
        org_numbers: the profile's numbers the user changed, by name (``n_reps``).
        scenario: the scenario compared with the baseline (``conf/scenario/<scenario>.yaml``).
        tactics: the tactics switched on, each with the levers the user set (by lever name);
            None keeps the scenario file's tactics with their own values.
        seed: the seed both models share.
        days: the run length in business days.
        extra: overrides from the command line for both models (``behaviour.x=...``,
            ``warmup_days=...``, ``--config-dir``'s search path).
    """

    org: str = "default"
    org_numbers: dict[str, float] = field(default_factory=dict)
    scenario: str = "full_alignment"
    tactics: dict[str, dict[str, Any]] | None = None
    seed: int = 1
    days: int = SimConfig.days
    extra: tuple[str, ...] = ()

    def common(self) -> list[str]:
        """The overrides both models share: organisation, numbers, seed, days, extras."""
        out = [f"org={self.org}"]
        out += [f"org.{k}={v!r}" for k, v in sorted(self.org_numbers.items())]
        return [*out, f"seed={self.seed}", f"days={self.days}", *self.extra]

    def scenario_overrides(self, file: SimConfig | None = None) -> list[str]:
        """The chosen scenario's own overrides: its file, then the user's changes to it.

        ``file``: the scenario file's config (composed here if not given), against which the
        tactics (the combined funnel is one) are compared, so only real changes become
        overrides.
        """
        file = file or scenario_file(self.scenario, self.extra)
        out = [f"scenario={self.scenario}"]
        if self.tactics is None:
            return out
        have = file.scenario.tactic_params()
        for name in sorted(set(have) - set(self.tactics)):
            out.append(f"~tactic@scenario.tactics.{name}")
        for name, levers in sorted(self.tactics.items()):
            if name in have:
                current = {lever: getattr(have[name], lever) for lever in levers}
            else:
                out.append(f"+tactic@scenario.tactics.{name}={name}")
                current = tactic_file_levers(name, self.extra)
            for lever, value in sorted(levers.items()):
                if current.get(lever) != value:
                    out.append(f"scenario.tactics.{name}.{lever}={value!r}")
        return out

    def configs(self) -> tuple[SimConfig, SimConfig]:
        """The baseline's and the chosen scenario's configs (``ConfigError`` on bad input)."""
        import sim

        common = self.common()
        base = sim.load_config([f"scenario={BASELINE}", *common])
        chosen = sim.load_config([*self.scenario_overrides(), *common])
        return base, chosen

    def command(self) -> str:
        """The ``python -m sim`` command that runs the chosen scenario as shown."""
        return " ".join(["python -m sim", *self.scenario_overrides(), *self.common()])


def _searchpath(extra: Sequence[str]) -> list[str]:
    """The ``--config-dir`` part of the command line's overrides (where files are found)."""
    return [o for o in extra if o.lstrip("+").startswith("hydra.searchpath=")]


def scenario_file(name: str, extra: Sequence[str] = ()) -> SimConfig:
    """Scenario ``name`` as its file defines it (its tactics with their values)."""
    import sim

    return sim.load_config([f"scenario={name}", *_searchpath(extra)])


def scenario_switches(name: str, extra: Sequence[str] = ()) -> dict[str, dict]:
    """Scenario ``name``'s tactics as the controls show them (lever -> value)."""
    cfg = scenario_file(name, extra)
    levers = tactic_levers()
    tactics = {
        t: {lv.name: getattr(params, lv.name) for lv in levers.get(t, [])[1:]}
        for t, params in cfg.scenario.tactic_params().items()
    }
    return tactics


def tactic_file_levers(name: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Tactic ``name``'s levers as its file sets them (``conf/tactic/<name>.yaml``).

    What a tactic switched on in the view starts with, as ``+tactic@...`` on the command line.
    """
    import sim

    cfg = sim.load_config(
        [f"scenario={BASELINE}", f"+tactic@scenario.tactics.{name}={name}", *_searchpath(extra)]
    )
    params = cfg.scenario.tactic_params()[name]
    return {lv.name: getattr(params, lv.name) for lv in tactic_levers()[name][1:]}


def profile_numbers(org: str, extra: Sequence[str] = ()) -> dict[str, float]:
    """Organisation profile ``org``'s numbers, by name."""
    import sim

    cfg = sim.load_config([f"org={org}", *_searchpath(extra)])
    return {o.name: getattr(cfg.org, o.name) for o in org_numbers()}


# --- two models, one market -----------------------------------------------------------------


class Pair:
    """The baseline and the chosen scenario, stepping together on the same seed.

    Each model runs exactly as on its own (``FunnelModel(config)``, days run with
    ``FunnelModel.run``): stepping them together changes neither's results.
    """

    def __init__(self, baseline: SimConfig, chosen: SimConfig) -> None:
        from sim.model import FunnelModel

        if baseline.seed != chosen.seed or baseline.days != chosen.days:
            raise ConfigError("the two models must share their seed and run length")
        self.baseline = FunnelModel(baseline)
        self.chosen = FunnelModel(chosen)
        self.days = baseline.days

    @property
    def day(self) -> int:
        """The last day both models have run (0 before the first)."""
        return self.baseline.day

    @property
    def done(self) -> bool:
        """Whether both models have reached the run length."""
        return self.day >= self.days

    def step(self, days: int = 1) -> None:
        """Run both models ``days`` more days (fewer at the end of the run)."""
        days = min(days, self.days - self.day)
        if days > 0:
            self.baseline.run(days)
            self.chosen.run(days)

    def run_to_end(self) -> None:
        """Run both models to the run length at once (nothing is drawn meanwhile)."""
        self.step(self.days - self.day)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Each model's shown series (``frame``), by role: ``baseline`` and ``chosen``."""
        return {"baseline": frame(self.baseline), "chosen": frame(self.chosen)}


def latest(df: pd.DataFrame) -> dict[str, Any]:
    """The last collected day's values of the shown series and the stage counts."""
    if df.empty:
        return {}
    return df.iloc[-1].to_dict()


# --- the paired effect over replicate seeds -----------------------------------------------------


def replicate_effects(
    baseline: SimConfig,
    chosen: SimConfig,
    replicates: int,
    n_jobs: int = -1,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """The chosen scenario's paired effect against the baseline over ``replicates`` seeds.

    The seeds are the shown seed and the ones after it (``seed``, ``seed + 1``, ...), each run
    of both scenarios to the run length (``sim.runner.run_many``); the effects are the
    comparison's (``sim.effects.paired_effects``: a paired t interval on the differences, a
    delta-method interval on the relative effect), for the KPIs of the comparison's effects
    table. Empty when both configs are the same scenario.
    """
    from sim.effects import paired_effects
    from sim.runner import run_many

    if replicates < 2:
        raise ConfigError(f"replicates = {replicates}: must be at least 2 for an interval")
    seeds = [baseline.seed + i for i in range(replicates)]
    configs = [build_config(c, seed=s) for s in seeds for c in (baseline, chosen)]
    runs = run_many(configs, n_jobs=n_jobs, progress=progress)
    if chosen.scenario.name == baseline.scenario.name:
        return pd.DataFrame()
    return paired_effects(runs, baseline=baseline.scenario.name)
