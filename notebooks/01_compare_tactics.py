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
# # Which alignment tactics pay, by how much, and how sure are we?
#
# This notebook is for presenting the tactic comparison to a client. It simulates one
# organisation under every scenario in `conf/scenario/` (the misaligned **baseline**: separate
# marketing and sales funnels and no tactic; each tactic on its own; and **full alignment**,
# every tactic at once), repeats each scenario on many simulated markets, and ranks the tactics
# by how much they change revenue, win rate and customer retention against the baseline.
#
# Run it top to bottom (in JupyterLab: *Run > Run All Cells*). With the default settings it
# takes about three minutes. Every number it shows is also written to files you can hand over
# (`report.html`, `effects.csv`, the figures), listed at the end.
#
# **What the simulation is.** Marketers, sales reps and leads are agents with limited time who
# follow simple, documented rules: marketing scores and hands over leads, reps decide which
# ones to follow up, a lead's chance to be reached fades fast while it waits, deals are won,
# lost or end in no decision, customers renew or leave. The rules and every parameter are
# described in `docs/ODD.md`.

# %%
import os
import shutil
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, Markdown, display
from matplotlib.ticker import FuncFormatter

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets; nothing here uses it.
warnings.filterwarnings("ignore", message="IProgress not found")

import sim
from sim.compare import aggregate
from sim.config import CONF_DIR
from sim.io import write_outputs
from sim.plotting import money_label

# %% [markdown]
# ## 1. Choose the organisation and the size of the study
#
# `ORG` names an organisation profile in `conf/org/`: `small`, `default` (a mid-sized B2B
# company: 6 marketers, 12 reps, about 15,000 inbound leads a year) or `large`. To describe
# your client, copy `conf/org/default.yaml` to `conf/org/<client>.yaml`, edit the numbers and
# put its name here (or start from its CRM export with the notebook `02_your_funnel`).
#
# `REPLICATES` is the number of simulated markets per scenario. Twenty gives intervals narrow
# enough to rank the tactics; more narrows them further (by the square root: four times the
# replicates halves the interval).

# %%
ORG = "default"
REPLICATES = 20
DAYS = 500  # business days simulated per run (two years)
WARMUP_DAYS = 125  # the first half-year fills the empty pipeline and is not measured
SEED_BASE = 1  # replicate seeds are SEED_BASE, SEED_BASE + 1, ...

# The test suite sets FUNNEL_NB_SMALL=1 to run this notebook in seconds: a small organisation,
# shorter runs and three replicates. Its numbers are for checking the notebook, not for clients.
SMALL = os.environ.get("FUNNEL_NB_SMALL") == "1"
if SMALL:
    ORG, REPLICATES, DAYS, WARMUP_DAYS = "small", 3, 300, 60

ROOT = CONF_DIR.parent
OUT = Path(os.environ.get("FUNNEL_NB_OUT", ROOT / "comparisons" / f"notebook_{ORG}"))
SEEDS = list(range(SEED_BASE, SEED_BASE + REPLICATES))
scenarios = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
SCENARIOS = ["baseline"] + [s for s in scenarios if s != "baseline"]
print(f"organisation: {ORG}; scenarios: {', '.join(SCENARIOS)}")
print(f"{REPLICATES} replicates x {len(SCENARIOS)} scenarios = {REPLICATES * len(SCENARIOS)} runs")
print(f"outputs go to {OUT}")

# %% [markdown]
# ## 2. Run every scenario on the same simulated markets
#
# Each replicate seed defines one simulated market: the same leads, with the same fit,
# buying intent and deal size, arriving on the same days, whatever the scenario. So when
# full alignment beats the baseline on seed 7, it is the tactics that made the difference, not
# a luckier market. Each run is written to its own folder, exactly as `python -m sim` writes
# it, and then aggregated.

# %%
runs_dir = OUT / "runs"
if runs_dir.exists():
    shutil.rmtree(runs_dir)  # this notebook's own runs from an earlier session
started = time.perf_counter()
for i, scenario in enumerate(SCENARIOS, start=1):
    base = sim.load_config(
        [f"scenario={scenario}", f"org={ORG}", f"days={DAYS}", f"warmup_days={WARMUP_DAYS}"]
    )
    for seed in SEEDS:
        result = sim.run(sim.build_config(base, seed=seed))
        write_outputs(result, runs_dir / f"{scenario}_seed{seed}")
    print(f"[{i}/{len(SCENARIOS)}] {scenario:<16} done ({time.perf_counter() - started:.0f} s)")

comparison = aggregate(runs_dir, OUT)

# %% [markdown]
# ## 3. The ranked answer
#
# One row per scenario, best revenue effect first. Each cell is the **change against the
# baseline**, as a share of the baseline's value, followed by its **95% confidence interval**
# in brackets:
#
# - **revenue/yr**: first-year contract value of the deals won per year;
# - **win rate**: deals won out of all opportunities that closed (won, lost or no decision);
# - **retention**: customers who renewed at their 12-month renewal;
# - **MQL->SQL**: leads handed to sales that became qualified opportunities;
# - **pairs**: how many simulated markets the scenario was compared on.
#
# "+12.0% [+9.5%, +14.5%]" reads: *on average over these markets the tactic raised the KPI by
# 12% of the baseline's level, and the true model effect very likely lies between +9.5% and
# +14.5%*. **(ns)** ("not significant") marks an interval that includes zero: the study
# cannot tell that effect from no effect, so do not present it as a gain.

# %%
display(comparison.table)

# %% [markdown]
# The same in money, with the baseline's own level for scale (currency units of the
# organisation profile, per year):

