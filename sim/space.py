"""The declared experiment space: what we do not know, what the organisation decides, what it is.

One object, ``ExperimentSpace``, read from the parameters' declarations (field metadata and the
tactic registry; no parameter is listed here by hand), used by the comparison, the sensitivity
analysis and calibration alike:

- **uncertainties** (``Uncertainty``): every behavioural parameter that calibration does not fit
  (no ``fitted=``), and every tactic parameter that is neither one of the tactic's ``levers``
  nor ``switched_off``. Each has a plausible range (``plausible=``: a prior, not the validity
  bounds) and its ``source=``. Keys: ``behaviour.<name>`` and
  ``scenario.tactics.<tactic>.<name>``;
- **levers** (``Lever``): the decisions a scenario fixes: which tactics are on (the combined
  funnel is one), and
  each tactic's ``levers`` (the number of liaisons, the validation gate's capacity, ...);
- **the organisation's numbers** (``OrgNumber``): ``OrgParams``, fixed by default;
- **KPIs**: the registry's (``sim.kpis.KPIS``).

``sample(n, seed)`` draws ``n`` points of the uncertainties with a space-filling design (a Latin
hypercube or a scrambled Sobol' sequence from ``scipy.stats.qmc``, seeded) and maps each unit
coordinate through the inverse CDF of its distribution: ``uniform``, ``triangular``
(``scipy.stats.triang.ppf``) or ``loguniform`` (uniform in the logarithm). Row 0 of the result
is the defaults (draw 0), so a study with ``n = 0`` draws is today's answer under the default
assumptions; rows 1..n are the design. Whole-number parameters (days, counts): a uniform range
``low..high`` is a discrete uniform (each whole number equally likely: the unit coordinate is
cut into ``high - low + 1`` equal slices); a triangular or log-uniform one is drawn as a real
number and rounded to the nearest whole number.

``overrides(row, config)`` is the ``SimConfig`` of one draw for one scenario: the behavioural
parameters replaced, and each tactic's parameters replaced only if the scenario has that tactic
on (a tactic that is off stays off, and untouched).

Building the space checks every declaration and refuses (``ConfigError`` naming the key) an
uncertainty without a plausible range or source, a plausible range outside the parameter's
validity bounds or not containing its default, and a lever that is not a parameter.

Run ``python -m sim.space`` to print the uncertainties, ``python -m sim.space --odd`` to rewrite
the default and source cells of docs/ODD.md's parameter table from the declarations.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.params import BehaviourParams, OrgParams, ScenarioParams, SimConfig, build_config
from sim.schema import ConfigError
from sim.tactics import (
    CONTRACT_FIELDS,
    CONTRACT_LEVERS,
    COST_FIELDS,
    Tactic,
    is_declared,
    tactic_class,
    tactic_names,
)

DISTRIBUTIONS = {"uniform": 2, "triangular": 3, "loguniform": 2}  # name -> number of values
METHODS = ("lhs", "sobol")
_NUMERIC = {"int": "int", "float": "float"}


@dataclass(frozen=True)
class Parameter:
    """A declared parameter: its key, kind (``float``/``int``/...), default and validity bounds."""

    key: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    unit: str = ""
    doc: str = ""

    @property
    def name(self) -> str:
        """The parameter's own name (the last part of the key)."""
        return self.key.rsplit(".", 1)[-1]

    @property
    def tactic(self) -> str | None:
        """The tactic it belongs to, or None."""
        parts = self.key.split(".")
        return parts[2] if parts[:2] == ["scenario", "tactics"] and len(parts) > 3 else None


