"""Write a CRM export that this model did not make: a simple funnel from the published rates.

Usage::

    python examples/make_independent_export.py                      # examples/independent.csv
    python examples/make_independent_export.py out=/tmp/x.csv days=400 seed=3

Each lead walks a plain funnel of independent chances, none of the model's agents or
mechanisms: the rates are the middles of the published ranges in
``sim/data/stylized_facts.yaml`` (MQLs never worked, accepted, becoming opportunities; win
and no-decision shares of closed deals; the lead-to-close cycle; retention at the first
renewal), read from that file, so ``python -m experiments.diagnose`` on the result says how
well the model can match a funnel that only follows the benchmarks. What the facts do not
give is an assumption, stated here: 40 leads a business day, a fifth of them prospected by
reps (accepted 30%, half of those qualified); two in five marketing leads become MQLs, after
a geometric wait of mean 5 days; a first touch a geometric mean 2 days after hand-off (an MQL
untouched after 10 days is never worked); qualification of 10 days; deals of mean 25,000
(log-sd 0.6); a 250-day contract. The team file (n_reps 10, n_marketers 5) is written beside.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.export import DEFAULT_START, NEVER, to_csv_frame
from sim.io import atomic_write

HERE = Path(__file__).resolve().parent
FACTS = HERE.parent / "sim" / "data" / "stylized_facts.yaml"
OPTIONS = {"out": str(HERE / "independent.csv"), "days": "420", "seed": "2025"}


def published_rates() -> dict[str, float]:
    """The middle of each published range, by fact id."""
    data = yaml.safe_load(FACTS.read_text())
    facts = data["facts"] if isinstance(data, dict) and "facts" in data else data
    return {f["id"]: float(np.mean(f["range"])) for f in facts if "range" in f}


def funnel(days: int, seed: int) -> pd.DataFrame:
    """One row per lead, on business days (``sim.export``'s frame)."""
    rates = published_rates()
    rng = np.random.default_rng(seed)
    never = rates["mql_never_worked"]
    accepted = rates["mql_acceptance"] / (1 - never)  # of the MQLs a rep touched
    to_sql = rates["mql_to_sql"] / rates["mql_acceptance"]  # of the accepted
    win, no_decision = rates["opportunity_win_rate"], rates["no_decision"]
    # the lead-to-close median less the stages before the opportunity: the deal cycle
    deal_median = rates["lead_to_close_cycle"] - 5 - 2 - 10
    churn = 1 - rates["gross_retention"]
    counts = rng.poisson(40, days)
    created = np.repeat(np.arange(1, days + 1), counts)
    n = len(created)
    marketing = rng.random(n) >= 0.2
    mql = np.where(marketing & (rng.random(n) < 0.4), created + rng.geometric(1 / 5, n) - 1, NEVER)
    touched_mql = (mql > 0) & (rng.random(n) >= never)
    touch = np.where(touched_mql, mql + np.minimum(rng.geometric(1 / 2, n) - 1, 9), NEVER)
    touch = np.where(~marketing, created, touch)
    sal_p = np.where(marketing, accepted, 0.3)
    sal = np.where((touch > 0) & (rng.random(n) < sal_p), touch, NEVER)
    sql_p = np.where(marketing, to_sql, 0.5)
    sql = np.where((sal > 0) & (rng.random(n) < sql_p), sal + 10, NEVER)
    cycle = np.maximum(5, np.round(deal_median * np.exp(0.4 * rng.standard_normal(n))))
    closed = np.where(sql > 0, sql + cycle.astype(np.int64), NEVER)
    u = rng.random(n)
    outcome = np.where(u < win, "won", np.where(u < win + no_decision, "no_decision", "lost"))
    is_deal = closed > 0
    open_deal = is_deal & (closed > days)
    outcome = np.where(is_deal, np.where(open_deal, "open", outcome), "")
    closed = np.where(open_deal, NEVER, closed)
    dropped = (touch > 0) & (sal < 0) | (sal > 0) & (sql < 0) & (sal + 10 <= days)
    outcome = np.where(dropped, "disqualified", outcome)
    sql = np.where(sql > days, NEVER, sql)
    won = outcome == "won"
    amount = np.where(won, 25_000 * np.exp(0.6 * rng.standard_normal(n) - 0.18), np.nan)
    churn_day = np.where(won & (rng.random(n) < churn), closed + 250, NEVER)
    churn_day = np.where(churn_day > days, NEVER, churn_day)
    frame = pd.DataFrame(
        {
            "lead_id": [f"IND{i:06d}" for i in range(n)],
            "source": np.where(marketing, "marketing", "sales"),
            "created": created,
            "mql": np.where(mql > days, NEVER, mql),
            "sal": np.where(sal > days, NEVER, sal),
            "sql": sql,
            "touch": np.where(touch > days, NEVER, touch),
            "closed": closed,
            "outcome": outcome,
            "amount": amount,
            "churn": churn_day,
        }
    )
    return frame


def main(argv: list[str]) -> int:
    """Write the export and its team file."""
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    opts = dict(OPTIONS)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in opts:
            print(f"error: {arg}: unknown option; allowed: {', '.join(OPTIONS)}", file=sys.stderr)
            return 2
        opts[key] = value
    frame = funnel(int(opts["days"]), int(opts["seed"]))
    out = Path(opts["out"])
    out.parent.mkdir(parents=True, exist_ok=True)
    table = to_csv_frame(frame, DEFAULT_START)
    atomic_write(out, lambda p: table.to_csv(p, index=False))
    team = out.with_name(out.stem + "_team.yaml")
    team.write_text("n_reps: 10\nn_marketers: 5\n")
    print(f"wrote {out} ({len(frame)} leads) and {team}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
