"""The shared-goals tactic: marketing measured on revenue, reps credited for its deals.

Mechanisms: marketers stop chasing an MQL quota and move their hand-off threshold with what
sales can work (``Goal.revenue`` in ``ThresholdPolicy``); reps, now credited for marketing's
deals, stop discounting those leads and keep less time back for their own prospecting; and
marketing keeps nurturing accounts with open opportunities ("air cover"), so buyers' intent
fades more slowly during the sales cycle and fewer deals end in no decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.policies import Goal
from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.model import FunnelModel


@dataclass
class SharedGoals(Tactic):
    """Shared revenue goals for both teams (see the module docstring)."""

    name: ClassVar[str] = "shared_goals"
    mechanisms: ClassVar[dict[str, str]] = {
        "marketing_goal": "marketing measured on revenue: its bar follows what sales can work",
        "rep_credit": "reps credited for marketing's deals stop discounting its leads",
        "prospect_reserve": "credited reps keep less time back for their own prospecting",
        "air_cover": "marketing keeps nurturing accounts with open opportunities",
    }
    prospect_reserve_cut: float = param(
        0.5, lo=0.0, hi=1.0, doc="share of their prospecting reserve reps give up when credited"
    )
    air_cover: float = param(
        0.5, lo=0.0, hi=1.0, doc="share of opportunities' intent decay that marketing offsets"
    )
    target_ignored_share: float = param(
        0.35, lo=0.0, hi=1.0, doc="share of unworked MQLs marketing aims for under a revenue goal"
    )

    min_mql_sql_rate: float = param(
        0.12, lo=0.0, hi=1.0, doc="MQL-to-SQL rate below which marketing raises its bar"
    )

    def setup(self, model: FunnelModel) -> None:
        """Change what each team is measured on and credited for."""
        if self.on("marketing_goal"):
            for marketer in model.marketer_order:
                marketer.goal = Goal.revenue
                marketer.target_ignored_share = self.target_ignored_share
                marketer.min_mql_sql_rate = self.min_mql_sql_rate
        for rep in model.rep_order:
            if self.on("rep_credit"):
                rep.credit_weight = 1.0
            if self.on("prospect_reserve"):
                rep.reserve_share *= 1.0 - self.prospect_reserve_cut
        if self.on("air_cover"):
            model.mechanisms.opportunity_decay_factor *= 1.0 - self.air_cover