@dataclass(frozen=True)
class Uncertainty(Parameter):
    """A parameter nobody knows exactly: drawn from its plausible range in a study."""

    distribution: str = "uniform"
    values: tuple[float, ...] = ()  # (low, high) or, for a triangular, (low, mode, high)
    source: str = ""

    @property
    def low(self) -> float:
        """The lowest plausible value."""
        return self.values[0]

    @property
    def high(self) -> float:
        """The highest plausible value."""
        return self.values[-1]

    def ppf(self, u: Any) -> Any:
        """The values at unit coordinates ``u`` (an array in [0, 1)): the inverse CDF."""
        import numpy as np
        from scipy import stats

        u = np.asarray(u, dtype=float)
        low, high = self.low, self.high
        if self.kind == "int" and self.distribution == "uniform":
            slices = int(high) - int(low) + 1
            return np.minimum(int(low) + np.floor(u * slices), int(high)).astype(np.int64)
        if self.distribution == "uniform":
            x = low + u * (high - low)
        elif self.distribution == "triangular":
            mode = self.values[1]
            c = (mode - low) / (high - low)
            x = stats.triang.ppf(u, c, loc=low, scale=high - low)
        else:  # loguniform
            x = np.exp(np.log(low) + u * (np.log(high) - np.log(low)))
        x = np.clip(x, low, high)
        if self.kind == "int":
            return np.clip(np.floor(x + 0.5), low, high).astype(np.int64)
        return x

    def describe(self) -> str:
        """The plausible range in words, as docs/ODD.md shows it: ``plausible uniform 0.4-1.2``."""
        return f"plausible {self.distribution} " + "-".join(f"{v:g}" for v in self.values)


@dataclass(frozen=True)
class Lever(Parameter):
    """A decision a scenario fixes (a tactic on or off, the funnel, a tactic's strength)."""

    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class OrgNumber(Parameter):
    """One of the organisation's own numbers (``OrgParams``): fixed unless a study varies it."""


def _kind(f: dataclasses.Field) -> str:
    typ = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return _NUMERIC.get(typ, typ)


def _default(f: dataclasses.Field) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _parameter(cls: type[Parameter], key: str, f: dataclasses.Field, **extra: Any) -> Any:
    meta = f.metadata
    return cls(
        key=key,
        kind=_kind(f),
        default=_default(f),
        lo=meta.get("lo"),
        hi=meta.get("hi"),
        lo_open=bool(meta.get("lo_open", False)),
        unit=meta.get("unit", ""),
        doc=meta.get("doc", ""),
        **extra,
    )


def check_plausible(key: str, f: dataclasses.Field) -> Uncertainty:
    """The uncertainty ``f`` declares, checked; ``ConfigError`` naming ``key`` if it is unsound.

    Refused: no plausible range or no source; an unknown distribution or a malformed range; a
    range outside the validity bounds ``[lo, hi]`` (strictly above ``lo`` if it is open); a
    range that does not contain the default; for a whole-number parameter, a range whose ends
    are not whole numbers.
    """
    meta, kind, default = f.metadata, _kind(f), _default(f)
    plausible, source = meta.get("plausible"), str(meta.get("source") or "").strip()
    if kind not in ("int", "float"):
        raise ConfigError(
            f"{key}: a {kind} parameter cannot be an uncertainty; make it a lever of its tactic"
        )
    if meta.get("fitted"):
        raise ConfigError(f"{key}: fitted by calibration, so it takes no plausible range")
    if not plausible:
        raise ConfigError(
            f"{key}: no plausible range; declare plausible=(...) and source=... "
            "(a citation, or 'assumption: <reasoning>'), or make it a lever"
        )
    if not source:
        raise ConfigError(f"{key}: plausible range {plausible!r} has no source")
    dist, *values = plausible
    if dist not in DISTRIBUTIONS or len(values) != DISTRIBUTIONS[dist]:
        raise ConfigError(
            f"{key}: plausible = {plausible!r}: must be ('uniform', low, high), "
            "('triangular', low, mode, high) or ('loguniform', low, high)"
        )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) or not all(
        math.isfinite(v) for v in values
    ):
        raise ConfigError(f"{key}: plausible = {plausible!r}: its values must be finite numbers")
    low, high = values[0], values[-1]
    if not low < high or (dist == "triangular" and not low <= values[1] <= high):
        raise ConfigError(f"{key}: plausible = {plausible!r}: needs low (<= mode <=) < high")
    if dist == "loguniform" and low <= 0:
        raise ConfigError(f"{key}: plausible = {plausible!r}: a log-uniform range must be > 0")
    lo, hi, lo_open = meta.get("lo"), meta.get("hi"), bool(meta.get("lo_open"))
    if (lo is not None and (low <= lo if lo_open else low < lo)) or (hi is not None and high > hi):
        bounds = f"{'(' if lo_open else '['}{lo if lo is not None else '-inf'}, {hi or 'inf'}]"
        raise ConfigError(
            f"{key}: plausible = {plausible!r} lies outside the validity bounds {bounds}"
        )
    if not low <= default <= high:
        raise ConfigError(
            f"{key}: plausible = {plausible!r} does not contain the default {default!r}"
        )
    if kind == "int" and not all(float(v).is_integer() for v in values):
        raise ConfigError(f"{key}: plausible = {plausible!r}: a whole-number parameter's range")
    return _parameter(
        Uncertainty,
        key,
        f,
        distribution=dist,
        values=tuple(float(v) for v in values),
        source=source,
    )


