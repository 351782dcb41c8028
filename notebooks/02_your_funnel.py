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
# # Your funnel: fit the model to your CRM export, then rank the tactics for you
#
# Start from your own data. This notebook reads a lead-level export of your CRM (one row per
# lead, with the dates it reached each stage) and a small team file, and
#
# 1. summarises the export as the funnel statistics the model produces, and fits the model to
#    them: your lead volume, deal sizes and cycle directly, the behavioural parameters (how
#    fast leads go cold, how reps choose what to follow up, how buyers decide) by
#    simulation-based calibration;
# 2. shows how well the fitted model reproduces your funnel (your value next to the model's
#    interval, statistic by statistic) and what your data pins down and what it leaves open;
# 3. ranks the alignment tactics for *your* organisation, with ranges that carry what the fit
#    left open and what nobody knows about the tactics' strength.
#
# It runs the same code as `python -m experiments.diagnose` (the command's output folder holds
# everything shown here, and a report to hand over). With the example export and the default
# sizes it takes a few minutes on a laptop. The model, its rules and its assumptions are
# described in `docs/ODD.md`; the export's columns and how HubSpot and Salesforce fields map
# onto them are in the README ("Your funnel").

# %%
import contextlib
import io
import os
import shutil
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, Markdown, display

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets; nothing here uses it.
warnings.filterwarnings("ignore", message="IProgress not found")

import sim
from experiments import diagnose
from sim import export as ex
from sim.config import CONF_DIR
from sim.effects import t_interval
from sim.uncertainty import ranked_uncertainty

# %% [markdown]
# ## EDIT: your export, your team and the size of the study
#
# `DATA` is the CSV export (columns: `lead_id`, `created_date`, `source`, `mql_date`,
# `sal_date`, `sql_date`, `first_touch_date`, `closed_date`, `outcome`, `amount`,
# `churn_date`; only the first three and `outcome` are required, and a missing column only
# leaves out the statistics that need it). `TEAM` holds what an export cannot show: `n_reps`,
# `n_marketers`, `rep_hours_per_day`, `contract_days`. The example is an export the model made
# itself (`examples/make_example_export.py`), so the truth behind it is known.
#
# `PARTICLES` calibration runs per round (two rounds: the second where the first found your
# funnel), `CHECK` runs of the fitted model to compare with your export, and for the tactic
# ranking `REPLICATES` simulated markets at the best fit plus `DRAWS` draws of everything the
# fit and the literature leave open. More of each narrows the intervals and takes longer.

# %%
ROOT = CONF_DIR.parent
DATA = ROOT / "examples" / "export.csv"
TEAM = ROOT / "examples" / "team.yaml"
ORG_NAME = "client"
PARTICLES = 300
CHECK = 20
REPLICATES = 5
DRAWS = 20
SCENARIOS = ""  # every scenario in conf/scenario/; or e.g. "liaison,data_sharing"

# The test suite sets FUNNEL_NB_SMALL=1 to run this notebook quickly (too few calibration runs
# for a second round, two tactics); its numbers are for checking the notebook, not for
# decisions.
SMALL = os.environ.get("FUNNEL_NB_SMALL") == "1"
if SMALL:
    PARTICLES, CHECK, REPLICATES, DRAWS, SCENARIOS = 20, 2, 2, 2, "liaison,data_sharing"

OUT = Path(os.environ.get("FUNNEL_NB_OUT", ROOT / "comparisons" / f"notebook_{ORG_NAME}"))
DIAGNOSIS = OUT / "diagnosis"

# %% [markdown]
# ## 1. Your export
#
# Read exactly as the diagnostic reads it: calendar dates become business days (the first
# creation date is day 1), and a faulty row (an unparsable date, a stage before the lead was
# created, an unknown outcome) is skipped and counted, never guessed at.

# %%
export = ex.read_export(DATA)
team = ex.read_team(TEAM)
frame = export.frame
print(
    f"{export.rows} rows, {len(frame)} leads used, {export.end_day} business days from "
    f"{export.start}"
)
print("skipped rows:", "; ".join(export.skipped_lines()) or "none")
print("missing optional columns:", ", ".join(export.missing) or "none")
print("team:", ", ".join(f"{k} = {v}" for k, v in team.items()))
display(
    pd.DataFrame(
        {
            "leads": frame.groupby("source").size(),
            "reached MQL": frame.loc[frame.mql > 0].groupby("source").size(),
            "reached SQL": frame.loc[frame.sql > 0].groupby("source").size(),
            "won": frame.loc[frame.outcome == "won"].groupby("source").size(),
        }
    ).fillna(0)
)

