"""The colocation tactic: marketing and sales sit together (8% of organisations do it).

People who sit together hear of things sooner and in more detail, but only as far as a shared
floor reaches: communication between people falls steeply with the distance between their
desks (Allen 1977), so one floor holds the marketers and at most ``site_size`` people in all;
the reps beyond it (in rep order) are not co-located.

- ``fast_handoff``: a co-located rep learns of a hand-off at once, even one made on a remote
  day (it removes ``org.hybrid_work``'s lag for its reps; ``model.colocated``);
- ``overheard_context``: a co-located rep hears marketing talk about a lead it is handed: for
  ``overhear_share`` of them (each lead's own keyed draw) it knows what the buyer engaged with
  and what was promised (``lead.history_seen``, ``sim.needs``);
- ``informal_feedback``: marketing hears how some of the leads it handed to co-located reps
  turned out (``outcome_heard_share`` of them, each lead's own keyed draw: hearsay, not a
  record), and its scoring learns from each at marketing's own rate (``Marketer.learn``),
  unless it sees every outcome in one CRM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING, Stage
from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead
    from sim.model import FunnelModel


@dataclass
class Colocation(Tactic):
    """Marketing and sales on one floor (see the module docstring)."""

    name: ClassVar[str] = "colocation"
    mechanisms: ClassVar[dict[str, str]] = {
        "fast_handoff": "co-located reps learn of a hand-off at once, even a remote one",
        "overheard_context": "co-located reps hear marketing's context of some of their leads",
        "informal_feedback": "marketing hears how its leads did with co-located reps",
    }
    counters: ClassVar[dict[str, str]] = {
        "overheard_handoffs": "handed leads whose co-located rep heard marketing's context",
    }
    site_size: int = param(
        40,
        lo=0,
        hi=100_000,
        unit="people",
        doc="people one shared floor holds (marketers first, then reps)",
        plausible=("uniform", 20, 60),
        source="assumption anchored on the Allen curve (T. J. Allen, Managing the Flow of "
        "Technology, MIT; MIT Sloan: regular technical communication falls steeply with the "
        "distance between desks, with a critical distance of 50 m, and almost never crosses "
        "floors): one open-plan floor of a few dozen people",
    )
    overhear_share: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        doc="share of handed leads whose co-located rep hears marketing's context",
        plausible=("uniform", 0.1, 0.5),
        source="assumption: informal talk covers some leads, never all ('The Power of "
        "Proximity', Federal Reserve / UVA / Harvard, as summarised by R. McGrath 2023: "
        "engineers in one building with all their teammates got 22% more feedback)",
    )
    outcome_heard_share: float = param(
        0.5,
        lo=0.0,
        hi=1.0,
        doc="share of co-located reps' outcomes that marketing hears of informally",
        plausible=("uniform", 0.2, 0.8),
        source="assumption: hearsay carries some outcomes, never all (a shared record "
        "carries every one: data_sharing)",
    )
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        50_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="moving both teams onto one floor",
        plausible=("loguniform", 10_000.0, 150_000.0),
        source="assumption: office moves and refits of a few tens of desks",
    )
    running_cost_per_year: float = param(
        0.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year",
        doc="extra office cost per year of sitting together",
        plausible=("uniform", 0.0, 30_000.0),
        source="assumption: from none (space swapped) to a larger shared floor",
    )

    def setup(self, model: FunnelModel) -> None:
        """Seat the marketers and as many reps as the floor holds."""
        seats = max(0, self.site_size - len(model.marketer_order))
        self.seated_reps = model.rep_order[:seats]
        self.seated = frozenset(self.seated_reps)
        if self.on("fast_handoff"):
            model.colocated = model.colocated | self.seated

    def on_day(self, model: FunnelModel) -> None:
        """Co-located reps hear marketing's context of some of the leads waiting for them."""
        if not self.on("overheard_context"):
            return
        for rep in self.seated_reps:
            for lead in rep.queue:
                if lead.history_seen or lead.source != MARKETING or lead.handoffs == 0:
                    continue
                if model.keyed_uniform("colocation", lead) < self.overhear_share:
                    lead.history_seen = True
                    model.kpis.add("overheard_handoffs")

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Marketing hears the outcome of a lead it handed to a co-located rep."""
        if (
            self.on("informal_feedback")
            and not model.outcomes_shared
            and lead.source == MARKETING
            and lead.marketer is not None
            and lead.rep in self.seated
            and model.keyed_uniform("colocation_outcome", lead) < self.outcome_heard_share
        ):
            lead.marketer.learn()
