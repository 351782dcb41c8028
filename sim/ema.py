"""The model as an EMA Workbench model, built from the declared experiment space.

``model()`` returns an ``ema_workbench`` model whose uncertainties, levers and outcomes are
those of ``sim.space.ExperimentSpace`` and the KPI registry (``sim.kpis.KPIS``), so an EMA
user explores the simulator without writing a wrapper::

    from ema_workbench import SequentialEvaluator, perform_experiments
    import sim.ema

    funnel = sim.ema.model(seeds=[1, 2, 3])          # three replicates of each experiment
    with SequentialEvaluator(funnel) as evaluator:   # or MultiprocessingEvaluator
        experiments, outcomes = perform_experiments(funnel, scenarios=50, policies=4,
                                                    evaluator=evaluator)

What is where (EMA's vocabulary, the project's declarations):

- **uncertainties**: every uncertainty of the space (behavioural parameters calibration does
  not fit, and every tactic parameter that is not a lever), each with its plausible range and
  distribution: ``uniform`` as a ``RealParameter`` (whole numbers: an ``IntegerParameter``,
  each value equally likely, as ``ExperimentSpace.sample`` draws them), ``triangular`` and
  ``loguniform`` as ``RealParameter.from_dist`` with the scipy distribution (a whole-number
  parameter drawn so is rounded to the nearest whole number when it is run). A tactic's
  uncertainties only act in experiments where the tactic is on.
- **levers**: each registered tactic on or off (``BooleanParameter`` named after the
  tactic; the combined funnel is one) and each tactic's levers (the number of
  liaisons, ...), over their validity bounds unless ``lever_ranges`` narrows them.
- **outcomes**: every KPI of the registry (or those named in ``kpis``): a ``ScalarOutcome``
  to maximise, minimise or merely record, as the KPI's direction says; with replications, an
  ``ArrayOutcome`` holding each seed's value (or, with ``aggregate=``, a ``ScalarOutcome`` of
  the aggregate over the seeds).
- **replications**: ``seeds=None`` gives an ``ema_workbench.Model`` that runs each experiment
  once, at the base config's seed (the same market for every experiment: common random
  numbers); ``seeds=[...]`` (or a count, ``base.seed``, ``base.seed + 1``, ...) gives a
  ``ReplicatorModel`` that runs each experiment once per seed (outcomes of shape
  experiments x seeds; ``ema_workbench.process_replications`` averages them).
- **the organisation and run settings** (team sizes, lead volume, ``days``, ...) are the base
  config's (``base``: a ``SimConfig``, or ``python -m sim``-style overrides such as
  ``["org=small", "days=200"]``), fixed for every experiment.

EMA names must be Python identifiers, so each parameter's EMA name is short and its
``variable_name`` is its key in the config: ``follow_up_hours`` (``behaviour.follow_up_hours``),
``liaison__brief_hours`` (``scenario.tactics.liaison.brief_hours``), ``liaison`` (the
tactic switched on). ``names(model)`` maps one to the other.

EMA Workbench registers each outcome name with its kind once per process (for
``save_results``): one session uses either one number per experiment (``seeds=None``, or
``aggregate=``) or one per seed (``seeds`` without ``aggregate``), not both.

Each experiment is one ``sim.run`` of the config built by ``RunFunction.config``; the function
is a picklable object, so EMA's multiprocessing evaluator can send it to its workers. EMA
Workbench is an optional dependency (``pip install funnel-alignment-sim[ema]``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.params import ConfigError, SimConfig, build_config
from sim.space import ExperimentSpace, Lever, Uncertainty

if TYPE_CHECKING:
    from sim.kpis import Kpi

SEED = "seed"  # the replication's key: each replicate is one seed
SCENARIO_NAME = "ema"  # the runs' scenario name (results do not depend on it)


def _ema() -> Any:
    """Import EMA Workbench, quietly: it warns at import that ipyparallel is not installed."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="ipyparallel not installed")
            import ema_workbench
    except ImportError:
        raise ConfigError(
            "sim.ema needs EMA Workbench: pip install 'funnel-alignment-sim[ema]'"
        ) from None
    return ema_workbench


def ema_name(key: str) -> str:
    """A parameter's EMA name (a Python identifier) from its key in the config."""
    parts = key.split(".")
    if parts[0] == "behaviour":
        return parts[1]
    if parts[:2] == ["scenario", "tactics"]:
        return "__".join(parts[2:])
    return parts[-1]


