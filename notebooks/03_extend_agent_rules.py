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
# # Extending an agent rule: a new follow-up policy, compared on paired seeds
#
# For researchers. Agents in this model hold *what* they can do; small policy classes in
# `sim/policies.py` decide *which* of it to do. This notebook writes two new rules for how a
# sales rep chooses which handed leads (MQLs) to follow up each day, plugs them into the
# model without touching `sim/`, and measures their effect against the default rule with
# common random numbers: the same seeds, so the same market, differences taken seed by seed.
#
# The default rule (`sim.policies.FollowUpPolicy`, described in `docs/ODD.md`, 7.11): leads
# by the rep's *perceived value* (its own view of the lead times its trust in marketing times a
# credit weight), best first, skipping those below a bar (left unworked by choice). A rep works
# at most `n` leads a day: its spare follow-up capacity.

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display
from matplotlib.ticker import FuncFormatter

# Mesa imports tqdm.auto, which warns in a notebook without ipywidgets; nothing here uses it.
warnings.filterwarnings("ignore", message="IProgress not found")

import sim
from sim import FunnelModel
from sim.agents import Lead, SalesRep
from sim.config import CONF_DIR
from sim.effects import t_interval, unpaired_interval
from sim.plotting import money_label
from sim.policies import FollowUpPolicy

# %% [markdown]
# ## 1. Two new rules
#
# A policy is a subclass of `FollowUpPolicy` whose `choose(rep, queue, n)` method returns at
# most `n` leads from the rep's `queue`, each once, in the order to work them (the model checks
# this, and a config may name only a subclass: see the README's Security section). What a
# rule may look at is the lead's observable state: `lead.ready_day` (the day marketing judged
# it ready), `lead.mql_day`, `lead.rep_view` (the rep's own
# pre-contact view), `lead.marketer.score(lead, day)` (marketing's score today). A rule must
# not read `lead.fit` or `lead.intent`: nobody in the model can see those.
#
# - **NewestFirst**, speed to lead taken literally: work the freshest leads first, whatever
#   they look like. A lead's chance to be reached falls steeply with every day it waits
#   (Oldroyd et al., HBR 2011), so this trades quality for timing.
# - **MarketingScoreFirst**: reps trust marketing's score completely and work leads strictly
#   by it, ignoring their own view, their trust and the bar.


# %%
class NewestFirst(FollowUpPolicy):
    """Work the most recently readied leads first (speed to lead), ignoring their look."""

    def choose(self, rep: SalesRep, queue: list[Lead], n: int) -> list[Lead]:
        """Return at most ``n`` leads: the newest."""
        if n <= 0 or not queue:
            return []
        return sorted(queue, key=lambda lead: lead.ready_day, reverse=True)[:n]


class MarketingScoreFirst(FollowUpPolicy):
    """Work leads strictly by marketing's score today, best first."""

    def choose(self, rep: SalesRep, queue: list[Lead], n: int) -> list[Lead]:
        """Return at most ``n`` leads: by marketing's score, best first."""
        if n <= 0 or not queue:
            return []
        day = rep.model.day
        return sorted(queue, key=lambda lead: lead.marketer.score(lead, day), reverse=True)[:n]


POLICIES = {
    "default": FollowUpPolicy,
    "newest_first": NewestFirst,
    "marketing_score_first": MarketingScoreFirst,
}

# %% [markdown]
# ## 2. Plug them in
#
# Two ways:
#
# - **By config**, for a class in an importable module: name it with `_target_`, e.g.
#   `sim.load_config(["policies.follow_up._target_=mypkg.rules.NewestFirst"])`, or the same
#   override on the command line (`python -m sim ...`, `python -m experiments.compare_tactics
#   ...`); `sim.run`, sweeps and the tactic comparison then all use it.
# - **By instance**, simplest for a class defined right here in the notebook: drive the Mesa
#   model directly with `FunnelModel(config, follow_up_policy=NewestFirst())`, `model.run()`,
#   `model.kpis.summary()`. This notebook does that.
#
# The config comes from the Hydra configs in `conf/` (`sim.load_config`) or from keyword
# arguments (`sim.build_config(n_reps=10, ...)`); the seed is set per replicate.

