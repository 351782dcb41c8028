# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your organisation: how it looks in the model, and which tactic pays most
#
# Enter your own numbers in the two cells marked **EDIT**, then run every cell (in JupyterLab:
# *Run > Run All Cells*). The notebook
#
# 1. simulates your organisation as it works today (separate marketing and sales funnels, no
#    alignment tactic: the **baseline**) and sets its key numbers next to yours, so you can
#    judge whether the model resembles your company;
# 2. simulates every alignment tactic on your organisation and ranks them by what they add to
#    revenue, with how sure the estimate is.
#
# With the default settings it takes about a minute and a half. The model, its rules and its
# assumptions are described in `docs/ODD.md`.

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, Markdown, display
from matplotlib.ticker import FuncFormatter

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets; nothing here uses it.
warnings.filterwarnings("ignore", message="IProgress not found")

import sim
from sim.compare import ranked_table
from sim.config import CONF_DIR
from sim.effects import paired_effects, paired_table, t_interval
from sim.plotting import money_label

# %% [markdown]
# ## EDIT 1: your organisation
#
# Business days are working days (250 a year). Money is in whatever currency you use for deal
# values; every revenue figure below comes out in the same currency.

# %%
ORG_NAME = "mine"
MY_ORG = {
    # people running campaigns, scoring and nurturing leads
    "n_marketers": 4,
    # sales reps working leads and deals
    "n_reps": 8,
    # working hours of one rep per business day
    "rep_hours_per_day": 8.0,
    # marketing-generated leads per business day (x 250 = per year)
    "inbound_leads_per_day": 30.0,
    # leads one marketer can keep in nurture programmes at once
    "nurture_capacity_per_marketer": 250,
    # average first-year contract value of a won deal
    "deal_value_mean": 20_000.0,
    # spread of deal sizes (sd of the log value): 0.5 puts most deals within 0.4x-2.7x the mean
    "deal_value_sigma": 0.5,
    # typical (median) business days from qualified opportunity to closed deal
    "opportunity_cycle_days": 30.0,
    # contract length in business days (250 = one year)
    "contract_days": 250,
}

# %% [markdown]
# ## EDIT 2: your real numbers (optional)
#
# Replace `None` with your own figure wherever you know it (rates as fractions: 12% is `0.12`).
# Leave `None` where you do not know it. Use figures measured the way the model measures them
# (the right-hand comment).

# %%
YOUR_KPIS = {
    "mql_to_sql_rate": None,  # MQLs (leads handed to sales) that become opportunities
    "mql_never_worked_share": None,  # MQLs no rep ever followed up
    "win_rate": None,  # deals won / opportunities closed (won + lost + no decision)
    "no_decision_share": None,  # opportunities that ended without any decision
    "sales_cycle_days_median": None,  # median business days from first lead to won deal
    "opportunities_per_month": None,  # new qualified opportunities per month
    "revenue_per_year": None,  # first-year contract value won per year
    "retention_12m": None,  # customers renewing at their first renewal
}

# Optional: what each scenario would cost you per year (a liaison's salary, a CRM licence,
# the time to run a validation desk). Left at zero, the ranking is by revenue alone.
COST_PER_YEAR = {
    "combined_funnel": 0.0,
    "liaison": 0.0,
    "shared_goals": 0.0,
    "lead_validation": 0.0,
    "data_sharing": 0.0,
    "full_alignment": 0.0,
}

# %% [markdown]
# ## Study size
#
# `REPLICATES` simulated markets per scenario; every scenario faces the same markets, so the
# differences between scenarios are the tactics' doing, not luck.

# %%
REPLICATES = 10
DAYS = 500  # business days per run (two years)
WARMUP_DAYS = 125  # the first half-year fills the empty pipeline and is not measured

# The test suite sets FUNNEL_NB_SMALL=1 to run this notebook in seconds (shorter runs, three
# replicates); its numbers are for checking the notebook, not for decisions.
if os.environ.get("FUNNEL_NB_SMALL") == "1":
    REPLICATES, DAYS, WARMUP_DAYS = 3, 300, 60

SEEDS = list(range(1, REPLICATES + 1))
OTHERS = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml") if p.stem != "baseline")
SCENARIOS = ["baseline", *OTHERS]


