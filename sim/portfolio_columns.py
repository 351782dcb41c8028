"""The columns of the portfolio search's tables (issue 17), one source for the code and docs.

A module of its own, importing nothing: ``sim.kpis`` writes docs/outputs.md from these, and
``sim.portfolio`` (which imports ``sim.kpis`` through ``sim.effects``) writes the tables.
"""

TABLE = "portfolio.csv"
INTERACTIONS = "interactions.csv"
ORDER = "adoption_order.csv"

#: The columns of portfolio.csv (one row per portfolio run, the empty one included).
PORTFOLIO_COLUMNS: dict[str, tuple[str, str]] = {
    "portfolio": (
        "name",
        "the portfolio's scenario name: its tactics joined by '-' (baseline: none)",
    ),
    "tactics": ("names", "its tactics joined by ' + ' ('(none)': adopt nothing)"),
    "n_tactics": ("count", "how many tactics"),
    "one_off_cost": ("currency", "sum of its tactics' one-off costs (as configured)"),
    "running_cost_per_year": ("currency/year", "sum of its tactics' running costs per year"),
    "first_year_cost": ("currency", "one-off + one year's running costs: what the budget covers"),
    "fits_budget": ("bool", "first_year_cost <= budget"),
    "revenue_gain_per_year": (
        "currency/year",
        "mean revenue per year over the horizon minus the baseline's, paired by draw and seed",
    ),
    "net_mean": ("currency", "mean net value over the horizon: revenue gained - costs"),
    "net_lo95": ("currency", "lower end of its 95% interval (Student t over the pairs)"),
    "net_hi95": ("currency", "upper end of its 95% interval"),
    "net_q10": ("currency", "10% quantile of net value over the pairs (the robust choice's)"),
    "p_best": ("share", "share of pairs in which it has the highest net value of the affordable"),
    "n": ("pairs", "(draw, seed) pairs with a baseline run"),
}
#: The columns of interactions.csv (one row per pair of tactics).
INTERACTION_COLUMNS: dict[str, tuple[str, str]] = {
    "tactic_a": ("name", "the first tactic"),
    "tactic_b": ("name", "the second tactic"),
    "kpi": ("name", "the KPI (revenue_per_year)"),
    "n": ("pairs", "(draw, seed) pairs with all four runs (baseline, A, B, A and B)"),
    "effect_a": ("KPI unit", "mean effect of A alone against the baseline"),
    "effect_b": ("KPI unit", "mean effect of B alone"),
    "effect_ab": ("KPI unit", "mean effect of A and B together"),
    "interaction": ("KPI unit", "mean of AB - A - B + baseline per pair"),
    "lo95": ("KPI unit", "lower end of its 95% interval (Student t over the pairs)"),
    "hi95": ("KPI unit", "upper end"),
    "relative_interaction": ("share", "interaction / the baseline's mean"),
    "relative_lo95": ("share", "lo95 / the baseline's mean"),
    "relative_hi95": ("share", "hi95 / the baseline's mean"),
    "kind": ("label", "complements (interval above 0), substitutes (below), additive (ns)"),
}
#: The columns of adoption_order.csv (one row per step of the greedy order).
ORDER_COLUMNS: dict[str, tuple[str, str]] = {
    "step": ("count", "1 first"),
    "tactic": ("name", "the tactic adopted at this step"),
    "marginal_net": ("currency", "the mean net value it adds to the steps before"),
    "net_after": ("currency", "the mean net value of the portfolio so far"),
}
