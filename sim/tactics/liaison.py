"""The liaison tactic: people who span marketing and sales, within their own hours.

As practitioners describe the role, a liaison:

- ``routing``: routes each handed lead to the rep with the most room rather than by
  territory;
- ``briefing``: briefs the rep on a handed lead's engagement history, so the rep knows what
  the buyer engaged with and what marketing promised when it pitches (``sim.needs``);
- ``sla_calls``: enforces the hand-off agreement: leads still waiting for a first call
  ``sla_days`` after hand-off are called by the liaison itself (its hours, not a rep's), and
  those it reaches and sales' definition accepts go to the rep with the fewest leads and
  deals in hand;
- ``recycling``: sends leads sales turned down back to nurture instead of dropping them (at
  most ``max_recycles`` times per lead);
- ``feedback``: carries outcomes back to marketing, whose scoring improves with each.

Every action but feedback costs the liaisons' hours, in the order the day brings them (briefings and
routing as leads are handed over, then calls, then recycling); when they run out, the rest
of the day's work is not done. So the liaisons' capacity binds, and more liaisons do more,
up to the point where every lead is briefed and every waiting lead called.
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
        "briefing": "briefs the rep on the lead's engagement history and marketing's promise",
        "sla_calls": "calls leads still waiting past the follow-up SLA itself",
        "recycling": "recycles leads sales turned down back to nurture",
        "feedback": "carries outcomes back to marketing's scoring",
    }
    # Levers: staffing (n_liaisons, hours_per_day), the hand-off SLA the teams agree
    # (sla_days) and the re-engagement policy (max_recycles): decisions, not unknowns.
    levers: ClassVar[frozenset[str]] = frozenset(
        {"n_liaisons", "hours_per_day", "sla_days", "max_recycles"}
    )
    counters: ClassVar[dict[str, str]] = {
        "liaison_briefings": "handed leads a liaison briefed a rep on",
        "liaison_calls": "leads past the follow-up SLA a liaison called itself",
    }
    # A liaison spans a team of reps: the largest organisations would have tens, perhaps
    # hundreds. Every liaison is an agent, and routing a lead asks the liaisons in turn.
    n_liaisons: int = param(1, lo=0, hi=1_000, unit="people", doc="number of liaisons")
    hours_per_day: float = param(
        8.0, lo=0.0, hi=24.0, unit="hours/day", doc="working hours of one liaison"
    )
    route_hours: float = param(
        0.05,
        lo=0.0,
        unit="hours/lead",
        doc="time to route one lead",
        plausible=("uniform", 0.02, 0.1),
        source="assumption: a few minutes to look at a lead and the reps' queues",
    )
    brief_hours: float = param(
        0.33,
        lo=0.0,
        unit="hours/lead",
        doc="time to read a lead's history and brief its rep",
        plausible=("triangular", 0.15, 0.33, 0.75),
        source="Hebert Research: most reps prepare under 20 minutes per call, managers expect "
        "30 or more; 10-45 minutes per lead (assumption for the briefing itself)",
    )
    sla_days: int = param(
        1,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="wait after hand-off at which the liaison calls a lead itself",
    )
    call_hours: float = param(
        0.5,
        lo=0.0,
        unit="hours/lead",
        doc="liaison time for a first call of a waiting lead",
        plausible=("uniform", 0.25, 0.75),
        source="assumption: as a rep's follow-up (behaviour.follow_up_hours)",
    )
    recycle_hours: float = param(
        0.1,
        lo=0.0,
        unit="hours/lead",
        doc="time to recycle one turned-down lead to nurture",
        plausible=("uniform", 0.05, 0.25),
        source="assumption: updating a record and putting the lead in a programme",
    )
    # Each recycle is another nurture programme (and more deal-value growth): a hundred is
    # beyond any real re-engagement policy.
    max_recycles: int = param(
        1, lo=0, hi=100, unit="times/lead", doc="how often one lead may be recycled to nurture"
    )
    # --- costs and ramp-up (issue 17; the tactic contract): per liaison, see ``costs``
    ramp_up_days: int = param(
        40,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days until a new liaison covers every lead (learning the accounts)",
        plausible=("uniform", 10, 90),
        source="assumption: two weeks to a quarter for a new hire to know the reps' accounts",
    )
    one_off_cost: float = param(
        15_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/liaison",
        doc="hiring and onboarding one liaison",
        plausible=("triangular", 5_000.0, 15_000.0, 30_000.0),
        source="assumption: recruiting fees of 15-25% of a first year's salary, or internal "
        "transfer and training",
    )
    running_cost_per_year: float = param(
        95_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency/year/liaison",
        doc="one liaison's salary and overheads per year",
        plausible=("uniform", 70_000.0, 130_000.0),
        source="assumption: a sales- or revenue-operations manager's loaded salary",
    )
    rep_hours_per_week: float = param(
        0.5,
        lo=0.0,
        hi=60.0,
        unit="hours/week per rep",
        doc="each rep's time in the liaison's pipeline syncs",
        plausible=("uniform", 0.0, 1.5),
        source="assumption: a short weekly sync per rep",
    )
    marketer_hours_per_week: float = param(
        1.0,
        lo=0.0,
        hi=40.0,
        unit="hours/week per marketer",
        doc="each marketer's time in the liaison's syncs",
        plausible=("uniform", 0.0, 2.0),
        source="assumption: a weekly sync with marketing",
    )

    def hours_taken(self) -> tuple[float, float]:
        """The teams' hours in the liaison's syncs: none without a liaison who has time."""
        if self.n_liaisons == 0 or self.hours_per_day == 0:
            return 0.0, 0.0
        return self.rep_hours_per_week, self.marketer_hours_per_week

    def costs(self) -> dict[str, float]:
        """Its costs for ``n_liaisons`` people (the cost fields are per liaison)."""
        n = self.n_liaisons
        return {
            "one_off": n * self.one_off_cost,
            "running_per_year": n * self.running_cost_per_year,
        }

    def setup(self, model: FunnelModel) -> None:
        """Create the liaison agents."""
        self.liaisons = _liaison_class().create_agents(model, self.n_liaisons, self.hours_per_day)
        self._list = list(self.liaisons)
        # Every part of the effect passes through a liaison who has time: without, none.
        self._staffed = any(liaison.hours_per_day > 0 for liaison in self._list)

    def _spend(self, hours: float) -> bool:
        return any(liaison.spend(hours) for liaison in self._list)

    def start_day(self, model: FunnelModel) -> None:
        """Renew each liaison's hours."""
        for liaison in self._list:
            liaison.start_day()

    def route(self, model: FunnelModel, lead: Lead) -> SalesRep | None:
        """Brief the rep on the lead, and route it to the rep with the most room, as hours allow."""
        if (
            self.on("briefing")
            and not lead.history_seen
            and lead.source == MARKETING
            and self._spend(self.brief_hours)
        ):
            lead.history_seen = True
            model.kpis.add("liaison_briefings")
        if not self.on("routing") or not self._spend(self.route_hours):
            return None
        policy = model.routing_policy
        return check_rep(policy, policy.choose_rep(model, lead), model)

    def on_day(self, model: FunnelModel) -> None:
        """Call the leads still waiting past the follow-up SLA, oldest first, as hours allow.

        A lead the liaison reaches and sales' definition accepts goes to the rep with the fewest
        leads and deals in hand, as an accepted lead (the rep qualifies it); one it does not is
        turned down like any followed-up lead. The liaison's call replaces the rep's follow-up:
        no rep hours.
        """
        if not self.on("sla_calls") or not self._staffed:
            return
        day = model.day
        waiting = [
            (lead.mql_day, i, lead, rep)
            for rep in model.rep_order
            for i, lead in enumerate(rep.queue)
            if day - lead.mql_day >= self.sla_days
        ]
        waiting.sort(key=lambda w: (w[0], w[3].index, w[1]))
        called: dict[SalesRep, set[Lead]] = {}
        for _, _, lead, rep in waiting:
            if not self.covers(model, lead):  # not yet during the ramp-up
                continue
            if not self._spend(self.call_hours):
                break
            called.setdefault(rep, set()).add(lead)
            # the rep with the fewest leads and deals in hand (it qualifies what is accepted)
            target = min(model.rep_order, key=_in_hand)
            lead.rep = target
            model.kpis.add("liaison_calls")
            target.follow_up(lead)
        for rep, leads in called.items():
            rep.queue = [lead for lead in rep.queue if lead not in leads]

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
        if (
            self._staffed
            and self.on("feedback")
            and not model.outcomes_shared  # marketing sees it already (one CRM)
            and lead.source == MARKETING
            and lead.marketer
        ):
            lead.marketer.learn()


def _in_hand(rep: SalesRep) -> int:
    return len(rep.qualifying) + len(rep.opportunities)


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

        Its hours a day are what the tactic's mechanisms spend (see the module docstring).
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