def simulate(scenario: str, seed: int) -> dict:
    """One run of `scenario` on your organisation; returns its KPIs."""
    cfg = sim.build_config(
        sim.load_config([f"scenario={scenario}"]),
        **MY_ORG,
        org_name=ORG_NAME,
        seed=seed,
        days=DAYS,
        warmup_days=WARMUP_DAYS,
    )
    return sim.run(cfg).summary


# Checks your numbers before anything runs: a bad value stops here with a clear message.
sim.build_config(**MY_ORG, days=DAYS, warmup_days=WARMUP_DAYS)
print(f"{len(SCENARIOS)} scenarios x {REPLICATES} replicates; {DAYS} business days each")

# %% [markdown]
# ## 1. Your organisation today, in the model
#
# The baseline: your team sizes and lead flow, with separate funnels and no alignment tactic.
# Each model figure is the average over the simulated markets, with the 95% interval of that
# average. Where you entered your own figure, the last column says how far the model is from
# it.

# %%
baseline = pd.DataFrame([simulate("baseline", seed) for seed in SEEDS])

LABELS = {
    "mql_to_sql_rate": ("MQL-to-SQL rate", "pct"),
    "mql_never_worked_share": ("MQLs never worked", "pct"),
    "win_rate": ("win rate", "pct"),
    "no_decision_share": ("no-decision share", "pct"),
    "sales_cycle_days_median": ("lead-to-win cycle (business days)", "num"),
    "opportunities_per_month": ("opportunities per month", "num"),
    "revenue_per_year": ("revenue per year", "num"),
    "retention_12m": ("12-month retention", "pct"),
}


