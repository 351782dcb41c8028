"""The KPI registry: every number a run reports, declared once.

Each entry says what the KPI is (definition and unit), which way is better, how people read it
(label and number format) and what values it can take (kind and range). Aggregation checks
every run it reads against this registry (``check_summary``), so a damaged or hand-edited
``summary.json`` is skipped and listed rather than averaged in.

Kinds:
    ``count``: a whole number of events, >= 0;
    ``rate``: a share in [0, 1], ``null`` when it has no events to be a share of;
    ``ratio``: a ratio >= 0 that may exceed 1, ``null`` without events;
    ``money``: an amount >= 0 in the deal-value currency;
    ``days``: a duration >= 0 in business days, ``null`` without events;
    ``per_month``: a count per month, >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

HIGHER, LOWER, NEUTRAL = 1, -1, 0  # the direction in which a KPI is better


@dataclass(frozen=True)
class Kpi:
    """One reported KPI (see the module docstring for the kinds)."""

    name: str
    kind: str
    definition: str
    direction: int = NEUTRAL
    label: str = ""
    unit: str = ""
    fmt: str = "{:,.0f}"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` cannot be this KPI's value, or None if it can."""
        if value is None:
            return None if self.kind in _NULLABLE else "missing a value (null)"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"not a number ({value!r})"
        if not math.isfinite(value):
            return f"not finite ({value!r})"
        if self.kind == "count" and float(value) != int(value):
            return f"not a whole number ({value!r})"
        if value < 0:
            return f"negative ({value!r})"
        if self.kind == "rate" and value > 1:
            return f"a share above 1 ({value!r})"
        return None


_NULLABLE = {"rate", "ratio", "days"}
_PCT = "{:.1%}"

KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("leads_created", "count", "leads created in the window", HIGHER, "leads", "leads"),
        Kpi("inbound_leads", "count", "marketing-generated leads (the market)", NEUTRAL),
        Kpi("prospected_leads", "count", "leads reps prospected themselves", NEUTRAL),
        Kpi("mqls", "count", "leads handed from marketing to sales (first hand-offs)", NEUTRAL),
        Kpi("mql_follow_ups", "count", "MQLs a rep followed up", HIGHER),
        Kpi(
            "mql_follow_up_rate",
            "rate",
            "of the MQLs resolved in the window, the share a rep followed up",
            HIGHER,
            "MQL follow-up rate",
            fmt=_PCT,
        ),
        Kpi(
            "mql_never_worked_share",
            "rate",
            "of the MQLs resolved in the window, the share that expired unworked",
            LOWER,
            fmt=_PCT,
        ),
        Kpi("mql_acceptance_rate", "rate", "MQLs accepted by sales (SAL) / MQLs", HIGHER, fmt=_PCT),
        Kpi(
            "mql_to_sql_rate",
            "rate",
            "marketing-sourced opportunities / MQLs",
            HIGHER,
            "MQL-to-SQL rate",
            fmt=_PCT,
        ),
        Kpi("opportunities", "count", "opportunities (SQLs) opened, any source", HIGHER),
        Kpi("opportunities_per_month", "per_month", "opportunities opened per month", HIGHER),
        Kpi("deals_won", "count", "deals won", HIGHER, "deals won"),
        Kpi("deals_lost", "count", "deals lost to a competitor", LOWER),
        Kpi("deals_no_decision", "count", "deals that ended in no decision", LOWER),
        Kpi("win_rate", "rate", "deals won / deals closed", HIGHER, "win rate", fmt=_PCT),
        Kpi("no_decision_share", "rate", "no-decision deals / deals closed", LOWER, fmt=_PCT),
        Kpi("revenue", "money", "first-year contract value of the deals won in the window"),
        Kpi(
            "revenue_per_year",
            "money",
            "first-year contract value of the deals won, per year of the window",
            HIGHER,
            "revenue per year",
            "currency/year",
        ),
        Kpi("lead_to_customer_rate", "rate", "deals won / leads created", HIGHER, fmt=_PCT),
        Kpi(
            "sales_cycle_days_median",
            "days",
            "median business days from lead creation to a won deal",
            LOWER,
            "sales cycle",
            "business days",
        ),
        Kpi(
            "opportunity_cycle_days_median",
            "days",
            "median business days from opportunity to a won deal",
            LOWER,
            unit="business days",
        ),
        Kpi(
            "speed_to_lead_ratio",
            "ratio",
            "SQL rate of MQLs followed up the same day / of those followed up 5+ days later",
            NEUTRAL,
            fmt="{:.2f}",
        ),
        Kpi(
            "retention_12m",
            "rate",
            "share of customers who renewed at their first renewal",
            HIGHER,
            "12-month retention",
            fmt=_PCT,
        ),
        Kpi("renewal_decisions", "count", "first renewals decided in the window"),
        Kpi("later_renewal_decisions", "count", "renewals of later terms (left out)"),
        Kpi("rep_selling_share", "rate", "share of rep hours on opportunities", HIGHER, fmt=_PCT),
        Kpi("rep_follow_up_share", "rate", "share of rep hours on first follow-ups", fmt=_PCT),
        Kpi("rep_prospecting_share", "rate", "share of rep hours prospecting", fmt=_PCT),
        Kpi(
            "rep_prospecting_waste_share",
            "rate",
            "share of rep hours prospecting leads that never became opportunities",
            LOWER,
            fmt=_PCT,
        ),
        Kpi("leads_recycled", "count", "turned-down leads recycled to nurture"),
        Kpi("mql_rehandoffs", "count", "recycled leads handed to sales again"),
        Kpi("sla_escalations", "count", "leads escalated past the follow-up SLA"),
        Kpi("validation_blocked", "count", "leads the validation gate blocked"),
        Kpi("validation_skipped", "count", "leads handed over unchecked (no validator time)"),
        Kpi("leads_dropped", "count", "leads dropped from nurture"),
    )
}

#: The identity fields of a summary, with their types.
IDENTITY: dict[str, type | tuple[type, ...]] = {
    "scenario": str,
    "org": str,
    "seed": int,
    "days": int,
    "warmup_days": int,
    "version": str,
}


def check_summary(data: Any) -> str | None:
    """Why ``data`` (a parsed ``summary.json``) is not a valid run summary, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for key, typ in IDENTITY.items():
        if key not in data:
            return f"{key} is missing"
        if isinstance(data[key], bool) or not isinstance(data[key], typ):
            return f"{key} = {data[key]!r} is not a {typ.__name__}"
    for kpi in KPIS.values():
        if kpi.name not in data:
            return f"{kpi.name} is missing"
        problem = kpi.problem(data[kpi.name])
        if problem:
            return f"{kpi.name} is {problem}"
    return None