# %% [markdown]
# ## 2. Fit the model to it
#
# The diagnostic from Python: the same function `python -m experiments.diagnose` runs, with
# the same options, writing into `DIAGNOSIS` (its run directory; this notebook clears its own
# earlier diagnosis there first). Its progress shows below; the tables it prints at the end
# are kept out of the way (the next sections show them, formatted). It prints one line and
# stops on bad input (a missing column, too few leads, an unknown team key): the cell then
# raises with that line above it.

# %%
if DIAGNOSIS.exists():
    shutil.rmtree(DIAGNOSIS)  # this notebook's own diagnosis from an earlier session
args = [
    f"data={DATA}",
    f"team={TEAM}",
    f"org_name={ORG_NAME}",
    f"particles={PARTICLES}",
    f"check={CHECK}",
    f"replicates={REPLICATES}",
    f"draws={DRAWS}",
    *([f"scenarios={SCENARIOS}"] if SCENARIOS else []),
    f"hydra.run.dir={DIAGNOSIS}",
]
print("python -m experiments.diagnose", " ".join(args))
with contextlib.redirect_stdout(io.StringIO()):
    status = diagnose.main(args)
if status != 0:
    raise RuntimeError(f"the diagnostic stopped (exit {status}); the line above says why")

# %% [markdown]
# ## 3. How well the fitted model reproduces your funnel
#
# Each statistic of your export (**yours**, with its 95% interval: how precisely your data
# measures it) next to the fitted model's central 90% over the check runs (**model**, at
# parameter sets drawn from the fit, so it carries what the fit leaves open and the market's
# randomness). *fitted* says how: `calibrated` (in the calibration's distance), `direct` (read
# off the export: lead volume, deal sizes, the opportunity cycle), `no` (shown for comparison)
# or `no: needs <column>`. *match*: the two intervals overlap. A statistic the model does not
# match is one to keep in mind when reading the tactic ranking below.

# %%
fit_table = pd.read_csv(DIAGNOSIS / "fit.csv")
display(diagnose.shown_fit(fit_table))

# %%
shown = fit_table.loc[fit_table.client.abs() > 0].iloc[::-1].reset_index(drop=True)
scale = shown.client.abs()
fig, ax = plt.subplots(figsize=(9, 0.4 * len(shown) + 1.5))
y = np.arange(len(shown))
ax.errorbar(
    shown.client / scale,
    y + 0.15,
    xerr=[(shown.client - shown.client_lo) / scale, (shown.client_hi - shown.client) / scale],
    fmt="o",
    color="black",
    capsize=3,
    label="yours (95% interval)",
)
ax.errorbar(
    shown.model_median / scale,
    y - 0.15,
    xerr=[
        (shown.model_median - shown.model_lo) / scale,
        (shown.model_hi - shown.model_median) / scale,
    ],
    fmt="s",
    color="#0072B2",
    capsize=3,
    label="fitted model (90% of check runs)",
)
ax.axvline(1, color="grey", linewidth=0.8)
ax.set_yticks(y, [f"{s} ({f})" for s, f in zip(shown.statistic, shown.fitted, strict=True)])
ax.set_xlabel("value relative to yours (1 = your export's value)")
ax.set_title(f"'{ORG_NAME}': your funnel against the fitted model", loc="left")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
OUT.mkdir(parents=True, exist_ok=True)
fit_figure = OUT / f"fit_{ORG_NAME}.png"
fig.savefig(fit_figure, dpi=120, bbox_inches="tight")
plt.close(fig)
display(Image(filename=str(fit_figure)))
missed = fit_table.loc[fit_table["match"].eq(False), "statistic"].tolist()
display(
    Markdown(
        f"The fitted model does not reproduce: **{', '.join(missed)}**."
        if missed
        else "The fitted model reproduces every statistic your export shows."
    )
)

# %% [markdown]
# ## 4. What your data pins down
#
# Each behavioural parameter the calibration fits: its prior range (the calibration bounds),
# the fitted median and central 90%, and **width_ratio**, the fitted range over the prior's.
# Below 0.5 the data pins the parameter down (`identified`); near 1 your export says little
# about it, and the tactic ranking below draws it over that wide range instead of pretending
# to know it.

# %%
posterior = pd.read_csv(DIAGNOSIS / "posterior.csv")
display(posterior.set_index("parameter").round(4))

