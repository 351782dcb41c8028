"""The revenue-leader tactic: one Chief Revenue Officer over marketing and sales.

Under 1% of organisations in the 2023 survey have one, though 2-3% call it the most effective
tactic. One owner of both teams' budgets and rules:

- ``budget_owner``: budget disputes between the teams are settled by one owner, so
  marketing's lead-generation budget is not withheld (``org.budget_dispute`` has no effect;
  ``model.budget_resolved``);
- ``one_definition``: one lead definition is imposed on both teams: marketers score and reps
  accept by the agreed weighting of fit and engagement (``behaviour.shared_fit_weight``; as
  the communication guidelines agree it, here by order);
- ``one_leader``: both teams answer to one leader with one goal, so their hand-off rules do not
  drift apart (``org.separate_leaders``; ``model.handoff_rules_agreed``).

Moving marketing's budget to where the pipeline needs it is not modelled: the model has no
budgets or costs to move (the tactic-cost slots of ``sim.tactics.Tactic`` are for that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.schema import param
from sim.tactics import Tactic
from sim.tactics.communication_guidelines import agree_definition

if TYPE_CHECKING:
    from sim.model import FunnelModel


@dataclass
class RevenueLeader(Tactic):
    """One leader over both teams (see the module docstring)."""

    name: ClassVar[str] = "revenue_leader"
    mechanisms: ClassVar[dict[str, str]] = {
        "budget_owner": "one owner settles budget disputes: lead generation is not cut",
        "one_definition": "one lead definition imposed on both teams",
        "one_leader": "one leader, one goal: hand-off rules do not drift apart",
    }
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        60_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="recruiting a Chief Revenue Officer",
        plausible=("uniform", 30_000.0, 120_000.0),
        source="assumption: executive search fees of about a quarter to a third of a first "
        "year's pay",
    )
    running_cost_per_year: float = param(
        300_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="the Chief Revenue Officer's pay and overheads per year",
        plausible=("loguniform", 200_000.0, 500_000.0),
        source="assumption: an executive's total compensation in a mid-sized B2B firm",
    )

    def setup(self, model: FunnelModel) -> None:
        """Put both teams under one leader."""
        if self.on("budget_owner"):
            model.budget_resolved = True
        if self.on("one_definition"):
            agree_definition(model)
        if self.on("one_leader"):
            model.handoff_rules_agreed = True
