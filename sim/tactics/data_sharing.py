"""The data-sharing tactic: one CRM for both teams.

Mechanisms: reps see marketing's engagement history, so their first view of a handed lead
weighs intent as well as fit, with less error; they pitch what the buyer engaged with, so
fewer deals are sold unlike what marketing promised and the pitch lands better; marketing
sees every outcome, so its scoring learns; and nobody re-keys data, which frees rep hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING, LeadDefinition, Stage
from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead
    from sim.model import FunnelModel


@dataclass
class DataSharing(Tactic):
    """One shared CRM (see the module docstring)."""

    name: ClassVar[str] = "data_sharing"
    mechanisms: ClassVar[dict[str, str]] = {
        "rep_view": "reps see marketing's engagement history in their first view of a lead",
        "admin_time": "nobody re-keys data: rep hours freed",
        "mismatch": "fewer deals sold unlike what marketing promised",
        "win_context": "a pitch tailored to what the buyer engaged with",
        "feedback": "marketing sees every outcome, and its scoring learns",
    }
    rep_view_intent_weight: float = param(
        0.4, lo=0.0, hi=1.0, doc="weight reps give engagement history in their view"
    )
    rep_view_noise: float = param(
        0.12, lo=0.0, unit="score sd", doc="error of a rep's view with the shared history"
    )
    mismatch_reduction: float = param(
        0.4, lo=0.0, hi=1.0, doc="share of promise/sale mismatches shared data prevents"
    )
    admin_share_saved: float = param(
        0.05, lo=0.0, hi=1.0, doc="share of rep hours no longer spent re-keying data"
    )
    win_boost: float = param(0.1, lo=0.0, doc="relative win-chance gain from a tailored pitch")
    feedback_rate: float = param(
        0.002,
        lo=0.0,
        hi=1.0,
        unit="1/outcome",
        doc="scoring improvement per outcome marketing sees",
    )

    def setup(self, model: FunnelModel) -> None:
        """Give reps the engagement history and marketing the outcomes."""
        for rep in model.rep_order:
            if self.on("rep_view") and not model.rep_sees_marketing_score:
                rep.view = LeadDefinition(1.0 - self.rep_view_intent_weight, self.rep_view_noise)
            if self.on("admin_time"):
                rep.admin_share = max(0.0, rep.admin_share - self.admin_share_saved)
        if self.on("mismatch"):
            model.mechanisms.mismatch_probability *= 1.0 - self.mismatch_reduction
        if self.on("win_context"):
            model.mechanisms.win_context_factor *= 1.0 + self.win_boost

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Marketing sees the outcome of every lead it sourced."""
        if self.on("feedback") and lead.source == MARKETING and lead.marketer is not None:
            lead.marketer.learn(self.feedback_rate)
