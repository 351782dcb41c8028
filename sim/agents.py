"""The agents: leads, marketers, sales reps, liaisons and customers.

Agents hold behaviour; ``FunnelModel`` wires them together and writes the order of the day
in ``step()``. All time is in business days (``model.day``). Stage changes go through
``model.move``/``model.close`` so that the stage ledger and the journey log stay exact.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa

from sim.funnel import MARKETING, REP, LeadDefinition, Stage
from sim.needs import match, matches
from sim.policies import Goal, check_threshold, follow_up_error

if TYPE_CHECKING:
    from sim.model import FunnelModel

__all__ = ["MARKETING", "REP", "Customer", "Lead", "Marketer", "SalesRep"]


class Lead(mesa.Agent):
    """A prospective buying account, from creation until its lead leaves the funnel.

    Latent attributes (never seen directly by anyone): ``fit`` with the ideal customer
    profile and ``intent`` (readiness to buy), both in [0, 1]. Intent decays exponentially
    without contact and rises with nurturing; it is stored with the day it was last updated
    and evaluated lazily (``intent_at``), so no lead needs daily work while it waits.

    The buyer's *need* (what problem it is trying to solve) is a third latent attribute, a
    standard normal: what marketing promised (``promise``), what the rep learnt of it and so
    pitched (``pitch``), and how far both are from the need decide the win chance, the deal's
    scope and churn (``sim.needs``).

    Every random number a lead's fate depends on is drawn once, at creation, from the stream
    of its origin (``market`` for inbound leads): its measurement errors (``z_*``), its need,
    and the uniforms that decide contact, qualification and the deal's outcome (``u_*``),
    plus the first renewal's uniform from the ``churn`` stream (for rep-prospected leads, all
    from the ``prospects`` stream). The errors of what people learn about the need are draws
    keyed by the lead (``model.keyed_normal``). A tactic changes who learns what and when (and
    so the chances that follow from it), never the draws, so paired scenarios differ only by
    the tactic.
    """

    # Slots for the model's own state: a lead is the model's most numerous object, and with
    # slots it takes about a third less memory (Mesa's own attributes stay in a small dict),
    # which keeps large pipelines in the caches. Grouped by meaning, not sorted.
    __slots__ = (  # noqa: RUF023
        # drawn at creation (see above)
        "source",
        "fit",
        "intent0",
        "intent",
        "intent_day",
        "created_day",
        "value",
        "territory",
        "market_index",  # the n-th inbound lead, or the n-th lead reps found (keyed draws)
        "z_score",
        "z_rep",
        "z_cycle",
        "need",  # the buyer's need (latent; a standard normal)
        "u_contact",
        "u_sql",
        "u_outcome",
        "u_window",  # decides the buying window (``window_day``)
        "u_churn",
        "window_day",  # the day the buyer enters the market (its buying window opens)
        # its journey
        "stage",
        "ready_day",  # last day marketing judged it ready for sales (speed-to-lead clock)
        "mql_day",
        "followed_day",
        "sal_day",
        "sql_day",
        "closed_day",
        "churn_day",
        "marketer",
        "rep",
        "nurture_slot",  # its slot in the nurture pool, -1 when not in a programme
        "nurtured",
        "recycled",
        "handoffs",
        "history_seen",  # the rep saw marketing's engagement history (and so its promise)
        "pitch",  # what the rep understood the need to be, and sold (nan before discovery)
        "search_hours",  # prospecting hours spent finding this lead (rep-sourced)
        "rep_view",  # the assigned rep's pre-contact view
        "coverage_at_open",
        "delay_bucket",
    )

    def __init__(
        self,
        model: FunnelModel,
        source: str,
        fit: float,
        intent: float,
        value: float,
        territory: int,
        z: tuple[float, float, float, float] | list[float],
        u: tuple[float, float, float, float, float] | list[float],
        market_index: int = 0,
        window_delay_days: int | None = None,
    ) -> None:
        mesa.Agent.__init__(self, model)  # (not super(): one lookup less, for every lead)
        self.market_index = market_index
        self.source = source
        self.fit = fit
        self.intent0 = self.intent = intent
        self.intent_day = self.created_day = model.day
        self.value = value
        self.territory = territory
        self.z_score, self.z_rep, self.need, self.z_cycle = z
        self.u_contact, self.u_sql, self.u_outcome, self.u_window, self.u_churn = u
        if window_delay_days is None:  # (the model passes a day's leads' delays at once)
            window_delay_days = window_delay(self.u_window, model.behaviour, source == MARKETING)
        self.window_day = self.created_day + window_delay_days
        if self.window_day == self.created_day:  # a buyer in the market already: full intent
            self.intent0 = self.intent = 1.0
        self.stage = Stage.LEAD
        self.ready_day = self.mql_day = self.followed_day = self.sal_day = -1
        self.sql_day = self.closed_day = self.churn_day = -1
        self.marketer = self.rep = None
        self.nurture_slot = -1
        self.nurtured = self.history_seen = False
        self.pitch = math.nan
        self.recycled = self.handoffs = 0
        self.search_hours = self.rep_view = self.coverage_at_open = 0.0
        self.delay_bucket = -1

    def intent_at(self, day: int, decay: float | None = None) -> float:
        """Intent on ``day``, decayed since its last update at ``decay`` per day.

        A buyer whose buying window opened since the last update entered the market at full
        intent on ``window_day`` and has decayed from there (its intent before was below 1,
        and decayed for longer, so the opening is what it shows).
        """
        if day == self.intent_day:  # updated today (a lead just created, mostly): as is
            return self.intent  # (what the formula below gives: exp(0) is exactly 1)
        if decay is None:
            decay = self.model.behaviour.intent_decay_per_day
        if self.intent_day < self.window_day <= day:
            return math.exp(-decay * (day - self.window_day))
        return self.intent * math.exp(-decay * (day - self.intent_day))

    def touch(self, day: int, gain: float) -> None:
        """A nurture touch.

        In its buying window the buyer engages: the touch closes ``gain`` of the gap between
        current and full intent. Before it, content keeps the buyer as engaged as it came in
        (intent back up to ``intent0``) but cannot make it ready to buy: only the window
        does that.
        """
        now = self.intent_at(day)
        if day >= self.window_day:
            self.intent = now + gain * (1.0 - now)
        else:
            self.intent = max(now, self.intent0)
        self.intent_day = day

    def window_over(self, day: int) -> bool:
        """True once the buyer's window has closed: it bought from someone else by then."""
        return day >= self.window_day + self.model.behaviour.buying_window_days

    def finish_qualification(self) -> None:
        """End of qualification (a scheduled event): an opportunity or a disqualification.

        The chance to qualify grows with the buyer's fit and current intent (Implisit 2014:
        about 13% of leads become opportunities); what is left of intent after the wait for
        a follow-up is already in ``intent``.
        """
        model = self.model
        if self.stage is not Stage.SAL:
            return
        b = model.behaviour
        rep = self.rep
        rep.qualifying.discard(self)
        p_sql = min(0.95, b.sql_scale * self.fit * self.intent_at(model.day))
        if self.u_sql < p_sql:
            model.open_opportunity(self)
        else:
            model.kpis.on_disqualified(self)
            if self.source == MARKETING:
                rep.period_mql_outcomes += 1
            model.reject(self, Stage.DISQUALIFIED)

    def close_opportunity(self) -> None:
        """The buyer decides (a scheduled event at the end of the sales cycle).

        Win chance rises with fit, with how fully the rep served the deal (hours given vs
        needed), with the buyer's intent at the decision and with how well the pitch matched
        the buyer's need (``sim.needs``). A deal whose buyer's intent has faded ends in no
        decision (CSO Insights: about a fifth). Nothing here is set by a tactic: a tactic
        changes what the rep knew, how much time it had and how engaged the buyer stayed.
        """
        model = self.model
        if self.stage is not Stage.SQL:
            return
        b = model.behaviour
        rep = self.rep
        rep.opportunities.discard(self)
        open_days = max(1, model.day - self.sql_day)
        coverage = min(1.0, (rep.coverage_integral - self.coverage_at_open) / open_days)
        intent = self.intent_at(model.day)
        p_win = self.win_probability(coverage, intent)
        p_no_decision = b.no_decision_base * (1.0 - intent)
        if self.u_outcome < p_win:
            self.value = self.contract_value()
            model.win(self)
        elif self.u_outcome < p_win + p_no_decision * (1.0 - p_win):
            model.close(self, Stage.NO_DECISION)
        else:
            model.close(self, Stage.LOST)

    def win_probability(self, coverage: float, intent: float) -> float:
        """The chance to win: fit x hours served x pitch-to-need match x engagement."""
        b = self.model.behaviour
        fitted = match(self.pitch, self.need, b.pitch_tolerance)
        engaged = 1.0 - b.win_intent_weight + b.win_intent_weight * intent
        return min(1.0, b.win_base * self.fit * coverage * fitted * engaged)

    def contract_value(self) -> float:
        """The value of the contract signed.

        Larger for accounts that fit the profile, and a scope cut to what the rep understood
        of the need.
        """
        b = self.model.behaviour
        fitted = match(self.pitch, self.need, b.pitch_tolerance)
        return (
            self.value
            * (1.0 + b.value_fit_gain * (self.fit - 0.5))
            * (1.0 - b.value_scope_loss * (1.0 - fitted))
        )