def behaviour_uncertainties() -> list[Uncertainty]:
    """Every behavioural parameter calibration does not fit, in declaration order."""
    return [
        check_plausible(f"behaviour.{f.name}", f)
        for f in dataclasses.fields(BehaviourParams)
        if not f.metadata.get("fitted")
    ]


def tactic_uncertainties(name: str, cls: type[Tactic] | None = None) -> list[Uncertainty]:
    """Tactic ``name``'s uncertainties: its parameters that are not levers nor switches."""
    cls = cls or tactic_class(name)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(cls.levers) - set(fields))
    if unknown:
        raise ConfigError(
            f"scenario.tactics.{name}.{unknown[0]}: named in {cls.__name__}.levers but not a "
            "parameter of the tactic"
        )
    return [
        check_plausible(f"scenario.tactics.{name}.{f.name}", f)
        for f in fields.values()
        if f.name not in cls.levers and f.name != "switched_off" and _drawn_contract(cls, f.name)
    ]


def _drawn_contract(cls: type[Tactic], name: str) -> bool:
    """Whether a parameter is drawn, as far as the tactic contract goes (issue 17).

    The contract's parameters (``sim.tactics.CONTRACT_FIELDS``): ``adoption_day`` is a lever,
    the costs are money the portfolio draws itself, and the rest (ramp-up, hours taken) are
    uncertainties only where the tactic declares a plausible range (else fixed, 0 by default).
    """
    if name not in CONTRACT_FIELDS:
        return True
    return name not in CONTRACT_LEVERS and name not in COST_FIELDS and is_declared(cls, name)


def tactic_levers(name: str, cls: type[Tactic] | None = None) -> list[Lever]:
    """Tactic ``name``'s levers: whether it is on, and each parameter in its ``levers``."""
    cls = cls or tactic_class(name)
    on = Lever(key=f"scenario.tactics.{name}", kind="bool", default=False, doc=f"tactic {name} on")
    return [on] + [
        _parameter(Lever, f"scenario.tactics.{name}.{f.name}", f)
        for f in dataclasses.fields(cls)
        if f.name in cls.levers or f.name in CONTRACT_LEVERS
    ]


def _tactics_of(scenarios: Any) -> list[tuple[str, type[Tactic]]]:
    """(name, class) of each tactic named or switched on in ``scenarios``, in first-seen order.

    ``scenarios``: None (every registered tactic), a tactic name, a ``SimConfig`` or
    ``ScenarioParams``, or an iterable of any of these.
    """
    if scenarios is None:
        return [(n, tactic_class(n)) for n in tactic_names()]
    items = [scenarios] if isinstance(scenarios, str | SimConfig | ScenarioParams) else scenarios
    found: dict[str, type[Tactic]] = {}
    for item in items:
        if isinstance(item, str):
            found.setdefault(item, tactic_class(item))
            continue
        scenario = item.scenario if isinstance(item, SimConfig) else item
        if not isinstance(scenario, ScenarioParams):
            raise ConfigError(f"{item!r}: not a tactic name, a SimConfig or a ScenarioParams")
        for name, tactic in scenario.tactic_params().items():
            found.setdefault(name, type(tactic))
    return list(found.items())


