"""The shared-goals tactic: marketing measured on revenue, reps credited for its deals.

It changes incentives only; what people then do follows from them:

- ``marketing_goal``: marketers stop chasing an MQL quota and move their hand-off threshold
  with what sales can work and qualify (``Goal.revenue`` in ``ThresholdPolicy``);
- ``rep_credit``: reps are credited for marketing-sourced deals, so they stop discounting
  those leads when choosing what to work (``marketing_credit_discount`` no longer applies);
  and, where reps adapt their prospecting reserve (``reserve_learning_rate`` > 0: drawn in
  the uncertainty analysis, 0 by default), credit moves it towards marketing's leads
  (``SalesRep.review``);
- ``air_cover``: marketing, now paid on revenue, keeps nurturing the accounts with open
  opportunities (a touch every ``nurture_touch_days``, raising the buyer's intent as nurture
  does), within its nurture capacity: each covered opportunity holds a nurture slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import Stage
from sim.policies import Goal
from sim.schema import MAX_STAGE_DAYS, param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead, Marketer, SalesRep
    from sim.model import FunnelModel


@dataclass
class SharedGoals(Tactic):
    """Shared revenue goals for both teams (see the module docstring)."""

    name: ClassVar[str] = "shared_goals"
    mechanisms: ClassVar[dict[str, str]] = {
        "marketing_goal": "marketing measured on revenue: its bar follows what sales can work",
        "rep_credit": "reps credited for marketing's deals stop discounting its leads",
        "air_cover": "marketing keeps nurturing accounts with open opportunities",
    }
    counters: ClassVar[dict[str, str]] = {
        "air_cover_touches": "marketing touches of accounts with open opportunities",
    }
    target_ignored_share: float = param(
        0.35,
        lo=0.0,
        hi=1.0,
        doc="share of unworked MQLs marketing aims for under a revenue goal",
        plausible=("uniform", 0.2, 0.5),
        source="assumption: a revenue-measured marketer tolerates some unworked leads",
    )
    min_mql_sql_rate: float = param(
        0.12,
        lo=0.0,
        hi=1.0,
        doc="MQL-to-SQL rate below which marketing raises its bar",
        plausible=("uniform", 0.08, 0.2),
        source="benchmark MQL-to-SQL rates of 8-20% (sim/data/stylized_facts.yaml, mql_to_sql)",
    )
    # --- costs and ramp-up (issue 17; the tactic contract)
    ramp_up_days: int = param(
        60,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days until every marketer and rep works to the new goals",
        plausible=("uniform", 20, 125),
        source="assumption: a new compensation plan takes effect over one or two quarters",
    )
    one_off_cost: float = param(
        15_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="redesigning both teams' goals and pay plans",
        plausible=("triangular", 5_000.0, 15_000.0, 40_000.0),
        source="assumption: weeks of management and HR time, or an outside adviser",
    )
    running_cost_per_year: float = param(
        5_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="shared revenue reporting per year",
        plausible=("uniform", 0.0, 15_000.0),
        source="assumption: reporting and attribution upkeep",
    )
    rep_hours_per_week: float = param(
        1.0,
        lo=0.0,
        hi=60.0,
        unit="hours/week per rep",
        doc="each rep's time in the joint pipeline review",
        plausible=("uniform", 0.5, 2.0),
        source="assumption: a weekly joint pipeline and goal review",
    )
    marketer_hours_per_week: float = param(
        1.0,
        lo=0.0,
        hi=40.0,
        unit="hours/week per marketer",
        doc="each marketer's time in the joint pipeline review",
        plausible=("uniform", 0.5, 2.0),
        source="assumption: the same weekly review",
    )

    def setup(self, model: FunnelModel) -> None:
        """Change what each team is measured on and credited for (one by one while ramping)."""
        if self.on("marketing_goal"):
            self.ramp_agents(model, model.marketer_order, self._revenue_goal)
        if self.on("rep_credit"):
            self.ramp_agents(model, model.rep_order, _credit)
        self.covered: dict[Lead, Marketer] = {}

    def _revenue_goal(self, marketer: Marketer) -> None:
        marketer.goal = Goal.revenue
        marketer.target_ignored_share = self.target_ignored_share
        marketer.min_mql_sql_rate = self.min_mql_sql_rate

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Cover a new opportunity if its marketer has a free nurture slot; free it at close."""
        if not self.on("air_cover"):
            return
        if stage is Stage.SQL:
            marketers = model.marketer_order
            marketer = lead.marketer or marketers[lead.market_index % len(marketers)]
            if marketer.nurturing < marketer.capacity:
                marketer.nurturing += 1
                self.covered[lead] = marketer
                model.schedule_after(model.behaviour.nurture_touch_days, lambda: self._touch(lead))
        elif stage in (Stage.CUSTOMER, Stage.LOST, Stage.NO_DECISION):
            marketer = self.covered.pop(lead, None)
            if marketer is not None:
                marketer.nurturing -= 1

    def _touch(self, lead: Lead) -> None:
        """A nurture touch of a covered, still open opportunity."""
        if lead not in self.covered:
            return
        model = lead.model
        b = model.behaviour
        lead.touch(model.day, b.nurture_intent_gain)
        model.kpis.add("air_cover_touches")
        model.schedule_after(b.nurture_touch_days, lambda: self._touch(lead))


def _credit(rep: SalesRep) -> None:
    rep.credit_weight = 1.0