class RunFunction:
    """One experiment: the base config with the levers and uncertainties given, run once.

    Called by EMA with keyword arguments keyed by each parameter's config key (its
    ``variable_name``) and ``seed``; returns the outcomes (each KPI; a rate with no events
    is NaN).
    """

    def __init__(self, base: SimConfig, space: ExperimentSpace, outcomes: Sequence[str]) -> None:
        self.base = base
        self.space = space
        self.outcomes = tuple(outcomes)
        self._kinds = {u.key: u.kind for u in space.uncertainties()}

    def config(self, values: Mapping[str, Any]) -> SimConfig:
        """The config of one experiment: ``values`` keyed by config key, plus ``seed``."""
        known = set(self._kinds) | {lever.key for lever in self.space.levers()} | {SEED}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{unknown[0]}: not a parameter of the experiment space")
        base = self.base.scenario
        specs = {n: s for n, s in base.tactics.items() if n not in self.space.tactics}
        for name in self.space.tactics:
            on = values.get(f"scenario.tactics.{name}", name in base.tactics)
            if not _truth(on, f"scenario.tactics.{name}"):
                continue
            spec = base.tactics.get(name) or {}
            spec = dict(spec) if isinstance(spec, Mapping) else _params_of(spec)
            prefix = f"scenario.tactics.{name}."
            for key, value in values.items():
                if key.startswith(prefix) and key not in self._kinds:  # a lever
                    spec[key.removeprefix(prefix)] = _plain(value)
            specs[name] = spec
        # (the funnel follows the combined_funnel tactic, one of the switches)
        scenario = {"name": SCENARIO_NAME, "tactics": specs}
        changes: dict[str, Any] = {"scenario": scenario}
        if SEED in values:
            changes["seed"] = int(values[SEED])
        data = {**_sections(self.base), **changes}
        config = build_config(data)
        drawn = {
            key: _whole(value) if self._kinds[key] == "int" else float(value)
            for key, value in values.items()
            if key in self._kinds
        }
        return self.space.overrides(drawn, config) if drawn else config

    def __call__(self, **values: Any) -> dict[str, float]:
        """Run the experiment and return its outcomes."""
        from sim.runner import run

        summary = run(self.config(values)).summary
        return {name: _number(summary.get(name)) for name in self.outcomes}


def _sections(cfg: SimConfig) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(SimConfig)}


def _params_of(tactic: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(tactic, f.name) for f in dataclasses.fields(tactic) if f.init}


def _truth(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1):  # numpy bools and EMA's category indices
        return bool(value)
    raise ConfigError(f"{key} = {value!r}: must be true or false (the tactic on or off)")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (configs check types)."""
    return value.item() if hasattr(value, "item") else value


def _whole(value: Any) -> int:
    """A whole-number parameter's value: drawn as a real number, rounded to the nearest."""
    return math.floor(float(value) + 0.5)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _uncertainty(ema: Any, u: Uncertainty, default: Any) -> Any:
    from scipy import stats

    name, low, high = ema_name(u.key), u.low, u.high
    if u.distribution == "uniform" and u.kind == "int":
        return ema.IntegerParameter(
            name, int(low), int(high), default=int(default), variable_name=u.key
        )
    if u.distribution == "uniform":
        return ema.RealParameter(name, low, high, default=float(default), variable_name=u.key)
    if u.distribution == "triangular":
        mode = u.values[1]
        dist = stats.triang((mode - low) / (high - low), loc=low, scale=high - low)
    else:
        dist = stats.loguniform(low, high)
    return ema.RealParameter.from_dist(name, dist, default=float(default), variable_name=u.key)


def _lever(ema: Any, lever: Lever, default: Any, bounds: tuple[float, float] | None) -> Any:
    name = ema_name(lever.key)
    if lever.kind == "bool":
        return ema.BooleanParameter(name, default=bool(default), variable_name=lever.key)
    if lever.kind == "choice":
        return ema.CategoricalParameter(
            name, list(lever.choices), default=default, variable_name=lever.key
        )
    low, high = bounds or (lever.lo, lever.hi)
    if low is None or high is None:
        raise ConfigError(
            f"{lever.key}: a lever without both validity bounds; give its range in "
            f"lever_ranges={{'{name}': (low, high)}}"
        )
    if not low <= default <= high:
        raise ConfigError(
            f"lever_ranges['{name}'] = {(low, high)!r} does not contain the base value {default!r}"
        )
    if lever.kind == "int":
        return ema.IntegerParameter(
            name, int(low), int(high), default=int(default), variable_name=lever.key
        )
    return ema.RealParameter(
        name, float(low), float(high), default=float(default), variable_name=lever.key
    )


def _lever_default(lever: Lever, base: SimConfig) -> Any:
    parts = lever.key.split(".")
    tactic = base.scenario.tactic_params().get(parts[2])
    if len(parts) == 3:
        return tactic is not None
    return lever.default if tactic is None else getattr(tactic, parts[3])


def _base(base: SimConfig | Iterable[str] | None) -> SimConfig:
    if isinstance(base, SimConfig):
        return build_config(base)
    import sim

    return sim.load_config(list(base or []))


