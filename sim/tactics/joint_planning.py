"""The joint-planning tactic: marketing plans campaigns and events with sales (15% use it).

Account-based marketing: campaigns and events aim at the accounts reps name, planned in
sessions both teams attend.

- ``targeting``: campaigns aimed at named accounts reach fewer poor-fit buyers: a lead of fit
  ``f`` is reached with probability ``1 - aim * (1 - f)``, thinning the one common market draw
  (``model.inbound_keep``), so lead volume falls and the leads reached fit better, while paired
  runs still face the same market;
- ``shared_plan``: reps helped plan the campaigns, so for a lead from a jointly planned
  campaign (``planned_share`` of inbound leads, each by its own keyed draw) the rep knows what
  it promised and what the buyer engaged with: its pitch combines its discovery with
  marketing's read (``lead.history_seen``, ``sim.needs``);
- ``planning_hours``: at the start of each review period every rep spends ``planning_hours`` in
  the planning session, hours it does not sell or prospect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING
from sim.schema import param
from sim.tactics import Tactic
from sim.tactics.communication_guidelines import MeetingHours

if TYPE_CHECKING:
    from sim.agents import Lead, SalesRep
    from sim.model import FunnelModel


@dataclass
class JointPlanning(Tactic):
    """Campaigns planned with sales (see the module docstring)."""

    name: ClassVar[str] = "joint_planning"
    mechanisms: ClassVar[dict[str, str]] = {
        "targeting": "campaigns aimed at named accounts reach fewer poor-fit buyers",
        "shared_plan": "reps know what a jointly planned campaign promised its leads",
        "planning_hours": "reps spend hours each period planning campaigns with marketing",
    }
    # Levers: how hard campaigns aim at named accounts, and how many are planned jointly.
    levers: ClassVar[frozenset[str]] = frozenset({"aim", "planned_share"})
    counters: ClassVar[dict[str, str]] = {
        "planned_handoffs": "handed leads from jointly planned campaigns (the rep knows the plan)",
    }
    aim: float = param(
        0.4,
        lo=0.0,
        hi=1.0,
        doc="how much targeting cuts the reach of a zero-fit buyer (0: no targeting)",
    )
    planned_share: float = param(
        0.5, lo=0.0, hi=1.0, doc="share of inbound leads from jointly planned campaigns"
    )
    planning_hours: float = param(
        2.0,
        lo=0.0,
        hi=24.0,
        unit="hours/rep/period",
        doc="hours each rep spends planning per review period",
        plausible=("uniform", 1.0, 4.0),
        source="assumption: a monthly campaign-planning session of one to a few hours per rep",
    )
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        10_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="setting up account lists and campaign targeting",
        plausible=("uniform", 5_000.0, 30_000.0),
        source="assumption: an account-based marketing set-up project of weeks",
    )
    running_cost_per_year: float = param(
        20_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="account data and targeting tools per year",
        plausible=("loguniform", 8_000.0, 60_000.0),
        source="assumption: intent-data and ABM platform licences for a small team",
    )

    def setup(self, model: FunnelModel) -> None:
        """Aim the campaigns; no hours taken yet."""
        if self.on("targeting"):
            model.inbound_keep.append(self.reached_share)
        self.hours = MeetingHours()

    def reached_share(self, model: FunnelModel, fit: float) -> float:
        """The chance a campaign aimed at named accounts reaches a buyer of fit ``fit``."""
        return 1.0 - self.aim * (1.0 - fit)

    def start_day(self, model: FunnelModel) -> None:
        """On the first day of a review period reps lose the planning session's hours."""
        self.hours.give_back()
        if self.on("planning_hours") and model.day % model.behaviour.review_period_days == 1:
            self.hours.take(model, self.planning_hours)

    def route(self, model: FunnelModel, lead: Lead) -> SalesRep | None:
        """A lead from a jointly planned campaign: its rep knows the campaign (routes none)."""
        if (
            self.on("shared_plan")
            and lead.source == MARKETING
            and not lead.history_seen
            and model.keyed_uniform("joint_planning", lead) < self.planned_share
        ):
            lead.history_seen = True
            model.kpis.add("planned_handoffs")
        return None
