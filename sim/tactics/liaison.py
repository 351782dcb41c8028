"""The liaison tactic: people who span marketing and sales.

Mechanisms (each costs the liaison's hours, so capacity limits the effect): routing handed
leads to the rep with the most spare follow-up capacity instead of by territory; escalating
leads that wait past the follow-up SLA to a rep with a free slot (reps work escalated
leads first); recycling leads sales turned down back to nurture instead of dropping them
(at most ``max_recycles`` times per lead); carrying outcomes back to
marketing, whose scoring improves with each one; and, by talking to both sides, fewer deals
sold unlike what marketing promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import MARKETING, Stage
from sim.policies import check_rep
from sim.schema import MAX_STAGE_DAYS, param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.agents import Lead, SalesRep
    from sim.model import FunnelModel


@dataclass
class LiaisonTactic(Tactic):
    """One or more liaisons with limited hours (see the module docstring)."""

    name: ClassVar[str] = "liaison"
    mechanisms: ClassVar[dict[str, str]] = {
        "routing": "routes each handed lead to the rep with the most room",
        "escalation": "escalates leads waiting past the follow-up SLA to a rep with a free slot",
        "recycling": "recycles leads sales turned down back to nurture",
        "feedback": "carries outcomes back to marketing's scoring",
        "mismatch": "fewer deals sold unlike what marketing promised",
    }
    levers: ClassVar[frozenset[str]] = frozenset({"n_liaisons", "hours_per_day"})
    counters: ClassVar[dict[str, str]] = {
        "sla_escalations": "leads escalated past the follow-up SLA",
    }
    # A liaison spans a team of reps: the largest organisations would have tens, perhaps
    # hundreds. Every liaison is an agent, and routing a lead asks the liaisons in turn.
    n_liaisons: int = param(1, lo=0, hi=1_000, unit="people", doc="number of liaisons")
    hours_per_day: float = param(
        8.0, lo=0.0, hi=24.0, unit="hours/day", doc="working hours of one liaison"
    )
    route_hours: float = param(0.05, lo=0.0, unit="hours/lead", doc="time to route one lead")
    sla_days: int = param(
        1,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="wait after hand-off at which a lead is escalated",
    )
    escalation_hours: float = param(0.1, lo=0.0, unit="hours/lead", doc="time to escalate one lead")
    recycle_hours: float = param(
        0.1, lo=0.0, unit="hours/lead", doc="time to recycle one turned-down lead to nurture"
    )
    # Each recycle is another nurture programme (and more deal-value growth): a hundred is
    # beyond any real re-engagement policy.
    max_recycles: int = param(
        1, lo=0, hi=100, unit="times/lead", doc="how often one lead may be recycled to nurture"
    )
    feedback_rate: float = param(
        0.002,
        lo=0.0,
        hi=1.0,
        unit="1/outcome",
        doc="scoring improvement per outcome the liaison feeds back",
    )
    mismatch_reduction: float = param(
        0.2, lo=0.0, hi=1.0, doc="share of promise/sale mismatches the liaison prevents"
    )

    def setup(self, model: FunnelModel) -> None:
        """Create the liaison agents."""
        self.liaisons = _liaison_class().create_agents(model, self.n_liaisons, self.hours_per_day)
        self._list = list(self.liaisons)
        # Every part of the effect passes through a liaison who has time: without, none.
        self._staffed = any(liaison.hours_per_day > 0 for liaison in self._list)
        if self._staffed and self.on("mismatch"):
            model.mechanisms.mismatch_probability *= 1.0 - self.mismatch_reduction

    def _spend(self, hours: float) -> bool:
        return any(liaison.spend(hours) for liaison in self._list)

    def start_day(self, model: FunnelModel) -> None:
        """Renew each liaison's hours."""
        for liaison in self._list:
            liaison.start_day()

    def route(self, model: FunnelModel, lead: Lead) -> SalesRep | None:
        """Route to the rep with the most room, if there is liaison time for it."""
        if not self.on("routing") or not self._spend(self.route_hours):
            return None
        policy = model.routing_policy
        return check_rep(policy, policy.choose_rep(model, lead), model)

    def on_day(self, model: FunnelModel) -> None:
        """Enforce the follow-up SLA on leads waiting past it.

        An escalated lead must be worked before any other (the reps' policy puts it first),
        so the liaison escalates only into follow-up slots that went unused yesterday, moving
        the lead to the rep with the most of them (or leaving it with its own rep if that is
        the one). A liaison balances capacity and overrides triage; it cannot create time.
        """
        if not self.on("escalation"):
            return
        day = model.day
        for rep in model.rep_order:
            waiting = [
                lead
                for lead in rep.queue
                if not lead.escalated and day - lead.mql_day >= self.sla_days
            ]
            for lead in waiting:
                target = max(model.rep_order, key=_spare_slots)
                if target.spare_follow_ups <= 0 or not self._spend(self.escalation_hours):
                    return
                model.kpis.add("sla_escalations")
                target.spare_follow_ups -= 1
                if target is not rep:
                    rep.queue.remove(lead)
                    target.assign(lead)
                lead.escalated = True

    def on_rejected(self, model: FunnelModel, lead: Lead) -> bool:
        """Recycle a turned-down lead to nurture instead of dropping it."""
        marketer = lead.marketer
        if (
            not self.on("recycling")
            or lead.source != MARKETING
            or lead.recycled >= self.max_recycles
            or marketer is None
            or marketer.nurturing >= marketer.capacity  # no room: don't spend the time
            or not self._spend(self.recycle_hours)
        ):
            return False
        return model.recycle(lead)

    def on_outcome(self, model: FunnelModel, lead: Lead, stage: Stage) -> None:
        """Carry the outcome of a marketing lead back to its marketer's scoring."""
        if self._staffed and self.on("feedback") and lead.source == MARKETING and lead.marketer:
            lead.marketer.learn(self.feedback_rate)


def _spare_slots(rep: SalesRep) -> int:
    return rep.spare_follow_ups


def _liaison_class() -> type:
    """The ``Liaison`` agent class, defined on first use.

    It is a Mesa agent, and this module is imported whenever a config is checked (the sweep
    launcher, which never runs a model, checks every job): defining the class lazily keeps
    Mesa out of that process. Once defined it is an ordinary attribute of this module
    (``sim.tactics.liaison.Liaison``), so it pickles and compares like any class.
    """
    cls = globals().get("Liaison")
    if cls is not None:
        return cls
    import mesa

    class Liaison(mesa.Agent):
        """Spans marketing and sales (the ``liaison`` tactic), with limited hours a day.

        Routes each handed lead to the rep with the most spare follow-up capacity, escalates
        leads waiting past the follow-up SLA to a rep with room (reps work escalated leads
        first), recycles rejected and disqualified leads to nurture instead of dropping them,
        and carries outcomes back to marketing so its scoring improves.
        """

        def __init__(self, model: FunnelModel, hours: float) -> None:
            super().__init__(model)
            self.hours_per_day = hours
            self.hours_left = hours

        def spend(self, hours: float) -> bool:
            """Spend ``hours`` if the day still has them."""
            if self.hours_left + 1e-9 >= hours:
                self.hours_left -= hours
                return True
            return False

        def start_day(self) -> None:
            """A new day's hours."""
            self.hours_left = self.hours_per_day

    Liaison.__qualname__ = "Liaison"
    Liaison.__module__ = __name__
    globals()["Liaison"] = Liaison
    return Liaison


def __getattr__(name: str) -> type:
    """``from sim.tactics.liaison import Liaison`` (PEP 562): defines it on first use."""
    if name == "Liaison":
        return _liaison_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