class ExperimentSpace:
    """The declared experiment space (see the module docstring).

    ``tactics``: the tactics it covers (names, scenario configs, or None for every registered
    tactic). Every declaration is checked when the space is built.
    """

    def __init__(self, tactics: Any = None) -> None:
        self._tactics = _tactics_of(tactics)
        self._behaviour = behaviour_uncertainties()
        self._by_tactic = {n: tactic_uncertainties(n, cls) for n, cls in self._tactics}
        self._levers = {n: tactic_levers(n, cls) for n, cls in self._tactics}

    @property
    def tactics(self) -> list[str]:
        """The names of the tactics the space covers."""
        return [n for n, _ in self._tactics]

    def uncertainties(self, scenarios: Any = None) -> list[Uncertainty]:
        """The behavioural uncertainties and those of the tactics in ``scenarios``.

        ``scenarios``: tactic names, scenario configs, or None for every tactic of the space.
        """
        names = self.tactics if scenarios is None else [n for n, _ in _tactics_of(scenarios)]
        out = list(self._behaviour)
        for name in names:
            if name not in self._by_tactic:  # a tactic outside the space: checked the same way
                self._by_tactic[name] = tactic_uncertainties(name, dict(_tactics_of(name))[name])
            out += self._by_tactic[name]
        return out

    def levers(self, scenarios: Any = None) -> list[Lever]:
        """The decisions: each tactic on or off (the combined funnel is one), and its levers."""
        names = self.tactics if scenarios is None else [n for n, _ in _tactics_of(scenarios)]
        out: list[Lever] = []
        for name in names:
            out += self._levers.get(name) or tactic_levers(name)
        return out

    @staticmethod
    def organisation() -> list[OrgNumber]:
        """The organisation's own numbers (``OrgParams``), fixed unless a study varies them."""
        return [
            _parameter(OrgNumber, f"org.{f.name}", f)
            for f in dataclasses.fields(OrgParams)
            if f.name != "name"
        ]

    @staticmethod
    def kpis(role: str | None = None) -> list[Any]:
        """The registry's KPIs (``sim.kpis.Kpi``), all or those with ``role``."""
        from sim.kpis import KPIS

        return [k for k in KPIS.values() if role is None or role in k.roles]

    def sample(
        self,
        n: int,
        seed: int = 0,
        method: str = "lhs",
        scenarios: Any = None,
        base: SimConfig | None = None,
    ) -> Any:
        """A ``pandas.DataFrame`` of the defaults (row 0) and ``n`` design points (rows 1..n).

        Columns: the keys of ``uncertainties(scenarios)``; index ``draw``. ``method``: ``lhs``
        (a Latin hypercube: each column's n values fall one in each of n equal slices of its
        unit interval) or ``sobol`` (a scrambled Sobol' sequence; its balance holds for powers
        of 2). Seeded: the same arguments give the same table. ``base``: row 0 takes that
        config's values (a behavioural override, a scenario's own tactic values) instead of
        the declared defaults, so draw 0 is the answer without parameter uncertainty.
        """
        import numpy as np
        import pandas as pd
        from scipy.stats import qmc

        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"draws = {n!r}: must be a whole number >= 0")
        if method not in METHODS:
            raise ConfigError(f"method = {method!r}: must be one of {', '.join(METHODS)}")
        space = self.uncertainties(scenarios)
        rng = np.random.default_rng(seed)
        if n:
            if method == "lhs":
                unit = qmc.LatinHypercube(d=len(space), rng=rng).random(n)
            else:
                with warnings.catch_warnings():  # "balance properties ... powers of 2"
                    warnings.simplefilter("ignore", UserWarning)
                    unit = qmc.Sobol(d=len(space), scramble=True, rng=rng).random(n)
        else:
            unit = np.empty((0, len(space)))
        columns = {}
        for j, u in enumerate(space):
            first = self._base_value(u, base)
            drawn = u.ppf(unit[:, j])
            dtype = np.int64 if u.kind == "int" else float
            columns[u.key] = np.concatenate([[first], drawn]).astype(dtype)
        frame = pd.DataFrame(columns, index=pd.RangeIndex(n + 1, name="draw"))
        frame.attrs.update({"method": method, "seed": seed})
        return frame

    @staticmethod
    def _base_value(u: Uncertainty, base: SimConfig | None) -> Any:
        if base is None:
            return u.default
        if u.tactic is None:
            return getattr(base.behaviour, u.name)
        tactic = base.scenario.tactic_params().get(u.tactic)
        return u.default if tactic is None else getattr(tactic, u.name)

    def overrides(self, row: Mapping[str, Any] | Any, config: SimConfig) -> SimConfig:
        """The ``SimConfig`` of one draw (a row of ``sample``) for the scenario ``config``.

        Behavioural parameters are replaced; a tactic's parameters only if ``config`` has that
        tactic on. Keys the row lacks keep the config's values; a key that is not an
        uncertainty of this space is refused.
        """
        known = {u.key: u for u in self.uncertainties()}
        values = dict(row.items()) if hasattr(row, "items") else dict(row)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"{unknown[0]}: not an uncertainty of the experiment space")
        behaviour: dict[str, Any] = {}
        tactics: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            u = known[key]
            value = int(value) if u.kind == "int" else float(value)
            if u.tactic is None:
                behaviour[u.name] = value
            elif u.tactic in config.scenario.tactics:
                tactics.setdefault(u.tactic, {})[u.name] = value
        specs = dict(config.scenario.tactics)
        for name, changes in tactics.items():
            spec = specs[name]
            if isinstance(spec, Tactic):
                specs[name] = dataclasses.replace(spec, **changes)
            else:
                specs[name] = {**(spec or {}), **changes}
        data = {f.name: getattr(config, f.name) for f in dataclasses.fields(SimConfig)}
        data["behaviour"] = dataclasses.replace(config.behaviour, **behaviour)
        data["scenario"] = ScenarioParams(
            name=config.scenario.name, funnel=config.scenario.funnel, tactics=specs
        )
        return build_config(data)


