"""The data-sharing tactic: one CRM for both teams.

Mechanisms, each a change in who knows what or who spends time on what:

- ``rep_view``: reps see marketing's engagement history in their first look at a handed lead,
  so their view weighs intent as well as fit, with less error (which leads they work);
- ``history``: in qualification, the rep knows what the buyer engaged with and so what
  marketing promised: its read of the buyer's need combines its discovery with marketing's
  read (``sim.needs``), so it pitches closer to the need and to the promise;
- ``rekeying``: the lead's record is already in sales' system: no rep re-enters it
  (``behaviour.rekey_hours`` per lead followed up go back to selling and prospecting);
- ``feedback``: marketing sees the outcome of every lead it sourced, and its scoring learns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING, LeadDefinition, Stage
from sim.schema import MAX_STAGE_DAYS, param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead, SalesRep
    from sim.model import FunnelModel


@dataclass
class DataSharing(Tactic):
    """One shared CRM (see the module docstring)."""

    name: ClassVar[str] = "data_sharing"
    mechanisms: ClassVar[dict[str, str]] = {
        "rep_view": "reps see marketing's engagement history in their first view of a lead",
        "history": "reps know what the buyer engaged with and was promised when they pitch",
        "rekeying": "no rep re-enters a handed lead's record in a separate system",
        "feedback": "marketing sees every outcome, and its scoring learns",
    }
    rep_view_intent_weight: float = param(
        0.4,
        lo=0.0,
        hi=1.0,
        doc="weight reps give engagement history in their view",
        plausible=("uniform", 0.2, 0.6),
        source="assumption: engagement is one signal among several a rep weighs",
    )
    rep_view_noise: float = param(
        0.12,
        lo=0.0,
        unit="score sd",
        doc="error of a rep's view with the shared history",
        plausible=("uniform", 0.08, 0.2),
        source="assumption: between the scoring noise floor and a rep's own view without it",
    )
    # --- costs and ramp-up (issue 17; the tactic contract)
    ramp_up_days: int = param(
        60,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days until every rep works in the shared CRM",
        plausible=("uniform", 20, 120),
        source="assumption: a CRM integration is rolled out team by team over one to six months",
    )
    one_off_cost: float = param(
        40_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="integrating marketing's and sales' systems",
        plausible=("loguniform", 15_000.0, 100_000.0),
        source="assumption: an integration project of weeks to months of consulting time",
    )
    running_cost_per_year: float = param(
        25_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="licences and upkeep of the shared system per year",
        plausible=("uniform", 10_000.0, 60_000.0),
        source="assumption: additional seats and integration maintenance",
    )
    rep_hours_per_week: float = param(
        0.25,
        lo=0.0,
        hi=60.0,
        unit="hours/week per rep",
        doc="each rep's time keeping the shared records",
        plausible=("uniform", 0.0, 1.0),
        source="assumption: logging activities in one system, net of training",
    )
    marketer_hours_per_week: float = param(
        0.5,
        lo=0.0,
        hi=40.0,
        unit="hours/week per marketer",
        doc="each marketer's time keeping the shared records",
        plausible=("uniform", 0.0, 1.0),
        source="assumption: as reps",
    )

    def setup(self, model: FunnelModel) -> None:
        """Give reps the engagement history (and the time it saves) and marketing the outcomes.

        During a ramp-up reps move to the shared CRM one by one (``ramp_agents``); the shared
        history and outcomes are switched on for all at adoption, and outcome feedback reaches
        the covered leads' marketers (``covers``).
        """
        self.ramp_agents(model, model.rep_order, functools.partial(self._onboard, model))
        if self.on("history"):
            model.history_shared = True  # every handed lead's history is in sales' system
        if self.on("feedback"):
            model.outcomes_shared = True  # marketing sees every outcome in the shared system

    def _onboard(self, model: FunnelModel, rep: SalesRep) -> None:
        """A rep starts working in the shared CRM."""
        # (under a combined funnel reps read marketing's score instead: this view is then
        # unused, whichever tactic is set up first)
        if self.on("rep_view"):
            rep.view = LeadDefinition(1.0 - self.rep_view_intent_weight, self.rep_view_noise)
        if self.on("rekeying"):
            rep.rekey_hours = 0.0

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Marketing sees the outcome of every lead it sourced."""
        if self.on("feedback") and lead.source == MARKETING and lead.marketer is not None:
            lead.marketer.learn()