def window_delay(u: float, b, inbound: bool) -> int:
    """Business days from a lead's creation until its buyer enters the market.

    A share of buyers is in the market already (``in_market_share`` of inbound leads,
    ``prospect_in_market_share`` of those reps find); the others enter after an exponential
    wait with median ``buying_window_median_days`` (Cahners and Obermayer/SLMA: of eventual
    buyers about 11-15% buy within 3 months, 25-28% within 6, half within 12, nearly evenly
    month to month). One uniform decides both, so the market stream is unchanged.
    """
    return window_delays([u], b, inbound)[0]


def window_delays(us: list[float], b, inbound: bool) -> list[int]:
    """``window_delay`` of each uniform in ``us``: a day's new leads in one call."""
    share = b.in_market_share if inbound else b.prospect_in_market_share
    median = b.buying_window_median_days
    # past the share, (1 - u) / (1 - share) is uniform on (0, 1]: not in the market yet
    return [
        0 if u < share else round(-median * math.log((1.0 - u) / (1.0 - share)) / _LN2) for u in us
    ]


_LN2 = math.log(2.0)  # computed once: used for every lead created
_SEQUENCES = (list, tuple)  # what a follow-up policy may return (``list | tuple`` is a new
# object on each use: checked for every rep every day)


class Customer(mesa.Agent):
    """A won account: renews or churns at the end of each contract term.

    Churn rises for customers with a poor fit to the ideal profile, for those sold something
    other than what they needed, and for those sold something other than what marketing
    promised them (``sim.needs``; Sabnis et al. 2013 on the cost of misalignment; the 2005
    MarketingProfs benchmark: aligned firms lose about a third fewer customers). Each renewal
    books the contract's value again (recurring revenue).
    """

    def __init__(self, model: FunnelModel, lead: Lead) -> None:
        super().__init__(model)
        self.lead = lead
        self.renewals = 0
        model.schedule_after(model.org.contract_days, self.renew)

    def churn_probability(self) -> float:
        """Chance to churn at the coming renewal."""
        b = self.model.behaviour
        lead = self.lead
        read_need, kept_promise = matches(lead)
        p = b.churn_base * (0.5 + (1.0 - lead.fit))
        p *= 1.0 + b.churn_need_gap * (1.0 - read_need) + b.churn_promise_gap * (1.0 - kept_promise)
        return min(1.0, p)

    def renew(self) -> None:
        """Decide at the contract's end: renew for another term (and pay again) or churn."""
        model = self.model
        u = self.lead.u_churn if self.renewals == 0 else model.rngs["customers"].random()
        churned = u < self.churn_probability()
        model.kpis.on_renewal_decision(churned, first=self.renewals == 0)
        if churned:
            model.churn(self)
        else:
            self.renewals += 1
            model.kpis.on_renewal_revenue(self.lead.value)
            model.schedule_after(model.org.contract_days, self.renew)


