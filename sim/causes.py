"""Causes of misalignment: properties of the organisation, not decisions it takes.

The 2023 survey of 200 sales and marketing professionals names the reasons for misalignment:
separate funnels (47%; the baseline itself, and the ``combined_funnel`` tactic), budget
disputes (36%), reporting to different leaders (33%), siloed data (29%; the baseline's
separate systems, and the ``data_sharing`` tactic) and hybrid work (25%). The three that are
properties of the organisation live in ``org`` (``OrgParams``), all off in the built-in
organisations; ``conf/org/misaligned.yaml`` turns them on. Each acts like a tactic, through
the hooks of ``sim.tactics.Tactic`` and the model's settings, and never on an outcome:

- ``budget_dispute``: marketing's lead-generation budget is partly withheld while the teams
  dispute it; ``budget_lag_days`` later, inbound lead volume follows (campaigns in flight keep
  delivering until then). Fewer leads are reached by thinning one common market draw
  (``model.inbound_keep``), so paired runs still face the same leads. One owner of both
  budgets (``model.budget_resolved``: the ``revenue_leader`` tactic) settles it.
- ``separate_leaders``: two leaders with their own goals; at each review marketing's leader
  lowers the hand-off bar (volume) and sales' leader moves reps' hours towards their own
  prospecting, each by ``separate_leaders`` (score and share of hours per review), so the
  hand-off rules drift apart over time. Rules both teams agree and keep
  (``model.handoff_rules_agreed``: communication guidelines, common metrics, a revenue
  leader) stop the drift.
- ``hybrid_work``: that share of hand-offs (each lead's own keyed draw) is made remotely and
  reaches the rep ``hybrid_delay_days`` later, while the speed-to-lead clock runs; reps who
  sit with marketing (``model.colocated``: the ``colocation`` tactic) learn of it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead, SalesRep
    from sim.model import FunnelModel
    from sim.params import OrgParams


@dataclass
class BudgetDispute(Tactic):
    """Marketing's lead-generation budget partly withheld (see the module docstring)."""

    name: ClassVar[str] = "budget_dispute"
    mechanisms: ClassVar[dict[str, str]] = {"budget_cut": "fewer leads reached, after a lag"}
    cut: float = param(0.0, lo=0.0, hi=0.9, doc="share of the budget withheld")
    lag_days: int = param(20, lo=0, doc="days before lead volume follows the budget")

    def setup(self, model: FunnelModel) -> None:
        """Thin the inbound market once the lag has passed."""
        model.inbound_keep.append(self.reached_share)

    def reached_share(self, model: FunnelModel, fit: float) -> float:
        """The share of the market today's campaigns reach."""
        if model.budget_resolved or model.day <= self.lag_days:
            return 1.0
        return 1.0 - self.cut


@dataclass
class SeparateLeaders(Tactic):
    """Two leaders whose hand-off rules drift apart (see the module docstring)."""

    name: ClassVar[str] = "separate_leaders"
    mechanisms: ClassVar[dict[str, str]] = {"drift": "hand-off rules drift apart per review"}
    drift: float = param(0.0, lo=0.0, hi=1.0, doc="drift per review period")

    def on_period_end(self, model: FunnelModel) -> None:
        """Each leader pulls its team's rules towards its own goal, unless rules are agreed."""
        if model.handoff_rules_agreed:
            return
        for marketer in model.marketer_order:  # marketing's leader: volume
            marketer.threshold = max(0.05, marketer.threshold - self.drift)
        cap = model.behaviour.reserve_share_max
        for rep in model.rep_order:  # sales' leader: reps' own pipeline first
            rep.reserve_share = min(cap, rep.reserve_share + self.drift)


@dataclass
class HybridWork(Tactic):
    """Remote hand-offs reach reps later (see the module docstring)."""

    name: ClassVar[str] = "hybrid_work"
    mechanisms: ClassVar[dict[str, str]] = {"remote_handoff": "remote hand-offs reach reps late"}
    share: float = param(0.0, lo=0.0, hi=1.0, doc="share of hand-offs made remotely")
    delay_days: int = param(1, lo=0, doc="days before a rep learns of a remote hand-off")

    def setup(self, model: FunnelModel) -> None:
        """Lag the remote hand-offs."""
        model.handoff_lags.append(self.lag)

    def lag(self, model: FunnelModel, lead: Lead, rep: SalesRep) -> int:
        """Days before ``rep`` learns of ``lead``: 0 on site or for a co-located rep."""
        if self.delay_days == 0 or rep in model.colocated:
            return 0
        if model.keyed_uniform("hybrid_work", lead) >= self.share:
            return 0
        return self.delay_days


def org_causes(org: OrgParams) -> list[Tactic]:
    """The causes of misalignment ``org`` has (none in the built-in organisations)."""
    causes: list[Tactic] = []
    if org.budget_dispute > 0:
        causes.append(BudgetDispute(cut=org.budget_dispute, lag_days=org.budget_lag_days))
    if org.separate_leaders > 0:
        causes.append(SeparateLeaders(drift=org.separate_leaders))
    if org.hybrid_work > 0:
        causes.append(HybridWork(share=org.hybrid_work, delay_days=org.hybrid_delay_days))
    return causes
