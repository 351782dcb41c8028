"""FunnelModel: B2B marketing and sales teams moving leads through their funnels.

Time: one step is one business day; ``model.day`` is the current day (1 on the first step).
A run lasts ``days`` business days; the first ``warmup_days`` fill the pipeline and are left
out of the reported KPIs. Runs end at a horizon (``run_for``), not on ``model.running``.

The order of a day, written out in ``step()``:

1. tactics adopted today (``adoption_day``) are set up; tactics start the day (a liaison's
   hours are renewed);
2. the market delivers inbound leads (a Poisson flow), drawn with all their attributes from
   the ``market`` stream; each goes to a marketer, who scores it and hands it over, nurtures
   it or drops it;
3. marketers touch the nurtured leads due today, all at once in the nurture pool (intent and
   deal size rise; ready leads are handed over, leads out of time are dropped);
4. tactics do their daily work, in the order the scenario lists them (the validation gate
   releases checked leads, the liaison calls leads waiting past the follow-up SLA);
5. reps work: opportunities and qualification first, then follow-ups;
6. reps prospect with the hours left; the leads they find (all reps' drawn in one batch
   from the ``prospects`` stream) are judged at once;
7. scheduled events due today run, in the order they were scheduled: qualifications end,
   opportunities close, contracts come up for renewal (``schedule_after``: one Mesa event
   runs a day's actions);
8. ``end_of_day`` (a low-priority recurring event): at the end of a review period marketers
   move their thresholds and reps update their trust; then the day's KPIs are collected.

A closed lead leaves the model (``agent.remove()``) and lives on only as a row in the journey
log, so memory holds the open pipeline, the active customers and the counters.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from statistics import NormalDist
from typing import Any

import mesa
import numpy as np
from mesa.time import Priority, Schedule

from sim.agents import MARKETING, REP, Customer, Lead, Marketer, SalesRep, window_delays
from sim.causes import org_causes
from sim.funnel import OPEN_STAGES, LeadDefinition, Stage, StageLedger
from sim.journeys import COLUMNS, JourneyLog
from sim.kpis import TO_DATE
from sim.limits import check_fits
from sim.metrics import DAILY_FLOWS, Kpis
from sim.needs import discover, matches
from sim.nurture import NurturePool
from sim.params import (
    BUSINESS_DAYS_PER_YEAR,
    MAX_SEED,
    ConfigError,
    SimConfig,
    build_config,
)
from sim.policies import FollowUpPolicy, RoutingPolicy, ThresholdPolicy, make_policy
from sim.rng import STREAM_NAMES, KeyedNormals, streams
from sim.rng import stream as named_stream
from sim.tactics import Tactic, attach_all

JOURNEY_COLUMNS = COLUMNS  # the journey log's columns (sim.journeys)
NURTURE_START_SLOTS = 1024  # the nurture pool's first allocation (it grows on demand)


class FunnelModel(mesa.Model):
    """The funnel alignment model.

    Args:
        config: a ``SimConfig``, or a nested mapping shaped like the Hydra config. Optional:
            every parameter has a default, so ``FunnelModel()`` runs the default organisation.
        rng: the run's seed (Mesa's keyword; ``mesa.batch_run`` passes it). Overrides
            ``seed`` in ``config``. Must be a whole number: every random stream is derived
            from it by name. An explicit seed (here, in ``config`` or in ``params``) always
            wins; only when none is given is a fresh one drawn, and recorded in
            ``model.config.seed`` (so ``rng=None`` replicates differ, as in Mesa).
        scenario: a scenario's name (``"full_alignment"``: ``conf/scenario/<name>.yaml``),
            or a Mesa ``Scenario`` (what SolaraViz's Reset passes), whose parameters are
            overrides and whose ``rng`` is the seed. Ours is ``model.config.scenario``;
            ``model.scenario`` is Mesa's.
        org: an organisation's name (``"small"``: ``conf/org/<name>.yaml``).
        follow_up_policy: the reps' follow-up rule, overriding ``config.policies.follow_up``.
        threshold_policy: the marketers' threshold rule, overriding ``policies.threshold``.
        routing_policy: the liaison's routing rule, overriding ``policies.routing``.
        journeys_path: with ``record_journeys``, stream the journey log to this parquet file
            instead of keeping it in memory.
        **params: flat overrides by parameter name (``n_reps=10``,
            ``tactics=["liaison"]``, ``days=250``).

    Raises:
        ConfigError: on an unknown parameter or a value out of range, or if the run would
            not fit this machine's memory (``sim.limits``; ``allow_large_runs`` overrides).
    """

    business_days_per_year = BUSINESS_DAYS_PER_YEAR

    def __init__(
        self,
        config: SimConfig | dict[str, Any] | None = None,
        *,
        rng: int | None = None,
        scenario: Any = None,
        org: str | None = None,
        follow_up_policy: FollowUpPolicy | None = None,
        threshold_policy: ThresholdPolicy | None = None,
        routing_policy: RoutingPolicy | None = None,
        journeys_path: str | Path | None = None,
        **params: Any,
    ) -> None:
        cfg = resolve_config(config, rng, scenario, org, params)
        check_fits(cfg, journeys_in_memory=cfg.record_journeys and journeys_path is None)
        super().__init__(rng=cfg.seed)
        self.config = cfg
        self.org = cfg.org
        self.behaviour = b = cfg.behaviour
        self.rngs = streams(cfg.seed)
        policies = cfg.policies
        self.follow_up_policy = follow_up_policy or make_policy("follow_up", policies.follow_up)
        self.threshold_policy = threshold_policy or make_policy("threshold", policies.threshold)
        self.routing_policy = routing_policy or make_policy("routing", policies.routing)
        self.ledger = StageLedger()
        self.kpis = Kpis(self)
        self.journeys = JourneyLog(journeys_path) if cfg.record_journeys else None
        self._inbound_count = 0  # inbound leads so far: the next one's place in the market
        self._prospect_count = 0  # rep-found leads so far
        self._keyed: dict[tuple[str, str], KeyedNormals] = {}
        self.day = 0
        self._headline_today: dict[str, float] | None = None  # while end_of_day collects
        self._agenda: dict[int, list[Callable[[], None]]] = {}  # day -> actions (schedule_after)

        # Separate funnels: who judges leads by which score (the combined_funnel tactic
        # gives both teams one definition, and reps marketing's score).
        marketing_def = LeadDefinition(b.marketing_fit_weight, b.marketing_score_noise)
        rep_view = LeadDefinition(1.0, b.rep_view_noise)
        rep_accept = LeadDefinition(1.0, 0.0)
        self.rep_sees_marketing_score = False
        # Whether reps see marketing's engagement history of every handed lead (one CRM;
        # the data-sharing tactic sets it). A liaison's briefing shows it lead by lead.
        self.history_shared = False
        # Whether marketing already sees every outcome (one CRM): a liaison then has no
        # outcome left to carry back, so an outcome teaches the scoring once.
        self.outcomes_shared = False
        # --- settings the causes of misalignment read and tactics change (sim/causes.py) ---
        # Inbound volume: each function gives the share of today's market a campaign reaches
        # for a lead of fit f; a lead is kept when its own keyed uniform is below their
        # product, so every volume shares one thinning of the same market draw.
        self.inbound_keep: list[Callable[[FunnelModel, float], float]] = []
        # Hand-off lags: each gives the days before ``rep`` learns of ``lead`` (hybrid work).
        self.handoff_lags: list[Callable[[FunnelModel, Lead, SalesRep], int]] = []
        self.colocated: frozenset[SalesRep] = frozenset()  # reps who sit with marketing
        self.handoff_rules_agreed = False  # one set of hand-off rules (no leaders' drift)
        self.budget_resolved = False  # one owner settles budget disputes
        self._inbound_keep_draws = KeyedNormals(cfg.seed, "inbound_keep/marketing")
        self.marketers = Marketer.create_agents(self, self.org.n_marketers, marketing_def)
        self.reps = SalesRep.create_agents(
            self, self.org.n_reps, list(range(self.org.n_reps)), rep_view, rep_accept
        )
        self.marketer_order: tuple[Marketer, ...] = tuple(self.marketers)
        # The pool starts small and doubles when full: the capacity is a limit, often set
        # far above what is used ("unlimited"), so allocating it up front could take
        # gigabytes for a pool that never holds more than a few thousand leads.
        self.nurture_pool = NurturePool(
            self.marketer_order,
            min(self.org.n_marketers * self.org.nurture_capacity_per_marketer, NURTURE_START_SLOTS),
        )
        self.rep_order: tuple[SalesRep, ...] = tuple(self.reps)

        # The organisation's causes of misalignment (off unless its org sets them), then each
        # tactic's own run-time copy (its state never leaks to another model). Causes run
        # their hooks first, so a tactic acts on what a cause did.
        self.causes: list[Tactic] = [c.attach(self) for c in org_causes(self.org)]
        self.tactics: list[Tactic] = attach_all(self, cfg.scenario.tactic_params().values())
        # --- adoption (issue 17): tactics adopted later, by day (set up in ``step``) -------
        self._adoptions = sorted(
            (t for t in self.tactics if not t.adopted), key=lambda t: t.adoption_day
        )
        self._hooks = self._hook_lists()

        self.datacollector = mesa.DataCollector(model_reporters=self._reporters())
        # Low priority: runs each day after step() (high) and the day's events (default).
        self.schedule_recurring(
            self.end_of_day, Schedule(interval=1.0, start=1.0), priority=Priority.LOW
        )

    def _hook_lists(self) -> dict[str, list[Tactic]]:
        """For each hook, the causes and the adopted tactics that override it, causes first.

        Only tactics that override a hook are called for it (no-op calls off the hot path).
        """
        acting = [*self.causes, *self.tactics]
        return {
            hook: [
                t
                for t in acting
                if t.adopted and getattr(type(t), hook) is not getattr(Tactic, hook)
            ]
            for hook in (
                "start_day",
                "intercept_handoff",
                "route",
                "on_day",
                "on_rejected",
                "on_outcome",
                "on_period_end",
            )
        }

    def _adopt_due(self, day: int) -> None:
        """Adopt the tactics whose ``adoption_day`` is today, before any of today's hooks.

        Done here rather than as a Mesa event: an event at the same time and priority as the
        step runs before or after it as it was created before or after the step's own event.
        """
        while self._adoptions and self._adoptions[0].adoption_day <= day:
            self._adoptions.pop(0).adopt(self)
        self._hooks = self._hook_lists()

    # --- time -----------------------------------------------------------------------------
    def step(self) -> None:
        """One business day, in the order given in the module docstring."""
        # ``day`` is the current business day (0 before the first step). It is set here, not
        # derived from ``time`` on each use: the day's events all run at this same time.
        self.day = day = int(self.time)
        self.kpis.measuring = day > self.config.warmup_days
        self.kpis.measured_days += self.kpis.measuring
        self.kpis.reset_day()
        if self._adoptions and self._adoptions[0].adoption_day <= day:  # issue 17
            self._adopt_due(day)
        for tactic in self._hooks["start_day"]:
            tactic.start_day(self)
        self.arrive_inbound()
        self.nurture_pool.touch_due(self, day)
        for tactic in self._hooks["on_day"]:
            tactic.on_day(self)
        for rep in self.rep_order:
            rep.work()
        self.prospect()

    def end_of_day(self) -> None:
        """After the day's scheduled events: reviews at a period's end, then data collection."""
        if self.day % self.behaviour.review_period_days == 0:
            for marketer in self.marketer_order:
                marketer.review()
            for rep in self.rep_order:
                rep.review()
            for tactic in self._hooks["on_period_end"]:
                tactic.on_period_end(self)
            self.kpis.reset_period()
        # The collector reads five headline KPIs: computed once for the day, not once each
        # (nothing changes the counters while it collects).
        self._headline_today = self.kpis.headline()
        try:
            self.datacollector.collect(self)
        finally:
            self._headline_today = None
        if self.day >= self.config.days:
            self.running = False  # for drivers that loop on it (mesa.batch_run); run() does not

    # --- randomness for extensions -----------------------------------------------------------
    def stream(self, name: str) -> np.random.Generator:
        """This run's random stream ``name`` (a tactic names its own; created on first use).

        Streams are independent by name (``sim.rng``): a new one changes no other's draws.
        """
        if name in STREAM_NAMES:  # the core's own: drawing from them would shift the market
            raise ValueError(f"stream {name!r} is the model's own; name a stream of your own")
        if name not in self.rngs:
            self.rngs[name] = named_stream(self.config.seed, name)
        return self.rngs[name]

    def keyed_normal(self, name: str, lead: Lead) -> float:
        """A standard normal draw of stream ``name`` for ``lead``, keyed by the lead.

        The key is its place in the market (the n-th inbound lead, the n-th lead reps found):
        the same lead gets the same draw in every scenario, whoever else drew before
        (``sim.rng.KeyedNormals``).
        """
        key = (name, lead.source)
        draws = self._keyed.get(key)
        if draws is None:
            draws = self._keyed[key] = KeyedNormals(self.config.seed, f"{name}/{lead.source}")
        return draws[lead.market_index]

    def keyed_uniform(self, name: str, lead: Lead) -> float:
        """A uniform draw on (0, 1) of stream ``name`` for ``lead``, keyed by the lead.

        The normal CDF of ``keyed_normal``: the same lead gets the same draw in every
        scenario, so "does this lead get it" (a planned account, an overheard context, a
        remote rep's lead) is decided alike in the scenarios compared.
        """
        return _NORMAL.cdf(self.keyed_normal(name, lead))

    def schedule_after(self, days: int, action: Callable[[], None]) -> None:
        """Run ``action`` in ``days`` business days, among that day's scheduled events.

        The actions due on one day run in the order they were scheduled, as one Mesa event
        (scheduled when the day's first action is): the order Mesa gives one event per action,
        without an event, a weak reference and a heap entry for every lead's qualification,
        deal and renewal. (An event scheduled with Mesa's ``schedule_event`` for the same day
        runs before or after all of them, as it was scheduled before or after the first.)
        The agenda holds its actions strongly: an action checks that it still applies.
        """
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"days must be a whole number >= 0, not {days!r}")
        day = round(self.time) + days
        actions = self._agenda.get(day)
        if actions is None:
            actions = self._agenda[day] = []
            self.schedule_event(self._run_agenda, at=day)
        actions.append(action)

    def _run_agenda(self) -> None:
        for action in self._agenda.pop(round(self.time)):
            action()

    def run(self, days: int | None = None) -> None:
        """Run to the horizon (``config.days``, or ``days`` more days).

        The cyclic garbage collector runs less often meanwhile (see ``sparse_gc``).
        """
        with sparse_gc():
            self.run_for(self.config.days - self.day if days is None else days)

    # --- lead creation --------------------------------------------------------------------
    def arrive_inbound(self) -> None:
        """The market delivers today's inbound leads, all drawn in one batch.

        Every draw here comes from the ``market`` and ``churn`` streams, in amounts that
        depend only on the org and the day, so every scenario sees the same leads.
        """
        b, org = self.behaviour, self.org
        market = self.rngs["market"]
        n = int(market.poisson(org.inbound_leads_per_day))
        if n == 0:
            return
        fit = market.beta(b.lead_fit_alpha, b.lead_fit_beta, n)
        intent = market.beta(b.lead_intent_alpha, b.lead_intent_beta, n)
        value = self._deal_values(market, n)
        territory = market.integers(0, 2**31 - 1, n)
        z = market.standard_normal((n, 4))
        u = np.empty((n, 5))
        u[:, :4] = market.random((n, 4))
        u[:, 4] = self.rngs["churn"].random(n)
        marketers = self.marketer_order
        n_m = len(marketers)
        rows = zip(
            fit.tolist(),
            intent.tolist(),
            value.tolist(),
            territory.tolist(),
            z.tolist(),
            u.tolist(),
            window_delays(u[:, 3].tolist(), b, inbound=True),
            strict=True,
        )
        keep = self.inbound_keep
        for f, i_, v, t, z_row, u_row, delay in rows:
            if keep and not self._reached(f):
                self._inbound_count += 1  # a lead campaigns did not reach keeps its place
                continue
            lead = Lead(self, MARKETING, f, i_, v, t, z_row, u_row, self._inbound_count, delay)
            self.ledger.enter(Stage.LEAD)
            self.kpis.on_created(lead, inbound=True)
            marketer = marketers[self._inbound_count % n_m]
            self._inbound_count += 1
            marketer.receive(lead)

    def _reached(self, fit: float) -> bool:
        """Whether today's campaigns reach the next inbound lead (``inbound_keep``).

        Its own keyed uniform (by its place in the market) against the product of the kept
        shares: a lead kept at a lower volume is kept at every higher one.
        """
        share = 1.0
        for keep in self.inbound_keep:
            share *= keep(self, fit)
        return _NORMAL.cdf(self._inbound_keep_draws[self._inbound_count]) < share

    def _deal_values(self, gen: np.random.Generator, n: int | None) -> Any:
        """Deal values: lognormal with mean ``deal_value_mean``."""
        sigma = self.org.deal_value_sigma
        mu = math.log(self.org.deal_value_mean) - 0.5 * sigma**2
        return gen.lognormal(mu, sigma, n)

    def prospect(self) -> None:
        """Reps prospect with the hours their work left today; all finds are drawn at once.

        How many leads a rep finds is Poisson in its hours (``sales`` stream); the leads'
        attributes come from the ``prospects`` stream, one array per attribute for the day.
        """
        reps = [rep for rep in self.rep_order if rep.prospect_hours > 0]
        if not reps:
            return
        rate = self.behaviour.prospect_leads_per_hour
        if rate > 0:
            lam = [rep.prospect_hours * rate for rep in reps]
            found = self.rngs["sales"].poisson(lam).tolist()
        else:
            found = [0] * len(reps)
        draws = self._prospect_draws(sum(found))
        for rep, n in zip(reps, found, strict=True):
            rep.prospect([self.create_prospect(rep, *next(draws)) for _ in range(n)])

    def _prospect_draws(self, n: int) -> Any:
        """Attributes of ``n`` rep-found leads: (fit, intent, value, z, u, window delay)."""
        if n == 0:
            return iter(())
        b = self.behaviour
        g = self.rngs["prospects"]
        fit = g.beta(b.prospect_fit_alpha, b.prospect_fit_beta, n)
        intent = g.beta(b.prospect_intent_alpha, b.prospect_intent_beta, n)
        value = self._deal_values(g, n)
        z = g.standard_normal((n, 4))
        u = g.random((n, 5))
        columns = (fit, intent, value, z, u)
        delays = window_delays(u[:, 3].tolist(), b, inbound=False)
        return zip(*(c.tolist() for c in columns), delays, strict=True)

    def create_prospect(
        self,
        rep: SalesRep,
        fit: float,
        intent: float,
        value: float,
        z: list,
        u: list,
        window_delay_days: int | None = None,
    ) -> Lead:
        """A lead ``rep`` found by prospecting, with attributes from ``_prospect_draws``."""
        lead = Lead(
            self, REP, fit, intent, value, rep.index, z, u, self._prospect_count, window_delay_days
        )
        self._prospect_count += 1
        lead.ready_day = self.day
        self.ledger.enter(Stage.LEAD)
        self.kpis.on_created(lead, inbound=False)
        return lead

    # --- stage transitions ----------------------------------------------------------------
    def move(self, lead: Lead, stage: Stage) -> None:
        """Move an open lead to another stage (out of ``LEAD``, it leaves nurture)."""
        if lead.nurture_slot >= 0 and stage is not Stage.LEAD:
            lead.marketer.release(lead)
        self.ledger.move(lead.stage, stage)
        lead.stage = stage

    def close(self, lead: Lead, stage: Stage) -> None:
        """Close a lead in a final stage: it leaves the model and becomes a journey row."""
        deal = stage is Stage.LOST or stage is Stage.NO_DECISION
        if stage is Stage.DROPPED:
            self.kpis.add("leads_dropped")
        elif deal:
            self.kpis.on_closed_deal(lead, stage)
        self.move(lead, stage)  # (a nurtured lead leaves nurture)
        lead.closed_day = self.day
        if deal:
            for tactic in self._hooks["on_outcome"]:
                tactic.on_outcome(self, lead, stage)
        if self.journeys is not None:
            self._log(lead)
        lead.remove()

    def submit_for_handoff(self, lead: Lead) -> None:
        """Marketing judges a lead ready for sales; tactics may intercept it first."""
        lead.ready_day = self.day
        for tactic in self._hooks["intercept_handoff"]:
            if tactic.intercept_handoff(self, lead):
                return
        self.hand_off(lead)

    def hand_off(self, lead: Lead) -> None:
        """Hand a lead to sales as an MQL, routed by a tactic or by territory."""
        self.move(lead, Stage.MQL)
        lead.mql_day = self.day
        lead.handoffs += 1
        if self.history_shared:
            lead.history_seen = True
        if lead.marketer is not None:
            lead.marketer.period_mqls += 1
        self.kpis.on_handoff(first=lead.handoffs == 1)
        rep = None
        for tactic in self._hooks["route"]:  # each sees every hand-off; the first rep named wins
            chosen = tactic.route(self, lead)
            if rep is None:
                rep = chosen
        if rep is None:
            rep = self.rep_order[lead.territory % len(self.rep_order)]
        lag = 0
        if self.handoff_lags:  # (only a cause of misalignment delays hand-offs)
            lag = max(f(self, lead, rep) for f in self.handoff_lags)
        if lag > 0:  # the rep learns of it later (the speed-to-lead clock runs meanwhile)
            lead.rep = rep
            self.schedule_after(lag, partial(self._reach_rep, lead))
            return
        rep.assign(lead)

    def _reach_rep(self, lead: Lead) -> None:
        """A hand-off made with a lag reaches its rep (if the lead is still waiting)."""
        if lead.stage is Stage.MQL:
            lead.rep.assign(lead)

    def ignore(self, lead: Lead, by_choice: bool = False) -> None:
        """A handed lead expired in a rep's queue without a follow-up.

        ``by_choice``: the rep valued it below its bar (it would not have worked it with
        free hours); otherwise it lacked the hours.
        """
        self.kpis.on_ignored(by_choice)
        self.close(lead, Stage.IGNORED)

    def accept(self, lead: Lead) -> None:
        """A rep accepts a lead (SAL) and starts qualifying it."""
        self.move(lead, Stage.SAL)
        if lead.sal_day < 0:
            self.kpis.on_accepted(lead)
        lead.sal_day = self.day
        lead.rep.qualifying.add(lead)
        self.schedule_after(self.behaviour.qualify_days, lead.finish_qualification)

    def reject(self, lead: Lead, stage: Stage) -> None:
        """Sales did not accept (``REJECTED``) or qualify (``DISQUALIFIED``) a lead."""
        if stage is Stage.DISQUALIFIED:
            for tactic in self._hooks["on_outcome"]:
                tactic.on_outcome(self, lead, stage)
        if lead.source == MARKETING:
            for tactic in self._hooks["on_rejected"]:
                if tactic.on_rejected(self, lead):
                    return
        self.close(lead, stage)

    def recycle(self, lead: Lead) -> bool:
        """Send a lead sales turned down back to marketing's nurture; False if no room."""
        marketer = lead.marketer
        if marketer is None or not marketer.enrol(lead):
            return False
        self.move(lead, Stage.LEAD)
        lead.recycled += 1
        lead.rep = None
        self.kpis.add("leads_recycled")
        return True

    def open_opportunity(self, lead: Lead) -> None:
        """A qualified lead becomes an opportunity that closes after a sales cycle."""
        self.move(lead, Stage.SQL)
        lead.sql_day = self.day
        # Fix intent as it stands today: during the sales cycle it decays from this day on
        # (and rises with any touches marketing gives the account meanwhile).
        lead.intent = lead.intent_at(self.day)
        lead.intent_day = self.day
        rep = lead.rep
        rep.opportunities.add(lead)
        lead.coverage_at_open = rep.coverage_integral
        discover(lead)  # qualification's discovery calls: what the rep will pitch (sim.needs)
        if lead.source == MARKETING:
            rep.period_mql_outcomes += 1
            rep.period_mql_sqls += 1
            rep.period_mql_value += lead.value
        else:
            rep.period_prospect_value += lead.value
        self.kpis.on_sql(lead)
        for tactic in self._hooks["on_outcome"]:
            tactic.on_outcome(self, lead, Stage.SQL)
        cycle = self.org.opportunity_cycle_days * math.exp(0.4 * lead.z_cycle)
        self.schedule_after(max(5, round(cycle)), lead.close_opportunity)

    def win(self, lead: Lead) -> None:
        """A won deal: revenue is booked and the account becomes a customer."""
        self.kpis.on_closed_deal(lead, Stage.CUSTOMER)
        self.move(lead, Stage.CUSTOMER)
        lead.closed_day = self.day
        for tactic in self._hooks["on_outcome"]:
            tactic.on_outcome(self, lead, Stage.CUSTOMER)
        lead.remove()  # the account lives on as a Customer agent
        Customer(self, lead)

    def churn(self, customer: Customer) -> None:
        """A customer leaves at a renewal."""
        lead = customer.lead
        self.move(lead, Stage.CHURNED)
        lead.churn_day = self.day
        self._log(lead)
        customer.remove()

    # --- outputs --------------------------------------------------------------------------
    def _log(self, lead: Lead) -> None:
        if self.journeys is not None:
            self.journeys.append(
                (
                    lead.unique_id,
                    lead.source,
                    lead.fit,
                    lead.intent0,
                    lead.value,
                    lead.nurtured,
                    lead.recycled,
                    lead.handoffs,
                    lead.created_day,
                    lead.mql_day,
                    lead.followed_day,
                    lead.sal_day,
                    lead.sql_day,
                    lead.closed_day,
                    lead.churn_day,
                    lead.stage.name.lower(),
                    lead.rep.index if lead.rep is not None else -1,
                    lead.history_seen,
                    *matches(lead),
                    lead.window_day,
                )
            )

    def finish(self) -> None:
        """Bring nurtured leads up to date; log the open leads and the active customers.

        Call once, at the end of a run.
        """
        self.nurture_pool.sync()
        if self.journeys is None:
            return
        for lead in self.agents_by_type.get(Lead, []):
            self._log(lead)
        for customer in self.agents_by_type.get(Customer, []):
            self._log(customer.lead)

    def open_lead_counts(self) -> dict[Stage, int]:
        """Recount the open leads by stage from the agents themselves (for checks)."""
        counts = dict.fromkeys(OPEN_STAGES, 0)
        for lead in self.agents_by_type.get(Lead, []):
            counts[lead.stage] += 1
        return counts

    # --- metrics the DataCollector names -----------------------------------------------------
    @property
    def leads_created_total(self) -> int:
        """Leads created since the start of the run (all stages)."""
        return self.ledger.created

    @property
    def rep_utilisation(self) -> float:
        """Today's share of reps' non-admin hours spent on leads and opportunities."""
        t = self.kpis.today
        return t["rep_busy_hours"] / t["rep_available_hours"] if t["rep_available_hours"] else 0.0

    @property
    def handoff_threshold(self) -> float:
        """Marketers' mean hand-off threshold."""
        return _mean([m.threshold for m in self.marketer_order])

    @property
    def rep_trust(self) -> float:
        """Reps' mean trust in marketing's leads."""
        return _mean([r.trust for r in self.rep_order])

    @property
    def marketing_score_noise(self) -> float:
        """Marketers' mean score noise (falls as outcome feedback teaches scoring)."""
        return _mean([m.definition.noise for m in self.marketer_order])

    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {"day": "day"}
        for stage in Stage:
            reporters[f"n_{stage.name.lower()}"] = partial(_stage_count, stage=stage)
        for key in DAILY_FLOWS:
            reporters[key] = partial(_today, key=key)
        for name in (
            "leads_created_total",
            "rep_utilisation",
            "handoff_threshold",
            "rep_trust",
            "marketing_score_noise",
        ):
            reporters[name] = name
        for kpi in TO_DATE:  # to date, so Mesa's own tools (batch_run, SolaraViz) see them
            reporters[kpi] = partial(_headline, key=kpi)
        return reporters


#: The collector's young-generation threshold during ``FunnelModel.run`` (Python's default:
#: 2,000 container allocations in 3.13, 700 in 3.12).
GC_YOUNG_THRESHOLD = 100_000


@contextmanager
def sparse_gc() -> Iterator[None]:
    """Run Python's cyclic garbage collector less often, and restore its thresholds after.

    A run frees its garbage by reference counting: a closed lead leaves Mesa's registry and
    the last references to it go with it. The model makes no reference cycles per lead
    (``tests/test_invariants.py`` checks that a run's collections free nothing), so at its
    default thresholds the collector only re-scans the live pipeline, again and again: about
    a tenth of a run's time at 10x the default lead volume. Cycles that an extension makes
    are still collected, only later.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def resolve_config(
    config: SimConfig | dict[str, Any] | None,
    rng: Any,
    scenario: Any,
    org: str | None,
    params: dict[str, Any],
) -> SimConfig:
    """The model's config from its constructor's arguments (see ``FunnelModel``)."""
    params = dict(params)
    if scenario is not None and not isinstance(scenario, str):
        if not hasattr(scenario, "to_dict"):
            raise ConfigError(
                f"scenario = {scenario!r}: must be a scenario's name or a mesa Scenario"
            )
        items = {k: v for k, v in scenario.to_dict().items() if k not in _MESA_SCENARIO_KEYS}
        params = {**items, **params}
        if rng is None:
            rng = scenario.rng
        scenario = None
    if rng is not None:
        if isinstance(rng, bool) or not isinstance(rng, int | np.integer):
            raise TypeError("rng must be a whole-number seed: every stream is derived from it")
        params["seed"] = int(rng)
    if scenario is not None or org is not None:
        if config is not None:
            raise ConfigError("give either config or org=/scenario= names, not both")
        from sim.config import choice_override, load_config  # Hydra, only for named files

        names = [choice_override("org", [org])] if org is not None else []
        names += [choice_override("scenario", [scenario])] if scenario is not None else []
        config = load_config(names)
        explicit = "seed" in params
    else:
        explicit = (
            "seed" in params
            or isinstance(config, SimConfig)
            or (isinstance(config, dict) and "seed" in config)
        )
    if not explicit:  # Mesa's convention: no seed given, a fresh one (recorded in the config)
        params["seed"] = int(np.random.SeedSequence().entropy % MAX_SEED)
    return build_config(config, **params)


_MESA_SCENARIO_KEYS = {"rng", "model", "_scenario_id"}
_NORMAL = NormalDist()


# Module-level functions (not lambdas) keep the model picklable for parallel launchers.
def _mean(values: list[float]) -> float:
    # Collected every day: plain Python, as numpy's per-call cost is many times this sum's.
    return sum(values) / len(values) if values else math.nan


def _headline(model: FunnelModel, key: str) -> float:
    today = model._headline_today  # (set while end_of_day collects)
    return (model.kpis.headline() if today is None else today)[key]


def _stage_count(model: FunnelModel, stage: Stage) -> int:
    return int(model.ledger.counts[stage])


def _today(model: FunnelModel, key: str) -> float:
    return model.kpis.today[key]