class Marketer(mesa.Agent):
    """Runs campaigns, scores and nurtures leads, and hands the ready ones to sales.

    Its score is a noisy, possibly mis-weighted view of fit and intent (its ``definition``).
    Leads scoring at or above its threshold are handed over; the rest are nurtured while it
    has capacity (nurturing raises intent and deal size) and dropped otherwise. Its goal
    moves the threshold at each review (see ``ThresholdPolicy``).
    """

    def __init__(self, model: FunnelModel, definition: LeadDefinition) -> None:
        super().__init__(model)
        b = model.behaviour
        self.definition = definition
        self.threshold = b.handoff_threshold
        self.goal = Goal.mql_volume
        self.target_ignored_share = 0.2  # used under a revenue goal (shared_goals sets both)
        self.min_mql_sql_rate = 0.1
        self.capacity = model.org.nurture_capacity_per_marketer
        self.nurturing = 0
        self.pool_index = -1  # its place in the nurture pool's marketer order
        self.period_leads = 0
        self.period_mqls = 0

    def score(self, lead: Lead, day: int) -> float:
        """Marketing's score of ``lead`` today."""
        return self.definition.score(lead.fit, lead.intent_at(day), lead.z_score)

    def receive(self, lead: Lead) -> None:
        """Take a new lead: hand it over, nurture it, or drop it."""
        lead.marketer = self
        self.period_leads += 1
        day = self.model.day
        if self.score(lead, day) >= self.threshold:
            self.model.submit_for_handoff(lead)
        elif not self.enrol(lead):
            self.model.close(lead, Stage.DROPPED)

    def enrol(self, lead: Lead) -> bool:
        """Put ``lead`` in a nurture programme if there is room; say whether there was.

        Its touches then happen in the model's nurture pool (``sim.nurture``), every
        ``nurture_touch_days`` until it is ready for sales or ``nurture_max_days`` are up.
        """
        if self.nurturing >= self.capacity:
            return False
        b, day = self.model.behaviour, self.model.day
        self.nurturing += 1
        lead.marketer = self  # the marketer holding the slot releases it
        lead.nurtured = True
        self.model.nurture_pool.add(
            lead, self, first_touch=day + b.nurture_touch_days, until=day + b.nurture_max_days
        )
        return True

    def release(self, lead: Lead) -> None:
        """Free the nurture slot ``lead`` held (its intent and value are its own again)."""
        if lead.nurture_slot >= 0:
            self.model.nurture_pool.release(lead)
            self.nurturing -= 1

    def learn(self) -> None:
        """Outcome feedback: move the score towards the shared definition and cut its noise.

        One step per outcome marketing learns of, at marketing's own rate
        (``behaviour.feedback_learning``): the tactics decide which outcomes reach it.
        """
        b = self.model.behaviour
        rate = b.feedback_learning
        d = self.definition
        self.definition = LeadDefinition(
            fit_weight=d.fit_weight + rate * (b.shared_fit_weight - d.fit_weight),
            noise=max(min(b.min_score_noise, d.noise), d.noise * (1.0 - rate)),
        )

    def review(self) -> None:
        """End of a review period: move the threshold as the goal asks, reset counters."""
        policy = self.model.threshold_policy
        self.threshold = check_threshold(policy, policy.update(self))
        self.period_leads = 0
        self.period_mqls = 0