fig, ax = plt.subplots(figsize=(9, 0.4 * len(posterior) + 1.2))
width = posterior.prior_hi - posterior.prior_lo
y = np.arange(len(posterior))[::-1]
ax.barh(y, 1.0, color="#dddddd", height=0.6, label="prior (calibration bounds)")
pinned = posterior.identified.eq("yes").to_numpy()
ax.hlines(
    y,
    (posterior.posterior_lo - posterior.prior_lo) / width,
    (posterior.posterior_hi - posterior.prior_lo) / width,
    colors=np.where(pinned, "#0072B2", "#999999"),
    linewidth=6,
    label="fitted central 90% (blue: identified)",
)
ax.plot((posterior.posterior_median - posterior.prior_lo) / width, y, "k|", markersize=12)
ax.set_yticks(y, posterior.parameter.str.removeprefix("behaviour."))
ax.set_xlim(0, 1)
ax.set_xlabel("position within the prior range (0 = lower bound, 1 = upper bound)")
ax.set_title("What the export pins down", loc="left")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
width_figure = OUT / f"pinned_{ORG_NAME}.png"
fig.savefig(width_figure, dpi=120, bbox_inches="tight")
plt.close(fig)
display(Image(filename=str(width_figure)))
print("identified:", ", ".join(posterior.loc[pinned, "parameter"]) or "none")

# %% [markdown]
# ## 5. Which tactic pays most for you, and how sure that is
#
# Each tactic run on the fitted organisation against its baseline on the same markets: at the
# best fit over `REPLICATES` markets, and over `DRAWS` draws that take the behavioural
# parameters from the fit and every tactic assumption from its plausible range. *median*: the
# middle effect over the draws; the 80% and 95% ranges: where most draws put it; *P(raises)*:
# the share of draws in which the tactic raises the KPI; *P(best)*: the share in which it is
# the best single tactic.

# %%
spread = pd.read_csv(DIAGNOSIS / "uncertainty.csv")
display(ranked_uncertainty(spread))
figure = DIAGNOSIS / "figures" / "uncertainty.png"
if figure.exists():
    display(Image(filename=str(figure)))

# %%
revenue = spread.loc[spread.kpi == "revenue_per_year"].set_index("scenario")
singles = revenue.loc[revenue.p_best.notna()].sort_values(["p_best", "median"], ascending=False)
best = singles.iloc[0]
text = [
    f"**The tactic most likely to pay most for '{ORG_NAME}' is "
    f"{best.name.replace('_', ' ')}**: the best single tactic in {best.p_best:.0%} of the "
    f"draws, raising revenue in {best.p_positive:.0%} of them (median {best['median']:+.1%}, "
    f"80% of draws between {best.lo80:+.1%} and {best.hi80:+.1%})."
]
if len(singles) > 1:
    second = singles.iloc[1]
    text.append(
        f"Next: {second.name.replace('_', ' ')} (best in {second.p_best:.0%} of the draws, "
        f"median {second['median']:+.1%})."
    )
if missed:
    text.append(
        f"The model does not reproduce {', '.join(missed)} of your funnel: weigh the "
        "tactics that act through those stages with that in mind."
    )
text.append(
    f"The report to hand over, with every figure and table: `{DIAGNOSIS / 'report.html'}`; the "
    f"fitted organisation as config: `{DIAGNOSIS / 'conf'}` (`python -m sim --config-dir "
    f"{DIAGNOSIS / 'conf'} org={ORG_NAME} behaviour={ORG_NAME}`)."
)
display(Markdown("\n\n".join(text)))

# %% [markdown]
# ## No export yet? Type your team by hand
#
# Without an export the model can still run your organisation from numbers you type: team
# sizes, lead volume, deal size and cycle. Its behavioural parameters then stay at the
# calibrated defaults (general, not yours), so compare its baseline with your real KPIs before
# trusting its tactic effects. To rank the tactics for it, save `MY_ORG` as
# `conf/org/<name>.yaml` and run `python -m experiments.compare_tactics org=<name>`.

# %%
MY_ORG = {
    "n_marketers": 4,  # people running campaigns, scoring and nurturing leads
    "n_reps": 8,  # sales reps working leads and deals
    "rep_hours_per_day": 8.0,  # working hours of one rep per business day
    "inbound_leads_per_day": 30.0,  # marketing-generated leads per business day
    "deal_value_mean": 20_000.0,  # average first-year contract value of a won deal
    "opportunity_cycle_days": 30.0,  # median business days from opportunity to close
}
seeds, days, warmup = (range(1, 3), 300, 60) if SMALL else (range(1, 6), 500, 125)
typed = pd.DataFrame(
    [
        sim.run(sim.build_config(**MY_ORG, seed=s, days=days, warmup_days=warmup)).summary
        for s in seeds
    ]
)
rows = {}
for kpi in ("mql_to_sql_rate", "win_rate", "no_decision_share", "opportunities_per_month"):
    mean, lo, hi = t_interval(typed[kpi].dropna().to_numpy(float))
    rows[kpi] = {"model (baseline, typed)": mean, "95% low": lo, "95% high": hi}
display(pd.DataFrame(rows).T.round(3))
