"""KPI definitions: counters updated at the transitions that really happen, and the summary.

Flows are counted as events inside the measurement window (days after the warm-up), the way
a revenue team reports a period: MQLs handed over, first follow-ups, opportunities opened,
deals closed, renewals decided. Rates are ratios of such counts. Nothing here loops over
leads; every counter is O(1) at the moment its event happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.funnel import Stage
from sim.kpis import TACTIC_COUNTERS

if TYPE_CHECKING:
    from sim.agents import Lead
    from sim.model import FunnelModel

#: Follow-up delay buckets (business days since the lead raised its hand): 0, 1, 2-4, 5+.
DELAY_EDGES = (0, 1, 2, 5)


#: The day's flows, counted for the time series (the DataCollector records each).
DAILY_FLOWS = (
    "new_leads",
    "new_mqls",
    "follow_ups",
    "new_sqls",
    "new_wins",
    "revenue",
    "recurring_revenue",
)


def delay_bucket(delay: int) -> int:
    """Index of the delay bucket for a wait of ``delay`` business days."""
    if delay <= 0:
        return 0
    if delay == 1:
        return 1
    return 2 if delay < 5 else 3


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


class Kpis:
    """Counters of one run; ``summary()`` turns them into the reported KPIs."""

    def __init__(self, model: FunnelModel) -> None:
        self.model = model
        self.measuring = False
        self.measured_days = 0
        self.c: dict[str, float] = dict.fromkeys(
            (
                "leads_created",
                "inbound_leads",
                "prospected_leads",
                "mqls",
                "mql_follow_ups",
                "mqls_ignored",
                "mqls_ignored_by_choice",
                "mqls_accepted",
                "mql_sqls",
                "opportunities",
                "deals_won",
                "deals_lost",
                "deals_no_decision",
                "revenue",
                "recurring_revenue",
                "renewals",
                "churns",
                "later_renewals",
                "later_churns",
                "rep_hours",
                "rep_admin_hours",
                "rep_selling_hours",
                "rep_follow_up_hours",
                "rep_prospecting_hours",
                "prospecting_wasted_hours",
                "leads_recycled",
                "leads_dropped",
                "leads_bought_elsewhere",
                "mql_rehandoffs",
            ),
            0.0,
        )
        # Counters the tactics declare: every built-in one (0 when its tactic is off, so
        # every summary has the same KPIs), and those an outside tactic registers.
        self.registered: list[str] = []
        self.register(TACTIC_COUNTERS)
        self.followed_by_delay = np.zeros(len(DELAY_EDGES), dtype=np.int64)
        self.sql_by_delay = np.zeros(len(DELAY_EDGES), dtype=np.int64)
        self.lead_to_win_days: list[int] = []
        self.opportunity_days: list[int] = []
        self.period_followups = 0
        self.period_ignored = 0
        self.revenue_total = 0.0  # all won deals of the run, warm-up included
        self.reset_day()

    # --- daily and period bookkeeping ------------------------------------------------------
    def reset_day(self) -> None:
        """Start a new day's flow counters (for the time series)."""
        self.today = dict.fromkeys(
            (*DAILY_FLOWS, "rep_available_hours", "rep_busy_hours"),
            0.0,
        )

    def reset_period(self) -> None:
        """Start a new review period."""
        self.period_followups = 0
        self.period_ignored = 0

    def register(self, counters: Iterable[str]) -> None:
        """Add a tactic's counters (``Tactic.counters``): window counts in the summary."""
        for name in counters:
            if name not in self.registered:
                self.registered.append(name)
                self.c.setdefault(name, 0.0)

    def add(self, key: str, amount: float = 1.0) -> None:
        """Add to a window counter if the window is open."""
        if self.measuring:
            self.c[key] += amount

    # --- events ---------------------------------------------------------------------------
    def on_created(self, lead: Lead, inbound: bool) -> None:
        """A lead was created."""
        self.today["new_leads"] += 1
        if self.measuring:
            self.c["leads_created"] += 1
            self.c["inbound_leads" if inbound else "prospected_leads"] += 1

    def on_handoff(self, first: bool) -> None:
        """Marketing handed a lead to sales: a new MQL, or a recycled lead handed again."""
        self.today["new_mqls"] += 1
        self.add("mqls" if first else "mql_rehandoffs")

    def on_follow_up(self, lead: Lead, delay: int) -> None:
        """A rep followed up a handed lead for the first time."""
        self.today["follow_ups"] += 1
        self.period_followups += 1
        if self.measuring:
            self.c["mql_follow_ups"] += 1
            lead.delay_bucket = delay_bucket(delay)
            self.followed_by_delay[lead.delay_bucket] += 1

    def on_ignored(self, by_choice: bool = False) -> None:
        """A handed lead expired unworked (``by_choice``: valued below the rep's bar)."""
        self.period_ignored += 1
        self.add("mqls_ignored")
        if by_choice:
            self.add("mqls_ignored_by_choice")

    def on_accepted(self, lead: Lead) -> None:
        """A rep accepted a lead (SAL)."""
        if lead.source == "marketing":
            self.add("mqls_accepted")

    def on_sql(self, lead: Lead) -> None:
        """A lead became an opportunity (SQL)."""
        self.today["new_sqls"] += 1
        if self.measuring:
            self.c["opportunities"] += 1
            if lead.source == "marketing":
                self.c["mql_sqls"] += 1
                if lead.delay_bucket >= 0:
                    self.sql_by_delay[lead.delay_bucket] += 1
        if lead.source == "rep":
            self.on_prospect_resolved(lead, productive=True)

    def on_disqualified(self, lead: Lead) -> None:
        """A lead in qualification did not become an opportunity."""
        if lead.source == "rep":
            self.on_prospect_resolved(lead, productive=False)

    def on_prospect_resolved(self, lead: Lead, productive: bool) -> None:
        """A rep-prospected lead became an opportunity, or ended without one."""
        if not productive:
            self.add("prospecting_wasted_hours", lead.search_hours)

    def on_closed_deal(self, lead: Lead, stage: Stage) -> None:
        """An opportunity closed as won, lost or no decision."""
        day = self.model.day
        if stage is Stage.CUSTOMER:
            self.today["new_wins"] += 1
            self.today["revenue"] += lead.value
            self.revenue_total += lead.value
        if not self.measuring:
            return
        match stage:
            case Stage.CUSTOMER:
                self.c["deals_won"] += 1
                self.c["revenue"] += lead.value
                self.lead_to_win_days.append(day - lead.created_day)
                self.opportunity_days.append(day - lead.sql_day)
            case Stage.LOST:
                self.c["deals_lost"] += 1
            case Stage.NO_DECISION:
                self.c["deals_no_decision"] += 1
            case _:
                raise ValueError(f"not a deal outcome: {stage!r}")

    def on_renewal_decision(self, churned: bool, first: bool) -> None:
        """A customer reached the end of a term and renewed or churned.

        Only first renewals count towards ``retention_12m`` (12 months after the win, with
        the default one-year contract); later terms are counted apart.
        """
        if first:
            self.add("churns" if churned else "renewals")
        else:
            self.add("later_churns" if churned else "later_renewals")

    def on_renewal_revenue(self, value: float) -> None:
        """A customer renewed: its contract's value is booked again."""
        self.today["recurring_revenue"] += value
        self.add("recurring_revenue", value)

    def on_rep_day(
        self, hours: float, admin: float, selling: float, follow_up: float, prospecting: float
    ) -> None:
        """Record one rep's day of hours."""
        self.today["rep_available_hours"] += hours - admin
        self.today["rep_busy_hours"] += selling + follow_up
        if self.measuring:
            c = self.c
            c["rep_hours"] += hours
            c["rep_admin_hours"] += admin
            c["rep_selling_hours"] += selling
            c["rep_follow_up_hours"] += follow_up
            c["rep_prospecting_hours"] += prospecting

    # --- the summary ----------------------------------------------------------------------
    def headline(self) -> dict[str, float]:
        """The headline KPIs and the MQL follow-up rate over the days measured so far.

        ``summary()`` reports them at the end; the DataCollector records them every day, so
        ``mesa.batch_run`` rows and live views show them (on the last day they equal the
        summary's).
        """
        c = self.c
        years = max(self.measured_days, 1) / self.model.business_days_per_year
        closed = c["deals_won"] + c["deals_lost"] + c["deals_no_decision"]
        return {
            "revenue_per_year": float(c["revenue"] + c["recurring_revenue"]) / years,
            "win_rate": _ratio(c["deals_won"], closed),
            "retention_12m": _ratio(c["renewals"], c["renewals"] + c["churns"]),
            "mql_to_sql_rate": _ratio(c["mql_sqls"], c["mqls"]),
            "mql_follow_up_rate": _ratio(
                c["mql_follow_ups"], c["mql_follow_ups"] + c["mqls_ignored"]
            ),
        }

    def summary(self) -> dict[str, Any]:
        """The run's scalar KPIs, measured over the window after warm-up."""
        c = self.c
        m = self.model
        # the days actually measured, so a run stopped early or continued is per-year right
        years = max(self.measured_days, 1) / m.business_days_per_year
        closed = c["deals_won"] + c["deals_lost"] + c["deals_no_decision"]
        resolved_mqls = c["mql_follow_ups"] + c["mqls_ignored"]
        same_day = _ratio(self.sql_by_delay[0], self.followed_by_delay[0])
        late = _ratio(self.sql_by_delay[3], self.followed_by_delay[3])
        decisions = c["renewals"] + c["churns"]
        out: dict[str, Any] = {
            "leads_created": int(c["leads_created"]),
            "inbound_leads": int(c["inbound_leads"]),
            "prospected_leads": int(c["prospected_leads"]),
            "mqls": int(c["mqls"]),
            "mql_follow_ups": int(c["mql_follow_ups"]),
            "mql_follow_up_rate": _ratio(c["mql_follow_ups"], resolved_mqls),
            "mql_never_worked_share": _ratio(c["mqls_ignored"], resolved_mqls),
            "mql_acceptance_rate": _ratio(c["mqls_accepted"], c["mqls"]),
            "opportunities": int(c["opportunities"]),
            "opportunities_per_month": c["opportunities"] / (years * 12),
            "deals_won": int(c["deals_won"]),
            "deals_lost": int(c["deals_lost"]),
            "deals_no_decision": int(c["deals_no_decision"]),
            "no_decision_share": _ratio(c["deals_no_decision"], closed),
            "revenue": float(c["revenue"]),
            "recurring_revenue": float(c["recurring_revenue"]),
            "bookings_per_year": float(c["revenue"]) / years,
            "recurring_revenue_per_year": float(c["recurring_revenue"]) / years,
            "unworked_by_choice_share": _ratio(c["mqls_ignored_by_choice"], c["mqls_ignored"]),
            "lead_to_customer_rate": _ratio(c["deals_won"], c["leads_created"]),
            "sales_cycle_days_median": (
                float(np.median(self.lead_to_win_days)) if self.lead_to_win_days else float("nan")
            ),
            "opportunity_cycle_days_median": (
                float(np.median(self.opportunity_days)) if self.opportunity_days else float("nan")
            ),
            "speed_to_lead_ratio": _ratio(same_day, late),
            "renewal_decisions": int(decisions),
            "later_renewal_decisions": int(c["later_renewals"] + c["later_churns"]),
            "rep_selling_share": _ratio(c["rep_selling_hours"], c["rep_hours"]),
            "rep_follow_up_share": _ratio(c["rep_follow_up_hours"], c["rep_hours"]),
            "rep_prospecting_share": _ratio(c["rep_prospecting_hours"], c["rep_hours"]),
            "rep_prospecting_waste_share": _ratio(c["prospecting_wasted_hours"], c["rep_hours"]),
            "leads_recycled": int(c["leads_recycled"]),
            "mql_rehandoffs": int(c["mql_rehandoffs"]),
            "leads_dropped": int(c["leads_dropped"]),
            "leads_bought_elsewhere": int(c["leads_bought_elsewhere"]),
            **self.headline(),
            **{name: int(c[name]) for name in self.registered},
        }
        return out