# %%
SCENARIO = "baseline"  # any scenario in conf/scenario/, e.g. liaison
ORG = "default"
REPLICATES = 20
DAYS, WARMUP_DAYS = 500, 125

# The test suite sets FUNNEL_NB_SMALL=1 to run this in seconds: a small organisation, shorter
# runs, four seeds. Those numbers check the notebook; they are not results.
if os.environ.get("FUNNEL_NB_SMALL") == "1":
    ORG, REPLICATES, DAYS, WARMUP_DAYS = "small", 4, 300, 60
SEEDS = list(range(1, REPLICATES + 1))
KPIS = ["revenue_per_year", "win_rate", "mql_to_sql_rate", "mql_never_worked_share"]

base = sim.load_config(
    [f"scenario={SCENARIO}", f"org={ORG}", f"days={DAYS}", f"warmup_days={WARMUP_DAYS}"]
)
rows = []
for seed in SEEDS:
    cfg = sim.build_config(base, seed=seed)
    for name, policy in POLICIES.items():
        model = FunnelModel(cfg, follow_up_policy=policy())
        model.run()
        rows.append({"policy": name, "seed": seed, **model.kpis.summary()})
runs = pd.DataFrame(rows)
print(f"{len(runs)} runs: {len(POLICIES)} policies x {len(SEEDS)} seeds, {SCENARIO}, org {ORG}")

# %% [markdown]
# **Common random numbers, checked.** The market (inbound leads, their attributes and every
# random number their fate depends on) comes from its own random stream, which no decision
# rule touches. So each seed must bring exactly the same inbound leads under every policy:

# %%
inbound = runs.pivot(index="seed", columns="policy", values="inbound_leads")
assert (inbound.nunique(axis=1) == 1).all(), "the policies saw different markets"
display(inbound.head())

# %% [markdown]
# ## 3. Paired differences: mean and t interval
#
# For each seed, *new policy minus default*; then the mean of those differences and its 95%
# Student-t interval. The last column shows the interval one would get by ignoring the pairing
# (Welch, two independent samples): with common random numbers the paired one is usually much
# narrower, because the market's luck cancels out of each difference.

# %%
LABELS = {
    "revenue_per_year": ("revenue per year", "currency/year", 1.0),
    "win_rate": ("win rate", "percentage points", 100.0),
    "mql_to_sql_rate": ("MQL-to-SQL rate", "percentage points", 100.0),
    "mql_never_worked_share": ("MQLs never worked", "percentage points", 100.0),
}
default = runs.loc[runs.policy == "default"].set_index("seed")
table = []
diffs = {}
for name in [p for p in POLICIES if p != "default"]:
    new = runs.loc[runs.policy == name].set_index("seed")
    for kpi in KPIS:
        label, unit, scale = LABELS[kpi]
        d = (new[kpi] - default[kpi]).dropna() * scale
        diffs[name, kpi] = d
        mean, lo, hi = t_interval(d.to_numpy(float))
        welch = unpaired_interval(
            runs.rename(columns={"policy": "scenario"}), name, kpi, baseline="default"
        )
        table.append(
            {
                "policy": name,
                "KPI": f"{label} ({unit})",
                "default mean": default[kpi].mean() * scale,
                "mean difference": mean,
                "95% low": lo,
                "95% high": hi,
                "pairs": len(d),
                "unpaired 95% half-width": (welch[2] - welch[1]) / 2 * scale,
                "paired 95% half-width": (hi - lo) / 2,
            }
        )
table = pd.DataFrame(table).set_index(["policy", "KPI"])
display(table.round(2))

