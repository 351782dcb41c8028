"""The KPI registry: every number a run reports, declared once.

Each entry says what the KPI is (definition and unit), which way is better, how people read it
(label and number format) and what values it can take (kind and range). Aggregation checks
every run it reads against this registry (``check_summary``), so a damaged or hand-edited
``summary.json`` is skipped and listed rather than averaged in.

Roles say where a KPI is shown: ``effect`` (a row of the comparison's effects table),
``ranked`` (a column of the ranked table, in registry order), ``figure`` (an effect chart) and
``cli`` (the table ``python -m sim -m`` prints).

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
    label: str = ""  # for people: axis labels, the report (default: the name with spaces)
    unit: str = ""
    fmt: str = "{:,.0f}"
    roles: frozenset[str] = frozenset()
    short: str = ""  # the ranked table's column header (default: the label)
    caption: str = ""  # the caption of its effect figure in the report

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))
        if not self.short:
            object.__setattr__(self, "short", self.label)

    def format(self, value: Any) -> str:
        """``value`` in this KPI's number format (``n/a`` for a missing value)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        return self.fmt.format(value)

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
        Kpi(
            "leads_created",
            "count",
            "leads created in the window",
            HIGHER,
            "leads",
            "leads",
            roles=frozenset({"cli"}),
        ),
        Kpi("inbound_leads", "count", "marketing-generated leads (the market)", NEUTRAL),
        Kpi("prospected_leads", "count", "leads reps prospected themselves", NEUTRAL),
        Kpi(
            "mqls",
            "count",
            "leads handed from marketing to sales (first hand-offs)",
            NEUTRAL,
            roles=frozenset({"cli"}),
        ),
        Kpi("mql_follow_ups", "count", "MQLs a rep followed up", HIGHER),
        Kpi(
            "mql_follow_up_rate",
            "rate",
            "of the MQLs resolved in the window, the share a rep followed up",
            HIGHER,
            "MQL follow-up rate",
            fmt=_PCT,
            roles=frozenset({"effect", "cli"}),
        ),
        Kpi(
            "mql_never_worked_share",
            "rate",
            "of the MQLs resolved in the window, the share that expired unworked",
            LOWER,
            fmt=_PCT,
        ),
        Kpi(
            "unworked_by_choice_share",
            "rate",
            "of the MQLs that expired unworked, the share the rep valued below its bar "
            "(skipped by choice, not for lack of hours)",
            NEUTRAL,
            fmt=_PCT,
        ),
        Kpi(
            "mql_acceptance_rate",
            "rate",
            "MQLs accepted by sales (SAL) / MQLs, both counted in the window (a ratio of flows, "
            "as mql_to_sql_rate)",
            HIGHER,
            fmt=_PCT,
        ),
        Kpi(
            "mql_to_sql_rate",
            "rate",
            "marketing-sourced opportunities / MQLs, both counted in the window (a ratio of "
            "flows: at a handful of leads it can exceed 1, when opportunities of MQLs handed "
            "over in the warm-up open in the window)",
            HIGHER,
            "MQL-to-SQL rate",
            fmt=_PCT,
            roles=frozenset({"effect", "cli"}),
            short="MQL->SQL",
        ),
        Kpi(
            "opportunities",
            "count",
            "opportunities (SQLs) opened, any source",
            HIGHER,
            roles=frozenset({"cli"}),
        ),
        Kpi(
            "opportunities_per_month",
            "per_month",
            "opportunities opened per month",
            HIGHER,
            roles=frozenset({"effect"}),
        ),
        Kpi(
            "deals_won",
            "count",
            "deals won",
            HIGHER,
            "deals won",
            roles=frozenset({"effect", "cli"}),
        ),
        Kpi("deals_lost", "count", "deals lost to a competitor", LOWER),
        Kpi("deals_no_decision", "count", "deals that ended in no decision", LOWER),
        Kpi(
            "win_rate",
            "rate",
            "deals won / deals closed",
            HIGHER,
            "win rate",
            fmt=_PCT,
            roles=frozenset({"effect", "figure", "cli"}),
            caption="Change in opportunity win rate.",
        ),
        Kpi(
            "no_decision_share",
            "rate",
            "no-decision deals / deals closed",
            LOWER,
            fmt=_PCT,
            roles=frozenset({"effect"}),
        ),
        Kpi("revenue", "money", "first-year contract value of the deals won in the window"),
        Kpi("recurring_revenue", "money", "contract value of the renewals in the window"),
        Kpi(
            "bookings_per_year",
            "money",
            "first-year contract value of the deals won, per year of the window",
            HIGHER,
            "bookings per year",
            "currency/year",
            roles=frozenset({"effect"}),
        ),
        Kpi(
            "recurring_revenue_per_year",
            "money",
            "contract value of the renewals (customers staying on), per year of the window",
            HIGHER,
            "recurring revenue per year",
            "currency/year",
            roles=frozenset({"effect"}),
        ),
        Kpi(
            "revenue_per_year",
            "money",
            "bookings_per_year + recurring_revenue_per_year: new deals and renewals",
            HIGHER,
            "revenue per year",
            "currency/year",
            roles=frozenset({"effect", "figure", "cli"}),
            short="revenue/yr",
            caption="Revenue uplift of each scenario against the baseline.",
        ),
        Kpi("lead_to_customer_rate", "rate", "deals won / leads created", HIGHER, fmt=_PCT),
        Kpi(
            "sales_cycle_days_median",
            "days",
            "median business days from lead creation to a won deal",
            LOWER,
            "sales cycle",
            "business days",
            roles=frozenset({"effect", "cli"}),
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
            roles=frozenset({"effect", "figure", "cli"}),
            short="retention",
            caption="Change in 12-month customer retention.",
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
            roles=frozenset({"effect"}),
        ),
        Kpi("leads_recycled", "count", "turned-down leads recycled to nurture"),
        Kpi("mql_rehandoffs", "count", "recycled leads handed to sales again"),
        Kpi("leads_dropped", "count", "leads dropped from nurture"),
        Kpi(
            "leads_bought_elsewhere",
            "count",
            "nurtured leads whose buying window closed before marketing handed them over "
            "(they bought from someone else; counted among leads_dropped too)",
        ),
    )
}