def fmt(value: float, kind: str) -> str:
    """A KPI value as people read it."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.1%}" if kind == "pct" else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


rows = []
for kpi, (label, kind) in LABELS.items():
    mean, lo, hi = t_interval(baseline[kpi].dropna().to_numpy(float))
    yours = YOUR_KPIS.get(kpi)
    gap = "enter yours" if yours is None else f"{(mean - yours) / abs(yours):+.0%}" if yours else ""
    rows.append(
        {
            "KPI": label,
            "model (baseline)": fmt(mean, kind),
            "95% interval": f"{fmt(lo, kind)} to {fmt(hi, kind)}",
            "yours": "-" if yours is None else fmt(yours, kind),
            "model vs yours (relative)": gap,
        }
    )
kpi_table = pd.DataFrame(rows).set_index("KPI")
display(kpi_table)

# %% [markdown]
# **How to read it.** The model does not need to match every figure: companies define "MQL",
# "opportunity" and "win" differently, and the model's behavioural rules (how fast leads go
# cold, how reps pick leads, how buyers decide) are general assumptions, not fitted to your
# company. What matters is that your figures and the model's are of the same order. If one is
# far off (say, the model's win rate is twice yours), its tactic effects for you deserve less
# weight; the behavioural parameters that drive it are listed in `docs/ODD.md` and can be
# changed (e.g. `sim.build_config(..., win_base=0.3)`).

# %% [markdown]
# ## 2. Which tactic pays most for you
#
# Every other scenario on the same markets as the baseline. This is the longest step.

# %%
rows = baseline.to_dict("records")
for scenario in SCENARIOS[1:]:
    rows += [simulate(scenario, seed) for seed in SEEDS]
    print(f"{scenario} done")
runs = pd.DataFrame(rows)
effects = paired_effects(runs)
display(ranked_table(effects))

# %% [markdown]
# Each cell: the change against your baseline as a share of its level, with the 95% interval
# in brackets; **(ns)** means the interval includes zero, so that effect cannot be told from no
# effect. *revenue/yr* is first-year contract value won per year, *win rate* deals won out of
# deals closed, *retention* customers renewing, *MQL->SQL* leads handed to sales that became
# opportunities.
#
# The same in money per year, net of the costs you entered:

# %%
rev = effects.loc[effects.kpi == "revenue_per_year"].set_index("scenario")
money = pd.DataFrame(
    {
        "revenue gain": rev.effect,
        "low (95%)": rev.effect_ci_low,
        "high (95%)": rev.effect_ci_high,
        "cost": [COST_PER_YEAR.get(s, 0.0) for s in rev.index],
    }
)
money["net gain"] = money["revenue gain"] - money["cost"]
money["net low"] = money["low (95%)"] - money["cost"]
money["clear gain?"] = np.where(money["net low"] > 0, "yes", "not clearly")
money = money.sort_values("net gain", ascending=False)
shown = money.copy()
for col in money.columns[:-1]:
    pattern = "{:,.0f}" if col == "cost" else "{:+,.0f}"
    shown[col] = money[col].map(pattern.format)
display(shown)

fig, ax = plt.subplots(figsize=(10, 0.6 * len(money) + 1.8))
y = np.arange(len(money))[::-1]
ax.barh(y, money["net gain"], color="#0072B2", alpha=0.4, height=0.6)
ax.errorbar(
    money["net gain"],
    y,
    xerr=[money["net gain"] - money["net low"], money["high (95%)"] - money["revenue gain"]],
    fmt="o",
    color="black",
    capsize=5,
)
ax.axvline(0, color="black", linewidth=1)
ax.set_yticks(y, [s.replace("_", " ") for s in money.index])
ax.xaxis.set_major_formatter(FuncFormatter(money_label))
ax.set_xlabel(
    "net gain per year vs baseline (currency/year; k = thousand, M = million; "
    "whiskers: 95% interval)"
)
ax.set_title(
    f"What each scenario is worth to '{ORG_NAME}' ({len(SEEDS)} paired markets)", loc="left"
)
figure_dir = Path(
    os.environ.get("FUNNEL_NB_OUT", CONF_DIR.parent / "comparisons" / f"notebook_{ORG_NAME}")
)
figure_dir.mkdir(parents=True, exist_ok=True)
figure_path = figure_dir / f"net_gain_{ORG_NAME}.png"
fig.savefig(figure_path, dpi=120, bbox_inches="tight")
plt.close(fig)
display(Image(filename=str(figure_path)))

# %% [markdown]
# ## 3. The answer

# %%
singles = money.drop(index="full_alignment", errors="ignore")
best, runner_up = singles.index[0], singles.index[1]
b = singles.loc[best]
text = [
    f"**The single tactic that pays most for '{ORG_NAME}' is {best.replace('_', ' ')}**: about "
    f"{b['net gain']:+,.0f} a year net (95% interval {b['net low']:+,.0f} to "
    f"{b['high (95%)'] - b['cost']:+,.0f}), on a baseline of "
    f"{rev.baseline_mean.iloc[0]:,.0f} a year."
]
if b["net low"] <= 0:
    text.append("Its interval includes zero: with these replicates it is not a clear gain.")
# Is it clearly better than the runner-up? Pair the two on the same markets.
pairs = paired_table(runs, best, "revenue_per_year", baseline=runner_up)
cost_gap = COST_PER_YEAR.get(best, 0.0) - COST_PER_YEAR.get(runner_up, 0.0)
diff, lo, hi = t_interval((pairs["scenario"] - pairs["baseline"]).to_numpy(float) - cost_gap)
clear = lo > 0
text.append(
    f"Against the runner-up, {runner_up.replace('_', ' ')}, it is ahead by {diff:+,.0f} a year "
    f"(95% interval {lo:+,.0f} to {hi:+,.0f}): "
    + (
        "clearly ahead."
        if clear
        else "the two cannot be told apart here; more replicates, or other reasons, decide."
    )
)
if "full_alignment" in money.index:
    f = money.loc["full_alignment"]
    text.append(
        f"Doing everything at once (full alignment) is worth about {f['net gain']:+,.0f} "
        "a year net."
    )
display(Markdown("\n\n".join(text)))

# %% [markdown]
# **Before acting on it.** The model counts revenue only from the mechanisms it represents
# (see `docs/ODD.md`); its behavioural parameters are assumptions, not fitted to your company,
# and the intervals cover the randomness of markets, not those assumptions. Use the ranking and
# the rough sizes to choose where to start, then measure the real effect. For a report to hand
# over, run the full comparison on your profile: save `MY_ORG` as `conf/org/<name>.yaml` and
# run `python -m experiments.compare_tactics org=<name>` (or the notebook
# `01_compare_tactics`).
