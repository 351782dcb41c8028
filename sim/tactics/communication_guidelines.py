"""The communication-guidelines tactic: agreed rules for the hand-off, no extra person.

The second most used alignment tactic in the 2023 survey (48%), and communication the most
named challenge (45%): marketing and sales agree in writing what an MQL is and what feedback
comes back and when, and meet at a fixed cadence to keep to it. Unlike a liaison, nobody is
added: rules instead of a person, paid for in meeting hours.

- ``lead_definition``: both teams judge leads by the agreed definition's weighting of fit and
  engagement (``behaviour.shared_fit_weight``): marketers score by it (with their own score's
  error: an agreed definition is not a shared scoring system, which is ``combined_funnel``)
  and reps accept by it after contact;
- ``feedback``: at each meeting sales reports the outcomes of marketing's leads since the last
  one, and marketing's scoring learns from each (``Marketer.learn``), unless marketing already
  sees every outcome in one CRM;
- ``meetings``: every ``meeting_every_days`` each rep spends ``meeting_hours`` in the meeting
  (hours it does not sell or prospect), and the rules are re-agreed there, so the two leaders'
  hand-off rules do not drift apart (``org.separate_leaders``; ``model.handoff_rules_agreed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING, LeadDefinition, Stage
from sim.schema import MAX_STAGE_DAYS, param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead, Marketer
    from sim.model import FunnelModel


def agree_definition(model: FunnelModel) -> None:
    """Both teams weigh fit and engagement as the agreed definition does.

    Marketers keep their own score's error (no shared scoring system); reps accept by the
    agreed weighting after contact.
    """
    weight = model.behaviour.shared_fit_weight
    for marketer in model.marketer_order:
        marketer.definition = LeadDefinition(weight, marketer.definition.noise)
    for rep in model.rep_order:
        rep.accept_definition = LeadDefinition(weight, rep.accept_definition.noise)


class MeetingHours:
    """Hours a tactic takes from each rep on some days, given back the next day."""

    def __init__(self) -> None:
        self.taken: dict = {}

    def take(self, model: FunnelModel, hours: float) -> None:
        """Take ``hours`` from each rep today (at most what it has)."""
        for rep in model.rep_order:
            h = min(hours, rep.hours)
            rep.hours -= h
            self.taken[rep] = h

    def give_back(self) -> None:
        """Return yesterday's hours."""
        for rep, h in self.taken.items():
            rep.hours += h
        self.taken = {}


@dataclass
class CommunicationGuidelines(Tactic):
    """Agreed hand-off rules and a meeting cadence (see the module docstring)."""

    name: ClassVar[str] = "communication_guidelines"
    mechanisms: ClassVar[dict[str, str]] = {
        "lead_definition": "both teams judge leads by the agreed weighting of fit and engagement",
        "feedback": "sales reports outcomes at each meeting; marketing's scoring learns",
        "meetings": "reps spend hours in meetings where the hand-off rules are re-agreed",
    }
    # Lever: the cadence the teams agree.
    levers: ClassVar[frozenset[str]] = frozenset({"meeting_every_days"})
    counters: ClassVar[dict[str, str]] = {
        "guideline_meetings": "sales and marketing meetings held under the guidelines",
    }
    meeting_every_days: int = param(
        10,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days between sales and marketing meetings (10: every two weeks)",
    )
    meeting_hours: float = param(
        1.0,
        lo=0.0,
        hi=24.0,
        unit="hours/rep/meeting",
        doc="hours each rep spends in one meeting (with its preparation)",
        plausible=("uniform", 0.5, 2.0),
        source="practitioner guides to SLA meetings (funnelledger.com: weekly 30-45 minutes, "
        "monthly 60 minutes, a quarterly reset); preparation adds up to an hour (assumption)",
    )
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        5_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="drafting the lead definition and hand-off agreement (workshops of both teams)",
        plausible=("uniform", 2_000.0, 15_000.0),
        source="assumption: a few days of both teams' leaders and an outside facilitator",
    )

    def setup(self, model: FunnelModel) -> None:
        """Agree the definition and the meetings; nothing reported yet."""
        if self.on("lead_definition"):
            agree_definition(model)
        if self.on("meetings"):
            model.handoff_rules_agreed = True
        self.reported: dict[Marketer, int] = {}
        self.hours = MeetingHours()

    def start_day(self, model: FunnelModel) -> None:
        """On a meeting day reps lose the meeting's hours, and outcomes are reported."""
        self.hours.give_back()
        if model.day % self.meeting_every_days:
            return
        if self.on("meetings"):
            model.kpis.add("guideline_meetings")
            self.hours.take(model, self.meeting_hours)
        for marketer, n in self.reported.items():
            for _ in range(n):
                marketer.learn()
        self.reported = {}

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Note the outcome of a marketing lead for the next meeting."""
        if (
            self.on("feedback")
            and not model.outcomes_shared  # marketing sees it already (one CRM)
            and lead.source == MARKETING
            and lead.marketer is not None
        ):
            self.reported[lead.marketer] = self.reported.get(lead.marketer, 0) + 1
