"""Alignment tactics: one module per tactic, each a dataclass of parameters with hooks.

A tactic acts through the model's mechanisms (who sees what, who decides what, who has time
for what), never by editing outcomes. It overrides only the hooks it needs; the model calls
each hook at a fixed point of the day:

- ``setup(model)``: once, after the teams exist (change what agents see or are credited for);
- ``start_day(model)``: at the start of each day (a liaison's hours are renewed);
- ``intercept_handoff(model, lead) -> bool``: a lead marketing wants to hand over; return True
  to take custody of it (the lead-validation gate does, and hands it over later);
- ``route(model, lead) -> SalesRep | None``: choose the rep for a handed lead (the liaison);
  every tactic's ``route`` sees every hand-off, and the first rep named wins;
- ``on_day(model)``: daily work after marketing and before reps (validation, SLA checks);
- ``on_rejected(model, lead) -> bool``: a lead sales did not accept or qualify; return True
  to take custody (the liaison recycles it to nurture);
- ``on_outcome(model, lead, stage)``: a lead reached SQL, was disqualified, or its deal closed
  (feedback to marketing's scoring);
- ``on_period_end(model)``: at each review.

**The contract** (after Starsim's ``Module``/``Intervention``): a ``Tactic`` instance is its
*parameters*, fixed once built (setting one afterwards raises); the config keeps only
parameters. Each model calls ``attach(model)``, which returns a fresh copy for that model and
calls its ``setup``: all run-time state (queues, agents, counters of its own) lives on that
copy, so two models built from one config never share anything. A tactic declares, as class
attributes:

- ``mechanisms``: its mechanisms by name, each with what it does; ``switched_off`` (a
  parameter) names the ones switched off, for the effect decomposition, and a hook checks
  ``self.on(name)``;
- ``levers``: the parameters a scenario sets as decisions (the number of liaisons); every other
  parameter is an *uncertainty*, to be drawn from its plausible range;
- ``counters``: the events it counts (``model.kpis.add(name)``), with their meaning; they are
  KPIs of every run's summary (0 when the tactic is off), declared here, not in the core;
- ``costs``, ``ramp_up_days``, ``adoption``: slots for its costs, the days it takes to reach
  full strength and the day it is adopted, filled in by the portfolio work (``None``: not
  modelled yet).

Its randomness comes from its own named streams (``model.stream(name)``) or from draws keyed
by a lead's place in the market (``model.keyed_normal(name, lead)``): switching it on, or
adding a tactic, never changes another stream's draws. It reads the model only through its
public surface (``model.rep_order``, ``model.marketer_order``, ``model.history_shared``, ...).

Leads being nurtured keep their ``intent``, ``intent_day`` and ``value`` in
``model.nurture_pool`` until they leave nurture: a hook that reads them from such leads calls
``model.nurture_pool.sync()`` first, and one that changes them waits until the lead has left
nurture (a change made meanwhile is overwritten). Actions for a later day go through
``model.schedule_after(days, action)``.

Adding a tactic: write a module in this package with a ``Tactic`` subclass (it is found and
registered by its ``name``; a class elsewhere is named with ``_target_`` in its YAML), and add
``conf/tactic/<name>.yaml``, ``conf/scenario/<name>.yaml``, its ODD section and its test.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sim.schema import (
    ConfigError,
    check_arguments,
    check_fields,
    import_target,
    param,
    reject_unknown,
)

if TYPE_CHECKING:
    from sim.agents import Lead, SalesRep
    from sim.funnel import Stage
    from sim.model import FunnelModel


@dataclass
class Tactic:
    """Base class: every hook is a no-op. Subclasses are dataclasses of their parameters."""

    name: ClassVar[str] = "tactic"
    #: mechanism name -> what it does (the switches of ``switched_off``)
    mechanisms: ClassVar[dict[str, str]] = {}
    #: parameters a scenario sets as decisions; the others are uncertainties
    levers: ClassVar[frozenset[str]] = frozenset()
    #: counter name -> what it counts (KPIs of every run's summary)
    counters: ClassVar[dict[str, str]] = {}
    #: slots filled by the portfolio work; None: not modelled yet
    costs: ClassVar[dict[str, float] | None] = None
    ramp_up_days: ClassVar[int | None] = None
    adoption: ClassVar[int | None] = None

    switched_off: tuple[str, ...] = param(
        (),
        doc="mechanisms switched off (names from the tactic's mechanisms; for the decomposition)",
    )

    def __post_init__(self) -> None:
        key = f"scenario.tactics.{self.name}."
        check_fields(self, key)
        off = self.switched_off
        if isinstance(off, str) or not isinstance(off, list | tuple):
            raise ConfigError(f"{key}switched_off = {off!r}: must be a list of mechanism names")
        unknown = sorted(set(off) - set(self.mechanisms))
        if unknown:
            raise ConfigError(
                f"{key}switched_off = {list(off)!r}: {unknown[0]!r} is not a mechanism of this "
                f"tactic; its mechanisms are {', '.join(self.mechanisms) or '(none)'}"
            )
        object.__setattr__(self, "switched_off", tuple(off))
        object.__setattr__(self, "_fixed", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_fixed") and name in _parameters(type(self)):
            raise AttributeError(
                f"{self.name}.{name}: a tactic's parameters are fixed once built; build a new "
                "one (dataclasses.replace) instead"
            )
        object.__setattr__(self, name, value)

    def attach(self, model: FunnelModel) -> Tactic:
        """This tactic's run-time object for ``model``: a fresh copy, set up for it."""
        run = copy.copy(self)
        run.__dict__ = {f: self.__dict__[f] for f in (*_parameters(type(self)), "_fixed")}
        model.kpis.register(self.counters)
        run.setup(model)
        return run

    def on(self, mechanism: str) -> bool:
        """Whether ``mechanism`` is switched on."""
        return mechanism not in self.switched_off

    def setup(self, model: FunnelModel) -> None:
        """Change agents' information, incentives or capacities once teams exist."""

    def start_day(self, model: FunnelModel) -> None:
        """Start of a business day, before any lead moves."""

    def intercept_handoff(self, model: FunnelModel, lead: Lead) -> bool:
        """Return True to take custody of a lead marketing is about to hand over."""
        return False

    def route(self, model: FunnelModel, lead: Lead) -> SalesRep | None:
        """Return the rep a handed lead goes to, or None for the default territory."""
        return None

    def on_day(self, model: FunnelModel) -> None:
        """Daily work, after marketing and before the reps."""

    def on_rejected(self, model: FunnelModel, lead: Lead) -> bool:
        """Return True to take custody of a lead sales rejected or disqualified."""
        return False

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """React to a qualification result or a closed deal."""

    def on_period_end(self, model: FunnelModel) -> None:
        """React to the end of a review period."""