# --- the behavioural draws screened against the facts (experiments.screen) -------------------

#: Where ``python -m experiments.screen`` writes the behavioural draws consistent with the
#: facts, and where the comparison reads them (``behaviour_draws=screened``).
SCREENED_PATH = Path(__file__).resolve().parent / "data" / "screened_behaviour.csv"
SCREEN_HINT = "make it again with python -m experiments.screen, or use behaviour_draws=prior"
#: Where a study's draws take their behaviour from (the comparison's and the portfolio's
#: ``behaviour_draws=``).
BEHAVIOUR_DRAWS = ("screened", "prior")


def check_behaviour_draws(value: str) -> None:
    """Refuse (one line) a ``behaviour_draws=`` that is not one of ``BEHAVIOUR_DRAWS``."""
    if value not in BEHAVIOUR_DRAWS:
        raise ConfigError(
            f"behaviour_draws={value}: must be screened or prior (screened: the behavioural "
            "draws consistent with the facts, made by python -m experiments.screen; prior: "
            "drawn from the plausible ranges unscreened)"
        )


def load_screened(path: Path = SCREENED_PATH) -> Any:
    """The screened behavioural draws, one row each, checked against today's declarations.

    Raises:
        ConfigError: the file is missing, or was made for other behavioural uncertainties
            than those declared now (a parameter added, removed or fitted since).
    """
    import pandas as pd

    if not Path(path).is_file():
        raise ConfigError(f"behaviour_draws=screened: {path} does not exist; {SCREEN_HINT}")
    frame = pd.read_csv(path, comment="#")
    declared = [u.key for u in behaviour_uncertainties()]
    found = [c for c in frame.columns if c.startswith("behaviour.")]
    if found != declared:
        missing = [k for k in declared if k not in found]
        extra = [k for k in found if k not in declared]
        if missing:
            what = f"it lacks {missing[0]}"
        elif extra:
            what = f"it has {extra[0]}, no longer drawn"
        else:
            what = "its columns are in another order"
        raise ConfigError(
            f"behaviour_draws=screened: {path} was made for other behavioural uncertainties "
            f"({what}); {SCREEN_HINT}"
        )
    return frame