# %%
rev = comparison.effects.loc[comparison.effects.kpi == "revenue_per_year"]
rev = rev.sort_values("effect", ascending=False)
base_revenue = float(rev.baseline_mean.iloc[0])
lines = [f"The baseline wins **{base_revenue:,.0f}** a year. Against it:", ""]
for row in rev.itertuples():
    verdict = "" if row.excludes_zero else " *(cannot be told from zero)*"
    lines.append(
        f"- **{row.scenario.replace('_', ' ')}**: {row.effect:+,.0f} a year "
        f"(95% interval {row.effect_ci_low:+,.0f} to {row.effect_ci_high:+,.0f}){verdict}"
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## 4. How confident to be
#
# - **The intervals are about chance, not about the model.** They say how much the average
#   effect could move if the study were repeated on new simulated markets. They do *not*
#   cover the model's own assumptions: its behavioural parameters (how fast leads go cold, how
#   reps choose leads, how buyers decide) were set by hand to land the baseline near published
#   benchmark ranges and have not yet been fitted to data. Present the ranking and the rough
#   sizes, not the decimals.
# - **Paired comparisons.** Every scenario faced the same markets as the baseline, and each
#   effect is computed on those pairs. This removes the luck of the market and is why the
#   intervals are narrow with only a few dozen runs.
# - **Retention has the widest intervals**: only contracts that come up for renewal inside the
#   measured period count, so it rests on fewer events than revenue.
# - **Effects are not additive.** Full alignment is not the sum of the single tactics; some
#   tactics help each other (a liaison routes leads to reps with time; shared goals make reps
#   take marketing's leads seriously), some compete for the same lost leads.
# - **Costs are not in the model.** A liaison's salary or a CRM licence has to be set against
#   the revenue effect by you.
# - **Plausibility check.** Published studies of alignment report effects of tens of percent,
#   never multiples; an effect far outside that range points to an organisation profile worth
#   double-checking.
#
# Below, each dot is one simulated market: the revenue a scenario won minus what the baseline
# won on the same market. The spread of the dots is what the intervals summarise.

# %%
FIGURES = OUT / "figures"
FIGURES.mkdir(parents=True, exist_ok=True)


runs = comparison.runs
base_by_seed = runs.loc[runs.scenario == "baseline"].set_index("seed").revenue_per_year
order = list(rev.scenario)[::-1]  # best at the top
fig, ax = plt.subplots(figsize=(10, 0.6 * len(order) + 1.8))
rng = np.random.default_rng(0)  # only jitters the dots vertically, so they do not overlap
for y, scenario in enumerate(order):
    diff = runs.loc[runs.scenario == scenario].set_index("seed").revenue_per_year - base_by_seed
    diff = diff.dropna()
    ax.scatter(diff, y + rng.uniform(-0.15, 0.15, len(diff)), s=22, color="#0072B2", alpha=0.6)
    ax.plot([diff.mean()] * 2, [y - 0.3, y + 0.3], color="black", linewidth=2)
ax.axvline(0, color="#555555", linewidth=1)
ax.set_yticks(range(len(order)), [s.replace("_", " ") for s in order])
ax.set_xlabel(
    "revenue per year: scenario minus baseline on the same market\n"
    "(currency/year; k = thousand, M = million)"
)
ax.set_title(f"One dot per simulated market ({len(base_by_seed)}); bar: mean", loc="left")
ax.xaxis.set_major_formatter(FuncFormatter(money_label))
fig.savefig(FIGURES / "paired_revenue_differences.png", dpi=120, bbox_inches="tight")
plt.close(fig)
display(Image(filename=str(FIGURES / "paired_revenue_differences.png")))

# %% [markdown]
# ## 5. The figures for the client
#
# These are written by the comparison itself (PNG for documents, SVG for slides) into
# `figures/`.
#
# **Revenue effect of each tactic.** The dot is the average change against the baseline, the
# whiskers its 95% interval; grey bars are effects whose interval includes zero.

# %%
display(Image(filename=str(FIGURES / "effect_revenue_per_year.png")))

# %% [markdown]
# **Win rate and retention.** The same reading. Retention may show "no ... measured" when the
# runs are too short for contracts to come up for renewal.

# %%
display(Image(filename=str(FIGURES / "effect_win_rate.png")))
display(Image(filename=str(FIGURES / "effect_retention_12m.png")))

# %% [markdown]
# **The funnel.** How many leads, MQLs (leads handed to sales), followed-up MQLs,
# opportunities and won deals a year, baseline against full alignment. The scale is
# logarithmic, so equal steps are equal ratios: the drop from one stage to the next is the
# conversion rate.

# %%
display(Image(filename=str(FIGURES / "funnel.png")))

# %% [markdown]
# **Over time.** Revenue and MQLs per 20 business days, open opportunities, and how busy the
# reps are, averaged over the markets with a band holding 95% of them. The grey area on the
# left is the warm-up, when the simulated company starts from an empty pipeline; it is left
# out of every number above.

# %%
display(Image(filename=str(FIGURES / "timeseries.png")))

# %% [markdown]
# ## 6. What to hand over
#
# - `report.html`: a self-contained report (question, organisation, ranked table, figures,
#   caveats) for the client;
# - `effects.csv`: every scenario x KPI with absolute and relative effects and intervals;
# - `runs.csv`: one row per simulated run, every KPI;
# - `figures/`: every figure as PNG and SVG.

# %%
for path in comparison.files:
    if path.suffix in (".html", ".csv", ".md"):
        print(path)
print(f"figures: {FIGURES}")
