"""The lead-validation tactic: a gate that checks leads before hand-off.

Marketing operations check each lead marketing wants to hand over against the ideal
customer profile, with a better (less noisy) look at its fit than the score gives. The gate
costs time: a slower check (``delay_days``) holds every lead back, and leads beyond the
daily capacity pass unchecked; speed-to-lead decay counts from when the lead
raised its hand, so each day of waiting costs most of a lead's chance. It blocks
junk, and, because the check is noisy too, sometimes a good lead. Blocked leads are dropped:
nurturing raises intent, not fit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import Stage
from sim.schema import MAX_STAGE_DAYS, param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead
    from sim.model import FunnelModel


@dataclass
class LeadValidation(Tactic):
    """A validation gate before hand-off (see the module docstring)."""

    name: ClassVar[str] = "lead_validation"
    mechanisms: ClassVar[dict[str, str]] = {
        "gate": "holds each lead marketing hands over for a check of its fit",
    }
    # Levers: the gate's staffing (capacity_per_day), its bar (fit_min) and its turnaround
    # (delay_days: same-day or batched checks, a service level the organisation sets).
    levers: ClassVar[frozenset[str]] = frozenset({"capacity_per_day", "delay_days", "fit_min"})
    counters: ClassVar[dict[str, str]] = {
        "validation_blocked": "leads the validation gate blocked",
        "validation_skipped": "leads handed over unchecked (no validator time)",
    }
    # At most the largest inbound volume (org.inbound_leads_per_day <= 100,000).
    capacity_per_day: int = param(
        40, lo=0, hi=100_000, unit="leads/day", doc="leads checked per day"
    )
    # Leads wait in the gate's queue for the whole delay (memory holds them).
    delay_days: int = param(
        0,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days a check takes (0: the same day, before reps work)",
    )
    noise: float = param(
        0.1,
        lo=0.0,
        unit="fit sd",
        doc="error of the check's view of fit",
        plausible=("uniform", 0.05, 0.2),
        source="assumption anchored on lead-scoring evidence: a validated check "
        "discriminates well (predictive scores reach AUC 0.75-0.92, Sedef et al. 2025: 0.84) and "
        "wrongly blocks 2-15% of good leads; for a lead of fit 0.5 against fit_min 0.3 that is a "
        "noise of 0.1-0.2 of fit",
    )
    fit_min: float = param(0.3, lo=0.0, hi=1.0, doc="lowest checked fit that passes")
    # --- costs and ramp-up (issue 17; the tactic contract)
    ramp_up_days: int = param(
        20,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days until the gate checks every lead (rules and routing being set up)",
        plausible=("uniform", 5, 40),
        source="assumption: a validation process is set up in weeks",
    )
    one_off_cost: float = param(
        5_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="defining the validation criteria and tooling",
        plausible=("triangular", 2_000.0, 5_000.0, 15_000.0),
        source="assumption: days of operations and sales management time",
    )
    running_cost_per_year: float = param(
        60_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="the validators' time per year (capacity_per_day checks a day)",
        plausible=("uniform", 40_000.0, 90_000.0),
        source="assumption: one marketing-operations analyst's loaded salary for 40 checks a day",
    )
    rep_hours_per_week: float = param(
        0.25,
        lo=0.0,
        hi=60.0,
        unit="hours/week per rep",
        doc="each rep's time reviewing the validation criteria",
        plausible=("uniform", 0.0, 0.5),
        source="assumption: occasional feedback on the criteria",
    )
    marketer_hours_per_week: float = param(
        0.5,
        lo=0.0,
        hi=40.0,
        unit="hours/week per marketer",
        doc="each marketer's time on blocked leads and the criteria",
        plausible=("uniform", 0.0, 1.0),
        source="assumption: reviewing what the gate blocks",
    )

    def setup(self, model: FunnelModel) -> None:
        """Start with an empty queue."""
        self.queue: deque[Lead] = deque()

    def intercept_handoff(self, model: FunnelModel, lead: Lead) -> bool:
        """Every lead marketing hands over waits for its check."""
        if not self.on("gate"):
            return False
        self.queue.append(lead)
        return True

    def on_day(self, model: FunnelModel) -> None:
        """Check today's leads up to capacity, oldest first; the overflow passes unchecked.

        An overloaded gate is bypassed rather than left to grow a queue in which leads go cold.
        """
        day = model.day
        checked = 0
        while self.queue:
            lead = self.queue[0]
            if day - lead.ready_day < self.delay_days:
                break
            self.queue.popleft()
            if lead.stage is not Stage.LEAD:
                continue
            if checked >= self.capacity_per_day:
                model.kpis.add("validation_skipped")
                model.hand_off(lead)
                continue
            checked += 1
            z = model.keyed_normal("lead_validation", lead)  # its own draw, keyed by the lead
            if lead.fit + self.noise * z >= self.fit_min:
                model.hand_off(lead)
            else:
                model.kpis.add("validation_blocked")
                model.close(lead, Stage.DROPPED)