def _tactic_counters() -> dict[str, Kpi]:
    """The counters each built-in tactic declares (``Tactic.counters``), as count KPIs."""
    from sim.tactics import REGISTRY, tactic_names

    return {
        counter: Kpi(counter, "count", f"{meaning} (tactic {name})")
        for name in tactic_names()
        for counter, meaning in REGISTRY[name].counters.items()
    }


#: The tactics' counters: in every run's summary, 0 when their tactic is off.
KPIS.update(_tactic_counters_found := _tactic_counters())
TACTIC_COUNTERS: tuple[str, ...] = tuple(_tactic_counters_found)

#: The headline KPIs, in the order of the ranked table's columns.
HEADLINE = ("revenue_per_year", "win_rate", "retention_12m", "mql_to_sql_rate")

#: The KPIs the model's DataCollector records every day, measured so far (``timeseries.csv``,
#: ``mesa.batch_run`` rows, the live view): the headline ones and the MQL follow-up rate.
TO_DATE = (*HEADLINE, "mql_follow_up_rate")


def with_role(role: str, headline_first: bool = True) -> list[str]:
    """The KPIs that have ``role``: the headline ones first (if asked), then registry order."""
    names = [n for n in HEADLINE if role in KPIS[n].roles] if headline_first else []
    return names + [n for n, k in KPIS.items() if role in k.roles and n not in names]


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
            return f"{key} = {data[key]!r} is not of type {typ.__name__}"
    for kpi in KPIS.values():
        if kpi.name not in data:
            return f"{kpi.name} is missing"
        problem = kpi.problem(data[kpi.name])
        if problem:
            return f"{kpi.name} is {problem}"
    return None


_KIND_UNITS = {
    "count": "count",
    "rate": "share (0-1)",
    "ratio": "ratio",
    "money": "currency",
    "days": "business days",
    "per_month": "per month",
}


# --- the other output files' columns (the data dictionary, docs/outputs.md) ----------------

#: timeseries.csv: one row per business day (flows are the day's; stocks at the day's end).
SERIES_COLUMNS: dict[str, tuple[str, str]] = {
    "day": ("business day", "the day (1 = the first simulated day)"),
    **{
        f"n_{stage}": ("leads", f"leads in stage {stage} at the end of the day")
        for stage in (
            "lead",
            "mql",
            "sal",
            "sql",
            "customer",
            "churned",
            "lost",
            "no_decision",
            "ignored",
            "rejected",
            "disqualified",
            "dropped",
        )
    },
    "new_leads": ("leads/day", "leads created that day"),
    "new_mqls": ("leads/day", "leads handed to sales that day"),
    "follow_ups": ("leads/day", "first follow-ups of handed leads that day"),
    "new_sqls": ("leads/day", "opportunities opened that day"),
    "new_wins": ("deals/day", "deals won that day"),
    "revenue": ("currency/day", "first-year contract value of the deals won that day"),
    "recurring_revenue": ("currency/day", "contract value of the renewals that day"),
    "leads_created_total": ("leads", "leads created since the start of the run"),
    "rep_utilisation": ("share", "share of reps' non-admin hours on leads and deals"),
    "handoff_threshold": ("score", "marketers' mean hand-off threshold"),
    "rep_trust": ("share", "reps' mean trust in marketing's leads"),
    "marketing_score_noise": ("score sd", "marketers' mean scoring noise"),
    **{
        name: (
            KPIS[name].unit or _KIND_UNITS[KPIS[name].kind],
            f"{KPIS[name].label} over the measured days so far (the last day's value is the "
            "summary's)",
        )
        for name in TO_DATE
    },
}