# %% [markdown]
# Read a row as: *on the same markets, this policy changed the KPI by "mean difference" on
# average, and the true average change is very likely between "95% low" and "95% high"*. An
# interval that straddles zero means the replicates cannot tell the policy from the default
# on that KPI.
#
# The figure shows where those numbers come from: one dot per seed (one market), the mean as a
# bar, the 95% interval as a whisker.

# %%
OUT = Path(os.environ.get("FUNNEL_NB_OUT", CONF_DIR.parent / "comparisons" / "notebook_policies"))
OUT.mkdir(parents=True, exist_ok=True)
new_policies = [p for p in POLICIES if p != "default"]
plt.rcParams.update({"font.size": 13, "axes.spines.top": False, "axes.spines.right": False})


fig, axes = plt.subplots(1, 2, figsize=(13, 0.9 * len(new_policies) + 2.6))
for ax, kpi in zip(axes, ["revenue_per_year", "mql_to_sql_rate"], strict=True):
    label, unit, _ = LABELS[kpi]
    for y, name in enumerate(new_policies):
        d = diffs[name, kpi]
        mean, lo, hi = t_interval(d.to_numpy(float))
        ax.scatter(d, np.full(len(d), y), s=25, color="#0072B2", alpha=0.6, zorder=2)
        ax.errorbar(
            mean,
            y + 0.25,
            xerr=[[mean - lo], [hi - mean]],
            fmt="s",
            color="black",
            capsize=5,
            zorder=3,
        )
    ax.axvline(0, color="#555555", linewidth=1)
    ax.set_yticks(range(len(new_policies)), [p.replace("_", " ") for p in new_policies])
    ax.set_ylim(-0.6, len(new_policies) - 0.3)
    ax.set_title(label, loc="left")
    if kpi == "revenue_per_year":
        ax.xaxis.set_major_formatter(FuncFormatter(money_label))
        unit += "; k = thousand"
    ax.set_xlabel(f"policy minus default, same seed\n({unit})")
axes[1].set_yticklabels([])
fig.suptitle(
    f"Follow-up policies against the default ({len(SEEDS)} paired seeds; dots: seeds, "
    "square and whisker: mean and 95% interval)",
    x=0.01,
    ha="left",
    fontsize=13,
)
fig.tight_layout()
fig.savefig(OUT / "policy_differences.png", dpi=120, bbox_inches="tight")
plt.close(fig)
display(Image(filename=str(OUT / "policy_differences.png")))

# %% [markdown]
# ## 4. Going further
#
# - **Another scenario.** Set `SCENARIO = "liaison"` (the liaison calls the leads every rule
#   here leaves waiting past the SLA) or `"combined_funnel"` (reps see marketing's score, so
#   `MarketingScoreFirst` and the default see more alike).
# - **Other rules.** `ThresholdPolicy` in `sim/policies.py` decides how marketers move their
#   hand-off threshold and `RoutingPolicy` which rep a liaison routes a lead to; subclass
#   them and pass `threshold_policy=...` / `routing_policy=...`, or name them in config
#   (`policies.threshold._target_=...`, `policies.routing._target_=...`).
# - **Make it permanent.** Move the class into a module (then select it by config, as above),
#   give it a unit test in the style of `tests/test_mechanisms.py` (a hand-built queue, the
#   expected order), and check it against the published patterns (`python -m
#   experiments.validate`, `calibration/stylized_facts.yaml`): the speed-to-lead ratio and the
#   share of MQLs never worked are the patterns most directly tied to follow-up.
# - **Mesa's tools.** `FunnelModel` is a plain Mesa model and `mesa.batch_run` passes its
#   parameters as keyword arguments, so a policy can be one of them:
#   `mesa.batch_run(FunnelModel, {"follow_up_policy": [FollowUpPolicy(), NewestFirst()],
#   "days": 500}, rng=SEEDS, data_collection_period=-1, number_processes=1)`.