@functools.cache
def _parameters(cls: type[Tactic]) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _registry() -> dict[str, type[Tactic]]:
    """Every tactic in this package, by name: a new module is found without being listed."""
    found: dict[str, type[Tactic]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Tactic)
                and obj.__module__ == module.__name__
            ):
                found[obj.name] = obj
    return dict(sorted(found.items()))


REGISTRY: dict[str, type[Tactic]] = {}


def tactic_names() -> list[str]:
    """The names of the built-in tactics, sorted."""
    if not REGISTRY:
        REGISTRY.update(_registry())
    return list(REGISTRY)


def tactic_class(name: str, target: str | None = None) -> type[Tactic]:
    """Return the class for tactic ``name``, or the class at dotted path ``target``."""
    if target:  # refused unless a Tactic subclass, before anything is instantiated
        return import_target(target, f"scenario.tactics.{name}._target_", Tactic)
    if not REGISTRY:
        REGISTRY.update(_registry())
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"scenario.tactics.{name}: unknown tactic; known tactics are "
            f"{', '.join(sorted(REGISTRY))} (or give a _target_ class)"
        ) from None


def make_tactic(name: str, spec: Any) -> Tactic:
    """Tactic ``name``'s parameters from their mapping (or a ready instance, as it is).

    An instance is never run itself: a model runs ``attach(model)``, its own copy.
    """
    if isinstance(spec, Tactic):
        return spec
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ConfigError(f"scenario.tactics.{name} = {spec!r}: must be a mapping of parameters")
    spec = dict(spec)
    cls = tactic_class(name, spec.pop("_target_", None))
    key = f"scenario.tactics.{name}"
    reject_unknown(spec, [f.name for f in dataclasses.fields(cls) if f.init], key)
    check_arguments(cls, spec, key)  # a subclass's own __init__ may take other arguments
    return cls(**spec)