def model(
    base: SimConfig | Iterable[str] | None = None,
    *,
    seeds: int | Sequence[int] | None = None,
    kpis: Iterable[str] | None = None,
    lever_ranges: Mapping[str, tuple[float, float]] | None = None,
    aggregate: Callable[[Any], float] | None = None,
    name: str = "funnel",
) -> Any:
    """An EMA Workbench model of the simulator over the declared space (module docstring).

    Args:
        base: the fixed part of every experiment: a ``SimConfig``, or ``python -m sim``
            overrides (``["org=small", "days=200"]``); default: ``conf/``'s defaults. Its
            scenario gives the levers' defaults (the tactics it has on, their levers).
        seeds: None: an ``ema_workbench.Model``, one run per experiment at the base seed; a
            list of seeds, or a count of seeds from the base seed on: a ``ReplicatorModel``
            with one replication per seed.
        kpis: the KPIs to report (names from ``sim.kpis.KPIS``); default: all of them.
        lever_ranges: narrower ranges for levers, by EMA name (``{"liaison__n_liaisons":
            (0, 4)}``); default: each lever's validity bounds.
        aggregate: with ``seeds``, a function of one KPI's values over the seeds
            (``numpy.mean``, a picklable function): each outcome is then one number per
            experiment, a ``ScalarOutcome`` to maximise or minimise (for ``optimize``);
            default: the values of every seed (``ArrayOutcome``).
        name: the EMA model's name (a Python identifier).

    Raises:
        ConfigError: an unknown KPI or lever name, a bad seed list, a lever range that does
            not contain the base value, or EMA Workbench not installed.
    """
    from sim.kpis import KPIS

    ema = _ema()
    cfg = _base(base)
    space = ExperimentSpace()
    outcomes = list(KPIS) if kpis is None else list(kpis)
    unknown = [k for k in outcomes if k not in KPIS]
    if unknown or not outcomes:
        raise ConfigError(
            f"kpis: {unknown[0] if unknown else '(none)'} is not a KPI; "
            f"the KPIs are {', '.join(KPIS)}"
        )
    function = RunFunction(cfg, space, outcomes)
    if seeds is None:
        out = ema.Model(name, function=function)
        out.constants = [ema.Constant(SEED, cfg.seed)]
    else:
        out = ema.ReplicatorModel(name, function=function)
        out.replications = [{SEED: s} for s in _seeds(seeds, cfg.seed)]
    out.uncertainties = [
        _uncertainty(ema, u, ExperimentSpace._base_value(u, cfg)) for u in space.uncertainties()
    ]
    ranges = dict(lever_ranges or {})
    levers = space.levers()
    unknown = sorted(set(ranges) - {ema_name(lever.key) for lever in levers})
    if unknown:
        raise ConfigError(f"lever_ranges: {unknown[0]!r} is not a lever of the space")
    out.levers = [
        _lever(ema, lever, _lever_default(lever, cfg), ranges.get(ema_name(lever.key)))
        for lever in levers
    ]
    try:
        if seeds is None or aggregate is not None:
            out.outcomes = [
                ema.ScalarOutcome(k, kind=_kind(ema, KPIS[k]), variable_name=k, function=aggregate)
                for k in outcomes
            ]
        else:  # one value per seed: EMA's shape for replications (experiments x seeds)
            out.outcomes = [ema.ArrayOutcome(k) for k in outcomes]
    except ValueError as exc:  # EMA keeps one kind of outcome per name in a process
        raise ConfigError(
            f"kpis: {exc}: EMA Workbench allows one kind of outcome per name in a process, so "
            "use either seeds=None or aggregate=... (one number per experiment) or seeds "
            "without aggregate (one per seed) in one session"
        ) from None
    names_ = [p.name for p in [*out.uncertainties, *out.levers]]
    clash = next((n for n in names_ if names_.count(n) > 1), None)
    if clash:
        raise ConfigError(f"{clash}: two parameters of the space share this EMA name")
    return out


def _seeds(seeds: int | Sequence[int], first: int) -> list[int]:
    if isinstance(seeds, bool):
        raise ConfigError(f"seeds = {seeds!r}: a count of seeds or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds = {seeds}: at least one seed")
        return list(range(first, first + seeds))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out) or min(out) < 0:
        raise ConfigError(f"seeds = {list(seeds)!r}: distinct whole numbers >= 0, at least one")
    return out


def _kind(ema: Any, kpi: Kpi) -> int:
    if kpi.direction > 0:
        return ema.ScalarOutcome.MAXIMIZE
    if kpi.direction < 0:
        return ema.ScalarOutcome.MINIMIZE
    return ema.ScalarOutcome.INFO


def names(ema_model: Any) -> dict[str, str]:
    """Each EMA parameter name of ``ema_model`` and the config key it sets."""
    return {p.name: p.variable_name[0] for p in [*ema_model.uncertainties, *ema_model.levers]}