#: journeys.parquet: one row per lead (days are business days; -1 means never).
JOURNEY_COLUMNS: dict[str, tuple[str, str]] = {
    "lead_id": ("id", "the lead's Mesa agent id (unique within a run)"),
    "source": ("category", "marketing (inbound) or rep (prospected)"),
    "fit": ("share", "latent fit with the ideal customer profile"),
    "intent": ("share", "latent intent when the lead left the funnel or the run ended"),
    "value": ("currency", "first-year contract value (of a won deal: as sold; else potential)"),
    "nurtured": ("bool", "whether marketing nurtured the lead"),
    "recycled": ("times", "how often the lead was recycled to nurture"),
    "handoffs": ("times", "how often the lead was handed to sales"),
    "created_day": ("business day", "day the lead was created"),
    "mql_day": ("business day", "day it was first handed to sales (-1: never)"),
    "followed_day": ("business day", "day a rep first followed it up (-1: never)"),
    "sal_day": ("business day", "day sales accepted it (-1: never)"),
    "sql_day": ("business day", "day it became an opportunity (-1: never)"),
    "closed_day": ("business day", "day its deal closed (-1: never)"),
    "churn_day": ("business day", "day the customer churned (-1: never)"),
    "outcome": ("category", "the lead's final stage"),
    "rep": ("id", "the rep who worked it (-1: none)"),
    "history_seen": ("bool", "whether the rep saw marketing's engagement history of the lead"),
    "pitch_match": ("share", "how well the rep's pitch matched the buyer's need (nan: no deal)"),
    "promise_match": ("share", "how well the pitch matched marketing's promise (nan: no deal)"),
    "window_day": ("business day", "day the buyer entered the market (its buying window opened)"),
}

#: runs.parquet / runs.csv: one row per run of a study (the tidy table, ``sim.tidy``): the
#: summary's columns and these.
RUN_COLUMNS: dict[str, tuple[str, str]] = {
    "run_id": ("id", "the run's id within the study (for run folders: the folder's name)"),
    "draw": ("index", "the parameter draw the run used (0 when the study has no draws)"),
    "funnel": ("category", "separate or combined"),
    "tactics": ("category", "the tactics switched on, sorted and joined by '+' ('none': none)"),
    "org.<parameter>": ("as declared", "each organisation parameter (see the input columns)"),
    "behaviour.<parameter>": ("as declared", "each behaviour parameter (see the input columns)"),
    "tactic.<tactic>.<parameter>": (
        "as declared",
        "each parameter of each tactic (see the input columns); missing when the tactic is off",
    ),
    "policies.<kind>": ("class", "the decision rule used (its _target_ class)"),
    "policies.<kind>.<argument>": ("as given", "the decision rule's keyword arguments, if any"),
    "settings_hash": ("hash", "everything but scenario and seed: runs to compare share it"),
    "config_hash": ("hash", "the run's whole config and the code: what resuming checks"),
    "run_dir": ("path", "the run's folder, relative to the study (tables read from folders)"),
}

#: Patterns of RUN_COLUMNS that stand for many columns (``org.<parameter>``, ...).
RUN_COLUMN_PREFIXES = tuple(k.split("<", 1)[0] for k in RUN_COLUMNS if "<" in k)

#: effects.csv: one row per scenario x KPI (the registry's ``effect`` role).
EFFECT_COLUMNS: dict[str, tuple[str, str]] = {
    "scenario": ("name", "the scenario compared with the baseline"),
    "kpi": ("name", "the KPI (see summary.json)"),
    "n": ("pairs", "runs paired by seed with a baseline run"),
    "baseline_mean": ("KPI unit", "the baseline's mean over the pairs"),
    "scenario_mean": ("KPI unit", "the scenario's mean over the pairs"),
    "effect": ("KPI unit", "mean paired difference, scenario - baseline"),
    "effect_ci_low": ("KPI unit", "lower end of its 95% paired t interval"),
    "effect_ci_high": ("KPI unit", "upper end of its 95% paired t interval"),
    "relative_effect": ("share", "scenario mean / baseline mean - 1"),
    "relative_ci_low": ("share", "lower end of its 95% delta-method interval"),
    "relative_ci_high": ("share", "upper end of its 95% delta-method interval"),
    "excludes_zero": ("bool", "the absolute interval excludes 0 (paired t-test at 95%)"),
    "interval": ("text", "how the intervals were computed"),
}

