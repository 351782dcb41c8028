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
- its costs and adoption, the same parameters on every tactic (``CONTRACT_FIELDS``, below):
  declared in the base class, set in its ``conf/tactic/<name>.yaml``, and redeclared in its
  class with a plausible range where the tactic knows one (see "Costs, adoption and ramp-up").

**Costs, adoption and ramp-up** (issue 17), handled here for every tactic, none of it an
outcome multiplier:

- ``adoption_day`` (a lever): the business day it is adopted. 0: from the start (set up when
  the model is built, as before). N >= 1: the model sets it up at the start of day N, before
  any hook of that day (``FunnelModel.step``); until then none of its hooks runs and nothing of
  it exists, so a run is identical to one without it up to day N - 1.
- ``rep_hours_per_week``, ``marketer_hours_per_week``: the hours it takes from every rep and
  every marketer (meetings, reviews, training), from the day it is adopted: each rep's
  ``hours`` a day fall by a fifth of the weekly hours, so less is left for follow-ups and
  prospecting; each marketer's nurture capacity falls by the same share of a
  ``MARKETER_WEEK_HOURS`` week (a marketer's capacity is its time). More than a rep's day
  across the tactics of a scenario is refused.
- ``ramp_up_days``: the days after adoption until its mechanisms cover everything. During the
  ramp-up a growing share of leads is covered: a lead is covered on a day when its own draw
  (``model.keyed_normal("<name>/ramp_up", lead)``, as a uniform) is below the share of the
  ramp-up elapsed; the hooks that take a lead (``intercept_handoff``, ``route``,
  ``on_rejected``, ``on_outcome``) run only for covered leads, and a hook that finds leads
  itself asks ``self.covers(model, lead)``. Agent-level changes made in ``setup`` go through
  ``self.ramp_agents(model, agents, action)``: each agent is changed on its own day of the
  ramp-up (from the stream ``"<name>/ramp_up"``). Coverage only grows. 0: full strength at once,
  the run bit-identical to one without the mechanism.
- ``one_off_cost``, ``running_cost_per_year`` (in the deal-value currency): what it costs;
  money, not a mechanism: the portfolio (``experiments.portfolio``) subtracts them, drawn from
  their plausible ranges. ``costs()`` gives them for the tactic as configured (the liaison's
  scale with its number of people).

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
import math
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sim.schema import (
    MAX_DAYS,
    MAX_STAGE_DAYS,
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


#: The contract's parameters every tactic has (issue 17; see the module docstring).
CONTRACT_LEVERS = frozenset({"adoption_day"})
COST_FIELDS = ("one_off_cost", "running_cost_per_year")  # money: no mechanism, no draw here
CONTRACT_FIELDS = (
    "adoption_day",
    "ramp_up_days",
    *COST_FIELDS,
    "rep_hours_per_week",
    "marketer_hours_per_week",
)
WORK_WEEK_DAYS = 5  # business days a week: weekly hours come off each day's hours
#: A marketer's working week (hours): the share of it a tactic takes is the share of nurture
#: capacity it takes (assumption: a marketer's nurture capacity is its time).
MARKETER_WEEK_HOURS = 40.0
#: Hooks that take a lead, and what each returns for a lead the ramp-up does not cover yet.
LEAD_HOOKS = {"intercept_handoff": False, "route": None, "on_rejected": False, "on_outcome": None}


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

    switched_off: tuple[str, ...] = param(
        (),
        doc="mechanisms switched off (names from the tactic's mechanisms; for the decomposition)",
    )
    # --- costs, adoption and ramp-up (issue 17; see the module docstring) -------------------
    # A tactic redeclares the ones it knows, with a plausible range and its source.
    adoption_day: int = param(
        0, lo=0, hi=MAX_DAYS, unit="business day", doc="day it is adopted (0: from the start)"
    )
    ramp_up_days: int = param(
        0,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days after adoption until its mechanisms cover every lead and agent",
    )
    one_off_cost: float = param(
        0.0, lo=0.0, hi=1e12, unit="currency", doc="one-off cost of adopting it"
    )
    running_cost_per_year: float = param(
        0.0, lo=0.0, hi=1e12, unit="currency/year", doc="running cost per year"
    )
    rep_hours_per_week: float = param(
        0.0, lo=0.0, hi=60.0, unit="hours/week per rep", doc="hours it takes from every rep"
    )
    marketer_hours_per_week: float = param(
        0.0,
        lo=0.0,
        hi=MARKETER_WEEK_HOURS,
        unit="hours/week per marketer",
        doc="hours it takes from every marketer (from nurture capacity)",
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
        """This tactic's run-time object for ``model``: a fresh copy, set up for it.

        Adopted at once (``adopt``) when ``adoption_day`` is 0; otherwise the model adopts it
        at the start of that day (``FunnelModel.step``) and it stays ``adopted = False`` until.
        """
        run = copy.copy(self)
        run.__dict__ = {f: self.__dict__[f] for f in (*_parameters(type(self)), "_fixed")}
        run.adopted = False
        model.kpis.register(self.counters)
        if self.adoption_day == 0:
            run.adopt(model)
        return run

    def adopt(self, model: FunnelModel) -> None:
        """Adopt it now: take its hours from the teams, start its ramp-up, set it up."""
        self.adopted = True
        # the ramp-up's first day: day 1 for a tactic in place from the start
        self.adopted_day = max(self.adoption_day, 1)
        self._take_hours(model)
        if self.ramp_up_days > 0:  # lead hooks run only for covered leads (none added at 0)
            for hook, default in LEAD_HOOKS.items():
                if getattr(type(self), hook) is not getattr(Tactic, hook):
                    self.__dict__[hook] = _Covered(getattr(self, hook), self, default)
        self.setup(model)

    def costs(self) -> dict[str, float]:
        """Its one-off cost and running cost per year as configured (currency)."""
        return {"one_off": self.one_off_cost, "running_per_year": self.running_cost_per_year}

    def hours_taken(self) -> tuple[float, float]:
        """The hours a week it takes from each rep and each marketer, as configured.

        A tactic whose meetings need people it may not have (the liaison's, with no liaison)
        overrides this.
        """
        return self.rep_hours_per_week, self.marketer_hours_per_week

    def _take_hours(self, model: FunnelModel) -> None:
        """Its weekly hours come off every rep's day and every marketer's nurture capacity."""
        rep_hours, marketer_hours = self.hours_taken()
        per_day = rep_hours / WORK_WEEK_DAYS
        if per_day > 0:
            for rep in model.rep_order:
                rep.hours = max(0.0, rep.hours - per_day)
        share = marketer_hours / MARKETER_WEEK_HOURS
        if share > 0:
            taken = math.ceil(model.org.nurture_capacity_per_marketer * share)
            for marketer in model.marketer_order:
                marketer.capacity = max(0, marketer.capacity - taken)

    def ramp_share(self, day: int) -> float:
        """The share of leads and agents its mechanisms cover on ``day`` (1 once ramped up)."""
        if self.ramp_up_days <= 0:
            return 1.0
        return min(1.0, max(0.0, (day - self.adopted_day + 1) / self.ramp_up_days))

    def covers(self, model: FunnelModel, lead: Lead) -> bool:
        """Whether its mechanisms reach ``lead`` today (always, once ramped up).

        Keyed by the lead (its own draw in every scenario), so a lead once covered stays so.
        """
        share = self.ramp_share(model.day)
        if share >= 1.0:
            return True
        z = model.keyed_normal(f"{self.name}/ramp_up", lead)
        return 0.5 * math.erfc(-z / math.sqrt(2.0)) < share  # the draw as a uniform

    def ramp_agents(
        self, model: FunnelModel, agents: Iterable[Any], action: Callable[[Any], None]
    ) -> None:
        """Apply ``action`` to each agent: all now, or each on its own day of the ramp-up.

        With a ramp-up, agent i is changed ``floor(u_i * ramp_up_days)`` days after adoption
        (``u_i`` from the stream ``"<name>/ramp_up"``; 0 days: now), so the share changed grows
        over the ramp-up, as ``ramp_share`` says. Without one, nothing is drawn.
        """
        agents = list(agents)
        if self.ramp_up_days <= 0:
            for agent in agents:
                action(agent)
            return
        u = model.stream(f"{self.name}/ramp_up").random(len(agents))
        for agent, ui in zip(agents, u.tolist(), strict=True):
            offset = int(ui * self.ramp_up_days)
            if offset == 0:
                action(agent)
            else:
                model.schedule_after(offset, functools.partial(action, agent))

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


class _Covered:
    """A lead hook that runs only for leads the tactic's ramp-up covers (picklable)."""

    def __init__(self, hook: Callable[..., Any], tactic: Tactic, default: Any) -> None:
        self.hook, self.tactic, self.default = hook, tactic, default

    def __call__(self, model: FunnelModel, lead: Lead, *args: Any) -> Any:
        if self.tactic.covers(model, lead):
            return self.hook(model, lead, *args)
        return self.default


def attach_all(model: FunnelModel, templates: Iterable[Tactic]) -> list[Tactic]:
    """Each tactic's run-time copy for ``model`` (``Tactic.attach``), in scenario order.

    Raises:
        ConfigError: the tactics together take more than a rep's day.
    """
    templates = list(templates)
    taken = sum(t.hours_taken()[0] for t in templates) / WORK_WEEK_DAYS
    if taken > model.org.rep_hours_per_day:
        worst = max(templates, key=lambda t: t.hours_taken()[0])
        raise ConfigError(
            f"scenario.tactics.{worst.name}.rep_hours_per_week = {worst.rep_hours_per_week:g}: "
            f"the tactics together take {taken:g} hours a day from each rep, more than its "
            f"{model.org.rep_hours_per_day:g} (org.rep_hours_per_day)"
        )
    return [t.attach(model) for t in templates]


def is_declared(cls: type[Tactic], name: str) -> bool:
    """Whether tactic class ``cls`` redeclares contract parameter ``name`` with its own range."""
    own = {f.name: f for f in dataclasses.fields(cls)}[name]
    return own is not _BASE_FIELDS[name] and bool(own.metadata.get("plausible"))


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
_BASE_FIELDS = {f.name: f for f in dataclasses.fields(Tactic)}


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