class SalesRep(mesa.Agent):
    """A rep with limited hours, split each day in a fixed order of priority.

    Admin first (reps spend well under half their time selling, CSO Insights), then the
    open opportunities and leads in qualification (selling time), then a reserve for its own
    prospecting (reps are credited for deals they source), then follow-up of handed leads up
    to its spare capacity, chosen by the follow-up policy; any hours left go to prospecting
    too. A rep discounts marketing's leads by its trust in them, and by an incentive weight
    when it is not credited for marketing-sourced deals; it leaves a lead unworked by choice
    when that discounted value is below its bar, and for lack of hours otherwise.

    Following up a marketing lead takes ``follow_up_hours`` plus, while the teams keep
    separate systems, ``rekey_hours`` to find and re-enter the lead's record in sales' own
    (one shared CRM removes that). The prospecting reserve is an incentive choice: at each
    review a rep moves it towards whichever of its two sources of deals paid it more per hour
    in the last period, prospecting or marketing's leads, each counted at the credit the rep
    gets for it (``reserve_learning_rate``).
    """

    def __init__(
        self, model: FunnelModel, index: int, view: LeadDefinition, accept: LeadDefinition
    ) -> None:
        super().__init__(model)
        b = model.behaviour
        self.index = index
        self.view = view  # pre-contact view of a handed lead
        self.accept_definition = accept  # post-contact judgement (sales' lead definition)
        self.hours = model.org.rep_hours_per_day
        self.admin_share = b.rep_admin_share
        self.reserve_share = b.prospect_reserve_share
        self.credit_weight = b.marketing_credit_discount
        self.rekey_hours = b.rekey_hours  # per marketing lead followed up (separate systems)
        self.trust = b.rep_initial_trust
        self.queue: list[Lead] = []
        # A lower bound on the queue's oldest hand-off day (exact after each expiry scan), so
        # most days need no scan.
        self.oldest_mql_day = 0
        self.qualifying: set[Lead] = set()
        self.opportunities: set[Lead] = set()
        self.coverage_integral = 0.0
        self.search_hours = 0.0  # prospecting hours since the last lead found
        self.prospect_hours = 0.0  # hours today's work left for prospecting
        self.spare_follow_ups = 1  # yesterday's spare follow-up slots, for routing
        self.period_mql_outcomes = 0
        self.period_mql_sqls = 0
        # credited pipeline value and hours of each source this period (the reserve's choice)
        self.period_mql_value = self.period_prospect_value = 0.0
        self.period_mql_hours = self.period_prospect_hours = 0.0

    def perceived(self, lead: Lead) -> float:
        """How much the rep thinks a handed lead is worth working."""
        if lead.source == MARKETING:
            return lead.rep_view * self.trust * self.credit_weight
        return lead.rep_view

    def perceived_all(self, leads: list[Lead]) -> list[float]:
        """``perceived`` of each of ``leads``, in one call.

        The follow-up policy values a rep's whole queue every day: about two valuations for
        every lead created, each a method call when made one at a time.
        """
        trust, credit = self.trust, self.credit_weight
        return [
            lead.rep_view * trust * credit if lead.source == MARKETING else lead.rep_view
            for lead in leads
        ]

    def assign(self, lead: Lead) -> None:
        """Put a handed lead in this rep's queue, with the rep's first look at it."""
        lead.rep = self
        # In a combined funnel the rep sees marketing's (shared) score itself, as it stands
        # after any learning from feedback; otherwise its own view, with its own error.
        day = self.model.day
        if self.model.rep_sees_marketing_score and lead.marketer is not None:
            view = lead.marketer.score(lead, day)
        else:
            view = self.view.score(lead.fit, lead.intent_at(day), lead.z_rep)
        lead.rep_view = max(0.0, view)
        self.queue.append(lead)
        self.oldest_mql_day = min(self.oldest_mql_day, lead.mql_day)

    def capacity_today(self) -> tuple[float, float]:
        """Return (selling hours given, follow-up hours available) for today."""
        b = self.model.behaviour
        available = self.hours * (1.0 - self.admin_share)
        need = (
            len(self.opportunities) * b.opportunity_hours_per_day
            + len(self.qualifying) * b.qualify_hours_per_day
        )
        selling = min(available, need)
        self.coverage_integral += selling / need if need > 0 else 1.0
        spare = available - selling
        follow_up = max(0.0, spare - self.reserve_share * self.hours)
        return selling, follow_up

    def work(self) -> None:
        """One business day of work."""
        model = self.model
        b = model.behaviour
        day = model.day
        selling, follow_up_hours = self.capacity_today()
        self.expire_queue(day)
        per_lead = b.follow_up_hours + self.rekey_hours
        n_slots = int(follow_up_hours / per_lead + 1e-9)
        chosen = model.follow_up_policy.choose(self, self.queue, n_slots)
        if not isinstance(chosen, _SEQUENCES) or len(chosen) > n_slots:
            raise follow_up_error(model.follow_up_policy, chosen, self.queue, n_slots)
        if chosen:
            picked = set(chosen)
            kept = [lead for lead in self.queue if lead not in picked]
            # Each chosen lead left the queue once: none twice, none from elsewhere.
            if len(self.queue) - len(kept) != len(chosen):
                raise follow_up_error(model.follow_up_policy, chosen, self.queue, n_slots)
            self.queue = kept
            for lead in chosen:
                self.follow_up(lead)
        self.spare_follow_ups = n_slots - len(chosen)
        used = len(chosen) * per_lead
        prospecting = self.hours * (1.0 - self.admin_share) - selling - used
        self.period_mql_hours += used
        self.period_prospect_hours += prospecting
        model.kpis.on_rep_day(self.hours, self.hours * self.admin_share, selling, used, prospecting)
        self.prospect_hours = prospecting  # spent once every rep has worked (model.prospect)

    def expire_queue(self, day: int) -> None:
        """Leads waiting longer than the expiry count as ignored (never worked)."""
        expiry = self.model.behaviour.mql_expiry_days
        if not self.queue or day - self.oldest_mql_day < expiry:
            return
        keep = []
        bar = self.model.behaviour.follow_up_bar
        oldest = day
        for lead in self.queue:
            if day - lead.mql_day >= expiry:
                self.model.ignore(lead, by_choice=self.perceived(lead) < bar)
            else:
                keep.append(lead)
                if lead.mql_day < oldest:
                    oldest = lead.mql_day
        self.queue = keep
        self.oldest_mql_day = oldest

    def follow_up(self, lead: Lead) -> None:
        """First contact with a handed lead: reach it, judge it, accept or reject it.

        The chance to reach and engage a lead decays steeply with the wait since it raised
        its hand (Oldroyd et al., HBR 2011: an hour matters, a day costs most of it).
        """
        model = self.model
        b = model.behaviour
        day = model.day
        delay = day - lead.ready_day
        p_reach = b.contact_rate * (
            b.decay_floor + (1.0 - b.decay_floor) * math.exp(-b.decay_rate_per_day * delay)
        )
        model.kpis.on_follow_up(lead, delay)
        lead.followed_day = day
        if lead.u_contact < p_reach and self.accepts(lead):
            model.accept(lead)
        else:
            if lead.source == MARKETING:
                self.period_mql_outcomes += 1
            model.reject(lead, Stage.REJECTED)

    def accepts(self, lead: Lead) -> bool:
        """The rep's judgement after contact, by sales' lead definition."""
        d = self.accept_definition
        judged = (
            d.fit_weight * lead.fit
            + (1.0 - d.fit_weight) * lead.intent_at(self.model.day)
            + self.model.behaviour.accept_noise * lead.z_rep
        )
        return judged >= self.model.behaviour.accept_bar

    def prospect(self, found: list[Lead]) -> None:
        """Spend today's prospecting hours, which turned up ``found``; judge each at once.

        The hours searched are shared by the leads found, and carried over to the next find
        on a day that finds none.
        """
        hours, self.prospect_hours = self.prospect_hours, 0.0
        if hours <= 0:
            return
        self.search_hours += hours
        if not found:
            return
        model = self.model
        for lead in found:
            lead.search_hours = self.search_hours / len(found)
            lead.rep = self
            lead.followed_day = model.day
            if self.accepts(lead):
                model.accept(lead)
            else:
                model.kpis.on_prospect_resolved(lead, productive=False)
                model.close(lead, Stage.REJECTED)
        self.search_hours = 0.0

    def review(self) -> None:
        """End of a review period: update trust, and move the prospecting reserve.

        Trust in marketing's leads follows what they became; the reserve moves towards the
        source of deals that paid the rep more per hour in the period.
        """
        b = self.model.behaviour
        if self.period_mql_outcomes > 0:
            observed = self.period_mql_sqls / self.period_mql_outcomes
            signal = min(1.0, observed / b.trusted_mql_sql_rate)
            self.trust += b.trust_learning_rate * (signal - self.trust)
        if b.reserve_learning_rate > 0 and self.period_mql_hours > 0 < self.period_prospect_hours:
            own = self.period_prospect_value / self.period_prospect_hours
            theirs = self.credit_weight * self.period_mql_value / self.period_mql_hours
            if own + theirs > 0:
                lean = (own - theirs) / (own + theirs)  # in [-1, 1]
                self.reserve_share = min(
                    b.reserve_share_max,
                    max(0.0, self.reserve_share + b.reserve_learning_rate * lean),
                )
        self.period_mql_outcomes = 0
        self.period_mql_sqls = 0
        self.period_mql_value = self.period_prospect_value = 0.0
        self.period_mql_hours = self.period_prospect_hours = 0.0
