"""Alignment tactics: one module per tactic, each a dataclass of parameters with hooks.

A tactic acts through the model's mechanisms (who sees what, who decides what, who has time
for what), never by editing outcomes. It overrides only the hooks it needs; the model calls
each hook at a fixed point of the day:

- ``setup(model)``: once, after the teams exist (change what agents see or are credited for);
- ``start_day(model)``: at the start of each day (a liaison's hours are renewed);
- ``intercept_handoff(model, lead) -> bool``: a lead marketing wants to hand over; return True
  to take custody of it (the lead-validation gate does, and hands it over later);
- ``route(model, lead) -> SalesRep | None``: choose the rep for a handed lead (the liaison);
- ``on_day(model)``: daily work after marketing and before reps (validation, SLA checks);
- ``on_rejected(model, lead) -> bool``: a lead sales did not accept or qualify; return True
  to take custody (the liaison recycles it to nurture);
- ``on_outcome(model, lead, stage)``: a lead reached SQL, was disqualified, or its deal closed
  (feedback to marketing's scoring);
- ``on_period_end(model)``: at each review.

Leads being nurtured keep their ``intent``, ``intent_day`` and ``value`` in
``model.nurture_pool`` until they leave nurture: a hook that reads them from such leads calls
``model.nurture_pool.sync()`` first, and one that changes them waits until the lead has left
nurture (a change made meanwhile is overwritten). Actions for a later day go through
``model.schedule_after(days, action)``.

Adding a tactic: write a module with a ``Tactic`` subclass, add it to ``REGISTRY`` (or name
it with ``_target_`` in its YAML), and add ``conf/tactic/<name>.yaml``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sim.params import (
    ConfigError,
    _check_fields,
    check_arguments,
    import_target,
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

    def __post_init__(self) -> None:
        _check_fields(self, f"scenario.tactics.{self.name}.")

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


def _registry() -> dict[str, type[Tactic]]:
    from sim.tactics.data_sharing import DataSharing
    from sim.tactics.lead_validation import LeadValidation
    from sim.tactics.liaison import LiaisonTactic
    from sim.tactics.shared_goals import SharedGoals

    return {cls.name: cls for cls in (LiaisonTactic, SharedGoals, LeadValidation, DataSharing)}


REGISTRY: dict[str, type[Tactic]] = {}


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
    """Instantiate tactic ``name`` from its parameter mapping (or return a ready instance)."""
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