_DIRECTIONS = {HIGHER: "higher", LOWER: "lower", NEUTRAL: ""}


def data_dictionary() -> str:
    """``docs/outputs.md``: every output column's unit and meaning, from the declarations."""

    def table(head: str, rows: list[tuple[str, ...]]) -> list[str]:
        cols = head.split("|")
        lines = [f"| {' | '.join(cols)} |", "|" + "---|" * len(cols)]
        return lines + [f"| {' | '.join(r)} |" for r in rows]

    out = [
        "# Output data dictionary",
        "",
        "Generated from `sim/kpis.py` by `python -m sim.kpis` (a test keeps it current).",
        "",
        "## summary.json",
        "",
        "A run's identity (`scenario`, `org`, `seed`, `days`, `warmup_days`, `version`) and its "
        "KPIs, measured over the days after the warm-up. `null`: a share or median with no "
        "events to be taken over.",
        "",
    ]
    out += table(
        "KPI|unit|better|meaning",
        [
            (f"`{k.name}`", k.unit or _KIND_UNITS[k.kind], _DIRECTIONS[k.direction], k.definition)
            for k in KPIS.values()
        ],
    )
    for title, intro, columns in (
        ("timeseries.csv", "One row per business day.", SERIES_COLUMNS),
        ("journeys.parquet", "One row per lead (with `record_journeys=true`).", JOURNEY_COLUMNS),
        (
            "runs.parquet and runs.csv",
            "The tidy table of a study: one row per run, with the summary's columns "
            "(identity and KPIs) and these:",
            RUN_COLUMNS,
        ),
        ("effects.csv", "One row per scenario and KPI of a comparison.", EFFECT_COLUMNS),
        *_portfolio_sections(),
    ):
        out += ["", f"## {title}", "", intro, ""]
        out += table("column|unit|meaning", [(f"`{n}`", u, m) for n, (u, m) in columns.items()])
    out += ["", "## Input columns of runs.parquet", "", _INPUTS_INTRO, ""]
    out += table("column|unit|meaning", _input_rows())
    out += ["", "## A study's datasets: timeseries/ and journeys/", "", _DATASETS_INTRO]
    return "\n".join(out) + "\n"


def _portfolio_sections() -> list[tuple[str, str, dict[str, tuple[str, str]]]]:
    """The portfolio search's tables (issue 17; defined in ``sim.portfolio``)."""
    from sim import portfolio_columns as pf

    return [
        (
            pf.TABLE,
            "One row per portfolio of a portfolio search (`python -m experiments.portfolio`); "
            "`sim/portfolio.py` defines every number.",
            pf.PORTFOLIO_COLUMNS,
        ),
        (
            pf.INTERACTIONS,
            "One row per pair of tactics of a portfolio search.",
            pf.INTERACTION_COLUMNS,
        ),
        (pf.ORDER, "One row per step of the adoption order.", pf.ORDER_COLUMNS),
    ]


_INPUTS_INTRO = (
    "Every organisation, behaviour and tactic parameter, as declared in `sim/params.py` and "
    "the tactics' modules (`sim/tactics/`); a tactic's columns are missing (null) in the runs "
    "where it is off. A list (`switched_off`) is joined by '+' ('none': empty)."
)
_DATASETS_INTRO = (
    "A study made by the study runner (`sim.batch`, e.g. `python -m experiments."
    "compare_tactics`) writes every run's daily series to `timeseries/` and, with "
    "`record_journeys=true`, its journey log to `journeys/`: parquet parts partitioned by "
    "scenario (`scenario=<name>/part-NNNNN.parquet`). Their columns are those of "
    "timeseries.csv and journeys.parquet above, after `run_id`, `draw` and `seed`; "
    "`scenario` is the partition. Strings are categoricals, and in `journeys/` every integer "
    "column holds null where the journey log holds -1 (never, or no rep), so a difference of "
    "two days is either right or missing."
)


def _input_rows() -> list[tuple[str, str, str]]:
    from sim.inputs import input_fields

    rows = []
    for column, f in input_fields().items():
        unit = f.metadata.get("unit") or ("names" if "switched_off" in column else "-")
        rows.append((f"`{column}`", unit, f.metadata.get("doc", "")))
    return rows


if __name__ == "__main__":
    from pathlib import Path

    from sim.io import atomic_write

    target = Path(__file__).resolve().parent.parent / "docs" / "outputs.md"
    atomic_write(target, lambda p: p.write_text(data_dictionary()))
    print(f"wrote {target}")