def with_screened(table: Any, screened: Any, seed: int) -> Any:
    """``table`` (``sample``'s) with each draw's behavioural values from a screened draw.

    Draws 1..n take the behavioural columns of n different rows of ``screened``, chosen by
    a generator seeded with ``seed`` (the comparison's ``draw_seed``), so a behavioural
    draw consistent with the facts is kept whole; the tactic columns and draw 0 (the
    defaults) are left as they are.

    Raises:
        ConfigError: more draws than screened rows.
    """
    import numpy as np

    n = len(table) - 1
    if n > len(screened):
        raise ConfigError(
            f"draws={n}: the screened behavioural draws ({SCREENED_PATH.name}) hold "
            f"{len(screened)}; choose draws <= {len(screened)}, screen more (python -m "
            "experiments.screen candidates=...), or use behaviour_draws=prior"
        )
    pick = np.random.default_rng([seed, 1]).permutation(len(screened))[:n]
    out = table.copy()
    for key in (c for c in table.columns if c.startswith("behaviour.")):
        out.loc[1:, key] = screened[key].to_numpy()[pick].astype(table[key].dtype)
    return out


# --- docs/ODD.md's parameter table ----------------------------------------------------------

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
TABLE_HEADING = "## Parameter table"


def _documented_fields() -> dict[str, dict[str, dataclasses.Field]]:
    """Each class whose parameters may carry a plausible range, by its name: its fields."""
    classes: list[type] = [OrgParams, BehaviourParams, Tactic]  # Tactic: the contract (issue 17)
    classes += [tactic_class(n) for n in tactic_names()]
    return {c.__name__: {f.name: f for f in dataclasses.fields(c)} for c in classes}


def _matches(cell: str, value: Any) -> bool:
    try:
        return math.isclose(float(cell.strip("` ").replace(",", "")), float(value), rel_tol=1e-12)
    except ValueError:
        return False


def odd_table(text: str) -> str:
    """``text`` (docs/ODD.md) with its parameter table's default and source cells current.

    In each row of a subsection whose heading names a parameter class: a numeric default that
    no longer matches the code is rewritten; a parameter with a plausible range gets the source
    cell ``<source> (plausible <distribution> <values>)``. Nothing else changes.
    """
    if TABLE_HEADING not in text:
        raise ConfigError(f"docs/ODD.md has no '{TABLE_HEADING}' section")
    head, table = text.split(TABLE_HEADING, 1)
    classes = _documented_fields()
    fields: dict[str, dataclasses.Field] | None = None
    out = []
    for line in table.split("\n"):
        if line.startswith("## "):
            fields = None  # past the table
        elif line.startswith("### "):
            fields = next((fs for c, fs in classes.items() if f"`{c}`" in line), None)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if fields and line.lstrip().startswith("|") and re.fullmatch(r"`\w+`", cells[0]):
            f = fields.get(cells[0].strip("`"))
            if f is not None and len(cells) >= 6:
                default = _default(f)
                numeric = isinstance(default, int | float) and not isinstance(default, bool)
                if numeric and not _matches(cells[1], default):
                    cells[1] = f"{default:g}" if isinstance(default, float) else str(default)
                if f.metadata.get("plausible"):
                    u = check_plausible(cells[0].strip("`"), f)
                    cells[5] = f"{u.source} ({u.describe()})".replace("|", "/")
                line = "| " + " | ".join(cells) + " |"
        out.append(line)
    return head + TABLE_HEADING + "\n".join(out)


def _print_uncertainties() -> None:
    for u in ExperimentSpace().uncertainties():
        print(f"{u.key}\t{u.kind}\t{u.default!r}\t{u.describe()}\t{u.source}")


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.space [--odd [PATH]]``: list the uncertainties, or rewrite the ODD table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--odd"]:
        path = Path(argv[1]) if len(argv) > 1 else ODD
        text = path.read_text(encoding="utf-8")
        new = odd_table(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
        print(f"{path}: {'updated' if new != text else 'already current'}")
        return 0
    if argv:
        print("usage: python -m sim.space [--odd [PATH]]", file=sys.stderr)
        return 2
    _print_uncertainties()
    return 0


if __name__ == "__main__":
    sys.exit(main())
