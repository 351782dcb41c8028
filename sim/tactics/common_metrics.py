"""The common-metrics tactic: both teams measured on the same funnel metrics.

Not revenue-sharing pay (``shared_goals``): marketing keeps its MQL quota and reps their pay,
but a dashboard both teams see measures each on how the hand-off performs, and what each side
pushes changes with it:

- ``marketing_on_follow_up``: marketing is measured on how many of its MQLs sales works: at
  each review, while sales left more than ``target_unworked_share`` of them unworked, marketers
  raise their hand-off bar (one threshold step at most, as the threshold policy moves it);
- ``sales_on_follow_up``: reps are measured on the share of MQLs they follow up, so each keeps
  ``reserve_released`` less of its hours for its own prospecting (more for marketing's leads);
- ``one_scorecard``: both leaders steer by the same numbers, so the hand-off rules do not drift
  apart (``org.separate_leaders``; ``model.handoff_rules_agreed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.model import FunnelModel


@dataclass
class CommonMetrics(Tactic):
    """One funnel scorecard for both teams (see the module docstring)."""

    name: ClassVar[str] = "common_metrics"
    mechanisms: ClassVar[dict[str, str]] = {
        "marketing_on_follow_up": "marketing raises its bar while sales leaves MQLs unworked",
        "sales_on_follow_up": "reps keep fewer hours for own prospecting, more for MQLs",
        "one_scorecard": "both leaders steer by the same numbers: hand-off rules do not drift",
    }
    target_unworked_share: float = param(
        0.35,
        lo=0.0,
        hi=1.0,
        doc="share of unworked MQLs above which marketing raises its bar",
        plausible=("uniform", 0.2, 0.5),
        source="assumption: as shared_goals.target_ignored_share (a measured marketer tolerates "
        "some unworked leads)",
    )
    reserve_released: float = param(
        0.05,
        lo=0.0,
        hi=1.0,
        doc="share of a rep's hours moved from its own prospecting to marketing's leads",
        plausible=("uniform", 0.0, 0.1),
        source="assumption: a follow-up metric moves a few percent of hours; CSO Insights: reps "
        "spend about a quarter of their time generating their own leads",
    )
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        10_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="building one funnel dashboard both teams see",
        plausible=("uniform", 3_000.0, 30_000.0),
        source="assumption: a BI dashboard built over the CRM in days to weeks",
    )
    running_cost_per_year: float = param(
        5_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="dashboard licences and upkeep per year",
        plausible=("uniform", 1_000.0, 15_000.0),
        source="assumption: BI seats for both teams",
    )

    def setup(self, model: FunnelModel) -> None:
        """Measure both teams on the funnel."""
        if self.on("sales_on_follow_up"):
            for rep in model.rep_order:
                rep.reserve_share = max(0.0, rep.reserve_share - self.reserve_released)
        if self.on("one_scorecard"):
            model.handoff_rules_agreed = True

    def on_period_end(self, model: FunnelModel) -> None:
        """Marketing sees the unworked share on the dashboard and raises its bar if too high."""
        if not self.on("marketing_on_follow_up"):
            return
        kpis = model.kpis
        resolved = kpis.period_followups + kpis.period_ignored
        if not resolved:
            return
        excess = kpis.period_ignored / resolved - self.target_unworked_share
        if excess > 0:
            step = model.behaviour.threshold_step * min(1.0, 4.0 * excess)
            for marketer in model.marketer_order:
                marketer.threshold = min(0.95, marketer.threshold + step)
